"""Business-hours calendar definitions: parsing, validation and the canonical stored form.

A calendar is one TOML table under `[calendars.<name>]`: a time zone, weekly opening intervals
(`"HH:MM-HH:MM"`, several per day, `24:00` only as an end), whole-day holidays, per-date overrides
and what a deadline falling at closing time means (`deadline_at_close`). This module only checks and
normalises such tables; the business-time arithmetic built on them lives in its own module.
Times are minutes since local midnight (0..1440).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from tgesc.domain.errors import ConfigInvalid
from tgesc.domain.instants import InstantError, parse_date
from tgesc.domain.limits import date_problem, zone_problem
from tgesc.domain.vocabulary import DEADLINE_AT_CLOSE, WEEKDAYS

DEFAULT_DEADLINE_AT_CLOSE = "close"
CALENDAR_KEYS: tuple[str, ...] = ("timezone", "hours", "holidays", "overrides", "deadline_at_close")
DAY_MINUTES = 1440

_INTERVAL = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})", re.ASCII)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_FORM = 'write intervals as "HH:MM-HH:MM", e.g. "09:00-17:00"'

Interval = tuple[int, int]


class HoursError(ValueError):
    """An opening-hours interval or day is malformed; the message names the offending text."""


def _q(value: object) -> str:
    """Quote a value the way it would appear in TOML, for messages."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def format_clock(minutes: int) -> str:
    """Render minutes since midnight as `HH:MM` (1440 → `24:00`)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_interval(interval: Interval) -> str:
    """Render a (start, end) pair in minutes as the canonical `"HH:MM-HH:MM"`."""
    start, end = interval
    return f"{format_clock(start)}-{format_clock(end)}"


def _check_clock(text: str, hour: str, minute: str) -> int | str:
    """Minutes since midnight for one `HH:MM`, or the reason it is not a time of day."""
    hours, minutes = int(hour), int(minute)
    if minutes >= 60:
        return f"{_q(text)} has minutes {minute}; minutes run from 00 to 59"
    if hours > 24:
        return f"{_q(text)} has hour {hour}; hours run from 00 to 24"
    if hours == 24 and minutes:
        return f"{_q(text)} has {hour}:{minute}; 24:00 is the latest time, it ends the day"
    return hours * 60 + minutes


def _check_interval(text: object) -> Interval | str:
    """The (start, end) minutes of one interval text, or the reason it is not acceptable."""
    if not isinstance(text, str):
        return f"{_q(text)} is not a text; {_FORM}"
    match = _INTERVAL.fullmatch(text.strip())
    if not match:
        return f"{_q(text)} is not an interval of the form HH:MM-HH:MM; {_FORM}"
    start = _check_clock(text, match[1], match[2])
    end = _check_clock(text, match[3], match[4])
    for bound in (start, end):
        if isinstance(bound, str):
            return bound
    assert isinstance(start, int) and isinstance(end, int)
    if start == DAY_MINUTES:
        return f"{_q(text)} starts at 24:00, which is only allowed as an end; start at 00:00 instead"
    if start > end:
        return f"{_q(text)} ends before it starts; write the earlier time first"
    if start == end:
        return f"{_q(text)} is empty: it starts and ends at {match[1]}:{match[2]}; remove it or widen it"
    return (start, end)


def parse_interval(text: str) -> Interval:
    """Parse `"09:00-12:00"` into (540, 720); raise HoursError naming the text if it is not valid."""
    checked = _check_interval(text)
    if isinstance(checked, str):
        raise HoursError(checked)
    return checked


def _check_day(value: object) -> tuple[list[Interval], list[tuple[str, str]]]:
    """Sorted valid intervals of one day's list, and its problems as (path suffix, reason) pairs."""
    if not isinstance(value, list):
        example = '["09:00-12:00", "13:00-17:00"]'
        return [], [("", f"must be a list of intervals like {example}, got {_q(value)}")]
    problems: list[tuple[str, str]] = []
    parsed: list[tuple[Interval, int]] = []
    for index, item in enumerate(value):
        checked = _check_interval(item)
        if isinstance(checked, str):
            problems.append((f"[{index}]", checked))
        else:
            parsed.append((checked, index))
    parsed.sort()
    for (before, i), (after, j) in zip(parsed, parsed[1:], strict=False):
        if after[0] < before[1]:
            i, j = min(i, j), max(i, j)
            problems.append((
                "",
                f"[{i}] {_q(value[i])} and [{j}] {_q(value[j])} overlap; merge them into one interval "
                "(touching intervals such as 09:00-12:00 and 12:00-13:00 are fine)",
            ))
    return [interval for interval, _ in parsed], problems


def parse_day(intervals: list[str]) -> list[Interval]:
    """Parse one day's intervals, sorted by start; overlaps (not mere touching) raise HoursError."""
    parsed, problems = _check_day(intervals)
    if problems:
        raise HoursError("; ".join(f"{suffix} {reason}".strip() for suffix, reason in problems))
    return parsed


def _check_date(value: object) -> str | None:
    """The canonical ISO text of a `YYYY-MM-DD` string or TOML date within the dates of docs/limits.md, or
    None if it is not one."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return None if date_problem(value) else value.isoformat()
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return parse_date(value).isoformat()
        except InstantError:
            return None
    return None


def _bad_date(value: object) -> str:
    day = value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else None
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            day = None
    if day is not None and date_problem(day):
        return f"{_q(value)} {date_problem(day)}"
    return f"{_q(value)} is not a date; write dates as YYYY-MM-DD, e.g. \"2026-12-25\""


def _timezone_problems(base: str, spec: dict[str, Any]) -> list[str]:
    if "timezone" not in spec:
        return [f'{base}.timezone: missing; set an IANA time zone such as "Europe/Berlin" or "UTC"']
    zone = spec["timezone"]
    hint = 'use an IANA time zone name such as "Europe/Berlin", "Asia/Shanghai" or "UTC"'
    if not isinstance(zone, str):
        return [f"{base}.timezone: {_q(zone)} is not a text; {hint}"]
    if zone_problem(zone):
        return [f"{base}.timezone: {_q(zone)[:80]} is not a known time zone (names are case-sensitive); {hint}"]
    return []


def _hours_problems(base: str, spec: dict[str, Any]) -> list[str]:
    hours = spec.get("hours", {})
    path = f"{base}.hours"
    if not isinstance(hours, dict):
        return [f'{path}: must be a table of weekday = intervals, e.g. hours.mon = ["09:00-17:00"]']
    problems: list[str] = []
    open_days = 0
    for day, value in hours.items():
        if day not in WEEKDAYS:
            problems.append(f"{path}.{day}: unknown weekday; the weekdays are {', '.join(WEEKDAYS)}")
            continue
        parsed, day_problems = _check_day(value)
        problems.extend(f"{path}.{day}{suffix}: {reason}" for suffix, reason in day_problems)
        open_days += bool(parsed)
    if not problems and not open_days:
        example = 'hours.mon = ["09:00-17:00"]'
        problems.append(f"{path}: the calendar has no open hours in any weekday; add some, e.g. {example}")
    return problems


def _holiday_problems(base: str, spec: dict[str, Any]) -> list[str]:
    holidays = spec.get("holidays", [])
    path = f"{base}.holidays"
    if not isinstance(holidays, list):
        return [f'{path}: must be a list of dates, e.g. ["2026-12-25", "2026-12-26"], got {_q(holidays)}']
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, value in enumerate(holidays):
        day = _check_date(value)
        if day is None:
            problems.append(f"{path}[{index}]: {_bad_date(value)}")
        elif day in seen:
            problems.append(f"{path}[{index}]: {_q(day)} is listed twice (also at [{seen[day]}]); remove one")
        else:
            seen[day] = index
    return problems


def _override_problems(base: str, spec: dict[str, Any]) -> list[str]:
    overrides = spec.get("overrides", {})
    path = f"{base}.overrides"
    if not isinstance(overrides, dict):
        return [f'{path}: must be a table of date = intervals, e.g. overrides."2026-12-24" = ["09:00-12:00"]']
    holidays = spec.get("holidays", [])
    holiday_days = {_check_date(value) for value in holidays} if isinstance(holidays, list) else set()
    problems: list[str] = []
    for key, value in overrides.items():
        where = f"{path}.{_q(str(key))}"
        day = _check_date(key)
        if day is None:
            problems.append(f"{where}: {_bad_date(key)}")
        elif day in holiday_days:
            problems.append(
                f"{where}: this date is also a holiday, which closes the whole day; keep only one of the two"
            )
        _, day_problems = _check_day(value)
        problems.extend(f"{where}{suffix}: {reason}" for suffix, reason in day_problems)
    return problems


def _deadline_problems(base: str, spec: dict[str, Any]) -> list[str]:
    value = spec.get("deadline_at_close", DEFAULT_DEADLINE_AT_CLOSE)
    if value in DEADLINE_AT_CLOSE:
        return []
    return [f'{base}.deadline_at_close: {_q(value)} is not allowed; use "close" or "next-open"']


def validate_calendar(name: str, spec: dict[str, Any]) -> list[str]:
    """Every problem in one calendar table, each prefixed with its dotted path (empty list: valid)."""
    base = f"calendars.{name}"
    if not isinstance(spec, dict):
        return [f'{base}: must be a table with at least timezone and hours, got {_q(spec)}']
    problems = [
        f"{base}.{key}: unknown key; the keys of a calendar are {', '.join(CALENDAR_KEYS)}"
        for key in spec
        if key not in CALENDAR_KEYS
    ]
    checks = (_timezone_problems, _hours_problems, _holiday_problems, _override_problems, _deadline_problems)
    for check in checks:
        problems.extend(check(base, spec))
    return problems


def _canonical_day(value: list[str]) -> list[str]:
    return [format_interval(interval) for interval in parse_day(value)]


def normalize_calendar(spec: dict[str, Any], *, name: str = "calendar") -> dict[str, Any]:
    """The canonical form stored and exported: all five keys, days in mon..sun order (open days only),
    intervals re-rendered and sorted, holidays sorted, overrides sorted by date. Raises ConfigInvalid
    (with every problem listed) if the calendar is not valid; `name` is only used in those messages."""
    problems = validate_calendar(name, spec)
    if problems:
        raise ConfigInvalid(
            f"calendar {name!r} is invalid ({len(problems)} problem(s)); fix them and try again",
            problems=problems,
        )
    hours = spec.get("hours", {})
    overrides = {_check_date(key): value for key, value in spec.get("overrides", {}).items()}
    return {
        "timezone": spec["timezone"],
        "hours": {day: _canonical_day(hours[day]) for day in WEEKDAYS if hours.get(day)},
        "holidays": sorted(_check_date(value) for value in spec.get("holidays", [])),
        "overrides": {day: _canonical_day(overrides[day]) for day in sorted(overrides)},
        "deadline_at_close": spec.get("deadline_at_close", DEFAULT_DEADLINE_AT_CLOSE),
    }

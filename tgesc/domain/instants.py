"""Instants, pauses and minute budgets as people type them on the command line, and exact minute texts.

`parse_instant` reads an ISO 8601 date and time: `2026-03-02T09:30`, `2026-03-02 09:30:15.5`,
`2026-03-02T09:30+01:00`, `2026-03-02T08:30Z`, or the basic form `20260302T0930Z`. A time with an
offset (or `Z`) is that instant; a time without one is a wall-clock time in the zone given (a
calendar's), read as Python's zoneinfo does with fold=0: a repeated time (the hour after clocks go
back) is its first occurrence, and a time that does not exist (in the gap when clocks go forward) is
read with the offset in force before the jump, so it lands that far past the jump. A bare date is not an
instant and is refused, as are more than six decimals of a second (tgesc counts whole microseconds) and
instants outside the range of docs/limits.md (1970 up to the year 9000, `tgesc.domain.limits`).

`parse_moment` reads either, a bare date being local midnight. `parse_moment_or_ago` reads one end of a window of
time (`--since`, `--until`): a moment, or a duration back from now (`30d`, `36h`, `1h30m`). `parse_date` reads a
calendar date, `YYYY-MM-DD`, within the same years. `parse_pause` reads `START/END`, two such instants;
`parse_minutes` reads a decimal number of minutes (`90`, `1.5`, `0.25`; at most 365 days' worth) into an exact
timedelta. `format_minutes` and `format_seconds` write a duration as a plain decimal number without float noise
(`90`, `90.5`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from tgesc.domain.durations import DurationError, looks_like_duration, parse_duration
from tgesc.domain.limits import MAX_DURATION, date_problem, instant_problem

US_PER_MINUTE = 60_000_000
MAX_US = MAX_DURATION * 1_000_000
MINUTE_PLACES = 8  # a minute to 8 decimal places pins down the microsecond (0.6 µs apart)

_FORM = "write an ISO 8601 date and time, e.g. 2026-03-02T09:30, 2026-03-02T09:30+01:00 or 2026-03-02T08:30Z"
_OFFSET = r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2}(?::?[0-9]{2}(?:[.,][0-9]+)?)?)?)"
_INSTANT = re.compile(
    r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8})[Tt ]"
    r"[0-9]{2}(?::?[0-9]{2}(?::?[0-9]{2}(?:[.,](?P<fraction>[0-9]+))?)?)?" + _OFFSET + "?",
    re.ASCII,
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_DATE_FORM = "write YYYY-MM-DD, e.g. 2026-12-25"
_DATE_ONLY = re.compile(r"[0-9]{4}-?[0-9]{2}-?[0-9]{2}", re.ASCII)
_MINUTES = re.compile(r"\+?(?P<whole>[0-9]*)(?:\.(?P<fraction>[0-9]*))?", re.ASCII)
_MINUTES_FORM = "write a number of minutes such as 90, 1.5 or 0.25"


class InstantError(ValueError):
    """An instant, pause or minute budget is not acceptable; the message says why and shows the form."""


def parse_instant(text: str, zone: tzinfo) -> datetime:
    """The instant `text` denotes, as a datetime with a fixed UTC offset (its own, or for a date and time
    without one, the offset `zone` has at that wall-clock time)."""
    if not isinstance(text, str):
        raise InstantError(f"{text!r} is not an instant; {_FORM}")
    stripped = text.strip()
    match = _INSTANT.fullmatch(stripped)
    if match is None:
        raise InstantError(f"{text!r} is not an instant: {_instant_reason(stripped)}; {_FORM}")
    if match["fraction"] and len(match["fraction"]) > 6:
        raise InstantError(f"{text!r} has more than 6 decimals of a second; tgesc counts whole microseconds")
    try:
        parsed = datetime.fromisoformat(stripped.replace(",", "."))
    except ValueError as exc:
        raise InstantError(f"{text!r} is not an instant: {exc}; {_FORM}") from None
    if parsed.tzinfo is None:  # a fixed offset: zoneinfo datetimes in a gap or fold never equal other zones'
        parsed = parsed.replace(tzinfo=timezone(parsed.replace(tzinfo=zone).utcoffset()))
    problem = instant_problem(parsed)
    if problem:
        raise InstantError(f"{text!r} {problem}")
    return parsed


def parse_moment(text: str, zone: tzinfo) -> datetime:
    """When something happened or should, as a person types it: an instant (`parse_instant`), or a bare date
    (`2026-03-01`, `20260301`), read as local midnight in `zone`. What `ticket checklist` and the thread's
    /first and /expected read."""
    stripped = text.strip() if isinstance(text, str) else text
    if isinstance(stripped, str) and _DATE_ONLY.fullmatch(stripped):
        try:
            day = date.fromisoformat(stripped if "-" in stripped else
                                     f"{stripped[:4]}-{stripped[4:6]}-{stripped[6:]}")
        except ValueError as exc:
            raise InstantError(f"{text!r} is not a date: {exc}") from None
        return parse_instant(day.isoformat() + "T00:00", zone)
    try:
        return parse_instant(stripped, zone)
    except InstantError as exc:
        raise InstantError(f"{exc} (or a date such as 2026-03-02)") from None


def parse_moment_or_ago(text: str, zone: tzinfo, now: datetime) -> datetime:
    """One end of a window of time as people type it: a duration back from `now` (`30d`, `36h`, `1h30m`; `0s` is
    now; at most 365d) or a moment (`parse_moment`: an instant, or a date read as local midnight in `zone`).
    What `ticket list --since / --until` and `simulate --replay --since` read; InstantError says what is wrong."""
    stripped = text.strip() if isinstance(text, str) else text
    if isinstance(stripped, str) and looks_like_duration(stripped):
        try:
            return now - timedelta(seconds=parse_duration(stripped))
        except DurationError as exc:
            raise InstantError(f"{exc}; or give an instant, e.g. 2026-03-02T09:30") from None
    try:
        return parse_moment(text, zone)
    except InstantError as exc:
        raise InstantError(f"{exc}; or a duration back from now, e.g. 30d, 36h or 1h30m") from None


def _instant_reason(text: str) -> str:
    if not text:
        return "it is empty"
    if _DATE_ONLY.fullmatch(text):
        return "it is a date without a time of day; add one, e.g. T09:00"
    if text[:10].count("-") == 2 and len(text) > 10 and text[10] not in "Tt ":
        return f"the date and the time must be separated by T or a space, not {text[10]!r}"
    if text.endswith("z"):
        return "write the UTC designator as a capital Z"
    return "it is not of the form DATE T TIME [OFFSET]"


def parse_date(text: str) -> date:
    """The calendar date `text` denotes (`YYYY-MM-DD`, within the dates of docs/limits.md), else InstantError."""
    stripped = text.strip() if isinstance(text, str) else ""
    if not _DATE.fullmatch(stripped):
        raise InstantError(f"{text!r} is not a date; {_DATE_FORM}")
    try:
        day = date.fromisoformat(stripped)
    except ValueError as exc:
        raise InstantError(f"{text!r} is not a date ({exc}); {_DATE_FORM}") from None
    problem = date_problem(day)
    if problem:
        raise InstantError(f"{text!r} {problem}")
    return day


def parse_pause(text: str, zone: tzinfo) -> tuple[datetime, datetime]:
    """`START/END`, two instants (naive ones read in `zone`); END must not be before START."""
    if not isinstance(text, str) or "/" not in text:
        raise InstantError(f"{text!r} is not a pause: write START/END, two instants such as "
                           "2026-03-02T10:00/2026-03-02T11:30 (with an offset or Z, or in the calendar's zone)")
    first, _, second = text.partition("/")
    start, end = parse_instant(first, zone), parse_instant(second, zone)
    if end < start:
        raise InstantError(f"{text!r}: the pause ends before it starts; write the earlier instant first")
    return start, end


def parse_minutes(text: str) -> timedelta:
    """A decimal number of minutes as an exact timedelta (refused if it is not whole microseconds)."""
    if not isinstance(text, str):
        raise InstantError(f"{text!r} is not a number of minutes; {_MINUTES_FORM}")
    stripped = text.strip()
    match = _MINUTES.fullmatch(stripped)
    if match is None or not (match["whole"] or match["fraction"]):
        raise InstantError(f"{text!r} is not a number of minutes: {_minutes_reason(stripped)}; {_MINUTES_FORM}")
    whole = match["whole"].lstrip("0")
    fraction = (match["fraction"] or "").rstrip("0")
    if len(whole) > len(str(MAX_US // US_PER_MINUTE)):
        raise InstantError(_too_large(text))
    if len(fraction) > MINUTE_PLACES:
        raise InstantError(f"{text!r} minutes is not a whole number of microseconds; use fewer decimals")
    with localcontext(Context(prec=60)):
        value = Decimal(f"{whole or 0}.{fraction or 0}") * US_PER_MINUTE
    if value != value.to_integral_value():
        raise InstantError(f"{text!r} minutes is not a whole number of microseconds "
                           "(a microsecond is 1/60000000 of a minute); round it")
    if value > MAX_US:
        raise InstantError(_too_large(text))
    return timedelta(microseconds=int(value))


def _too_large(text: str) -> str:
    return (f"{text!r} minutes is too large a budget: at most {MAX_US // US_PER_MINUTE} minutes (365d), "
            "the longest duration tgesc accepts")


def _minutes_reason(text: str) -> str:
    if not text:
        return "it is empty"
    if text.startswith("-"):
        return "a budget cannot be negative"
    if text.lstrip("+").lower() in ("nan", "snan", "inf", "infinity"):
        return "it is not a finite number"
    if "," in text:
        return "use a dot as the decimal separator"
    if any(unit in text.lower() for unit in ("h", "m", "d", "s")):
        return "give minutes as a plain number, without a unit"
    return "use digits with an optional decimal point"


def _plain(number: Decimal) -> str:
    """`Decimal` text without exponent or trailing zeros: 90, 90.5, 0.00000005."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_minutes(duration: timedelta) -> str:
    """Minutes as a decimal: whole minutes as an integer, else at most 8 decimals (rounded half-even;
    exact whenever the value has 8 or fewer decimals, which holds for every multiple of 3 µs)."""
    us = duration // timedelta(microseconds=1)
    with localcontext(Context(prec=60)):
        minutes = (Decimal(us) / US_PER_MINUTE).quantize(Decimal(1).scaleb(-MINUTE_PLACES), ROUND_HALF_EVEN)
    return _plain(minutes)


def format_seconds(duration: timedelta) -> str:
    """Seconds as an exact decimal: 5430, 5430.25, 0.000001."""
    us = duration // timedelta(microseconds=1)
    return _plain(Decimal(us).scaleb(-6))


def monday_of(day: date) -> date:
    """The Monday of the ISO week holding `day`."""
    return day - timedelta(days=day.weekday())

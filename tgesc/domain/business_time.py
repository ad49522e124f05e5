"""Business-time arithmetic on a calendar: when a budget of business time runs out, and how much business
time lies between two instants; and, for a calendar used as a shift, when the closed time an instant lies in
began and when the calendar next opens or closes.

Business hours are local wall-clock hours in the calendar's zone: on a DST day a calendar still opens
at its local opening time, and inside an open interval real elapsed time counts (a 24/7 calendar has a
23-hour and a 25-hour day). A local time that does not exist (inside a DST gap) maps to the instant the
clocks jumped plus its distance into the gap, and an ambiguous one (a repeated hour) to its first
occurrence, as Python's zoneinfo does with fold=0. Pauses are ranges of instants that do not count.

All arithmetic is in integer microseconds since the epoch, so results are exact. Cost grows with the
open intervals crossed, not with minutes: days are computed once and cached, and whole weeks that hold
no holiday, override, pause or DST change are skipped by arithmetic, at the length of a standard week,
looking up one UTC offset per week and building no day (a 730-day budget crosses some 500 weeks). A
change of the clocks is seen as different offsets at the midnights of a week's two Mondays: two changes
inside one week that cancel out are not (no zone of the tz database has any from 1990 to 2060; Gaza's
are a week apart).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tgesc.domain.errors import DomainError
from tgesc.domain.hours import parse_day
from tgesc.domain.vocabulary import WEEKDAYS

US = 1_000_000
DAY_US = 86_400 * US
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
LAST_ORDINAL = date(9999, 12, 1).toordinal()  # a deadline later than this cannot be counted (or shown) in Python
MAX_CACHED_DAYS = 20_000
MAX_CACHED_DUES = 4_096  # `due` answers remembered per calendar (ingest asks the same ones per message)
REACH_DAYS = 92  # how far `closed_since` looks back and `next_change` ahead (a shift calendar's long closures)

Span = tuple[int, int]  # [start, end) in microseconds since the epoch


class CalendarError(DomainError):
    """The calendar cannot answer (it has no business time at all, or none after some date)."""


def to_us(instant: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant!r}: business-time maths needs aware instants")
    return (instant - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def budget_us(budget: timedelta) -> int:
    value = budget // timedelta(microseconds=1)
    if value < 0:
        raise ValueError(f"a business-time budget cannot be negative ({budget})")
    return value


class BusinessCalendar:
    """A calendar in the canonical form of `tgesc.domain.hours.normalize_calendar`."""

    def __init__(self, spec: Mapping[str, Any], name: str = "calendar") -> None:
        self.name = name
        self.zone = ZoneInfo(spec["timezone"])
        self.deadline_at_close = spec.get("deadline_at_close", "close")
        hours = spec.get("hours", {})
        self._weekly = [tuple(parse_day(hours.get(day, []))) for day in WEEKDAYS]
        self._holidays = {date.fromisoformat(str(d)).toordinal() for d in spec.get("holidays", [])}
        self._overrides = {date.fromisoformat(str(d)).toordinal(): tuple(parse_day(list(iv)))
                           for d, iv in spec.get("overrides", {}).items()}
        self._special = sorted(self._holidays | set(self._overrides))
        self._weekday_us = [sum(end - start for start, end in day) * 60 * US for day in self._weekly]
        self._standard_week_us = sum(self._weekday_us)
        open_overrides = [d for d, iv in self._overrides.items() if iv]
        self._last_open_override = max(open_overrides, default=None)
        if not self._standard_week_us and self._last_open_override is None:
            raise CalendarError(f"calendar {name!r} has no open hours at all; give it weekly hours")
        self._days: dict[int, tuple[Span, ...]] = {}
        self._weeks: dict[int, int] = {}
        self._offsets: dict[int, timedelta] = {}
        self._dues: dict[tuple, int] = {}

    # --- days and weeks as UTC spans ----------------------------------------------------------------

    def local_ordinal(self, us: int) -> int:
        """The proleptic ordinal of the local date at instant `us`."""
        return from_us(us).astimezone(self.zone).toordinal()

    def _wall_to_us(self, ordinal: int, minute: int) -> int:
        day = date.fromordinal(ordinal)
        wall = datetime(day.year, day.month, day.day, tzinfo=self.zone) + timedelta(minutes=minute)
        offset = self.zone.utcoffset(wall)
        return ((ordinal - EPOCH_ORDINAL) * 1440 + minute) * 60 * US - offset // timedelta(microseconds=1)

    def local_hours(self, ordinal: int) -> Sequence[tuple[int, int]]:
        """That local date's open intervals in minutes since local midnight."""
        if ordinal in self._overrides:
            return self._overrides[ordinal]
        if ordinal in self._holidays:
            return ()
        return self._weekly[date.fromordinal(ordinal).weekday()]

    def day(self, ordinal: int) -> tuple[Span, ...]:
        """That local date's open intervals as instants (cached)."""
        spans = self._days.get(ordinal)
        if spans is None:
            if len(self._days) > MAX_CACHED_DAYS:
                self._days.clear()
                self._offsets.clear()
                self._weeks.clear()
            spans = self._days[ordinal] = self._build_day(ordinal)
        return spans

    def _build_day(self, ordinal: int) -> tuple[Span, ...]:
        hours = self.local_hours(ordinal)
        if not hours:
            return ()
        offset = self._midnight_offset(ordinal)
        if offset == self._midnight_offset(ordinal + 1):  # no DST change that day: one offset for all
            base = (ordinal - EPOCH_ORDINAL) * DAY_US - offset // timedelta(microseconds=1)
            return tuple((base + start * 60 * US, base + end * 60 * US) for start, end in hours)
        # On a spring-forward day an end inside the gap maps (fold=0) past the instant of a later
        # interval's start ("01:00-02:30" + "03:00-05:00" in Berlin: 01:30Z > 01:00Z): sort and merge,
        # or the overlap would count twice and the spans would not be in order.
        merged: list[list[int]] = []
        for start, end in sorted((self._wall_to_us(ordinal, start), self._wall_to_us(ordinal, end))
                                 for start, end in hours):
            if end <= start:
                continue
            if merged and start < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return tuple((start, end) for start, end in merged)

    def week_length(self, monday: int) -> int:
        """Business microseconds in the local week starting on that Monday (cached): the standard week's, with
        its holidays, overrides and the day the clocks change (if they do) counted as they are."""
        length = self._weeks.get(monday)
        if length is None:
            special = self._special
            unusual = set(special[bisect_left(special, monday):bisect_left(special, monday + 7)])
            if self._midnight_offset(monday) != self._midnight_offset(monday + 7):
                unusual.update(d for d in range(monday, monday + 7)
                               if self._midnight_offset(d) != self._midnight_offset(d + 1))
            length = self._weeks[monday] = self._standard_week_us + sum(
                self._day_length(d) - self._weekday_us[(d - 1) % 7] for d in unusual)  # ordinal 1 was a Monday
        return length

    def _day_length(self, ordinal: int) -> int:
        """Business microseconds on that local date: its open minutes, unless the clocks change that day."""
        if self._midnight_offset(ordinal) != self._midnight_offset(ordinal + 1):
            return sum(end - start for start, end in self.day(ordinal))
        return sum(end - start for start, end in self.local_hours(ordinal)) * 60 * US

    def _midnight_offset(self, ordinal: int) -> timedelta:
        """The zone's UTC offset at local midnight of that date (fold 0, as everywhere here; cached)."""
        offset = self._offsets.get(ordinal)
        if offset is None:
            offset = self._offsets[ordinal] = self.zone.utcoffset(datetime.fromordinal(ordinal))
        return offset

    def _check_horizon(self, ordinal: int) -> None:
        if ordinal > LAST_ORDINAL:
            raise CalendarError(f"on calendar {self.name!r} this budget runs out only after the year 9999, beyond "
                                "what tgesc can count in; use a smaller budget, an earlier start or longer hours")
        if not self._standard_week_us and ordinal > self._last_open_override:
            last = date.fromordinal(self._last_open_override)
            raise CalendarError(f"calendar {self.name!r} has no business time after {last}: "
                                "it has no weekly hours and no later override")

    # --- the two questions ------------------------------------------------------------------------------

    def due(self, start: datetime, budget: timedelta, pauses: Iterable[tuple[datetime, datetime]] = ()) -> datetime:
        """The instant at which `budget` of business time has elapsed since `start`, in `start`'s zone."""
        ranges = tuple((a, b) for a, b in pauses)
        key = (to_us(start), budget_us(budget), ranges)
        result = self._dues.get(key)
        if result is None:
            result = self.due_us(key[0], key[1], Pauses(ranges))
            if len(self._dues) >= MAX_CACHED_DUES:
                self._dues.clear()
            self._dues[key] = result
        return from_us(result).astimezone(start.tzinfo)

    def elapsed(self, start: datetime, end: datetime, pauses: Iterable[tuple[datetime, datetime]] = ()) -> timedelta:
        """Business time between two instants (zero when `end` is not after `start`)."""
        return timedelta(microseconds=self.elapsed_us(to_us(start), to_us(end), Pauses(pauses)))

    def due_us(self, start: int, remaining: int, pauses: Pauses) -> int:
        ordinal = self.local_ordinal(start)
        first = ordinal
        while True:
            self._check_horizon(ordinal)
            if ordinal > first and date.fromordinal(ordinal).weekday() == 0:
                skipped = self._skip_weeks(ordinal, remaining, pauses)
                if skipped is not None:
                    ordinal, remaining = skipped
                    continue
            for span_start, span_end in pauses.cut(self.day(ordinal)):
                span_start = max(span_start, start)
                length = span_end - span_start
                if length <= 0:
                    continue
                if remaining < length:
                    return span_start + remaining
                remaining -= length
                if remaining == 0 and self.deadline_at_close == "close":
                    return span_end
            ordinal += 1

    def _skip_weeks(self, monday: int, remaining: int, pauses: Pauses) -> tuple[int, int] | None:
        """Skip the whole weeks from `monday` that the budget outlasts (None if not even one): runs of standard
        weeks by arithmetic (`_standard_run`), any other week by its length (`week_length`)."""
        first = monday
        while True:
            if not pauses:
                monday, remaining = self._standard_run(monday, remaining)
            elif pauses.touch(self._wall_to_us(monday, 0), self._wall_to_us(monday + 7, 0)):
                break
            length = self.week_length(monday)
            if remaining <= length:
                break
            remaining, monday = remaining - length, monday + 7
            self._check_horizon(monday)
        return (monday, remaining) if monday > first else None

    def _standard_run(self, monday: int, remaining: int) -> tuple[int, int]:
        """Skip the standard weeks from `monday` that the budget outlasts: weeks before the next holiday or
        override whose two Mondays have the same offset at midnight (the clocks do not change in them), each the
        standard week's length. One offset per week is looked up; no day is built."""
        standard, special = self._standard_week_us, self._special
        i = bisect_left(special, monday)
        last = min(special[i] - 7 if i < len(special) else LAST_ORDINAL, LAST_ORDINAL - 7)
        utcoffset, midnight = self.zone.utcoffset, datetime.fromordinal
        offset = utcoffset(midnight(monday))
        while standard < remaining and monday <= last:
            if utcoffset(midnight(monday + 7)) != offset:
                break
            remaining, monday = remaining - standard, monday + 7
        return monday, remaining

    def elapsed_us(self, start: int, end: int, pauses: Pauses) -> int:
        total = 0
        ordinal = self.local_ordinal(start)
        last = self.local_ordinal(end) if end > start else ordinal - 1
        while ordinal <= last:
            if date.fromordinal(ordinal).weekday() == 0 and ordinal + 6 < last:
                week_start, week_end = self._wall_to_us(ordinal, 0), self._wall_to_us(ordinal + 7, 0)
                if week_start >= start and week_end <= end and not pauses.touch(week_start, week_end):
                    total += self.week_length(ordinal)
                    ordinal += 7
                    continue
            for span_start, span_end in pauses.cut(self.day(ordinal)):
                total += max(0, min(span_end, end) - max(span_start, start))
            ordinal += 1
        return total

    def next_open(self, instant: datetime) -> datetime:
        """`instant` itself if it is in business time, else the next opening."""
        return self.due(instant, timedelta(0))

    def is_open(self, instant: datetime) -> bool:
        us = to_us(instant)
        return any(start <= us < end for start, end in self.day(self.local_ordinal(us)))

    def week(self, monday: date) -> list[tuple[datetime, datetime]]:
        """The open intervals of the local week starting at `monday`, as aware datetimes in the zone."""
        first = monday.toordinal()
        return [(from_us(a).astimezone(self.zone), from_us(b).astimezone(self.zone))
                for ordinal in range(first, first + 7) for a, b in self.day(ordinal)]

    # --- shifts: when a calendar last closed, when it next opens or closes ----------------------------

    def closed_since(self, instant: datetime) -> datetime | None:
        """When the closed time `instant` lies in began: the end of the last open interval before it (None when
        `instant` is open). A calendar not open once in the REACH_DAYS before says it closed that long ago."""
        us = to_us(instant)
        if self.is_open(instant):
            return None
        ordinal = self.local_ordinal(us)
        for day in range(ordinal, ordinal - REACH_DAYS, -1):
            ends = [end for _, end in self.day(day) if end <= us]
            if ends:
                return from_us(max(ends))
        return from_us(us - REACH_DAYS * DAY_US)

    def next_change(self, instant: datetime) -> datetime | None:
        """The first instant after `instant` at which the calendar opens (closed at `instant`) or closes (open);
        None when that is not within REACH_DAYS (a 24/7 calendar never closes)."""
        us = to_us(instant)
        ordinal = self.local_ordinal(us)
        if not self.is_open(instant):  # the first interval starting later opens it: none started since is open
            starts = (start for day in range(ordinal, ordinal + REACH_DAYS) for start, _ in self.day(day))
            return next((from_us(start) for start in starts if start > us), None)
        return next((from_us(end) for start, end in self._joined(ordinal - 1, REACH_DAYS + 1) if start <= us < end),
                    None)

    def _joined(self, ordinal: int, days: int) -> Iterator[Span]:
        """The open intervals of `days` local dates from `ordinal` on, in order, those that touch joined into one
        (a shift through midnight is one); one still open at the end of the last date is left out (it may go on)."""
        current: Span | None = None
        for day in range(ordinal, ordinal + days):
            for start, end in self.day(day):
                if current is not None and start <= current[1]:
                    current = (current[0], max(current[1], end))
                    continue
                if current is not None:
                    yield current
                current = (start, end)
        if current is not None and current[1] < self._wall_to_us(ordinal + days, 0):
            yield current


class Pauses:
    """Sorted, merged ranges of instants during which business time does not count."""

    def __init__(self, ranges: Iterable[tuple[datetime, datetime]] = ()) -> None:
        spans = sorted((to_us(a), to_us(b)) for a, b in ranges)
        for a, b in spans:
            if b < a:
                raise ValueError(f"a pause ends before it starts: {from_us(a).isoformat()}/{from_us(b).isoformat()}")
        merged: list[list[int]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            elif b > a:
                merged.append([a, b])
        self._starts = [a for a, _ in merged]
        self._ends = [b for _, b in merged]

    def __bool__(self) -> bool:
        return bool(self._starts)

    def touch(self, start: int, end: int) -> bool:
        """Whether any pause overlaps [start, end)."""
        i = bisect_right(self._ends, start)
        return i < len(self._starts) and self._starts[i] < end

    def cut(self, spans: Iterable[Span]) -> Iterator[Span]:
        """The parts of `spans` outside every pause."""
        if not self._starts:
            yield from spans
            return
        for start, end in spans:
            i = bisect_right(self._ends, start)
            while start < end:
                if i >= len(self._starts) or self._starts[i] >= end:
                    yield start, end
                    break
                if self._starts[i] > start:
                    yield start, self._starts[i]
                start = max(start, self._ends[i])
                i += 1

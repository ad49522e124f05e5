"""When a return-visit survey goes out: a delay after the resolution, then the customer's local daytime.

The article wants the return visit 24–48 hours after the resolution; nobody wants a survey at 3 a.m.
So the survey is due at the first instant, at or after `resolved + delay`, whose wall-clock time in the
customer's zone lies in the daytime window [start, end) (minutes since local midnight, `24:00` allowed as
the end). Wall-clock times come from zoneinfo, so DST changes are handled: a window start that falls in
a spring-forward gap begins when the clock jumps, a repeated hour counts its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tgesc.domain.hours import DAY_MINUTES, format_interval, parse_interval

Daytime = tuple[int, int]  # [start, end) in minutes since local midnight, 0 <= start < end <= 1440

DEFAULT_DAYTIME: Daytime = (10 * 60, 20 * 60)


def parse_daytime(text: str) -> Daytime:
    """`"10:00-20:00"` → (600, 1200); a ValueError saying what is wrong otherwise."""
    return parse_interval(text)


def format_daytime(daytime: Daytime) -> str:
    return format_interval(daytime)


def _minute_of_day(local: datetime) -> int:
    return local.hour * 60 + local.minute


def in_daytime(instant: datetime, zone: ZoneInfo, daytime: Daytime) -> bool:
    """Whether the wall-clock time of `instant` in `zone` lies in the window (to the second: 19:59:59 is in
    a window ending at 20:00, 20:00:00 is not)."""
    start, end = daytime
    minute = _minute_of_day(instant.astimezone(zone))
    return start <= minute < end


def _local_starts(day: date, minute: int, zone: ZoneInfo) -> list[datetime]:
    """The instants the wall clock in `zone` shows `minute` on `day` (UTC): one, or both occurrences in a
    repeated hour; in a gap (the clock jumps over it) instants beside the jump, which are not in the window
    (the jump itself is a candidate of its own, see `_transitions`)."""
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    return [wall.astimezone(UTC), wall.replace(fold=1).astimezone(UTC)]


def _transitions(zone: ZoneInfo, since: datetime, until: datetime) -> list[datetime]:
    """The instants in [since, until] at which the UTC offset of `zone` changes (to the second)."""
    found = []
    step = timedelta(hours=1)
    left = since
    while left < until:
        right = min(left + step, until)
        if left.astimezone(zone).utcoffset() != right.astimezone(zone).utcoffset():
            low, high = int(left.timestamp()), int(right.timestamp())  # offset(low) != offset(high)
            before = left.astimezone(zone).utcoffset()
            while high - low > 1:
                middle = (low + high) // 2
                if datetime.fromtimestamp(middle, UTC).astimezone(zone).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            found.append(datetime.fromtimestamp(high, UTC))
        left = right
    return found


def first_daytime_instant(earliest: datetime, zone: ZoneInfo, daytime: Daytime) -> datetime:
    """The first instant at or after `earliest` (aware) inside the daytime window in `zone`, in UTC.

    Local time runs forward except at the zone's transitions, so the window is entered only where the wall
    clock passes its start (either time, in a repeated hour), or where a transition makes the clock jump (or
    fall back) into it: the answer is the earliest of those candidates (over the next days) in the window."""
    earliest = earliest.astimezone(UTC)
    if in_daytime(earliest, zone, daytime):
        return earliest
    day = earliest.astimezone(zone).date()
    candidates = [start for offset in range(3)
                  for start in _local_starts(day + timedelta(days=offset), daytime[0], zone)]
    candidates += _transitions(zone, earliest, earliest + timedelta(days=3))
    inside = [c for c in candidates if c >= earliest and in_daytime(c, zone, daytime)]
    if not inside:
        raise AssertionError(f"no daytime {format_daytime(daytime)} in {zone} within 3 days of {earliest}")
    return min(inside)


def survey_due(resolved_at: datetime, delay: timedelta, zone: ZoneInfo, daytime: Daytime = DEFAULT_DAYTIME
               ) -> datetime:
    """When the survey of a ticket resolved at `resolved_at` is due (UTC)."""
    return first_daytime_instant(resolved_at + delay, zone, daytime)


def whole_day(daytime: Daytime) -> bool:
    return daytime == (0, DAY_MINUTES)

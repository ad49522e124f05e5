"""A weekly instant such as `mon 09:00` (the `[reports] digest`): parsed, and the latest one at or before a moment in
a zone, with the week it closes. Pure: the zone and the moment are passed in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FORM = re.compile(r"(?P<day>[a-z]{3})\s+(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})", re.ASCII)
WEEK = timedelta(days=7)


class WeeklyError(ValueError):
    """Not a weekly instant; the message says why and shows the form."""


@dataclass(frozen=True)
class Weekly:
    weekday: int  # Monday 0
    at: time

    @classmethod
    def parse(cls, text: str) -> Weekly:
        """`mon 09:00` (a day's first three letters, any case, and a 24-hour time)."""
        match = _FORM.fullmatch(text.strip().lower()) if isinstance(text, str) else None
        if match is None or match["day"] not in DAYS:
            raise WeeklyError(f"{text!r} is not a weekday and a time such as \"mon 09:00\" (days: {', '.join(DAYS)})")
        hour, minute = int(match["hour"]), int(match["minute"])
        if hour > 23 or minute > 59:
            raise WeeklyError(f"{text!r}: {hour:02d}:{minute:02d} is not a time of day (00:00 to 23:59)")
        return cls(DAYS.index(match["day"]), time(hour, minute))

    def text(self) -> str:
        return f"{DAYS[self.weekday]} {self.at:%H:%M}"

    def latest(self, now: datetime, zone: tzinfo) -> datetime:
        """The latest such instant at or before `now`, as a wall-clock time in `zone` (a time a clock change skips
        is the instant after the gap, as zoneinfo reads it)."""
        local = now.astimezone(zone)
        day = local.date() - timedelta(days=(local.weekday() - self.weekday) % 7)
        candidate = datetime.combine(day, self.at, tzinfo=zone)
        if candidate > local:
            candidate = datetime.combine(day - WEEK, self.at, tzinfo=zone)
        return candidate

    def week_before(self, end: datetime) -> tuple[datetime, datetime]:
        """The week an instant of this schedule closes: [the same wall-clock time 7 days earlier, `end`)."""
        start_day = end.date() - WEEK
        return datetime.combine(start_day, end.timetz()).replace(tzinfo=end.tzinfo), end

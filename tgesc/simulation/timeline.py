"""Virtual time for a simulation: the periodic sweeps `tgesc worker cron` would enqueue, at the instants they
would run, as real RQ jobs.

RQ's cron runs an interval job when the scheduler starts and every interval after: here, at the scenario's
start plus whole intervals (`sla_sweep_every`, `unresolved_sweep_every`, `survey_sweep_every`,
`lifecycle_sweep_every`, `assignment_sweep_every`, `digest_check_every`). A tick at which
a sweep's due query finds nothing changes nothing, so time jumps from one tick with work to the next: the first
tick at or after the earliest timer the sweep reads (services.sweeps.next_due), or, for the assignment sweep, at or
after the next instant it has work (at once, or when a shift opens or closes), and for the digest at each
`[reports] digest` instant. Every warning, breach, unresolved
escalation, survey, reminder, expiry, hand-back and assignment fires at the instant it would in production.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tgesc.services.sweeps import next_due
from tgesc.worker import jobs


@dataclass(frozen=True)
class Periodic:
    name: str
    job: Callable[..., object]
    every: str  # the setting giving its interval
    next_due: Callable[[datetime], datetime | None]  # (now): when it next has work


def _timer(earliest: Callable[[], datetime | None]) -> Callable[[datetime], datetime | None]:
    """A sweep whose work is a timer column: its earliest due instant, whatever the time."""
    return lambda _now: earliest()


PERIODIC = (
    Periodic("sla", jobs.sla_sweep, "sla_sweep_every", _timer(next_due.next_sla_check)),
    Periodic("unresolved", jobs.unresolved_sweep, "unresolved_sweep_every", _timer(next_due.next_unresolved_check)),
    Periodic("survey", jobs.survey_sweep, "survey_sweep_every", _timer(next_due.next_survey_step)),
    Periodic("lifecycle", jobs.lifecycle_sweep, "lifecycle_sweep_every", _timer(next_due.next_lifecycle_step)),
    Periodic("assignment", jobs.assignment_sweep, "assignment_sweep_every", next_due.next_assignment_check),
    Periodic("digest", jobs.digest, "digest_check_every", jobs.next_digest),
)


class SweepTicker:
    """Which sweeps run next, and when: ticks on each sweep's own grid (start + k * interval)."""

    def __init__(self, start: datetime, intervals: dict[str, int]) -> None:
        self.start = start
        self.every = {p.name: timedelta(seconds=intervals[p.every]) for p in PERIODIC}
        self.last: dict[str, datetime] = {}

    def next_tick(self, now: datetime) -> tuple[datetime, list[Periodic]] | None:
        """The next instant (at or after `now`) at which some sweep has work, and those sweeps."""
        ticks: list[tuple[datetime, Periodic]] = []
        for periodic in PERIODIC:
            due = periodic.next_due(now)
            if due is None:
                continue
            earliest = max(due, now)
            if periodic.name in self.last:  # never twice at one tick (work left for later stays for later)
                earliest = max(earliest, self.last[periodic.name] + self.every[periodic.name])
            ticks.append((on_grid(earliest, self.start, self.every[periodic.name]), periodic))
        if not ticks:
            return None
        first = min(tick for tick, _ in ticks)
        return first, [periodic for tick, periodic in ticks if tick == first]

    def ran(self, periodic: Periodic, at: datetime) -> None:
        self.last[periodic.name] = at



def on_grid(instant: datetime, start: datetime, every: timedelta) -> datetime:
    """The first tick at or after `instant` of a job run at `start` and every `every` after it."""
    steps = max(0, math.ceil((instant - start) / every))
    return start + steps * every

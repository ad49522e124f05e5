"""SLA clocks of one ticket: when each is due, when its warnings fall, and how far along it is.

A ticket has up to three clocks: first response (from opening until the first staff reply), next
response (from the oldest customer message no staff reply has answered yet, once the first reply was
given) and resolution (from opening until resolved). Each runs in business time on its policy's
calendar (24/7 when the policy names none); time spent waiting on the customer is a pause when the
policy says so. While a ticket waits, its clocks have no due instant: they are stopped.

The policy is a snapshot taken when the ticket opened or changed priority (or by `tgesc sla
recompute`), so editing a policy never moves the deadlines of open tickets behind anyone's back.
History is append-only: when a ticket moves onto another policy, each run of a clock that has already
stopped, passed its deadline or fired its breach keeps its deadline and warnings (`KeptRun`, kept in
the snapshot); only deadlines still to come move.

A clock stops when it is met (the first staff reply, the resolution) or, unmet, when the ticket is
resolved or closed: every clock of a resolved or closed ticket is stopped.

Each warning and breach fires once per run of its clock: the firing a sweep records carries the
milestone's `key`, its level and the clock's start (`warn-50@1772445600`), so a next-response clock
started again by a later customer message, or every clock of a reopened ticket, warns again, while a
sweep run twice does not.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from tgesc.domain.business_time import BusinessCalendar
from tgesc.domain.durations import parse_duration
from tgesc.domain.vocabulary import OPEN_STATUSES

ALWAYS_OPEN = {"timezone": "UTC", "hours": {day: ["00:00-24:00"] for day in
                                            ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
               "holidays": [], "overrides": {}, "deadline_at_close": "close"}
CLOCKS = ("first_response", "next_response", "resolution")
BREACH = "breach"


@dataclass(frozen=True)
class Policy:
    """The SLA of one priority as a ticket's clocks use it (JSON-serialisable with `as_json`)."""

    priority: str
    first_response: timedelta
    resolution: timedelta
    next_response: timedelta | None = None
    warn_at: tuple[int, ...] = (50, 80)
    pause_when_waiting: bool = True
    on_breach: str = "none"
    escalate_to: str | None = None
    calendar_name: str | None = None
    calendar: Mapping[str, Any] | None = None  # canonical calendar definition; None: 24/7
    kept: tuple[KeptRun, ...] = ()  # runs of clocks that stay as they were under an earlier policy

    @classmethod
    def from_entry(cls, priority: str, entry: Mapping[str, Any], calendar: Mapping[str, Any] | None) -> Policy:
        """From a `[sla.PRIORITY]` configuration entry and its calendar's definition."""
        next_response = entry.get("next_response")
        return cls(priority=priority, first_response=timedelta(seconds=parse_duration(entry["first_response"])),
                   resolution=timedelta(seconds=parse_duration(entry["resolution"])),
                   next_response=timedelta(seconds=parse_duration(next_response)) if next_response else None,
                   warn_at=tuple(entry.get("warn_at", (50, 80))),
                   pause_when_waiting=entry.get("pause_when_waiting", True), on_breach=entry["on_breach"],
                   escalate_to=entry.get("escalate_to"), calendar_name=entry.get("calendar"), calendar=calendar)

    def as_json(self) -> dict[str, Any]:
        found = {"priority": self.priority, "first_response_s": self.first_response.total_seconds(),
                 "next_response_s": self.next_response.total_seconds() if self.next_response else None,
                 "resolution_s": self.resolution.total_seconds(), "warn_at": list(self.warn_at),
                 "pause_when_waiting": self.pause_when_waiting, "on_breach": self.on_breach,
                 "escalate_to": self.escalate_to, "calendar_name": self.calendar_name, "calendar": self.calendar}
        return {**found, "kept": [run.as_json() for run in self.kept]} if self.kept else found

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Policy:
        return cls(priority=data["priority"], first_response=timedelta(seconds=data["first_response_s"]),
                   resolution=timedelta(seconds=data["resolution_s"]),
                   next_response=timedelta(seconds=data["next_response_s"]) if data["next_response_s"] else None,
                   warn_at=tuple(data["warn_at"]), pause_when_waiting=data["pause_when_waiting"],
                   on_breach=data["on_breach"], escalate_to=data["escalate_to"],
                   calendar_name=data["calendar_name"], calendar=data["calendar"],
                   kept=tuple(KeptRun.from_json(run) for run in data.get("kept", ())))

    def budget(self, clock: str) -> timedelta | None:
        return {"first_response": self.first_response, "next_response": self.next_response,
                "resolution": self.resolution}[clock]

    @property
    def base(self) -> Policy:
        """The policy itself, without the runs kept from earlier ones (what the configuration says)."""
        return replace(self, kept=())

    def kept_run(self, clock: str, cycle: int) -> KeptRun | None:
        return next((run for run in self.kept if (run.clock, run.cycle) == (clock, cycle)), None)


@dataclass(frozen=True)
class KeptRun:
    """One run of a clock that stays as it was when its ticket moved onto another policy (`tgesc sla
    recompute`, a priority change), because it had stopped, passed its deadline or fired its breach: `clocks`
    gives that run this budget, deadline and warnings whatever the policy says. A later run of the clock (a
    later customer message, a reopened ticket) follows the policy."""

    clock: str
    cycle: int
    budget: timedelta
    due: datetime
    warnings: tuple[tuple[str, datetime], ...] = ()  # (level, instant) of each of its warnings

    @classmethod
    def of(cls, clock: Clock) -> KeptRun:
        """The run `clock` is (one with a deadline: a run worth keeping always has one)."""
        return cls(clock.name, clock_cycle(clock.started_at), clock.budget, clock.due,
                   tuple((m.level, m.at) for m in clock.milestones if not m.is_breach))

    def as_json(self) -> dict[str, Any]:
        return {"clock": self.clock, "run": self.cycle, "budget_s": self.budget.total_seconds(),
                "due": self.due.isoformat(), "warnings": [[level, at.isoformat()] for level, at in self.warnings]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeptRun:
        return cls(data["clock"], data["run"], timedelta(seconds=data["budget_s"]), datetime.fromisoformat(data["due"]),
                   tuple((level, datetime.fromisoformat(at)) for level, at in data["warnings"]))

    def clock_at(self, start: datetime, stop: datetime | None, met: bool) -> Clock:
        """This run as a clock (started at `start`; stopped at `stop`, met or not, when it has stopped)."""
        milestones = () if stop is not None else tuple(
            [Milestone(self.clock, level, at, self.cycle) for level, at in self.warnings]
            + [Milestone(self.clock, BREACH, self.due, self.cycle)])
        return Clock(self.clock, start, self.budget, stop, self.due, milestones, met)


@dataclass(frozen=True)
class TicketTimes:
    """What the clocks depend on, all aware instants."""

    opened_at: datetime
    first_responded_at: datetime | None = None
    awaiting_reply_since: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    pauses: Sequence[tuple[datetime, datetime]] = ()  # finished waits on the customer
    paused_since: datetime | None = None  # the wait going on now


@dataclass(frozen=True)
class Milestone:
    clock: str
    level: str  # "warn-50", "warn-80", ... or "breach"
    at: datetime
    cycle: int = 0  # the clock's start in Unix seconds: which run of the clock this milestone belongs to

    @property
    def key(self) -> str:
        """The level its firing records: the threshold and the clock's run, e.g. `warn-50@1772445600`
        (at most 32 characters for any start from 1970 to 9999)."""
        return milestone_key(self.level, self.cycle)

    @property
    def is_breach(self) -> bool:
        return self.level == BREACH


@dataclass(frozen=True)
class Clock:
    name: str
    started_at: datetime
    budget: timedelta
    stopped_at: datetime | None  # it stopped at that instant: met, or the ticket resolved or closed first
    due: datetime | None  # None while the ticket waits on the customer with the clock paused before its deadline
    milestones: tuple[Milestone, ...] = field(default=())
    met: bool = False  # it stopped because it was met (the first reply, the resolution)

    @property
    def running(self) -> bool:
        return self.stopped_at is None and self.due is not None

    @property
    def stopped_state(self) -> str:
        """What a stopped clock shows: met or stopped (unmet: the ticket ended first), late after its deadline."""
        late = self.due is not None and self.stopped_at is not None and self.stopped_at > self.due
        return ("met" if self.met else "stopped") + (" late" if late else "")


def clocks(policy: Policy, times: TicketTimes, calendar: BusinessCalendar) -> list[Clock]:
    """The ticket's clocks under `policy` on `calendar` (the policy's calendar, or 24/7); a run the policy
    keeps from an earlier one (`KeptRun`) as it was. While the ticket waits on the customer, a clock whose
    deadline came before the wait began keeps it (it was breached); the others have none until the wait ends."""
    pauses = list(times.pauses) if policy.pause_when_waiting else []
    waiting_since = times.paused_since if policy.pause_when_waiting else None
    result = []
    for name, start, stop, met in _clock_spans(policy, times):
        cycle = clock_cycle(start)
        kept = policy.kept_run(name, cycle)
        if kept is not None:
            result.append(kept.clock_at(start, stop, met))
            continue
        budget = policy.budget(name)
        due: datetime | None = calendar.due(start, budget, pauses)
        if waiting_since is not None and stop is None and due > waiting_since:
            due = None
        milestones = () if due is None or stop is not None else tuple(
            [Milestone(name, f"warn-{pct}", calendar.due(start, budget * pct / 100, pauses), cycle)
             for pct in policy.warn_at] + [Milestone(name, BREACH, due, cycle)])
        result.append(Clock(name, start, budget, stop, due, milestones, met))
    return result


def _clock_spans(policy: Policy, times: TicketTimes) -> list[tuple[str, datetime, datetime | None, bool]]:
    """Each clock's name, start, stop (None: it runs) and whether the stop met it. A clock is met by the first
    staff reply or the resolution; a ticket resolved or closed before that stops it unmet. A next-response
    run the policy keeps from an earlier one runs even when the policy has no next-response budget."""
    ended = times.resolved_at or times.closed_at
    answered = times.first_responded_at
    first_stop = min((t for t in (answered, ended) if t is not None), default=None)
    spans = [("first_response", times.opened_at, first_stop, answered is not None and answered == first_stop)]
    awaiting = times.awaiting_reply_since
    if answered and awaiting and not ended and (
            policy.next_response or policy.kept_run("next_response", clock_cycle(awaiting))):
        spans.append(("next_response", awaiting, None, False))
    spans.append(("resolution", times.opened_at, ended, times.resolved_at is not None))
    return spans


def settled(clock: Clock, fired: Collection[tuple[str, str]], now: datetime) -> str | None:
    """Why a new policy must leave this run of a clock as it is at `now` (history is append-only), or None
    when its deadline is still to come (or unknown while paused) and may move. `fired`: (clock, milestone
    key) pairs of the ticket's firings."""
    if clock.stopped_at is not None:
        return f"already {clock.stopped_state}"
    if (clock.name, milestone_key(BREACH, clock_cycle(clock.started_at))) in fired:
        return "breach already fired"
    if clock.due is not None and clock.due <= now:
        return "deadline already passed"
    return None


def keep_history(policy: Policy, current: Sequence[Clock], fired: Collection[tuple[str, str]],
                 now: datetime) -> tuple[Policy, dict[str, str]]:
    """`policy` (as configured) for a ticket whose clocks are now `current`: each run that is `settled` is
    kept as it is. Returns the policy to snapshot and why each kept clock was kept, by clock name."""
    reasons = {clock.name: why for clock in current
               if clock.due is not None and (why := settled(clock, fired, now)) is not None}
    return replace(policy.base, kept=tuple(KeptRun.of(c) for c in current if c.name in reasons)), reasons


def clock_cycle(start: datetime) -> int:
    """A clock run's identity in a firing's level: its start in whole Unix seconds."""
    return int(start.timestamp() // 1)


def milestone_key(level: str, cycle: int) -> str:
    return f"{level}@{cycle}"


def next_check(clock_list: Sequence[Clock], fired: Collection[tuple[str, str]]) -> datetime | None:
    """The earliest milestone of a running clock that has not fired in this run of its clock (`fired`:
    (clock, milestone key) pairs, among any others): what the sweep waits for."""
    pending = [m.at for c in clock_list if c.running for m in c.milestones if (m.clock, m.key) not in fired]
    return min(pending, default=None)


class Deadlines(Protocol):
    """What `next_breach` reads of a ticket row."""

    status: str
    first_response_due: datetime | None
    first_responded_at: datetime | None
    next_response_due: datetime | None
    resolution_due: datetime | None


def next_breach(ticket: Deadlines) -> datetime | None:
    """The earliest deadline of the ticket's running clocks as its row stores them (first response until the
    first reply, next response, resolution), None once it is resolved or closed or when none has one: what
    `ticket list` sorts by; the ticket is breaching once it has passed."""
    if ticket.status not in OPEN_STATUSES:
        return None
    found = [ticket.next_response_due, ticket.resolution_due,
             ticket.first_response_due if ticket.first_responded_at is None else None]
    return min((due for due in found if due is not None), default=None)


@dataclass(frozen=True)
class DueMilestone:
    milestone: Milestone
    acts: bool  # False: a later milestone of the same clock is due too (a late sweep): recorded, not acted on
    deadline: datetime  # the clock's due instant (the breach's)


def due_milestones(clock_list: Sequence[Clock], fired: Collection[tuple[str, str]],
                   now: datetime) -> list[DueMilestone]:
    """The milestones of running clocks that are due at `now` and have not fired in this run of their clock,
    in time order. Of one clock's due milestones only the latest acts: a sweep that comes late (after an
    outage, or when quiet hours end) sends the breach, not the warnings that lead up to it as well."""
    found: list[DueMilestone] = []
    for clock in clock_list:
        if not clock.running:
            continue
        due = sorted((m for m in clock.milestones if m.at <= now and (m.clock, m.key) not in fired),
                     key=lambda m: (m.at, m.is_breach))
        found += [DueMilestone(m, acts=i == len(due) - 1, deadline=clock.due) for i, m in enumerate(due)]
    return sorted(found, key=lambda d: (d.milestone.at, CLOCKS.index(d.milestone.clock)))


# Low and medium priority notices wait for the ticket's tier to open; urgent and high ones never wait.
QUIET_HOURS_PRIORITIES: tuple[str, ...] = ("medium", "low")


def waits_for_business_hours(priority: str) -> bool:
    """Whether this priority's warnings and breach notices wait while the ticket's tier is closed."""
    return priority in QUIET_HOURS_PRIORITIES


def report(clock: Clock, now: datetime, calendar: BusinessCalendar, pauses: Sequence[tuple[datetime, datetime]],
           paused_since: datetime | None) -> dict[str, Any]:
    """How far along one clock is at `now`: state (running, paused, breached; once stopped: met, met late,
    stopped, stopped late), whether it is running (ticking now), business time used and left, percentage."""
    end = clock.stopped_at or now
    waits = [*pauses, *([(paused_since, now)] if paused_since and not clock.stopped_at else [])]
    used = calendar.elapsed(clock.started_at, end, waits)
    if clock.stopped_at is not None:
        state = clock.stopped_state
    elif clock.due is None:
        state = "paused"
    else:
        state = "breached" if now >= clock.due else "running"
    return {"clock": clock.name, "state": state, "started_at": clock.started_at, "due": clock.due,
            "stopped_at": clock.stopped_at, "running": clock.stopped_at is None and paused_since is None,
            "budget": clock.budget, "used": used, "left": max(clock.budget - used, timedelta(0)),
            "percent": round(100 * used / clock.budget, 1)}

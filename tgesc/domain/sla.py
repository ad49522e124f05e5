"""SLA clocks of one ticket: when each is due, when its warnings fall, and how far along it is.

A ticket has up to three clocks: first response (from opening until the first staff reply), next
response (from the oldest customer message no staff reply has answered yet, once the first reply was
given) and resolution (from opening until resolved). Each runs in business time on its policy's
calendar (24/7 when the policy names none); time spent waiting on the customer is a pause when the
policy says so. While a ticket waits, its clocks have no due instant: they are stopped.

The policy is a snapshot taken when the ticket opened or changed priority (or by `tgesc sla
recompute`), so editing a policy never moves the deadlines of open tickets behind anyone's back.

Each warning and breach fires once per run of its clock: the firing a sweep records carries the
milestone's `key`, its level and the clock's start (`warn-50@1772445600`), so a next-response clock
started again by a later customer message, or every clock of a reopened ticket, warns again, while a
sweep run twice does not.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tgesc.domain.business_time import BusinessCalendar
from tgesc.domain.durations import parse_duration

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
        return {"priority": self.priority, "first_response_s": self.first_response.total_seconds(),
                "next_response_s": self.next_response.total_seconds() if self.next_response else None,
                "resolution_s": self.resolution.total_seconds(), "warn_at": list(self.warn_at),
                "pause_when_waiting": self.pause_when_waiting, "on_breach": self.on_breach,
                "escalate_to": self.escalate_to, "calendar_name": self.calendar_name, "calendar": self.calendar}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Policy:
        return cls(priority=data["priority"], first_response=timedelta(seconds=data["first_response_s"]),
                   resolution=timedelta(seconds=data["resolution_s"]),
                   next_response=timedelta(seconds=data["next_response_s"]) if data["next_response_s"] else None,
                   warn_at=tuple(data["warn_at"]), pause_when_waiting=data["pause_when_waiting"],
                   on_breach=data["on_breach"], escalate_to=data["escalate_to"],
                   calendar_name=data["calendar_name"], calendar=data["calendar"])

    def budget(self, clock: str) -> timedelta | None:
        return {"first_response": self.first_response, "next_response": self.next_response,
                "resolution": self.resolution}[clock]


@dataclass(frozen=True)
class TicketTimes:
    """What the clocks depend on, all aware instants."""

    opened_at: datetime
    first_responded_at: datetime | None = None
    awaiting_reply_since: datetime | None = None
    resolved_at: datetime | None = None
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
    stopped_at: datetime | None  # met (a reply, a resolution) at that instant
    due: datetime | None  # None while the ticket waits on the customer with the clock paused
    milestones: tuple[Milestone, ...] = field(default=())

    @property
    def running(self) -> bool:
        return self.stopped_at is None and self.due is not None


def clocks(policy: Policy, times: TicketTimes, calendar: BusinessCalendar) -> list[Clock]:
    """The ticket's clocks under `policy` on `calendar` (the policy's calendar, or 24/7)."""
    pauses = list(times.pauses) if policy.pause_when_waiting else []
    stopped = times.paused_since is not None and policy.pause_when_waiting
    result = []
    for name, start, stop in _clock_spans(policy, times):
        budget = policy.budget(name)
        due = None if stopped and stop is None else calendar.due(start, budget, pauses)
        cycle = clock_cycle(start)
        milestones = () if due is None or stop is not None else tuple(
            [Milestone(name, f"warn-{pct}", calendar.due(start, budget * pct / 100, pauses), cycle)
             for pct in policy.warn_at] + [Milestone(name, BREACH, due, cycle)])
        result.append(Clock(name, start, budget, stop, due, milestones))
    return result


def _clock_spans(policy: Policy, times: TicketTimes) -> list[tuple[str, datetime, datetime | None]]:
    spans = [("first_response", times.opened_at, times.first_responded_at)]
    if policy.next_response and times.first_responded_at and times.awaiting_reply_since and not times.resolved_at:
        spans.append(("next_response", times.awaiting_reply_since, None))
    spans.append(("resolution", times.opened_at, times.resolved_at))
    return spans


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
    """How far along one clock is at `now`: state, business time used and left, percentage."""
    end = clock.stopped_at or now
    waits = [*pauses, *([(paused_since, now)] if paused_since and not clock.stopped_at else [])]
    used = calendar.elapsed(clock.started_at, end, waits)
    if clock.stopped_at is not None:
        state = "met" if clock.due is None or clock.stopped_at <= clock.due else "met late"
    elif clock.due is None:
        state = "paused"
    else:
        state = "breached" if now >= clock.due else "running"
    return {"clock": clock.name, "state": state, "started_at": clock.started_at, "due": clock.due,
            "stopped_at": clock.stopped_at, "budget": clock.budget, "used": used,
            "left": max(clock.budget - used, timedelta(0)), "percent": round(100 * used / clock.budget, 1)}

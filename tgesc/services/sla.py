"""SLA clocks on tickets: take a policy snapshot, store due instants and the next check, report, recompute.

Ticket use cases call these whenever a ticket opens, changes priority, is escalated, starts or stops
waiting on the customer, or is answered; the row then carries `first_response_due`, `next_response_due`,
`resolution_due` and `next_check_at`, so the sweep is one indexed query. The caller saves the row, in
the same transaction as the change that caused it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import peewee

from tgesc import prepared
from tgesc.db import write_transaction
from tgesc.domain.business_time import BusinessCalendar
from tgesc.domain.sla import Clock, Policy, TicketTimes, clocks, next_check, report
from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import Event, Firing, Ticket
from tgesc.services.calendars import calendar_or_always_open
from tgesc.services.snapshot import snapshot

DUE_FIELDS = {"first_response": "first_response_due", "next_response": "next_response_due",
              "resolution": "resolution_due"}
# The ticket columns `refresh` reads (with the ticket's SLA firings, which only the clocks' own milestones
# are: a rule, reply, FAQ or notice firing never moves a clock). While none of them changes, the due
# instants and next check stored by the last refresh stay what a refresh would compute.
CLOCK_INPUTS = frozenset({"sla_policy", "priority", "clocks_started_at", "created_at", "first_responded_at",
                          "awaiting_reply_since", "resolved_at", "sla_paused", "paused_since", "status"})


def current_policy(db: peewee.Database, priority: str) -> Policy:
    """The configured SLA of `priority` with its calendar's definition (NotFound if unconfigured)."""
    config = snapshot(db)
    entry = config.entry("sla", priority)
    calendar = config.entry("calendars", entry["calendar"]) if entry.get("calendar") else None
    return Policy.from_entry(priority, entry, calendar)


def calendar_for(policy: Policy) -> BusinessCalendar:
    return calendar_or_always_open(policy.calendar_name, policy.calendar)


def ticket_times(ticket: Ticket) -> TicketTimes:
    return TicketTimes(
        opened_at=ticket.clocks_started_at or ticket.created_at, first_responded_at=ticket.first_responded_at,
        awaiting_reply_since=ticket.awaiting_reply_since, resolved_at=ticket.resolved_at,
        pauses=[(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in ticket.sla_paused or []],
        paused_since=ticket.paused_since)


def ticket_clocks(ticket: Ticket) -> list[Clock]:
    policy = Policy.from_json(ticket.sla_policy)
    return clocks(policy, ticket_times(ticket), calendar_for(policy))


def take_policy(db: peewee.Database, ticket: Ticket) -> None:
    """Snapshot the current policy of the ticket's priority (on opening and on a priority change)."""
    ticket.sla_policy = current_policy(db, ticket.priority).as_json()
    refresh(ticket)


def refresh(ticket: Ticket, fired: Collection[tuple[str, str]] | None = None) -> list[Clock]:
    """Recompute the ticket's clocks from its policy snapshot and store due instants and the next check.
    `fired`: the ticket's (kind, level) firings when the caller has them already (else they are read)."""
    found = ticket_clocks(ticket)
    by_name = {clock.name: clock for clock in found}
    for name, column in DUE_FIELDS.items():
        setattr(ticket, column, by_name[name].due if name in by_name else None)
    if fired is None:
        fired = set() if ticket.id is None else set(prepared.tuples(
            Firing._meta.database, "sla: firings of a ticket",
            lambda: Firing.select(Firing.kind, Firing.level).where(Firing.ticket == ticket.id), [ticket.id]))
    ticket.next_check_at = next_check(found, fired) if ticket.status in OPEN_STATUSES else None
    return found


def refresh_if_moved(ticket: Ticket, fired: Collection[tuple[str, str]] | None = None) -> None:
    """`refresh`, unless no column in CLOCK_INPUTS was assigned since the ticket was read or last saved
    (then the stored due instants and next check are still current). `fired` as for `refresh`; the
    caller must not have recorded SLA milestone firings since then."""
    if not CLOCK_INPUTS.isdisjoint(ticket._dirty):
        refresh(ticket, fired)


def begin_wait(ticket: Ticket, now: datetime) -> None:
    """The ticket now waits on the customer: its clocks stop if the policy says so."""
    if ticket.paused_since is None:
        ticket.paused_since = now
    refresh(ticket)


def end_wait(ticket: Ticket, now: datetime) -> None:
    """The wait is over (the customer wrote, or staff took it back): the pause is recorded, clocks run."""
    if ticket.paused_since is not None:
        wait = [ticket.paused_since.astimezone(UTC).isoformat(), now.astimezone(UTC).isoformat()]
        ticket.sla_paused = [*(ticket.sla_paused or []), wait]
        ticket.paused_since = None
    refresh(ticket)


def clock_report(ticket: Ticket, now: datetime) -> list[dict[str, Any]]:
    """Each clock's state at `now` (running, paused, breached, met, met late), time used and left."""
    policy = Policy.from_json(ticket.sla_policy)
    calendar = calendar_for(policy)
    times = ticket_times(ticket)
    pauses = times.pauses if policy.pause_when_waiting else ()
    paused_since = times.paused_since if policy.pause_when_waiting else None
    return [report(clock, now, calendar, pauses, paused_since) for clock in clocks(policy, times, calendar)]


@dataclass(frozen=True)
class Recomputed:
    ticket: int
    what: str  # a clock name, or "warnings" / "breach action" when only those change
    old: Any
    new: Any

    def describe(self) -> str:
        def shown(value: Any) -> str:
            return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else str(value)

        return f"{self.what}: {shown(self.old)} -> {shown(self.new)}"


def recompute(db: peewee.Database, *, now: datetime, actor: str, dry_run: bool,
              progress: Callable[[Iterable[Ticket], int], Iterable[Ticket]] = lambda rows, total: rows,
              ) -> list[Recomputed]:
    """Move every open ticket onto the policy now configured for its priority; list what changes."""
    changes: list[Recomputed] = []
    with (db.atomic() if dry_run else write_transaction(db)) as txn:
        query = Ticket.select().where(Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.number)
        policies: dict[str, Policy] = {}
        for ticket in progress(query, query.count()):
            policy = policies.get(ticket.priority) or policies.setdefault(
                ticket.priority, current_policy(db, ticket.priority))
            found = _differences(ticket, policy)
            if found and not dry_run:
                ticket.sla_policy = policy.as_json()
                refresh(ticket)
                ticket.save()
                Event.create(ticket=ticket, kind="sla.recompute", actor=actor, at=now,
                             details={"changes": [c.describe() for c in found]})
            changes += found
        if dry_run:
            txn.rollback()
    return changes


def _differences(ticket: Ticket, policy: Policy) -> list[Recomputed]:
    old_policy = Policy.from_json(ticket.sla_policy) if ticket.sla_policy else None
    if old_policy == policy:
        return []
    old = {c.name: c.due for c in ticket_clocks(ticket)} if old_policy else {}
    new = {c.name: c.due for c in clocks(policy, ticket_times(ticket), calendar_for(policy))}
    found = [Recomputed(ticket.number, name, old.get(name), new.get(name))
             for name in DUE_FIELDS if old.get(name) != new.get(name)]
    if old_policy and old_policy.warn_at != policy.warn_at:
        found.append(Recomputed(ticket.number, "warnings", list(old_policy.warn_at), list(policy.warn_at)))
    if old_policy and (old_policy.on_breach, old_policy.escalate_to) != (policy.on_breach, policy.escalate_to):
        found.append(Recomputed(ticket.number, "breach action", old_policy.on_breach, policy.on_breach))
    return found or [Recomputed(ticket.number, "policy", "(snapshot)", "(current)")]

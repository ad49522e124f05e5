"""Automatic assignment: a ticket reaching a tier that assigns by itself (`assign = "round-robin" | "least-open"`)
gets one of the tier's active staff at once, in the same transaction.

Candidates are the staff linked to the tier, active, on shift now (their own calendar, else the tier's: a tier with
none is always open) and under their capacity of open tickets (none: no limit); `domain.assignment.choose` picks
one. The assignee is told in private (`assigned_notice`, in their language) and the card shows them; the audit event
is `ticket.assigned` by `auto`. A ticket that already has an assignee who works in the tier keeps them, and nobody
suitable means the ticket waits in the pool, for someone to `/take` it or for the assignment sweep
(services.sweeps.assignment) to give it to someone on shift. `/take` and `tgesc ticket assign` always override. The
ticket row is held (or version-checked) by the transaction that assigns it, so it gets exactly one assignee; and the
transactions that assign automatically queue behind each other (tickets.store.queue_to_assign), so that each counts
the open tickets and turns the others gave: capacities hold, turns go round."""

from __future__ import annotations

from datetime import datetime

import peewee

from tgesc.domain.assignment import Candidate, choose
from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import Staff, StaffTier, Ticket
from tgesc.services.clocks.calendars import named_or_always_open, tier_calendar
from tgesc.services.outbox import rows as outbox
from tgesc.services.tickets.store import event, queue_to_assign


def auto_assign(db: peewee.Database, ticket: Ticket, now: datetime) -> Staff | None:
    """Assign `ticket` (at its tier) when the tier assigns by itself and it has no assignee; who got it."""
    tier = ticket.tier
    mode = tier.assign or "manual"
    if mode == "manual" or ticket.assignee_id is not None:
        return None
    queue_to_assign(db)
    staff = {s.handle: s for s in _on_shift(db, tier, now)}
    counts, turns = _load(list(staff.values()))
    candidates = [Candidate(handle, counts.get(s.id, 0), *turns.get(s.id, (None, 0))) for handle, s in staff.items()
                  if s.capacity is None or counts.get(s.id, 0) < s.capacity]
    chosen = choose(mode, candidates)
    if chosen is None:
        return None
    person = staff[chosen]
    ticket.assignee, ticket.assigned_at = person, now
    event(ticket, "ticket.assigned", "auto", now, to=chosen, mode=mode)
    outbox.template_to(person.telegram_id, person.language, "assigned_notice",
                       {"ticket": ticket.number, "tier": tier.code, "priority": ticket.priority,
                        "problem": (ticket.problem or "")[:300]}, now=now, ticket=ticket,
                       dedupe_key=f"assigned-{ticket.id}-{chosen}-{now.isoformat()}")
    return person


def _on_shift(db: peewee.Database, tier, now: datetime) -> list[Staff]:
    """The tier's active staff whose shift (their calendar, else the tier's) is open at `now`."""
    people = (Staff.select().join(StaffTier).where((StaffTier.tier == tier.id) & Staff.active).order_by(Staff.handle))
    tier_hours = tier_calendar(db, tier)
    found = []
    for person in people:
        hours = tier_hours if person.calendar_id is None else named_or_always_open(db, person.calendar.name)
        if hours.is_open(now):
            found.append(person)
    return found


def _load(people: list[Staff]) -> tuple[dict[int, int], dict[int, tuple[datetime, int]]]:
    """Per staff id: their open tickets; and their last turn: when they were last assigned a ticket, and how many
    they were given at that instant (one sweep gives several at once: the turns go on among them)."""
    if not people:
        return {}, {}
    ids = [p.id for p in people]
    counts = dict(Ticket.select(Ticket.assignee, peewee.fn.COUNT(Ticket.id))
                  .where(Ticket.assignee.in_(ids) & Ticket.status.in_(OPEN_STATUSES))
                  .group_by(Ticket.assignee).tuples())
    last = (Ticket.select(Ticket.assignee.alias("who"), peewee.fn.MAX(Ticket.assigned_at).alias("at"))
            .where(Ticket.assignee.in_(ids)).group_by(Ticket.assignee).alias("last"))
    given = (Ticket.select(last.c.who, last.c.at, peewee.fn.COUNT(Ticket.id))
             .join(last, on=(Ticket.assignee == last.c.who) & (Ticket.assigned_at == last.c.at))
             .group_by(last.c.who, last.c.at).tuples())
    return counts, {who: (Ticket.assigned_at.python_value(at), count) for who, at, count in given}

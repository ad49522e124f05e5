"""Automatic assignment: a ticket reaching a tier that assigns by itself (`assign = "round-robin" | "least-open"`)
gets one of the tier's active staff at once, in the same transaction; and it goes back to the tier's pool when its
assignee goes off shift with its work waiting (`hand_back`, at the assignment sweep: services.sweeps.assignment).

Candidates are the staff linked to the tier, active, on shift now (their own calendar, else the tier's: a tier with
none is always open) and under their capacity of open tickets (none: no limit); `domain.assignment.choose` picks
one. The assignee is told in private (`assigned_notice`, in their language) and the card shows them; the audit event
is `ticket.assigned` by `auto`. A ticket that already has an assignee who works in the tier keeps them, and nobody
suitable means the ticket waits in the pool, for someone to `/take` it or for the assignment sweep to give it to
someone on shift. `/take` and `tgesc ticket assign` always override. The ticket row is held (or version-checked) by
the transaction that assigns it, so it gets exactly one assignee; and the transactions that assign automatically
queue behind each other (tickets.store.queue_to_assign), so that each counts the open tickets and turns the others
gave: capacities hold, turns go round.

A ticket goes back (`domain.assignment.hand_back_reason`) when its work waits on staff and its assignee is inactive,
may no longer work the tier (neither its staff nor an admin) or went off shift after they were given it; the audit
event is `ticket.unassigned` by `auto`, with `from` and `reason`. `watches` says, for the sweep's query, which
tickets those are at an instant, tier by tier."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import peewee

from tgesc.domain.assignment import AUTOMATIC, Candidate, Holder, choose, hand_back_reason
from tgesc.domain.business_time import BusinessCalendar
from tgesc.models import Staff, Ticket, Tier
from tgesc.services.clocks.calendars import named_or_always_open, tier_calendar
from tgesc.services.config.current import current
from tgesc.services.outbox import rows as outbox
from tgesc.services.tickets.permissions import may_work
from tgesc.services.tickets.store import event, last_turns, open_counts, queue_to_assign

ACTOR = "auto"


def auto_assign(db: peewee.Database, ticket: Ticket, now: datetime) -> Staff | None:
    """Assign `ticket` (at its tier) when the tier assigns by itself and it has no assignee; who got it."""
    tier = ticket.tier
    mode = tier.assign or "manual"
    if mode not in AUTOMATIC or ticket.assignee_id is not None:
        return None
    queue_to_assign(db)
    staff = {s.handle: s for s in _on_shift(db, tier, now)}
    counts, turns = open_counts(db, [s.id for s in staff.values()]), last_turns(db, [s.id for s in staff.values()])
    candidates = [Candidate(handle, counts.get(s.id, 0), *turns.get(s.id, (None, 0))) for handle, s in staff.items()
                  if _has_room(s, counts)]
    chosen = choose(mode, candidates)
    if chosen is None:
        return None
    person = staff[chosen]
    ticket.assignee, ticket.assigned_at = person, now
    event(ticket, "ticket.assigned", ACTOR, now, to=chosen, mode=mode)
    outbox.template_to(person.telegram_id, person.language, "assigned_notice",
                       {"ticket": ticket.number, "tier": tier.code, "priority": ticket.priority,
                        "problem": (ticket.problem or "")[:300]}, now=now, ticket=ticket,
                       dedupe_key=f"assigned-{ticket.id}-{chosen}-{now.isoformat()}")
    return person


def hand_back(db: peewee.Database, ticket: Ticket, now: datetime) -> str | None:
    """Give `ticket` back to its tier's pool when it should go back (see the module's description): its assignee
    cleared, the event recorded; why (inactive, not_in_tier, off_shift), or None: it stays. The former assignee
    is not told: off shift, gone or working elsewhere, they have nothing to do about it."""
    tier, person = ticket.tier, ticket.assignee
    if tier.assign not in AUTOMATIC or person is None:
        return None
    reason = hand_back_reason(ticket.status, ticket.assigned_at, holder(db, tier, person, now))
    if reason is not None:
        ticket.assignee = None
        event(ticket, "ticket.unassigned", ACTOR, now, **{"from": person.handle}, reason=reason)
    return reason


def holder(db: peewee.Database, tier: Tier, person: Staff, now: datetime) -> Holder:
    """`person` as the holder of a ticket of `tier` at `now`."""
    hours = shift(db, tier, person)
    on_shift = hours.is_open(now)
    return Holder(person.active, may_work(person, tier), on_shift, None if on_shift else hours.closed_since(now))


def shift(db: peewee.Database, tier: Tier, person: Staff) -> BusinessCalendar:
    """When `person` works `tier`'s tickets: their own calendar, else the tier's (24/7 without either)."""
    return tier_calendar(db, tier) if person.calendar_id is None else named_or_always_open(db, person.calendar.name)


@dataclass(frozen=True)
class Watch:
    """What the assignment sweep looks for, at one instant, among the open tickets of one tier that assigns by
    itself: those of anyone but `keep` (its active staff and the active admins: anyone else is inactive or no
    longer in the tier); those of the staff whose shift ended at an instant of `off` ((since, staff ids)), given
    them before it; and, when someone on shift has room for one more (`room`), those nobody holds."""

    tier_id: int
    keep: tuple[int, ...]
    off: tuple[tuple[datetime, tuple[int, ...]], ...]
    room: bool


def watches(db: peewee.Database, now: datetime) -> list[Watch]:
    """A Watch for each tier that assigns by itself, at `now` (from the configuration in force)."""
    return [_watch(db, tier, now) for tier in _automatic_tiers(db)]


def next_shift_change(db: peewee.Database, now: datetime) -> datetime | None:
    """The next instant after `now` a shift of someone who may hold the tickets of a tier that assigns by itself
    opens or closes (None: none within the calendars' reach)."""
    changes = (shift(db, tier, person).next_change(now) for tier in _automatic_tiers(db)
               for person in _may_hold(db, tier))
    return min((change for change in changes if change is not None), default=None)


def _watch(db: peewee.Database, tier: Tier, now: datetime) -> Watch:
    keep = _may_hold(db, tier)
    off: dict[datetime, list[int]] = defaultdict(list)
    for person in keep:
        since = shift(db, tier, person).closed_since(now)
        if since is not None:
            off[since].append(person.id)
    on_shift = _on_shift(db, tier, now)
    counts = open_counts(db, [person.id for person in on_shift])
    ended = tuple((since, tuple(ids)) for since, ids in sorted(off.items()))
    return Watch(tier.id, tuple(p.id for p in keep), ended, any(_has_room(person, counts) for person in on_shift))


def _automatic_tiers(db: peewee.Database) -> list[Tier]:
    return sorted((tier for tier in current(db).tiers.values() if tier.assign in AUTOMATIC), key=lambda t: t.level)


def _may_hold(db: peewee.Database, tier: Tier) -> list[Staff]:
    """The active staff who may work `tier`'s tickets: its staff and the admins (from the configuration in force)."""
    return sorted((person for person in current(db).staff.values() if may_work(person, tier)), key=lambda p: p.id)


def _on_shift(db: peewee.Database, tier: Tier, now: datetime) -> list[Staff]:
    """The tier's own active staff whose shift (their calendar, else the tier's) is open at `now`."""
    config = current(db)
    return [person for person in config.staff.values()
            if (person.id, tier.id) in config.staff_tiers and shift(db, tier, person).is_open(now)]


def _has_room(person: Staff, counts: dict[int, int]) -> bool:
    return person.capacity is None or counts.get(person.id, 0) < person.capacity

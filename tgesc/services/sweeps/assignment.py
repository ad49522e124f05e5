"""The assignment sweep: in the tiers that assign by themselves, a ticket whose assignee went off shift with its work
waiting goes back to the pool, and the pool goes to the staff on shift.

What for: a ticket assigned to someone whose shift ended would wait for them, its clocks running, while colleagues on
shift are free; and a ticket that found nobody on shift (or under capacity) when it arrived must not wait for a
`/take`. When: `tgesc worker cron` enqueues it every `assignment_sweep_every` (1 min) for `tgesc worker run`; `tgesc
ticket assign-sweep --once` runs it once; `tgesc simulate` runs it on its virtual timeline whenever it has work and
at every instant a shift opens or closes (`next_check`). Reads: no timer column (a shift is a calendar, and room
under a capacity comes back whenever a ticket is resolved): per tier that assigns by itself, who may hold its
tickets and since when each is off shift (tickets.assignment.watches, from the configuration in force and the
calendars), then one query on the index (status, tier, assignee) for the open tickets to hand back or to assign,
oldest first, a batch claimed per job (batches.ScanSweep); then each in a savepoint of the batch's transaction, read
again, locked and re-checked. Writes, per ticket: a hand-back (the assignee cleared; event `ticket.unassigned` by
`auto` with `from` and `reason`: inactive, not_in_tier, off_shift; the former assignee is not told), then, for an
open ticket nobody holds, an automatic assignment to someone on shift and under capacity (event `ticket.assigned`
by `auto`, the assignee told in private), whose turns and capacities count the assignments made before it in the
same sweep. Only open tickets (their work waits on staff) go back: one waiting on the customer stays with its
assignee, and goes back at the first sweep after the customer's answer if they are still off shift. A ticket
someone took while off shift (`/take`, `tgesc ticket assign`) stays theirs until a shift of theirs ends.

Safe to run twice, or two at once: each ticket is handled locked and re-checked (a second sweep finds it held by
someone on shift, and leaves it), and the transactions that assign queue behind each other, so each counts the open
tickets and turns of the others (tickets.store.queue_to_assign): exactly one assignee per ticket, one
`ticket.assigned` per assignment, capacities respected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee

from tgesc.domain.assignment import WAITING_WORK
from tgesc.models import Ticket
from tgesc.services.sweeps import store
from tgesc.services.sweeps.batches import ScanSweep, on_locked_ticket
from tgesc.services.sweeps.store import Key
from tgesc.services.tickets import assignment
from tgesc.services.tickets import store as tickets


def sweep_assignments(db: peewee.Database, *, now: datetime, dry_run: bool = False,
                      limit: int | None = None) -> list[dict[str, Any]]:
    """Hand back the tickets whose assignee went off shift (or is inactive, or no longer in the tier), and assign
    the tickets nobody holds, at `now`; one dict per action: ticket (number), action (hand-back, assign), staff
    (the handle it went from or to), reason (inactive, not_in_tier, off_shift; for an assignment, the tier's
    mode). `dry_run`: the same work, rolled back. `limit`: at most that many tickets."""
    return ASSIGNMENT_SWEEP.run(db, now=now, dry_run=dry_run, limit=limit).done


def next_check(db: peewee.Database, now: datetime) -> datetime | None:
    """When the sweep next has work (for the simulation's virtual time): `now` when it would find tickets, else the
    next instant a shift of someone who may hold tickets of a tier that assigns by itself opens or closes (None: no
    tier assigns by itself, or no shift changes within reach)."""
    watching = assignment.watches(db, now)
    if not watching:
        return None
    if store.to_assign(db, watching, 1, None, lock=False):
        return now
    return assignment.next_shift_change(db, now)


def _found(db: peewee.Database, now: datetime, size: int | None, after: Key | None) -> list[Key]:
    return store.to_assign(db, assignment.watches(db, now), size, after)


def _handle(db: peewee.Database, ticket: Ticket, now: datetime) -> list[dict[str, Any]]:
    """Hand `ticket` back if it should go back, then give it to someone on shift if nobody holds it."""
    done = []
    if ticket.assignee_id is not None:
        former = ticket.assignee.handle
        reason = assignment.hand_back(db, ticket, now)
        if reason is None:
            return []
        done.append({"ticket": ticket.number, "action": "hand-back", "staff": former, "reason": reason})
    person = assignment.auto_assign(db, ticket, now) if ticket.status in WAITING_WORK else None
    if person is not None:
        done.append({"ticket": ticket.number, "action": "assign", "staff": person.handle, "reason": ticket.tier.assign})
    if done:
        tickets.save(ticket, now)
    return done


ASSIGNMENT_SWEEP = ScanSweep("assignment", _found, on_locked_ticket(_handle))

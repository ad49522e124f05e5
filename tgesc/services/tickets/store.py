"""The ticket store: a ticket by number, its audit events, and its row written back only when nobody changed it
meanwhile (the `version` check: of two concurrent changes exactly one wins, the other is told to look again).
Only the columns assigned since the row was read are written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee
from peewee import fn

from tgesc import prepared
from tgesc.domain.errors import DomainError, NotFound
from tgesc.domain.ticket_rules import Checklist
from tgesc.models import Event, Staff, Ticket, TriedSolution, TriggerRule


def find(number: int) -> Ticket:
    ticket = prepared.first(Ticket._meta.database, Ticket, "tickets: ticket by number",
                            lambda: Ticket.select().where(Ticket.number == number), [number])
    if ticket is None:
        raise NotFound(f"there is no ticket #{number}; `tgesc ticket list` shows the tickets")
    return ticket

def staff_member(handle: str) -> Staff:
    person = Staff.get_or_none(Staff.handle == handle)
    if person is None:
        raise NotFound(f"there is no staff member {handle!r}; `tgesc staff list` shows them")
    return person

def event(ticket: Ticket | None, kind: str, actor: str, now: datetime, **details: Any) -> None:
    """Record an audit event (a prepared INSERT: ingest writes several per message)."""
    prepared.insert(Event._meta.database, Event, "event",
                    {"ticket": ticket, "kind": kind, "actor": actor, "at": now, "details": details})

def set_changed(ticket: Ticket, **values: Any) -> None:
    """Set the columns in `values` that differ (`save` writes only what was set: unchanged stays unwritten)."""
    for name, value in values.items():
        if getattr(ticket, name) != value:
            setattr(ticket, name, value)

def attach(ticket: Ticket, relation: str, row: peewee.Model) -> None:
    """Give the ticket its already loaded `relation` row (spares a lazy query); the column is marked changed
    only when `row` is another row than the one it refers to."""
    if ticket.__data__.get(relation) == row.id:
        ticket.__rel__[relation] = row  # what peewee's foreign-key accessor reads first
    else:
        setattr(ticket, relation, row)

def save(ticket: Ticket, now: datetime) -> None:
    """Write the ticket if its version is still the one read; otherwise refuse (DomainError).
    Only the columns assigned since it was read or last saved are written (with version and updated_at)."""
    seen = ticket.version
    ticket.version, ticket.updated_at = seen + 1, now
    if ticket.id is None:
        prepared.insert_instance(Ticket._meta.database, ticket, "ticket insert")
        return
    changed = [field for field in Ticket._meta.sorted_fields if field.name in ticket._dirty and field.name != "id"]
    values = {field: ticket.__data__[field.name] for field in changed}
    params = [*(field.db_value(value) for field, value in values.items()), ticket.id, seen]
    written = prepared.execute(Ticket._meta.database, "ticket update " + ",".join(f.name for f in changed),
                               lambda: Ticket.update(values).where((Ticket.id == ticket.id) & (Ticket.version == seen)),
                               params)
    if not written:
        raise DomainError(f"ticket #{ticket.number} was changed by someone else meanwhile; nothing was done. "
                          f"Look at it again (tgesc ticket show {ticket.number}) and retry")
    ticket._dirty.clear()

def next_number() -> int:
    """The number the next new ticket gets."""
    highest = prepared.scalar(Ticket._meta.database, "highest ticket number",
                              lambda: Ticket.select(fn.MAX(Ticket.number)), [])
    return (highest or 0) + 1

def checklist(ticket: Ticket, *, tried: int | None = None) -> Checklist:
    """The ticket's handover checklist (`tried`: the number of tried solutions, when the caller has them)."""
    if tried is None:
        tried = prepared.scalar(TriedSolution._meta.database, "tried solutions of a ticket, count", lambda: (
            TriedSolution.select(fn.COUNT(TriedSolution.id)).where(TriedSolution.ticket == ticket.id)), [ticket.id])
    return Checklist(ticket.first_occurred_at, ticket.evidence_provided, tried, ticket.expected_resolution_by)

def known_tags() -> set[str]:
    """Tags the configuration's rules can set, and every tag already on a ticket."""
    found = {tag for rule in TriggerRule.select(TriggerRule.tags) for tag in rule.tags}
    return found | {tag for ticket in Ticket.select(Ticket.tags) for tag in ticket.tags}

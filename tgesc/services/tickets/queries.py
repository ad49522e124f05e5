"""Reading tickets for people: the work queue (`ticket list`), one ticket's document (`ticket show`), and
the short record a changing command prints.

`queue` is one query over the ticket table joined with its customer, tier and assignee (the status and
tier filters use the (status, ...) and (tier, status) indexes); the rows are then ordered in Python by
the most urgent running deadline, which SQLite and PostgreSQL cannot agree on portably (LEAST/MIN and
NULLs differ).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

import peewee

from tgesc.domain.errors import NotFound, UsageError
from tgesc.domain.vocabulary import OPEN_STATUSES, TICKET_STATUSES
from tgesc.models import Customer, Message, Staff, Ticket, Tier
from tgesc.services.tickets.store import find, staff_member
from tgesc.services.tickets.views import view


def running_deadlines(ticket: Ticket) -> list[datetime]:
    """Due instants of the clocks still running (none once the ticket is resolved or closed)."""
    if ticket.status not in OPEN_STATUSES:
        return []
    found = [ticket.next_response_due, ticket.resolution_due]
    if ticket.first_responded_at is None:
        found.append(ticket.first_response_due)
    return [due for due in found if due is not None]


def _breaching(now: datetime):
    """SQL: an open or waiting ticket with a clock past its due instant and not met (running, or paused
    after its deadline passed; a deadline a recompute kept counts as it was)."""
    return Ticket.status.in_(OPEN_STATUSES) & (
        ((Ticket.first_response_due <= now) & Ticket.first_responded_at.is_null())
        | (Ticket.next_response_due <= now) | (Ticket.resolution_due <= now))


def queue(db: peewee.Database, *, now: datetime, statuses: Sequence[str] = OPEN_STATUSES,
          tiers: Sequence[str] = (), priorities: Sequence[str] = (), tags: Sequence[str] = (),
          assignee: str | None = None, breaching: bool = False) -> list[dict[str, Any]]:
    """The tickets matching every filter (each list: any of its values), most urgent deadline first,
    then tickets without a running clock by number. NotFound for an unknown tier or staff handle."""
    with db.atomic():
        for code in tiers:
            if not Tier.select().where(Tier.code == code).exists():
                raise NotFound(f"there is no tier {code!r}; `tgesc tier list` shows them")
        person = staff_member(assignee) if assignee else None
        query = (Ticket.select(Ticket, Customer, Tier, Staff)
                 .join(Customer, on=(Ticket.customer == Customer.id))
                 .switch(Ticket).join(Tier, on=(Ticket.tier == Tier.id))
                 .switch(Ticket).join(Staff, peewee.JOIN.LEFT_OUTER, on=(Ticket.assignee == Staff.id)))
        unknown = [s for s in statuses if s not in TICKET_STATUSES]
        if unknown:
            raise UsageError(f"unknown status {unknown[0]!r}; use {', '.join(TICKET_STATUSES)} or all")
        query = query.where(Ticket.status.in_(list(statuses)))
        if tiers:
            query = query.where(Tier.code.in_(list(tiers)))
        if priorities:
            query = query.where(Ticket.priority.in_(list(priorities)))
        if person is not None:
            query = query.where(Ticket.assignee == person.id)
        if breaching:
            query = query.where(_breaching(now))
        for tag in tags:  # a coarse match on the JSON text, checked exactly below
            pattern = peewee.Value(f"%{json.dumps(tag, ensure_ascii=False)}%", converter=False)
            query = query.where(peewee.Expression(Ticket.tags, peewee.OP.ILIKE, pattern))
        rows = [_row(t, now) for t in query if all(tag in t.tags for tag in tags)]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(rows, key=lambda r: (r["next_deadline"] is None, r["next_deadline"] or far, r["number"]))


def _row(ticket: Ticket, now: datetime) -> dict[str, Any]:
    customer = ticket.customer
    deadlines = running_deadlines(ticket)
    return {"number": ticket.number, "status": ticket.status, "tier": ticket.tier.code,
            "priority": ticket.priority, "emotion": ticket.emotion,
            "customer": {"id": customer.telegram_id, "username": customer.username},
            "assignee": ticket.assignee.handle if ticket.assignee_id else None, "tags": ticket.tags,
            "next_deadline": min(deadlines, default=None),
            "breaching": any(due <= now for due in deadlines),
            "created_at": ticket.created_at, "age": now - ticket.created_at}


def document(db: peewee.Database, number: int, *, now: datetime, zone: tzinfo,
             messages: bool = False) -> dict[str, Any]:
    """`ticket show`: the ticket's view (services.ticket_view), instants in `zone`; with `messages`,
    also every message of the conversation (key `messages`, oldest first) for the timeline."""
    with db.atomic():
        ticket = find(number)
        doc = view(ticket, now, zone)
        if messages:
            doc["messages"] = [
                {"id": m.message_id, "at": m.sent_at.astimezone(zone).isoformat(timespec="seconds"),
                 "from": m.sender, "staff": m.staff.handle if m.staff_id else None, "text": m.text,
                 "media_type": m.media_type, "file_id": m.file_id, "marked": m.is_key,
                 "internal": m.is_internal}
                for m in Message.select().where(Message.ticket == ticket).order_by(Message.sent_at, Message.id)]
        return doc


def summary(db: peewee.Database, ticket: Ticket) -> dict[str, Any]:
    """The short record a changing command prints: where the ticket stands now."""
    with db.atomic():
        return {"number": ticket.number, "status": ticket.status, "tier": ticket.tier.code,
                "priority": ticket.priority, "emotion": ticket.emotion, "tags": ticket.tags,
                "assignee": ticket.assignee.handle if ticket.assignee_id else None, "version": ticket.version}

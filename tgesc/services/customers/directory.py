"""The desk's customers: one found by Telegram id or @username, and the list of them, a page or a stream at a time.

A customer's document (`describe`) is what `tgesc customer show` and `list` print: the Telegram identity, language
and zone, their tags (and with `show`, the notes staff keep about them), how many tickets they have (open ones apart)
and their ban, if any.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import peewee

from tgesc.db import by_id, count_up_to, stream_by_id
from tgesc.domain.errors import NotFound, UsageError
from tgesc.domain.limits import TELEGRAM_USER_ID, LimitError
from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import Customer, CustomerNote, Ticket

COLUMNS = (Customer.telegram_id, Customer.username, Customer.first_name, Customer.last_name, Customer.language,
           Customer.timezone, Customer.banned_at, Customer.banned_until, Customer.ban_reason, Customer.tags,
           Customer.created_at, Customer.id)


def find(db: peewee.Database, who: str) -> Customer:
    """The customer `who` names: their Telegram user id, or their @username (any case); NotFound otherwise."""
    text = who.strip()
    if text.isascii() and text.isdigit():
        try:
            telegram_id = TELEGRAM_USER_ID.parse(text)
        except LimitError as error:
            raise UsageError(str(error)) from None
        found = Customer.get_or_none(Customer.telegram_id == telegram_id)
    elif text.startswith("@") and len(text) > 1:
        found = Customer.get_or_none(peewee.fn.LOWER(Customer.username) == text[1:].lower())
    else:
        raise UsageError(f"{who!r} is neither a Telegram user id (like 1001) nor an @username")
    if found is None:
        raise NotFound(f"no customer {who} has written to the desk; `tgesc customer list` shows those who have")
    return found


def banned(customer: Customer, now: datetime) -> bool:
    """Whether `customer` is banned at `now`."""
    return customer.banned_at is not None and (customer.banned_until is None or customer.banned_until > now)


def describe(db: peewee.Database, customer: Customer, now: datetime) -> dict[str, Any]:
    """The customer's document (see the module's description), with their notes (`notes`: text, by, at)."""
    values = _listed(_customers(False, now).where(Customer.id == customer.id)).tuples().get()
    notes = CustomerNote.select().where(CustomerNote.customer == customer.id).order_by(CustomerNote.at,
                                                                                       CustomerNote.id)
    return {**_document(values, now), "notes": [{"text": n.text, "by": n.actor, "at": n.at} for n in notes]}


def _tags(stored: Any) -> list[str]:
    """The tags as read: a list from a model, JSON text from a tuple of a query."""
    return list(json.loads(stored) if isinstance(stored, str) else stored or [])


def list_customers(db: peewee.Database, *, now: datetime, banned_only: bool = False, limit: int | None = None,
                   after: int | None = None) -> list[dict[str, Any]]:
    """Customers by Telegram id (`after`: only higher ones: the next page), at most `limit`."""
    with db.atomic():
        rows = by_id(_listed(_customers(banned_only, now)), Customer.telegram_id, after=after, limit=limit)
        return [_document(values, now) for values in rows]


def count_customers(db: peewee.Database, *, now: datetime, banned_only: bool = False) -> int:
    """How many customers `list_customers` would list without a limit, counted up to COUNTED_UP_TO + 1."""
    with db.atomic():
        return count_up_to(_customers(banned_only, now))


def stream_customers(db: peewee.Database, *, now: datetime, banned_only: bool = False,
                     after: int | None = None) -> Iterator[dict[str, Any]]:
    """Every customer `list_customers` would list, read in chunks inside one read snapshot."""
    rows = stream_by_id(db, _listed(_customers(banned_only, now)), Customer.telegram_id, after=after)
    return (_document(values, now) for values in rows)


def _customers(banned_only: bool, now: datetime) -> peewee.SelectQuery:
    """The customers listed (every one, or those banned at `now`), selecting only their id: what is counted."""
    query = Customer.select(Customer.telegram_id)
    if banned_only:
        query = query.where(Customer.banned_at.is_null(False)
                            & (Customer.banned_until.is_null() | (Customer.banned_until > now)))
    return query


def _listed(query: peewee.SelectQuery) -> peewee.SelectQuery:
    """`query` selecting each customer's document columns, their tickets and open tickets counted in the same
    statement (one subquery each, by the ticket's customer index)."""
    tickets = Ticket.select(peewee.fn.COUNT(Ticket.id)).where(Ticket.customer == Customer.id)
    opened = tickets.where(Ticket.status.in_(OPEN_STATUSES))
    return query.select(*COLUMNS, tickets.alias("tickets"), opened.alias("open_tickets"))


def _document(values: tuple, now: datetime) -> dict[str, Any]:
    (telegram_id, username, first, last, language, zone, banned_at, banned_until, reason, tags, created_at,
     _, tickets, opened) = values
    counts = (int(tickets), int(opened))
    active = banned_at is not None and (banned_until is None or banned_until > now)
    return {"id": telegram_id, "username": username, "name": " ".join(p for p in (first, last) if p),
            "language": language, "timezone": zone, "tags": _tags(tags), "tickets": counts[0],
            "open_tickets": counts[1],
            "banned": active, "banned_at": banned_at if active else None,
            "banned_until": banned_until if active else None, "ban_reason": reason if active else "",
            "created_at": created_at}

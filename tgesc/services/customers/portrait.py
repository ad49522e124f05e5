"""The customer's portrait (the article's "user portrait"): tags and notes staff keep about a customer, their time
zone and language, shown on every card of theirs and used for every time told to them.

Changed from the CLI (`tgesc customer tag|note|set`), from a ticket's thread (`/ctag`, `/cnote`, `/tz`) and, for the
zone, by the customer (`/timezone`); each change is audited (`customer.tags`, `customer.note`, `customer.profile`,
with the customer's Telegram id, and the ticket when made in its thread). A language set here is the customer's
choice: Telegram's language code no longer overrides it (as with their own `/language`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import peewee

from tgesc.domain.errors import DomainError, UsageError
from tgesc.domain.humanize import LANGUAGE_NAMES
from tgesc.domain.limits import MAX_NAME, name_problem, text_problem
from tgesc.domain.zones import find_zone
from tgesc.models import Customer, CustomerNote, Ticket
from tgesc.services.tickets import store as tickets

SHOWN_NOTES = 3  # the newest notes a card shows


def retag(db: peewee.Database, customer: Customer, add: Iterable[str], remove: Iterable[str], *, actor: str,
          now: datetime, ticket: Ticket | None = None) -> Customer:
    """Add and remove the customer's tags (a tag is a name: no blank, at most 64 characters)."""
    add, remove = sorted({t.strip() for t in add}), sorted({t.strip() for t in remove})
    problems = [f"the tag {tag[:40]!r} {problem}" for tag in add if (problem := name_problem(tag, MAX_NAME))]
    problems += [f"customer {customer.telegram_id} has no tag {tag!r}" for tag in remove if tag not in customer.tags]
    if problems or not (add or remove):
        raise DomainError(f"customer {customer.telegram_id} was not retagged:",
                          problems=problems or ["give the tags to add (+TAG) or remove (-TAG)"])
    tags = sorted((set(customer.tags) | set(add)) - set(remove))
    Customer.update(tags=tags, updated_at=now).where(Customer.id == customer.id).execute(db)
    customer.tags = tags
    tickets.event(ticket, "customer.tags", actor, now, customer=customer.telegram_id, added=add, removed=remove)
    return customer


def add_note(db: peewee.Database, customer: Customer, text: str, *, actor: str, now: datetime,
             ticket: Ticket | None = None) -> CustomerNote:
    """Keep a note about the customer (never shown to them)."""
    text = (text or "").strip()
    problem = "must not be empty" if not text else text_problem(text)
    if problem:
        raise UsageError(f"the note {problem}")
    note = CustomerNote.create(customer=customer, text=text, actor=actor, at=now)
    tickets.event(ticket, "customer.note", actor, now, customer=customer.telegram_id, text=text)
    return note


def update(db: peewee.Database, customer: Customer, *, timezone: str | None = None, language: str | None = None,
           actor: str, now: datetime, ticket: Ticket | None = None) -> Customer:
    """Set the customer's zone (an IANA zone or a city: `zones.find_zone`) and/or language (en, zh, ru)."""
    values: dict = {}
    if timezone is not None:
        zone = find_zone(timezone)
        if zone is None:
            raise UsageError(f"{timezone[:64]!r} is no time zone or city tgesc knows; name one such as Europe/Berlin, "
                             "Asia/Shanghai or a city (berlin, new york)")
        values["timezone"] = zone
    if language is not None:
        if language not in LANGUAGE_NAMES:
            raise UsageError(f"{language[:16]!r} is not a language of the desk; use one of "
                             f"{', '.join(LANGUAGE_NAMES)}")
        values.update(language=language, language_chosen=True)
    if not values:
        raise UsageError("nothing to change: give a time zone or a language")
    Customer.update(updated_at=now, **values).where(Customer.id == customer.id).execute(db)
    for name, value in values.items():
        setattr(customer, name, value)
    tickets.event(ticket, "customer.profile", actor, now, customer=customer.telegram_id,
                  **{k: v for k, v in values.items() if k != "language_chosen"})
    return customer


def notes(db: peewee.Database, customer_id: int, limit: int | None = None) -> list[CustomerNote]:
    """The customer's notes, oldest first (the newest `limit` when given)."""
    query = CustomerNote.select().where(CustomerNote.customer == customer_id).order_by(CustomerNote.at.desc(),
                                                                                        CustomerNote.id.desc())
    return list(reversed(list(query.limit(limit) if limit else query)))

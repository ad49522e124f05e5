"""Messages of a ticket's conversation that did not come through Telegram, typed in with the CLI: a customer's
words taken by phone or e-mail (`tgesc ticket open`, `tgesc ticket message N --from-customer`) and a staff answer
relayed to the customer through the bot (`tgesc ticket reply`).

Each is stored as a message row and handled by the very use case a Telegram message goes through: a customer's
by ingest (rules, FAQ answers, templates, the clocks) and its follow-up (the staff thread), a staff answer by the
thread's reply (relayed, and the first or next response for the SLA). Such a message has no Telegram id: it is
stored in the customer's chat with an id of the desk's own (`OWN_MESSAGE_IDS` up: above any Telegram message id,
and new for every message, so the duplicate-delivery check of ingest never drops it). `ticket show` lists it,
`ticket mark` marks it, and `simulate --replay` plays it again like the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import peewee

from tgesc.db import write_transaction
from tgesc.domain.errors import DomainError, TgescError, UsageError
from tgesc.domain.telegram import IncomingMessage, User
from tgesc.models import Customer, Ticket
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets import threads
from tgesc.services.tickets.ingest import Ingested, follow_up, ingest


def open_ticket(db: peewee.Database, telegram_id: int, texts: str | Sequence[str], *, actor: str, now: datetime,
                username: str | None = None, language: str | None = None) -> Ticket:
    """A new ticket for the customer with Telegram id `telegram_id` (created when new, with `username` and
    `language`), whatever they have open: the first of `texts` (or the one text) opens it, the others follow, each
    a customer message the desk reacts to as to one from Telegram."""
    texts = [_text(text, "the problem text must not be empty (--text)")
             for text in ([texts] if isinstance(texts, str) else texts)]
    if not texts:
        raise UsageError("give the customer's message: --text TEXT")
    with write_transaction(db):
        customer = tickets.customer_by_telegram_id(db, telegram_id)
        ticket = _take(db, _from_customer(db, customer, telegram_id, texts[0], now, username, language), now,
                       opened_by=actor)
        for text in texts[1:]:
            ticket = _take(db, _from_customer(db, customer or ticket.customer, telegram_id, text, now), now,
                           into=ticket)
        return ticket


def customer_message(db: peewee.Database, number: int, text: str, *, actor: str, now: datetime) -> Ticket:
    """A follow-up of ticket `number`'s customer that came by another channel: it continues the ticket when open
    or waiting, else goes where their Telegram message would (reopening it, or a new ticket). The ticket it is on.
    `actor` (who typed it in) was checked by the caller: the message is the customer's."""
    text = _text(text, "the customer's message must not be empty (TEXT)")
    with write_transaction(db):
        ticket = tickets.find(number)
        customer = ticket.customer
        return _take(db, _from_customer(db, customer, customer.telegram_id, text, now), now, into=ticket)


def reply(db: peewee.Database, number: int, text: str, *, actor: str, now: datetime) -> Ticket:
    """A staff answer to ticket `number`'s customer, relayed through the bot as an answer in the staff thread is
    (and the first or next response as that one is); shown in the thread too. `actor`: a staff handle, or the
    operator."""
    text = _text(text, "the answer must not be empty (TEXT)")
    with write_transaction(db):
        ticket = tickets.find(number)
        customer = ticket.customer
        if customer.unreachable_at is not None:
            raise DomainError(f"ticket #{number}: the customer has blocked the bot or deleted their account; "
                              "nothing was relayed")
        staff = tickets.staff_by_handle(db, actor)
        message = IncomingMessage(chat_id=customer.telegram_id, chat_type="private",
                                  message_id=tickets.next_own_message_id(db, customer.telegram_id),
                                  sender=User(id=staff.telegram_id if staff else 0), sent_at=now, text=text)
        tickets.add_message(db, {
            "ticket": ticket, "chat_id": message.chat_id, "message_id": message.message_id, "direction": "out",
            "sender": "staff", "staff": staff, "text": text, "media_type": None, "file_id": None, "is_key": False,
            "is_internal": False, "sent_at": now, "created_at": now}, once=False)
        threads.staff_reply(ticket, staff, message, now, actor=actor)
        threads.mirror_reply(ticket, actor, text, now)
        tickets.save(ticket, now)
        return ticket


def _text(value: str, empty: str) -> str:
    """`value` without surrounding blanks; UsageError(`empty`) when nothing is left."""
    if not value or not value.strip():
        raise UsageError(empty)
    return value.strip()


def _from_customer(db: peewee.Database, customer: Customer | None, telegram_id: int, text: str, now: datetime,
                   username: str | None = None, language: str | None = None) -> IncomingMessage:
    """`text` as a message of the customer's chat with an id of the desk's own; the sender as the customer is
    stored (a new one: with `username` and `language`), so ingest changes nothing about them."""
    if customer is None:
        sender = User(id=telegram_id, username=username, language_code=language or "en")
    else:
        sender = User(id=telegram_id, username=customer.username, first_name=customer.first_name or "",
                      last_name=customer.last_name or "", language_code=customer.language)
    return IncomingMessage(chat_id=telegram_id, chat_type="private",
                           message_id=tickets.next_own_message_id(db, telegram_id), sender=sender, sent_at=now,
                           text=text)


def _take(db: peewee.Database, message: IncomingMessage, now: datetime, *, into: Ticket | None = None,
          opened_by: str | None = None) -> Ticket:
    """Ingest `message` and follow it up as the bot does; the ticket it is on."""
    taken: Ingested = ingest(db, message, now=now, into=into, opened_by=opened_by)
    if taken.row is None:  # an id of our own is new: only a broken invariant gets here
        raise TgescError(f"message {message.message_id} of chat {message.chat_id} is stored already; nothing was "
                         "done")
    follow_up(taken.row, message, now)
    return taken.row

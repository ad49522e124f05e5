"""Ingest: a customer's message becomes part of a ticket, and the rules react, all in one transaction.

The customer and the message are persisted first, idempotently on (chat id, message id): a replay after a crash or a
catch-up changes nothing. The message then continues the customer's open ticket (one waiting on them is open again),
reopens their resolved one not yet closed (`[lifecycle] close_after`), or opens a new one; the rules run (tags,
priority, escalation, replies, FAQ answers), the SLA clocks move, and every reply is an outbox row of the same
transaction.

`ingest` runs in the caller's write transaction, so that the caller's follow-up work joins it (`follow_up`: the
ticket's staff thread and a survey comment, for the bot and for messages typed in with the CLI alike);
`ingest_message` opens one for a caller that has none. What it reads first (`read_sender`: the customer, their
open ticket and its firings, whether the message is stored already, the configuration's generation) is one
query, which the bot makes before it knows whether the sender is staff, and hands over (`sender`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import peewee

from tgesc.db import write_transaction
from tgesc.domain.telegram import IncomingMessage
from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import Customer, Message, MessageEdit, Ticket
from tgesc.services.clocks import sla
from tgesc.services.clocks.once import Firings
from tgesc.services.config.current import current
from tgesc.services.tickets import cards, lifecycle, surveys, threads
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.assignment import auto_assign
from tgesc.services.tickets.escalation import open_thread
from tgesc.services.tickets.reactions import react


@dataclass(frozen=True)
class Ingested:
    ticket: int | None
    duplicate: bool = False
    opened: bool = False
    reopened: bool = False
    edit: bool = False
    row: Ticket | None = field(default=None, compare=False, repr=False)  # the ticket as saved (None: duplicate)


@dataclass(frozen=True)
class Sender:
    """What ingest reads first about a message's sender (`read_sender`)."""

    customer: Customer | None  # None: not known yet
    ticket: Ticket | None  # their open ticket
    firings: Firings  # the open ticket's
    stored: bool  # a message with the (chat id, message id) of this one is stored already


def read_sender(db: peewee.Database, message: IncomingMessage) -> Sender:
    """The sender of `message` as a customer, their open ticket (the newest, should there be several) and its
    firings, and whether the message is stored already, in one round trip that also checks the configuration's
    generation for config.current; in the caller's write transaction, where the open ticket is held to its end
    (tickets.store.customer_with_open_ticket)."""
    customer, ticket, generation, fired, stored = tickets.customer_with_open_ticket(
        db, message.sender.id, message.chat_id, message.message_id)
    if generation is not None:
        current(db, generation=int(generation))
    return Sender(customer, ticket, Firings.from_aggregate(ticket, fired), stored is not None)


def ingest(db: peewee.Database, message: IncomingMessage, *, now: datetime, reactions: bool = True,
           into: Ticket | None = None, opened_by: str | None = None, sender: Sender | None = None) -> Ingested:
    """Persist `message` and let the desk react to it, in the caller's write transaction (`reactions=False`, for
    a customer flooding the bot: stored on the ticket, but no rule runs and nothing is answered). The result
    carries the ticket as saved (`row`), but for a duplicate or an edit. A message that came by another
    channel (tgesc.services.tickets.channel_messages) may name the ticket it belongs to (`into`: continued when
    open or waiting, else the message goes where any would) or open a new one (`opened_by`: the CLI actor, whatever
    the customer has open). `sender`: what `read_sender` read in this transaction (None: read it here)."""
    sender = sender or read_sender(db, message)
    customer, ticket, firings = sender.customer, sender.ticket, sender.firings
    if opened_by is not None:
        ticket = None
    elif into is not None and into.status in OPEN_STATUSES and (ticket is None or ticket.id != into.id):
        ticket, firings = into, Firings.load(into)
    known_customer = customer is not None
    customer = _refreshed(db, customer, message, now)
    if message.edited_at is not None:
        return _record_edit(db, message) if sender.stored else Ingested(ticket=None, edit=True)
    if sender.stored:
        return Ingested(ticket=_number_of(_stored(db, message)), duplicate=True)
    how = "continued"
    if ticket is not None:
        tickets.attach(ticket, "customer", customer)
    elif opened_by is not None:
        ticket, how = _opened(db, customer, message, now, opened_by, "cli"), "opened"
    else:
        ticket, how = _reopened_or_new(db, customer, message, now, known=known_customer)
    if not _stored_now(db, message, ticket, now, unchecked=how != "continued" or ticket.id in tickets.held(db)):
        return Ingested(ticket=_number_of(_stored(db, message)), duplicate=True)  # stored meanwhile
    _absorb(db, ticket, message, now, new=how == "opened")
    if how != "continued":
        firings = Firings(ticket, set()) if how == "opened" else Firings.load(ticket)
    if reactions:
        react(db, ticket, message.text, now=now, actor=f"customer:{customer.telegram_id}", firings=firings)
    if how == "opened":  # after the rules: a rule that escalated it had it assigned at its new tier
        auto_assign(db, ticket, now)
    # the clocks were computed when the ticket was opened, reopened, resumed, given a priority or
    # escalated (each refreshes them); only a change since then (or since it was read) moves them
    sla.refresh_if_moved(ticket, firings.pairs)
    tickets.save(ticket, now)
    return Ingested(ticket=ticket.number, opened=how == "opened", reopened=how == "reopened", row=ticket)


def ingest_message(db: peewee.Database, message: IncomingMessage, *, now: datetime,
                   reactions: bool = True) -> Ingested:
    """`ingest` in a write transaction of its own (pipelined on PostgreSQL, as the bot's)."""
    with write_transaction(db, pipelined=True):
        return ingest(db, message, now=now, reactions=reactions)


def remember_customer(db: peewee.Database, customer: Customer | None, message: IncomingMessage,
                      now: datetime) -> Customer:
    """The sender of `message` as a customer (`customer`: as `read_sender` found them, None: not known yet),
    created or brought up to date (for their bot commands), in the caller's write transaction."""
    return _refreshed(db, customer, message, now)


def _refreshed(db: peewee.Database, customer: Customer | None, message: IncomingMessage, now: datetime) -> Customer:
    """`customer` (None: not known yet) created or brought up to date with the Telegram identity of `message`'s
    sender (access_hash lets the bot write to them later)."""
    sender = message.sender
    values = {"username": sender.username, "first_name": sender.first_name or "", "last_name": sender.last_name or ""}
    if customer is None or not customer.language_chosen:
        values["language"] = (sender.language_code or "en")[:8]
    if sender.access_hash is not None:
        values["access_hash"] = sender.access_hash
    if customer is None:
        customer = Customer(telegram_id=sender.id, created_at=now, updated_at=now, **values)
        tickets.add(db, customer)
        return customer
    if any(getattr(customer, k) != v for k, v in values.items()):
        Customer.update(updated_at=now, **values).where(Customer.id == customer.id).execute(db)
        for key, value in values.items():
            setattr(customer, key, value)
    return customer


def _stored(db: peewee.Database, message: IncomingMessage) -> Message | None:
    """The stored message with the (chat id, message id) of `message`, if any."""
    return tickets.message_in_chat(db, message.chat_id, message.message_id)


def _number_of(stored: Message) -> int | None:
    """The number of the ticket a stored message belongs to (None: it has none)."""
    return stored.ticket.number if stored.ticket_id else None


def _record_edit(db: peewee.Database, message: IncomingMessage) -> Ingested:
    original = _stored(db, message)
    if original is None:
        return Ingested(ticket=None, edit=True)
    MessageEdit.insert(message=original, edited_at=message.edited_at, text=message.text).on_conflict_ignore(
    ).execute(db)
    return Ingested(ticket=_number_of(original), edit=True)


def message_row(message: IncomingMessage, ticket: Ticket | None, now: datetime) -> dict:
    """A customer's message as its row, every column given (`ticket` None: it belongs to none)."""
    return {"ticket": ticket, "chat_id": message.chat_id, "message_id": message.message_id, "direction": "in",
            "sender": "customer", "staff": None, "text": message.text, "media_type": message.media_type,
            "file_id": message.file_id, "is_key": False, "is_internal": False, "sent_at": message.sent_at,
            "created_at": now}


def _stored_now(db: peewee.Database, message: IncomingMessage, ticket: Ticket, now: datetime, *,
                unchecked: bool) -> bool:
    """Store the message on `ticket`; whether it was stored (False: another transaction stored it since
    `read_sender`). `unchecked`: by a plain INSERT, its answer not waited for, where nothing can store it
    meanwhile (the ticket is held: any other transaction with a message of this customer's waits for its lock;
    or the ticket is new or reopened here, as it always was): a conflict then fails the whole transaction."""
    return tickets.add_message(db, message_row(message, ticket, now), once=not unchecked)


def _reopened_or_new(db, customer: Customer, message: IncomingMessage, now: datetime, *,
                     known: bool) -> tuple[Ticket, str]:
    """For a customer without an open ticket: their resolved one not closed yet (resolved less than the lifecycle's
    `close_after` ago), reopened, or a new one (`known`: the customer was stored before; a new one has no ticket)."""
    actor = f"customer:{customer.telegram_id}"
    recent = None
    if known:
        since = message.sent_at - current(db).lifecycle.close_after
        recent = tickets.recently_resolved(db, customer.id, since)
    if recent is not None:
        tickets.attach(recent, "customer", customer)
        lifecycle.reopen_in_place(db, recent, actor=actor, now=message.sent_at,
                                reason="the customer wrote again before it closed")
        return recent, "reopened"
    return _opened(db, customer, message, now, actor, "telegram"), "opened"


def _opened(db, customer: Customer, message: IncomingMessage, now: datetime, actor: str, channel: str) -> Ticket:
    """A new ticket at the front line for `message`, audited as opened by `actor` through `channel`."""
    ticket = lifecycle.create(db, customer, message.text, message.sent_at)
    tickets.save(ticket, now)
    tickets.event(ticket, "ticket.opened", actor, now, channel=channel)
    return ticket


def _absorb(db: peewee.Database, ticket: Ticket, message: IncomingMessage, now: datetime, *, new: bool) -> None:
    """What the message changes on the ticket before the rules run (its card shows: the problem, the evidence and
    the next-response clock)."""
    shown = (ticket.problem, ticket.evidence_provided, ticket.awaiting_reply_since)
    if not new and ticket.first_responded_at is None and message.text:
        ticket.problem = f"{ticket.problem}\n{message.text}" if ticket.problem else message.text
    if message.media_type:
        ticket.evidence_provided = True
    ticket.last_customer_message_at = message.sent_at
    if ticket.status == "waiting":
        lifecycle.resume(db, ticket, actor=f"customer:{ticket.customer.telegram_id}", now=message.sent_at,
                         why="customer")
    if ticket.first_responded_at is not None and ticket.awaiting_reply_since is None:
        ticket.awaiting_reply_since = message.sent_at
    if (ticket.problem, ticket.evidence_provided, ticket.awaiting_reply_since) != shown:
        cards.touch(ticket, "customer.message", now)


def follow_up(ticket: Ticket, message: IncomingMessage, now: datetime) -> None:
    """What follows a customer's new message on `ticket`, in the ingest transaction: a new ticket's card opens its
    staff thread (else the message is mirrored there), and a comment after a low survey score is kept."""
    if ticket.staff_chat_id is None and ticket.tier.staff_chat_id is not None:
        open_thread(ticket, ticket.tier, now)  # a new ticket: its card (with this message) opens the thread
        tickets.save(ticket, now)
    else:
        threads.mirror(ticket, message, now)
    surveys.take_comment(ticket, message.text or f"[{message.media_type}]", now)

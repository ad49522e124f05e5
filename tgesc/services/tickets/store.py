"""The ticket store: all SQL about tickets and what hangs off them (customers, messages, events, tried
solutions, surveys). A ticket's row is written back only when nobody changed it meanwhile (the `version`
check: of two concurrent changes exactly one wins, the other is told to look again), and only the columns
assigned since the row was read are written. The hot paths (ingest, the sweeps, the bot's delivery) run
as statements built once (tgesc.store.statements).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee
from peewee import fn

from tgesc.domain.errors import DomainError, NotFound
from tgesc.domain.surveys import PENDING
from tgesc.domain.telegram import OWN_MESSAGE_IDS
from tgesc.domain.ticket_rules import Checklist
from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import (
    Customer,
    Event,
    Message,
    Outbox,
    SentMessage,
    Staff,
    Survey,
    Ticket,
    TriedSolution,
    TriggerRule,
    database,
)
from tgesc.services.clocks import store as firings
from tgesc.services.config.store import generation_query
from tgesc.store import statements
from tgesc.store.statements import P
from tgesc.store.statements import attach as attach  # the services give a ticket rows loaded with it

# --- tickets ----------------------------------------------------------------------------------------------


def by_number(db: peewee.Database, number: int) -> Ticket | None:
    """The ticket numbered `number` (None: none is)."""
    return statements.first(db, Ticket, lambda: Ticket.select().where(Ticket.number == P.number), number=number)

def find(number: int) -> Ticket:
    ticket = by_number(database, number)
    if ticket is None:
        raise NotFound(f"there is no ticket #{number}; `tgesc ticket list` shows the tickets")
    return ticket

def staff_member(handle: str) -> Staff:
    person = Staff.get_or_none(Staff.handle == handle)
    if person is None:
        raise NotFound(f"there is no staff member {handle!r}; `tgesc staff list` shows them")
    return person

def staff_by_handle(db: peewee.Database, handle: str) -> Staff | None:
    """The staff member with this handle, active or not (None: no such handle)."""
    return Staff.select().where(Staff.handle == handle).first(db)

def event(ticket: Ticket | None, kind: str, actor: str, now: datetime, **details: Any) -> None:
    """Record an audit event (ingest writes several per message)."""
    statements.insert(database, Event, {"ticket": ticket, "kind": kind, "actor": actor, "at": now, "details": details})

def set_changed(ticket: Ticket, **values: Any) -> None:
    """Set the columns in `values` that differ (`save` writes only what was set: unchanged stays unwritten)."""
    for name, value in values.items():
        if getattr(ticket, name) != value:
            setattr(ticket, name, value)

def save(ticket: Ticket, now: datetime) -> None:
    """Write the ticket if its version is still the one read; otherwise refuse (DomainError).
    Only the columns assigned since it was read or last saved are written (with version and updated_at)."""
    seen = ticket.version
    ticket.version, ticket.updated_at = seen + 1, now
    if ticket.id is None:
        statements.insert_instance(database, ticket)
        return
    changed = statements.changed_fields(ticket)
    written = statements.execute(database, lambda: Ticket.update({field: P[field.name] for field in changed}).where(
        (Ticket.id == P.ticket_id) & (Ticket.version == P.seen)),
        **statements.values_of(ticket, changed), ticket_id=ticket.id, seen=seen)
    if not written:
        raise DomainError(f"ticket #{ticket.number} was changed by someone else meanwhile; nothing was done. "
                          f"Look at it again (tgesc ticket show {ticket.number}) and retry")
    statements.mark_saved(ticket)

def next_number() -> int:
    """The number the next new ticket gets."""
    highest = statements.scalar(database, lambda: Ticket.select(fn.MAX(Ticket.number)))
    return (highest or 0) + 1

def checklist(ticket: Ticket, *, tried: int | None = None) -> Checklist:
    """The ticket's handover checklist (`tried`: the number of tried solutions, when the caller has them)."""
    if tried is None:
        tried = statements.scalar(database, lambda: TriedSolution.select(fn.COUNT(TriedSolution.id)).where(
            TriedSolution.ticket == P.ticket), ticket=ticket.id)
    return Checklist(ticket.first_occurred_at, ticket.evidence_provided, tried, ticket.expected_resolution_by)

def known_tags() -> set[str]:
    """Tags the configuration's rules can set, and every tag already on a ticket."""
    found = {tag for rule in TriggerRule.select(TriggerRule.tags) for tag in rule.tags}
    return found | {tag for ticket in Ticket.select(Ticket.tags) for tag in ticket.tags}


def locked(db: peewee.Database, ticket_id: int) -> Ticket | None:
    """The ticket, read in the current transaction; on PostgreSQL its row is locked until the transaction
    ends (SQLite's write transaction holds the whole database already)."""
    if isinstance(getattr(db, "obj", None) or db, peewee.SqliteDatabase):
        return statements.first(db, Ticket, lambda: Ticket.select().where(Ticket.id == P.id), id=ticket_id)
    return statements.first(db, Ticket, lambda: Ticket.select().where(Ticket.id == P.id).for_update(), id=ticket_id)


def earliest_open(db: peewee.Database, column: peewee.Field) -> datetime | None:
    """The smallest `column` (a due instant) of an open ticket (None: none has one)."""
    row = statements.first(db, Ticket, lambda: Ticket.select(column).where(
        Ticket.status.in_(OPEN_STATUSES) & column.is_null(False)).order_by(column))
    return getattr(row, column.name) if row is not None else None


TIMED_STATUSES = ("waiting", "resolved")  # the statuses a lifecycle step (ticket_rules.next_step) is due in


def earliest_lifecycle(db: peewee.Database) -> datetime | None:
    """The earliest lifecycle step due of a waiting or resolved ticket (None: none has one)."""
    row = statements.first(db, Ticket, lambda: Ticket.select(Ticket.lifecycle_due_at).where(
        Ticket.status.in_(TIMED_STATUSES) & Ticket.lifecycle_due_at.is_null(False)).order_by(Ticket.lifecycle_due_at))
    return row.lifecycle_due_at if row is not None else None


def open_of_customer(db: peewee.Database, customer_id: int) -> list[Ticket]:
    """The customer's open tickets, by number."""
    return statements.rows(db, Ticket, lambda: Ticket.select().where(
        (Ticket.customer == P.customer) & Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.number),
        customer=customer_id)


def other_open_number(db: peewee.Database, customer_id: int, ticket_id: int) -> int | None:
    """The number of another open ticket of the customer's than `ticket_id` (None: none)."""
    return statements.scalar(db, lambda: Ticket.select(Ticket.number).where(
        (Ticket.customer == P.customer) & (Ticket.id != P.ticket) & Ticket.status.in_(list(OPEN_STATUSES)))
        .order_by(Ticket.number).limit(1), customer=customer_id, ticket=ticket_id)


def recently_resolved(db: peewee.Database, customer_id: int, since: datetime) -> Ticket | None:
    """The customer's ticket resolved most recently, at or after `since` (None: none)."""
    return statements.first(db, Ticket, lambda: Ticket.select().where(
        (Ticket.customer == P.customer) & (Ticket.status == "resolved") & (Ticket.resolved_at >= P.since))
        .order_by(Ticket.resolved_at.desc()), customer=customer_id, since=since)


def of_sent_message(db: peewee.Database, chat_id: int, message_id: int) -> Ticket | None:
    """The ticket whose outbox row became bot message `message_id` in `chat_id` (None: not the bot's)."""
    return statements.first(db, Ticket, lambda: (
        Ticket.select().join(Outbox, on=(Outbox.ticket == Ticket.id))
        .join(SentMessage, on=(SentMessage.outbox == Outbox.id))
        .where((SentMessage.chat_id == P.chat) & (SentMessage.message_id == P.message))), chat=chat_id,
        message=message_id)


def number_of_staff_thread(db: peewee.Database, chat_id: int, thread: int) -> int | None:
    """The number of the ticket whose staff thread in `chat_id` is topic or card `thread` (None: none)."""
    return statements.scalar(db, lambda: Ticket.select(Ticket.number).where((Ticket.staff_chat_id == P.chat) & (
        (Ticket.topic_id == P.thread) | (Ticket.card_message_id == P.thread))), chat=chat_id, thread=thread)


def staff_thread(db: peewee.Database, ticket_id: int) -> tuple[int | None, int | None, int | None]:
    """The ticket's staff chat, the topic its card opened there and the card's message id."""
    return statements.tuples(db, lambda: Ticket.select(Ticket.staff_chat_id, Ticket.topic_id, Ticket.card_message_id)
                             .where(Ticket.id == P.id), id=ticket_id)[0]


def set_staff_thread(db: peewee.Database, ticket_id: int, chat_id: int, topic_id: int | None,
                     card_message_id: int | None) -> None:
    """The ticket's staff thread is now in `chat_id`: the topic its card opened, or the card."""
    statements.execute(db, lambda: Ticket.update(
        staff_chat_id=P.chat, topic_id=P.topic, card_message_id=P.card).where(Ticket.id == P.id),
        chat=chat_id, topic=topic_id, card=card_message_id, id=ticket_id)


def add(db: peewee.Database, row: peewee.Model) -> None:
    """Insert a new ticket, customer or survey instance as `save()` would (its id is set)."""
    statements.insert_instance(db, row)


# --- customers ----------------------------------------------------------------------------------------


def customer_by_telegram_id(db: peewee.Database, user_id: int) -> Customer | None:
    return statements.first(db, Customer, lambda: Customer.select().where(Customer.telegram_id == P.user),
                            user=user_id)


def customer_with_open_ticket(db: peewee.Database, user_id: int) -> tuple[Customer | None, Ticket | None,
                                                                          str | None, str | None]:
    """The customer with Telegram id `user_id`, their open ticket (the newest, should there be several), the
    configuration generation (None: no customer) and the ticket's firings as `firings.aggregated` reads them,
    in one round trip."""
    postgres = isinstance(getattr(db, "obj", None) or db, peewee.PostgresqlDatabase)
    customer, ticket, generation, fired = statements.first_joined(db, (Customer, Ticket), lambda: (
        Customer.select().join(Ticket, peewee.JOIN.LEFT_OUTER, on=(Ticket.customer == Customer.id)
                               & Ticket.status.in_(OPEN_STATUSES))
        .where(Customer.telegram_id == P.user).order_by(Ticket.number.desc())),
        extra=lambda: (generation_query(), firings.aggregated(postgres, Ticket.id)), user=user_id)
    return customer, ticket, generation, fired


# --- messages -----------------------------------------------------------------------------------------


def message_in_chat(db: peewee.Database, chat_id: int, message_id: int) -> Message | None:
    """The stored message with Telegram's (chat id, message id) (None: not stored)."""
    return statements.first(db, Message, lambda: Message.select().where(
        (Message.chat_id == P.chat) & (Message.message_id == P.message)), chat=chat_id, message=message_id)


def add_message(db: peewee.Database, row: dict[str, Any], *, once: bool) -> bool:
    """Store a message (every column given); `once`: unless one with its (chat id, message id) is stored.
    Whether it was stored."""
    if once:
        return statements.insert_new(db, Message, row)
    statements.insert(db, Message, row)
    return True


def next_own_message_id(db: peewee.Database, chat_id: int) -> int:
    """The id for the next message of `chat_id` that came by another channel: above Telegram's ids and every
    one given before in the chat. Concurrent callers queue: SQLite's writers one at a time, PostgreSQL's on a
    lock held to the end of the caller's (write) transaction."""
    if isinstance(getattr(db, "obj", None) or db, peewee.PostgresqlDatabase):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (OWN_MESSAGE_IDS,))
    top = (Message.select(fn.MAX(Message.message_id))
           .where((Message.chat_id == chat_id) & (Message.message_id >= OWN_MESSAGE_IDS)).scalar())
    return OWN_MESSAGE_IDS + 1 if top is None else top + 1


def attachments(db: peewee.Database, ticket_id: int) -> list[Message]:
    """The customer's messages on the ticket that carry a file, oldest first."""
    return statements.rows(db, Message, lambda: Message.select().where(
        (Message.ticket == P.ticket) & (Message.sender == "customer") & Message.file_id.is_null(False))
        .order_by(Message.id), ticket=ticket_id)


def last_customer_messages(db: peewee.Database, ticket_id: int, count: int) -> list[Message]:
    """The customer's `count` newest messages on the ticket, newest first."""
    return statements.rows(db, Message, lambda: Message.select().where(
        (Message.ticket == P.ticket) & (Message.sender == "customer")).order_by(Message.sent_at.desc())
        .limit(P.count), ticket=ticket_id, count=count)


def key_messages(db: peewee.Database, ticket_id: int) -> list[Message]:
    """The messages of the ticket marked key."""
    return statements.rows(db, Message, lambda: Message.select().where(
        (Message.ticket == P.ticket) & (Message.is_key == True)), ticket=ticket_id)  # noqa: E712


# --- events and tried solutions -----------------------------------------------------------------------


def events(db: peewee.Database, ticket_id: int) -> list[Event]:
    """The ticket's audit events, oldest first."""
    return statements.rows(db, Event, lambda: Event.select().where(Event.ticket == P.ticket)
                           .order_by(Event.at, Event.id), ticket=ticket_id)


def tried_solutions(db: peewee.Database, ticket_id: int) -> list[TriedSolution]:
    """The solutions tried on the ticket, oldest first."""
    return statements.rows(db, TriedSolution, lambda: TriedSolution.select().where(
        TriedSolution.ticket == P.ticket).order_by(TriedSolution.at), ticket=ticket_id)


# --- surveys ------------------------------------------------------------------------------------------


def survey_rounds(db: peewee.Database, ticket_id: int) -> int:
    """How many survey rounds the ticket has had."""
    return statements.scalar(db, lambda: Survey.select(fn.COUNT(Survey.id)).where(Survey.ticket == P.ticket),
                             ticket=ticket_id)


def survey_with_ticket(db: peewee.Database, survey_id: int) -> tuple[Survey | None, Ticket | None, Customer | None]:
    """The survey, its ticket and its customer (one query)."""
    survey, ticket, customer = statements.first_joined(db, (Survey, Ticket, Customer), lambda: (
        Survey.select().join(Ticket).join(Customer).where(Survey.id == P.id)), id=survey_id)
    return survey, ticket, customer


def earliest_survey_step(db: peewee.Database) -> datetime | None:
    """The earliest `due_at` of a survey still to send, remind or expire."""
    row = statements.first(db, Survey, lambda: Survey.select(Survey.due_at).where(
        Survey.status.in_(list(PENDING)) & Survey.due_at.is_null(False)).order_by(Survey.due_at))
    return row.due_at if row is not None else None


def cancel_scheduled_surveys(db: peewee.Database, ticket_id: int) -> None:
    statements.execute(db, lambda: Survey.update(status="cancelled").where(
        (Survey.ticket == P.ticket) & (Survey.status == "scheduled")), ticket=ticket_id)

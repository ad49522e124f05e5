"""The ticket store: all SQL about tickets and what hangs off them (customers, messages, events, tried
solutions, surveys). A ticket's row is written back only when nobody changed it meanwhile (the `version`
check: of two concurrent changes exactly one wins, the other is told to look again), and only the columns
assigned since the row was read are written. The hot paths (ingest, the sweeps, the bot's delivery) run
as statements built once (tgesc.store.statements).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee
from peewee import fn

from tgesc.db import count_up_to
from tgesc.domain.errors import DomainError, NotFound
from tgesc.domain.sla import next_breach
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
    Tier,
    TriedSolution,
    TriggerRule,
    database,
)
from tgesc.services.clocks import store as firings
from tgesc.services.config.store import generation_query
from tgesc.services.tickets import cards
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
    """Record an audit event (ingest writes several per message); the ticket's cards show the change
    (`cards.changed`)."""
    statements.insert(database, Event, {"ticket": ticket, "kind": kind, "actor": actor, "at": now, "details": details})
    cards.changed(ticket, kind, now, details.get("customer"))


def set_changed(ticket: Ticket, **values: Any) -> None:
    """Set the columns in `values` that differ (`save` writes only what was set: unchanged stays unwritten)."""
    for name, value in values.items():
        if getattr(ticket, name) != value:
            setattr(ticket, name, value)


def save(ticket: Ticket, now: datetime) -> None:
    """Write the ticket if its version is still the one read; otherwise refuse (DomainError).
    Only the columns assigned since it was read or last saved are written (with version and updated_at, and
    the stored next breach when it moved). A ticket this transaction holds (inserted, or read locked: `held`)
    nobody else can have changed: its UPDATE is sent without waiting to count the rows it changed (a pipelined
    transaction sends it with the next wait)."""
    set_changed(ticket, next_breach_at=next_breach(ticket))  # a status change or a first reply moves it too
    seen = ticket.version
    ticket.version, ticket.updated_at = seen + 1, now
    if ticket.id is None:
        statements.insert_instance(database, ticket)
        held(database).add(ticket.id)
        return
    changed = statements.changed_fields(ticket)

    def build() -> peewee.Query:
        return Ticket.update({field: P[field.name] for field in changed}).where(
            (Ticket.id == P.ticket_id) & (Ticket.version == P.seen))

    values = {**statements.values_of(ticket, changed), "ticket_id": ticket.id, "seen": seen}
    if ticket.id in held(database):
        statements.send(database, build, **values)
    elif not statements.execute(database, build, **values):
        raise DomainError(f"ticket #{ticket.number} was changed by someone else meanwhile; nothing was done. "
                          f"Look at it again (tgesc ticket show {ticket.number}) and retry")
    statements.mark_saved(ticket)


def held(db: peewee.Database) -> set[int]:
    """The ids of the tickets the current transaction holds: inserted by it, or read locked by
    `customer_with_open_ticket` (no other transaction changes them before it ends)."""
    return statements.noted(db, "held tickets")


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


def numbers_after(db: peewee.Database, number: int) -> list[int]:
    """The numbers of the tickets numbered above `number`, in order (those opened since it, as numbers go up)."""
    return [row[0] for row in statements.tuples(db, lambda: Ticket.select(Ticket.number).where(
        Ticket.number > P.number).order_by(Ticket.number), number=number)]


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


def customer_with_open_ticket(db: peewee.Database, user_id: int, chat_id: int, message_id: int) -> tuple[
        Customer | None, Ticket | None, str | None, str | None, int | None]:
    """The customer with Telegram id `user_id`, their open ticket (the newest, should there be several), the
    configuration generation (None: no customer), the ticket's firings as `firings.aggregated` reads them and the
    id of the stored message with Telegram's (chat id, message id) (None: not stored), in one round trip. The
    ticket is held to the end of the caller's write transaction (`held`): on PostgreSQL the customer's open
    tickets are locked first (a weaker lock than a change of them takes, which leaves references to them free),
    so a transaction reading the same customer this way waits for this one to end."""
    postgres = isinstance(getattr(db, "obj", None) or db, peewee.PostgresqlDatabase)
    locking = _open_tickets_locked(db, user_id) if postgres else None
    customer, ticket, generation, fired, stored = statements.first_joined(db, (Customer, Ticket), lambda: (
        Customer.select().join(Ticket, peewee.JOIN.LEFT_OUTER, on=(Ticket.customer == Customer.id)
                               & Ticket.status.in_(OPEN_STATUSES))
        .where(Customer.telegram_id == P.user).order_by(Ticket.number.desc())), extra=lambda: (
        generation_query(), firings.aggregated(postgres, Ticket.id), Message.select(Message.id).where(
            (Message.chat_id == P.chat) & (Message.message_id == P.message))),
        user=user_id, chat=chat_id, message=message_id)
    if ticket is not None and (locking is None or (ticket.id,) in locking()):
        held(db).add(ticket.id)  # SQLite: the write transaction holds the whole database
    return customer, ticket, generation, fired, stored


def _open_tickets_locked(db: peewee.Database, user_id: int) -> Any:
    """Lock the customer's open tickets to the end of the transaction, waiting for any other transaction holding
    one; their ids, once the function returned is called. Sent just before the read of the customer and their
    newest open ticket, it travels with it in a pipelined transaction; and it ends first, so that read (a new
    snapshot) sees what the lock holds: the ticket it finds is held if it is one of these."""
    return statements.later(db, lambda: Ticket.select(Ticket.id).where(
        (Ticket.customer == Customer.select(Customer.id).where(Customer.telegram_id == P.user))
        & Ticket.status.in_(OPEN_STATUSES)).for_update("FOR NO KEY UPDATE"), user=user_id)


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


# --- the queue ----------------------------------------------------------------------------------------

QUEUE_COLUMNS = (Ticket.number, Ticket.status, Ticket.tier, Ticket.priority, Ticket.emotion, Ticket.customer,
                 Ticket.assignee, Ticket.tags, Ticket.next_breach_at, Ticket.created_at, Ticket.first_responded_at,
                 Ticket.resolved_at, Ticket.closed_at)


@dataclass(frozen=True)
class QueueFilter:
    """What `ticket list` keeps besides the status: tiers and priorities (any of them), tags (all of them), an
    assignee, a customer (their row id), `breaching_at`: only tickets whose next breach is at or before that
    instant, and `opened_from` / `opened_before`: only tickets opened at or after, before that instant."""

    tier_ids: tuple[int, ...] = ()
    priorities: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    assignee_id: int | None = None
    customer_id: int | None = None
    breaching_at: datetime | None = None
    opened_from: datetime | None = None
    opened_before: datetime | None = None

    @property
    def indexed(self) -> bool:
        """Whether the filter has an index of its own, besides the queue's: a customer's tickets (customer,
        status), those opened in a window (status, created_at)."""
        return self.customer_id is not None or self.opened_from is not None or self.opened_before is not None


def queue_rows(db: peewee.Database, status: str, where: QueueFilter, after: tuple[datetime | None, int] | None,
               limit: int, *, matches_first: bool = False) -> list[tuple]:
    """Up to `limit` tickets of `status` (QUEUE_COLUMNS as tuples) in the queue's order, the next breach
    first (NULLs last), then the number, after the (next breach, number) position `after`. Each part is a
    range of one index: (status, next_breach_at, number), or the partial (status, number) without one.
    `matches_first`: read the tickets `where` keeps by the index of its customer or window instead, and sort only
    those (for a filter that keeps few of many tickets: the queue's index would be walked past all the others)."""
    read_by = "filter" if matches_first else "queue"
    deadline, number = (_unindexed(Ticket.next_breach_at), Ticket.number + 0) if matches_first else \
        (Ticket.next_breach_at, Ticket.number)
    rows: list[tuple] = []
    if after is None or after[0] is not None:
        rows = _queue_tuples(db, _filtered(db, where, Ticket.status == status, read_by=read_by).where(
            _after_deadline(after, deadline, number)).order_by(deadline, number).limit(limit))
        if where.breaching_at is not None or len(rows) == limit:
            return rows
    since = after[1] if after is not None and after[0] is None else 0  # numbers start at 1
    undated = deadline.is_null() & (number > since)
    return rows + _queue_tuples(db, _filtered(db, where, (Ticket.status == status) & undated, read_by=read_by)
                                .order_by(number).limit(limit - len(rows)))


def _queue_tuples(db: peewee.Database, query: peewee.ModelSelect) -> list[tuple]:
    """The rows of `query` (QUEUE_COLUMNS) fetched at once from the driver, converted only where a column needs
    it (the tags, the instants): peewee's row-by-row reading would cost more than the query at a million rows."""
    sql, params = query.sql()
    found = db.execute_sql(sql, params).fetchall()
    convert = [(i, column.python_value) for i, column in enumerate(QUEUE_COLUMNS) if column in _CONVERTED]
    for index, row in enumerate(found):
        values = list(row)
        for i, python_value in convert:
            values[i] = python_value(values[i])
        found[index] = tuple(values)
    return found


_CONVERTED = (Ticket.tags, Ticket.next_breach_at, Ticket.created_at, Ticket.first_responded_at, Ticket.resolved_at,
              Ticket.closed_at)


def _after_deadline(after: tuple[datetime | None, int] | None, deadline: peewee.Node,
                    number: peewee.Node) -> peewee.Expression:
    if after is None:
        return deadline.is_null(False)
    return peewee.Tuple(deadline, number) > peewee.Tuple(_instant(after[0]), after[1])


def queue_count(db: peewee.Database, statuses: Sequence[str], where: QueueFilter, up_to: int) -> int:
    """How many tickets of `statuses` pass `where`, counted up to `up_to` + 1 (more: `up_to` + 1), so that
    counting costs the same however many there are."""
    return count_up_to(_filtered(db, where, Ticket.status.in_(list(statuses)), Ticket.id), up_to)


def _filtered(db: peewee.Database, where: QueueFilter, status: peewee.Expression, *columns: peewee.Node,
              read_by: str | None = None) -> peewee.ModelSelect:
    """The tickets of `status` that `where` keeps (`columns`, else QUEUE_COLUMNS). `read_by` names the index the
    statement is meant to read, the others' columns written as `_unindexed` expressions: "queue" (the queue's
    order), "filter" (the customer's or the window's index), None (the database's choice: a count)."""
    queue_column = _unindexed if read_by == "filter" else _as_is
    filter_column = _unindexed if read_by == "queue" else _as_is
    query = Ticket.select(*(columns or QUEUE_COLUMNS)).where(status)
    if where.tier_ids:
        query = query.where(Ticket.tier.in_(list(where.tier_ids)))
    if where.priorities:
        query = query.where(Ticket.priority.in_(list(where.priorities)))
    if where.assignee_id is not None:
        query = query.where(Ticket.assignee == where.assignee_id)
    if where.customer_id is not None:
        query = query.where(filter_column(Ticket.customer) == where.customer_id)
    if where.breaching_at is not None:
        query = query.where(queue_column(Ticket.next_breach_at) <= _instant(where.breaching_at))
    if where.opened_from is not None:
        query = query.where(filter_column(Ticket.created_at) >= _instant(where.opened_from))
    if where.opened_before is not None:
        query = query.where(filter_column(Ticket.created_at) < _instant(where.opened_before))
    for tag in where.tags:
        query = query.where(has_tag(db, tag))
    return query


def _unindexed(column: peewee.Field) -> peewee.Node:
    """`column`'s value in an expression no index serves (COALESCE(x, x) is x, on SQLite and PostgreSQL alike): what
    keeps the planner on the index a statement is meant to read (SQLite, without statistics, may prefer another)."""
    return fn.COALESCE(column, column)


def _as_is(column: peewee.Field) -> peewee.Node:
    return column


def _instant(moment: datetime) -> peewee.Value:
    """`moment` as a parameter stored as the instant columns store it (whatever the expression it is compared to)."""
    return peewee.Value(moment, converter=Ticket.created_at.db_value)


def has_tag(db: peewee.Database, tag: str) -> peewee.Node:
    """SQL: the ticket's tags (a JSON list) hold `tag` exactly."""
    if isinstance(getattr(db, "obj", None) or db, peewee.PostgresqlDatabase):
        return fn.jsonb_exists(peewee.Cast(Ticket.tags, "jsonb"), tag)
    return peewee.NodeList((peewee.SQL("EXISTS (SELECT 1 FROM json_each("), Ticket.tags,
                            peewee.SQL(") WHERE json_each.value ="), peewee.Value(tag), peewee.SQL(")")))


def queue_names(db: peewee.Database, customer_ids: Iterable[int]) -> dict[int, tuple[int, str | None]]:
    """The Telegram id and username of each customer in `customer_ids`, by row id."""
    wanted = list(set(customer_ids))
    if not wanted:
        return {}
    query = Customer.select(Customer.id, Customer.telegram_id, Customer.username).where(Customer.id.in_(wanted))
    return {row_id: (telegram_id, username) for row_id, telegram_id, username in query.tuples()}


def tier_codes(db: peewee.Database) -> dict[int, str]:
    """Every tier's code, by row id."""
    return dict(Tier.select(Tier.id, Tier.code).tuples())


def staff_handles(db: peewee.Database) -> dict[int, str]:
    """Every staff member's handle, by row id."""
    return dict(Staff.select(Staff.id, Staff.handle).tuples())


# --- automatic assignment -----------------------------------------------------------------------------

ASSIGNING = 0x7467_6573_6300_0017  # the PostgreSQL advisory lock automatic assignments queue on ("tgesc", issue 17)


def queue_to_assign(db: peewee.Database) -> None:
    """Wait for any other transaction assigning tickets automatically to end, and hold the others off to the end of
    this one: each then counts the open tickets and turns the others gave (PostgreSQL: an advisory lock; SQLite's
    write transaction holds the whole database already)."""
    if isinstance(getattr(db, "obj", None) or db, peewee.PostgresqlDatabase):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (ASSIGNING,))


def open_counts(db: peewee.Database, staff_ids: Sequence[int]) -> dict[int, int]:
    """Per staff id of `staff_ids`: the open tickets assigned to them (none: absent)."""
    if not staff_ids:
        return {}
    return dict(Ticket.select(Ticket.assignee, fn.COUNT(Ticket.id))
                .where(Ticket.assignee.in_(list(staff_ids)) & Ticket.status.in_(OPEN_STATUSES))
                .group_by(Ticket.assignee).tuples())


def last_turns(db: peewee.Database, staff_ids: Sequence[int]) -> dict[int, tuple[datetime, int]]:
    """Per staff id of `staff_ids`: when they were last assigned a ticket, and how many tickets they were given at
    that instant (never assigned: absent)."""
    if not staff_ids:
        return {}
    last = (Ticket.select(Ticket.assignee.alias("who"), fn.MAX(Ticket.assigned_at).alias("at"))
            .where(Ticket.assignee.in_(list(staff_ids))).group_by(Ticket.assignee).alias("last"))
    given = (Ticket.select(last.c.who, last.c.at, fn.COUNT(Ticket.id))
             .join(last, on=(Ticket.assignee == last.c.who) & (Ticket.assigned_at == last.c.at))
             .group_by(last.c.who, last.c.at).tuples())
    return {who: (Ticket.assigned_at.python_value(at), count) for who, at, count in given}

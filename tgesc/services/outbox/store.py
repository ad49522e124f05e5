"""The outbox store: outbound message rows, written in the transaction of the change that causes them and
sent by the bot worker, and the Telegram calls each row made (`sent_message`: what a resumed send must not
repeat). All outbox SQL is here. It also remembers which tickets' cards the current transaction queued
(`card_queued`) or asked to edit (`card_edit_asked`), which nothing needs to ask the database for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

import peewee
from peewee import fn

from tgesc.models import Outbox, SentMessage
from tgesc.store import statements
from tgesc.store.statements import P

_recorded: ContextVar[list[int] | None] = ContextVar("outbox_recorded", default=None)


def add(db: peewee.Database, row: Mapping[str, Any], *, once: bool, unread: bool = False) -> bool:
    """Write an outbox row (every column but the id); `once`: unless its dedupe key is taken. Whether written
    (`unread`: whether it is there, written now or before: a row that stands for any number of requests).
    Inside `recording()` the new row's id is read back and noted; elsewhere nothing is read back, so a pipelined
    transaction (the bot's inbound path) sends a plain or `unread` row without waiting for it."""
    recorded = _recorded.get()
    if recorded is not None:
        row_id = statements.insert_key(db, Outbox, row, new=once)
        if row_id is None:
            return unread
        recorded.append(row_id)
    elif unread:
        statements.insert_unless_taken(db, Outbox, row)
    elif once:
        if not statements.insert_new(db, Outbox, row):
            return False
    else:
        statements.insert(db, Outbox, row)
    if row["kind"] == "card" and row["ticket"] is not None:
        ticket = row["ticket"]
        statements.noted(db, "cards").add((getattr(ticket, "id", ticket), row["chat_id"]))
    return True


def written(db: peewee.Database, dedupe_key: str) -> bool:
    """Whether a row with this dedupe key was written (e.g. the answer to a command handled before a catch-up)."""
    return statements.scalar(db, lambda: Outbox.select(Outbox.id).where(Outbox.dedupe_key == P.key),
                             key=dedupe_key) is not None


def row_of_message(db: peewee.Database, ticket_id: int, chat_id: int, key: str, message: Any) -> Outbox | None:
    """The ticket's row to `chat_id` that carried the message `message` (its payload's `key`: a mirrored customer
    message by id, a relayed staff answer by `chat:id`); None when there is none."""
    rows = Outbox.select().where((Outbox.ticket == ticket_id) & (Outbox.chat_id == chat_id)
                                 & Outbox.kind.in_(("message", "copy"))).order_by(Outbox.id)
    return next((row for row in rows if (row.payload or {}).get(key) == message), None)


def card_queued(db: peewee.Database, ticket_id: int, chat_id: int) -> bool:
    """Whether the current transaction queued a card of the ticket for `chat_id` (since `forget_cards`)."""
    return (ticket_id, chat_id) in statements.noted(db, "cards")


def card_edit_asked(db: peewee.Database, ticket_id: int, chat_id: int) -> bool:
    """Whether an edit of the ticket's card in `chat_id` is asked for the first time in this transaction, which
    did not queue the card itself either (it shows everything)."""
    key, asked = (ticket_id, chat_id), statements.noted(db, "card edits")
    if key in asked or key in statements.noted(db, "cards"):
        return False
    asked.add(key)
    return True


def release_key(db: peewee.Database, row_id: int) -> None:
    """The row's dedupe key is free again: a later row may take it (`tickets.cards`: the next edit of a card)."""
    statements.execute(db, lambda: Outbox.update(dedupe_key=None).where(Outbox.id == P.id), id=row_id)


def forget_cards(db: peewee.Database) -> None:
    """The cards queued so far in the current transaction no longer count for `card_queued`: the next message of
    a run shares the transaction, and a card stands only for the message that queued it."""
    statements.noted(db, "cards").clear()


@contextmanager
def recording() -> Iterator[list[int]]:
    """The ids of the rows `add` writes in this block (on this thread or task), in the list it yields (an
    enclosing recording does not see them). What a sweep job wakes the bot for: its own rows, not those other
    processes wrote meanwhile."""
    rows: list[int] = []
    token = _recorded.set(rows)
    try:
        yield rows
    finally:
        _recorded.reset(token)


def newest_id(db: peewee.Database) -> int:
    """The id of the newest row (0: none)."""
    return statements.scalar(db, lambda: Outbox.select(fn.MAX(Outbox.id))) or 0


def pending_after(db: peewee.Database, row_id: int) -> list[int]:
    """The ids of pending rows written after row `row_id`."""
    return [r for (r,) in statements.tuples(db, lambda: Outbox.select(Outbox.id).where(
        (Outbox.id > P.after) & (Outbox.status == "pending")).order_by(Outbox.id), after=row_id)]


def due_pending(db: peewee.Database, now: datetime, limit: int) -> list[int]:
    """The ids of pending rows due by `now`, oldest first, at most `limit` (one indexed query: status, not_before)."""
    return [r for (r,) in statements.tuples(db, lambda: Outbox.select(Outbox.id).where(
        (Outbox.status == "pending") & (Outbox.not_before <= P.now)).order_by(Outbox.id).limit(P.limit),
        now=now, limit=limit)]


def pending(db: peewee.Database) -> list[tuple[int, int, str, datetime]]:
    """Every pending row's (id, chat id, kind, not_before), oldest first."""
    return [(row_id, chat_id, kind, Outbox.not_before.python_value(not_before))
            for row_id, chat_id, kind, not_before in statements.tuples(db, lambda: (
                Outbox.select(Outbox.id, Outbox.chat_id, Outbox.kind, Outbox.not_before)
                .where(Outbox.status == "pending").order_by(Outbox.id)))]


def row(db: peewee.Database, row_id: int) -> Outbox | None:
    return statements.first(db, Outbox, lambda: Outbox.select().where(Outbox.id == P.id), id=row_id)


def mark_sent(db: peewee.Database, row_id: int, message_id: int | None, now: datetime) -> None:
    """The row was sent (as Telegram message `message_id`, None for an answer to a press)."""
    statements.execute(db, lambda: Outbox.update(
        status="sent", sent_at=P.now, telegram_message_id=P.message_id, attempts=Outbox.attempts + 1, error=None,
    ).where(Outbox.id == P.id), now=now, message_id=message_id, id=row_id)


def postpone(db: peewee.Database, row_id: int, until: datetime, reason: str) -> None:
    """Telegram asked to wait: the row goes again at `until`."""
    Outbox.update(not_before=until, attempts=Outbox.attempts + 1, error=reason).where(Outbox.id == row_id).execute(db)


def failed(db: peewee.Database, row_id: int, *, status: str, attempts: int, error: str, retry_at: datetime) -> None:
    """A send failed: the row is tried again at `retry_at` (status pending), or given up (failed, dead)."""
    Outbox.update(status=status, attempts=attempts, error=error, not_before=retry_at).where(
        Outbox.id == row_id).execute(db)


def dead_for_chat(db: peewee.Database, chat_id: int, reason: str) -> None:
    """Telegram refused a chat for good: everything pending for it is dead."""
    Outbox.update(status="dead", error=reason, attempts=Outbox.attempts + 1).where(
        (Outbox.chat_id == chat_id) & (Outbox.status == "pending")).execute(db)


def sent_part(db: peewee.Database, row_id: int, part: int) -> int | None:
    """The message id Telegram call `part` of a row returned (None: not made yet)."""
    return statements.scalar(db, lambda: SentMessage.select(SentMessage.message_id).where(
        (SentMessage.outbox == P.row) & (SentMessage.part == P.part)), row=row_id, part=part)


def record_part(db: peewee.Database, row: Outbox, part: int, message_id: int, now: datetime) -> None:
    """Telegram call `part` of `row` made message `message_id`."""
    statements.insert(db, SentMessage, {"outbox": row.id, "part": part, "chat_id": row.chat_id,
                                        "message_id": message_id, "sent_at": now})


def card_parts(db: peewee.Database, ticket_id: int, chat_id: int) -> dict[int, int]:
    """The calls the ticket's cards made in a chat: part -> message id (the latest card's last)."""
    return {part: message_id for part, message_id in (
        SentMessage.select(SentMessage.part, SentMessage.message_id)
        .join(Outbox, on=(SentMessage.outbox == Outbox.id))
        .where((Outbox.ticket == ticket_id) & (Outbox.kind == "card") & (SentMessage.chat_id == chat_id))
        .order_by(SentMessage.id).tuples().execute(db))}

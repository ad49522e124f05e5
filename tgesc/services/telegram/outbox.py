"""The outbox as the operator sees it (`tgesc outbox`): what waits to go out to Telegram, what went, what failed and
why; a failed or dead row sent again, a row not sent yet cancelled. Each retry and cancel is audited
(`outbox.retried`, `outbox.cancelled`, on the row's ticket when it has one).

A retried row is pending again from now on, its attempts kept (the delivery's backoff starts from them); the bot
sends it when it next looks at the outbox, or at once when the CLI wakes it. A cancelled row stays, as `cancelled`:
nothing sends it, and an edit queued after it finds nothing to edit.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import peewee
from peewee import fn

from tgesc.db import by_id, count_up_to, stream_by_id, write_transaction
from tgesc.domain.errors import DomainError, NotFound
from tgesc.models import Outbox, SentMessage, Ticket
from tgesc.services.tickets.store import event

STATUSES = ("pending", "sent", "failed", "dead", "cancelled")
RETRIED_FROM = ("failed", "dead")
CANCELLED_FROM = ("pending", "failed")


def _listed(statuses: tuple[str, ...], ticket: int | None) -> peewee.ModelSelect:
    query = Outbox.select(Outbox.id, Outbox.status, Outbox.kind, Outbox.chat_id, Ticket.number, Outbox.attempts,
                          Outbox.not_before, Outbox.created_at, Outbox.sent_at, Outbox.error).join(
        Ticket, peewee.JOIN.LEFT_OUTER, on=(Outbox.ticket == Ticket.id))
    if statuses:
        query = query.where(Outbox.status.in_(statuses))
    if ticket is not None:
        query = query.where(Ticket.number == ticket)
    return query


def listed(db: peewee.Database, statuses: tuple[str, ...] = (), ticket: int | None = None, *, limit: int,
           after: int | None = None) -> list[dict[str, Any]]:
    """The rows with one of `statuses` (none: any), of ticket number `ticket` (None: any), oldest first."""
    with db.atomic():
        return [_summary(values) for values in by_id(_listed(statuses, ticket), Outbox.id, after=after, limit=limit)]


def stream(db: peewee.Database, statuses: tuple[str, ...] = (), ticket: int | None = None,
           after: int | None = None) -> Iterator[dict[str, Any]]:
    """Every such row, oldest first, read in chunks inside one read snapshot."""
    return (_summary(values) for values in stream_by_id(db, _listed(statuses, ticket), Outbox.id, after=after))


def count(db: peewee.Database, statuses: tuple[str, ...] = (), ticket: int | None = None) -> int:
    with db.atomic():
        return count_up_to(_listed(statuses, ticket))


def backlog(db: peewee.Database) -> dict[str, Any]:
    """Rows per status, and when the oldest pending row was due (None: nothing pending)."""
    with db.atomic():
        counts = dict(Outbox.select(Outbox.status, fn.COUNT(Outbox.id)).group_by(Outbox.status).tuples())
        oldest = Outbox.select(fn.MIN(Outbox.not_before)).where(Outbox.status == "pending").scalar()
    return {**{status: counts.get(status, 0) for status in STATUSES},
            "oldest_pending": Outbox.not_before.python_value(oldest) if oldest is not None else None}


def details(db: peewee.Database, row_id: int) -> dict[str, Any]:
    """One row whole: its text, buttons and payload, and the Telegram messages it made."""
    with db.atomic():
        row = _row(row_id)
        parts = [{"part": part, "chat_id": chat, "message_id": message, "sent_at": at} for part, chat, message, at in
                 SentMessage.select(SentMessage.part, SentMessage.chat_id, SentMessage.message_id, SentMessage.sent_at)
                 .where(SentMessage.outbox == row.id).order_by(SentMessage.part).tuples()]
        number = row.ticket.number if row.ticket_id else None
    return {**_summary((row.id, row.status, row.kind, row.chat_id, number, row.attempts, row.not_before,
                        row.created_at, row.sent_at, row.error)),
            "error": row.error, "thread_id": row.thread_id, "reply_to": row.reply_to, "text": row.text,
            "buttons": row.buttons, "payload": row.payload, "dedupe_key": row.dedupe_key, "sent": parts}


def retry(db: peewee.Database, row_id: int, *, actor: str, now: datetime) -> None:
    """A failed or dead row pending again from `now` (DomainError for any other)."""
    _change(db, row_id, RETRIED_FROM, "outbox.retried", actor, now, status="pending", not_before=now)


def cancel(db: peewee.Database, row_id: int, *, actor: str, now: datetime) -> None:
    """A row not sent yet (pending or failed) cancelled (DomainError for any other)."""
    _change(db, row_id, CANCELLED_FROM, "outbox.cancelled", actor, now, status="cancelled")


def _change(db: peewee.Database, row_id: int, allowed: tuple[str, ...], kind: str, actor: str, now: datetime,
            **values: Any) -> None:
    with write_transaction(db):
        row = _row(row_id)
        if row.status not in allowed:
            raise DomainError(f"outbox row {row_id} is {row.status}: only a row that is {' or '.join(allowed)} can "
                              f"be {'retried' if kind == 'outbox.retried' else 'cancelled'}")
        changed = Outbox.update(**values).where((Outbox.id == row.id) & (Outbox.status == row.status)).execute()
        if not changed:  # the bot changed it meanwhile
            raise DomainError(f"outbox row {row_id} changed while it was being changed; look at it again")
        event(row.ticket if row.ticket_id else None, kind, actor, now, outbox=row.id, was=row.status,
              chat_id=row.chat_id)


def _row(row_id: int) -> Outbox:
    row = Outbox.get_or_none(Outbox.id == row_id)
    if row is None:
        raise NotFound(f"there is no outbox row {row_id}; see `tgesc outbox list`")
    return row


def _summary(values: tuple) -> dict[str, Any]:
    row_id, status, kind, chat_id, number, attempts, not_before, created_at, sent_at, error = values
    convert = Outbox.created_at.python_value
    return {"id": row_id, "status": status, "kind": kind, "chat_id": chat_id, "ticket": number,
            "attempts": attempts, "not_before": convert(not_before), "created_at": convert(created_at),
            "sent_at": convert(sent_at), "error": (error or "").strip().splitlines()[-1][:200] if error else None}

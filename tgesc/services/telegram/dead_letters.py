"""Dead letters: inbound Telegram updates whose handling failed for good, kept so that nothing a customer wrote
is ever lost.

What for: the bot acknowledges an update to Telegram only once it is committed. An outage (the database gone, a
lock held too long, a full disk) is waited out: the update is handed over again until it goes through. A failure
that does not pass (a bug met by one particular update) would block every later update behind it, so that update
is committed here instead, with its raw form and the traceback, and the bot moves on.
When: the bot's dispatcher records one after the failed handling was rolled back, in a transaction of its own;
operators see them with `tgesc dead-letter list` / `show` (and the bot's error log), and replay them with
`tgesc dead-letter replay` once the cause is fixed.
Reads and writes: the `dead_letter` table only.
Safe to run twice: one row per update (its kind, chat and message or press id): the same update failing again
(a catch-up delivering it once more, a replay that fails) counts up `failures` on that row. Replaying hands the
stored update to the same dispatcher as the bot does, and every handler is idempotent on the update's id, so a
letter replayed twice, or an update that was in fact stored before it failed, changes nothing more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import peewee

from tgesc.db import by_id, count_up_to, stream_by_id, write_transaction
from tgesc.domain.errors import NotFound
from tgesc.domain.telegram import ButtonPress, IncomingMessage, as_record, from_record
from tgesc.models import DeadLetter

STATUSES = ("failed", "replayed")


def kind_of(item: IncomingMessage | ButtonPress) -> str:
    """A letter's kind: message, edit or press."""
    if isinstance(item, ButtonPress):
        return "press"
    return "edit" if item.edited_at is not None else "message"


def record(db: peewee.Database, item: IncomingMessage | ButtonPress, raw: str, error: str, now: datetime) -> int:
    """Keep `item` (the update as read, `raw` as received) whose handling raised `error`; the letter's id."""
    key = item.query_id if isinstance(item, ButtonPress) else str(item.message_id)
    return _kept(db, kind_of(item), item.chat_id, key, as_record(item), raw, error, now)


def record_unreadable(db: peewee.Database, kind: str, raw: str, error: str, now: datetime) -> int:
    """Keep an update the bot could not even read (only its raw form is known); the letter's id."""
    digest = hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()[:32]
    return _kept(db, "unreadable", None, f"{kind}:{digest}", None, raw, error, now)


def _kept(db: peewee.Database, kind: str, chat_id: int | None, key: str, item: dict[str, Any] | None, raw: str,
          error: str, now: datetime) -> int:
    with write_transaction(db):
        letter = DeadLetter.get_or_none((DeadLetter.kind == kind) & (DeadLetter.chat_id == chat_id)
                                        & (DeadLetter.update_key == key))
        if letter is None:
            return DeadLetter.insert(kind=kind, chat_id=chat_id, update_key=key, item=item, raw=raw, error=error,
                                     failed_at=now, last_failed_at=now).execute()
        DeadLetter.update(error=error, failures=DeadLetter.failures + 1, status="failed", last_failed_at=now
                          ).where(DeadLetter.id == letter.id).execute()
        return letter.id


def letters(status: str | None = "failed") -> list[DeadLetter]:
    """Letters with `status` (None: all), oldest first."""
    query = DeadLetter.select().order_by(DeadLetter.id)
    return list(query.where(DeadLetter.status == status) if status is not None else query)


def letter(letter_id: int) -> DeadLetter:
    """One letter, or NotFound."""
    found = DeadLetter.get_or_none(DeadLetter.id == letter_id)
    if found is None:
        raise NotFound(f"there is no dead letter {letter_id}; `tgesc dead-letter list --status all` lists them")
    return found


def update_of(found: DeadLetter) -> IncomingMessage | ButtonPress | None:
    """The update a letter keeps, as the dispatcher takes it (None: the bot could not read it)."""
    return from_record(found.item) if found.item is not None else None


def mark_replayed(db: peewee.Database, letter_id: int, now: datetime) -> None:
    with write_transaction(db):
        DeadLetter.update(status="replayed", replayed_at=now).where(DeadLetter.id == letter_id).execute()


_LISTED = (DeadLetter.id, DeadLetter.kind, DeadLetter.chat_id, DeadLetter.update_key, DeadLetter.status,
           DeadLetter.failures, DeadLetter.failed_at, DeadLetter.last_failed_at, DeadLetter.replayed_at,
           DeadLetter.error)


def summary(found: DeadLetter) -> dict[str, Any]:
    """A letter as `dead-letter list` shows it."""
    return _summary(tuple(getattr(found, column.name) for column in _LISTED))


def _summary(values: tuple) -> dict[str, Any]:
    """`summary` from the values of _LISTED, in its order."""
    letter_id, kind, chat_id, key, status, failures, failed_at, last_failed_at, replayed_at, error = values
    return {"id": letter_id, "kind": kind, "chat": chat_id, "update": key, "status": status, "failures": failures,
            "failed_at": failed_at, "last_failed_at": last_failed_at, "replayed_at": replayed_at,
            "error": error.strip().splitlines()[-1] if error.strip() else ""}


def _listed(status: str | None) -> peewee.ModelSelect:
    query = DeadLetter.select(*_LISTED)
    return query.where(DeadLetter.status == status) if status is not None else query


def listed(db: peewee.Database, status: str | None = "failed", limit: int | None = None,
           after: int | None = None) -> list[dict[str, Any]]:
    """The summaries of the letters `letters` would give, read as tuples."""
    with db.atomic():
        return [_summary(values) for values in by_id(_listed(status), DeadLetter.id, after=after, limit=limit)]


def count(db: peewee.Database, status: str | None = "failed") -> int:
    """How many letters have `status` (None: all), counted up to COUNTED_UP_TO + 1."""
    with db.atomic():
        return count_up_to(_listed(status))


def stream(db: peewee.Database, status: str | None = "failed", after: int | None = None) -> Iterator[dict[str, Any]]:
    """The summaries of every letter with `status` (None: all) after `after`, oldest first, read in chunks inside
    one read snapshot."""
    return (_summary(values) for values in stream_by_id(db, _listed(status), DeadLetter.id, after=after))


def details(found: DeadLetter) -> dict[str, Any]:
    """A letter whole, as `dead-letter show` shows it."""
    return {**summary(found), "error": found.error, "item": found.item, "raw": found.raw}

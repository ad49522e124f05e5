"""Sweeps in batches, so that many `tgesc worker run` processes share one backlog of due rows.

A sweep job claims a batch (store.claim: at most `size` due rows that no other job holds, leased for LEASE),
handles it, and hands what remains to a follow-up job: a full batch claimed means more may be due, and the
worker layer enqueues the follow-up before handling, so another worker claims the next batch meanwhile. Handling
is one write transaction for the batch with a savepoint per row: a row whose handling fails (a DomainError: a
conflict, a rule that cannot apply) rolls back alone and is left, still leased, for a later sweep, and the batch
commits once instead of once per row. The same transaction releases the claim on the rows it moved on. A job
that dies mid-batch loses nothing: nothing was committed, and its lease ends after LEASE.

Run once in one process (`tgesc sla sweep --once`, `tgesc simulate`), a sweep claims and handles batch after
batch until a batch comes back short: everything due at `now` is handled, as before batches existed. A dry run
handles every due row in one transaction and rolls it back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import peewee

from tgesc.db import write_transaction
from tgesc.domain.errors import DomainError
from tgesc.models import Ticket
from tgesc.services.outbox import store as outbox
from tgesc.services.sweeps import store
from tgesc.services.sweeps.store import Due
from tgesc.services.tickets import store as tickets

log = logging.getLogger(__name__)
BATCH = 100  # rows a sweep job claims at most (the `sweep_batch` setting)
LEASE = timedelta(minutes=2)  # a claim ends this long after it was made, released or not

Handle = Callable[[int], list[dict[str, Any]]]  # one claimed row, in the batch's transaction: what it did


@dataclass(frozen=True)
class Claim:
    """The rows one sweep job claimed at `now`, at most `size`."""

    due: Due
    now: datetime
    size: int
    ids: tuple[int, ...]

    @property
    def until(self) -> datetime:
        return self.now + LEASE

    @property
    def full(self) -> bool:
        """Whether as many rows as asked for were claimed: more may be due."""
        return len(self.ids) >= self.size


@dataclass(frozen=True)
class Handled:
    """What handling rows did (one dict per action, the sweep's rows) and the outbox rows it wrote."""

    done: list[dict[str, Any]]
    outbox_rows: list[int]


@dataclass(frozen=True)
class Sweep:
    """One periodic sweep: the rows it takes (`due`), and `handler(db, now)`, the function that handles one of
    them (by id) in the batch's transaction and says what it did."""

    due: Due
    handler: Callable[[peewee.Database, datetime], Handle]

    def claim(self, db: peewee.Database, now: datetime, size: int = BATCH) -> Claim:
        """Claim a batch (its own short transaction)."""
        with write_transaction(db):
            ids = store.claim(db, self.due, now, size, now + LEASE)
        return Claim(self.due, now, size, tuple(ids))

    def handle(self, db: peewee.Database, claim: Claim) -> Handled:
        """Handle a claimed batch in one transaction (see the module's description) and release its claim."""
        try:
            with outbox.recording() as written, write_transaction(db):
                done = _each(db, claim.ids, self.handler(db, claim.now), written, self.due.name)
                store.release(db, self.due, claim.until, claim.now)
        except BaseException:
            self._give_back(db, claim)
            raise
        return Handled(done, list(written))

    def _give_back(self, db: peewee.Database, claim: Claim) -> None:
        """After handling failed (rolled back): end the claim at once, so that the next sweep tries its rows
        again (when the database is away, its lease ends by itself)."""
        try:
            with write_transaction(db):
                store.release(db, self.due, claim.until, None)
        except peewee.PeeweeException as exc:
            log.warning("%s sweep: a claim stays until %s: %s", self.due.name, claim.until.isoformat(), exc)

    def run(self, db: peewee.Database, *, now: datetime, dry_run: bool = False, limit: int | None = None,
            size: int = BATCH) -> Handled:
        """Everything due at `now` (at most `limit` rows), batch after batch in this process; `dry_run`: what it
        would do, in one transaction rolled back."""
        if dry_run:
            return Handled(self._rehearse(db, now, limit), [])
        done: list[dict[str, Any]] = []
        written: list[int] = []
        taken = 0
        while limit is None or taken < limit:
            claim = self.claim(db, now, size if limit is None else min(size, limit - taken))
            handled = self.handle(db, claim)
            done, written, taken = done + handled.done, written + handled.outbox_rows, taken + len(claim.ids)
            if not claim.full:
                break
        return Handled(done, written)

    def _rehearse(self, db: peewee.Database, now: datetime, limit: int | None) -> list[dict[str, Any]]:
        with outbox.recording() as written, write_transaction(db) as txn:
            done = _each(db, store.due_ids(db, self.due, now, limit), self.handler(db, now), written, self.due.name)
            txn.rollback()
        return done


def _each(db: peewee.Database, ids: Sequence[int], handle: Handle, written: list[int],
          what: str) -> list[dict[str, Any]]:
    """`handle` each row in a savepoint of its own; one that fails with a DomainError is rolled back (its outbox
    rows forgotten) and left for a later sweep."""
    done: list[dict[str, Any]] = []
    for row_id in ids:
        mark = len(written)
        try:
            with db.atomic():
                done += handle(row_id)
        except DomainError as exc:
            del written[mark:]
            log.warning("%s sweep: id %s left for a later sweep: %s", what, row_id, exc)
    return done


def on_locked_ticket(handle: Callable[[peewee.Database, Ticket, datetime], list[dict[str, Any]]],
                     ) -> Callable[[peewee.Database, datetime], Handle]:
    """A `Sweep.handler` for tickets: each read again and locked (tickets.store.locked: on PostgreSQL its row
    stays locked until the batch commits), then `handle(db, ticket, now)` (a ticket gone meanwhile: nothing)."""
    def handler(db: peewee.Database, now: datetime) -> Handle:
        def one(ticket_id: int) -> list[dict[str, Any]]:
            ticket = tickets.locked(db, ticket_id)
            return [] if ticket is None else handle(db, ticket, now)
        return one
    return handler

"""Sweeps in batches, so that many `tgesc worker run` processes share one backlog of due rows.

A sweep job claims a batch (store.claim: at most `size` due rows that no other job holds), learns whether more may
be due (a full batch), and hands that to a follow-up job before handling its rows (the worker layer enqueues it in
`Sweep.batch`'s `claimed`), so another worker claims the next batch meanwhile. Handling is one write transaction
for the batch with a savepoint per row: a row whose handling fails (a DomainError: a conflict, a rule that cannot
apply) rolls back alone and is left for a later sweep, and the batch commits once instead of once per row. A row
that fails for any other reason (a bug, bad data) rolls back alone too, so that it cannot hold back the rows
after it for ever, and once the others are committed the job fails (SweepRowsFailed, with the traceback in the
log): the row stays due, and the failure shows where failed jobs show. A failure of the database itself (one that
passes: a connection lost, a lock held) or of the system (an OSError, a ConnectionError among them) ends the
batch, rolled back whole, for the job to try again.

PostgreSQL: the claim is `SELECT ... FOR UPDATE SKIP LOCKED` in that same transaction: nothing is written to claim
or release, the rows stay locked until the batch commits, and a job that dies loses its locks with its connection.
A chain of follow-ups walks the backlog once (each claims after the last row of the one before); its last, short,
batch also takes the free rows the chain skipped while other transactions held them (another sweep's batch on the
same tickets, a staff reply), and when rows still due are held at that moment, its follow-up looks again.

SQLite: the claim is a lease (a column per sweep) written in a short transaction of its own; the handling
transaction releases it on the rows it moved on; a row whose handling failed keeps it until it ends (LEASE), so the
next jobs take other rows; a job that dies mid-batch committed nothing, and its lease ends.

Run once in one process (`tgesc sla sweep --once`, `tgesc simulate`), a sweep claims and handles batch after
batch until a batch comes back short: everything due at `now` is handled, as before batches existed. A dry run
handles every due row in one transaction and rolls it back.

A ScanSweep finds its rows in the state of the desk instead of by a due instant (the assignment sweep: whose shift
ended, which tickets nobody holds), with a query of its own run in the batch's transaction: on PostgreSQL `FOR
UPDATE SKIP LOCKED` as above; on SQLite the write transaction, which holds the whole database, is the claim (no
lease: a job waiting for it finds what the one before left). A follow-up goes on after the last row of a full
batch; rows another transaction held are found again by the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import peewee

from tgesc.db import passing_failure, write_transaction
from tgesc.domain.errors import DependencyUnavailable, DomainError
from tgesc.models import Ticket
from tgesc.services.outbox import store as outbox
from tgesc.services.sweeps import store
from tgesc.services.sweeps.store import Due, Key
from tgesc.services.tickets import store as tickets

log = logging.getLogger(__name__)
BATCH = 100  # rows a sweep job claims at most (the `sweep_batch` setting)
LEASE = timedelta(minutes=2)  # SQLite: a claim ends this long after it was made, released or not
TAIL = 10  # PostgreSQL: the last batch of a chain takes up to this many batches' worth of rows it skipped before

Handle = Callable[[int], list[dict[str, Any]]]  # one claimed row, in the batch's transaction: what it did


class SweepRowsFailed(RuntimeError):
    """Rows of a batch failed unexpectedly; the batch's other rows were committed."""


@dataclass(frozen=True)
class Claim:
    """The rows one sweep job claimed at `now`, most overdue first; `full`: more may be due (a follow-up should
    look), from after `next` in the sweep's order (None: from the first)."""

    now: datetime
    keys: tuple[Key, ...]
    full: bool
    next: Key | None

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(row_id for _, row_id in self.keys)


@dataclass(frozen=True)
class Handled:
    """What handling rows did (one dict per action, the sweep's rows) and the outbox rows it wrote."""

    done: list[dict[str, Any]]
    outbox_rows: list[int]
    claim: Claim | None = None


Claimed = Callable[[Claim], None]  # told of a claim before its rows are handled


@dataclass(frozen=True)
class Sweep:
    """One periodic sweep: the rows it takes (`due`), and `handler(db, now)`, the function that handles one of
    them (by id) in the batch's transaction and says what it did."""

    due: Due
    handler: Callable[[peewee.Database, datetime], Handle]

    @property
    def name(self) -> str:
        return self.due.name

    def batch(self, db: peewee.Database, now: datetime, size: int = BATCH, after: Key | None = None,
              claimed: Claimed = lambda _claim: None, *, tail: bool = True) -> Handled:
        """Claim a batch (at most `size` rows due at `now`, after `after`), call `claimed(claim)` before handling
        it (the worker enqueues the follow-up there), and handle it in one transaction (see the module's
        description). PostgreSQL: the claim is made in that transaction, so `claimed` runs inside it, while its
        rows are locked (if the transaction then fails, the follow-up is there all the same: it claims them).
        `tail` False: a short batch takes no skipped rows (at most `size` rows)."""
        if store.is_sqlite(db):
            return self._leased(db, now, size, claimed)
        failed: list[int] = []
        with outbox.recording() as written, write_transaction(db):
            claim = self._locked(db, now, size, after, tail)
            claimed(claim)
            done = _each(db, claim.ids, self.handler(db, now), written, self.name, failed)
        _none_failed(failed, self.name)
        return Handled(done, list(written), claim)

    def _locked(self, db: peewee.Database, now: datetime, size: int, after: Key | None, tail: bool) -> Claim:
        """PostgreSQL: the rows locked in the calling transaction. A full batch: the follow-up goes on after its
        last row, so that one chain of jobs walks the backlog once (a row whose handling fails is not taken again
        and again). A short one ends the chain: it also takes (up to TAIL times `size`) the rows due before `after`
        that are free now (the chain skipped them while another sweep held them; or their handling failed), and
        when rows still due are held by another transaction, a follow-up looks again from the first row."""
        keys = store.claim(db, self.due, now, size, after, now)
        if len(keys) >= size:
            return Claim(now, tuple(keys), True, keys[-1])
        if after is not None and tail:
            keys = sorted(set(keys).union(store.claim(db, self.due, now, TAIL * size + len(keys), None, now)))
        return Claim(now, tuple(keys), store.held(db, self.due, now), None)

    def _leased(self, db: peewee.Database, now: datetime, size: int, claimed: Claimed) -> Handled:
        """SQLite: the claim is a lease taken in a short transaction of its own (from the first row due: a row a
        job failed on keeps its lease, so no cursor is needed); the handling transaction releases it; a failed one
        gives it back at once (when the database is away, the lease ends by itself)."""
        with write_transaction(db):
            keys = store.claim(db, self.due, now, size, None, now + LEASE)
            claim = Claim(now, tuple(keys), len(keys) >= size, None)
        claimed(claim)
        failed: list[int] = []
        try:
            with outbox.recording() as written, write_transaction(db):
                done = _each(db, claim.ids, self.handler(db, now), written, self.name, failed)
                store.release(db, self.due, claim.ids, now)
        except BaseException:  # rolled back, nothing of the batch done: give its rows back, and fail as it failed
            self._give_back(db, claim)
            raise
        _none_failed(failed, self.name)
        return Handled(done, list(written), claim)

    def _give_back(self, db: peewee.Database, claim: Claim) -> None:
        try:
            with write_transaction(db):
                store.release(db, self.due, claim.ids, None)
        except peewee.PeeweeException as exc:
            log.warning("%s sweep: a claim stays until %s: %s", self.name, (claim.now + LEASE).isoformat(), exc)

    def run(self, db: peewee.Database, *, now: datetime, dry_run: bool = False, limit: int | None = None,
            size: int = BATCH) -> Handled:
        """Everything due at `now` (at most `limit` rows), batch after batch in this process; `dry_run`: what it
        would do, in one transaction rolled back."""
        if dry_run:
            return Handled(_rehearsed(db, lambda: store.due_ids(db, self.due, now, limit), self.handler(db, now),
                                      self.name), [])
        return _batch_after_batch(lambda rows, after: self.batch(db, now, rows, after, tail=False), limit, size,
                                  store.is_sqlite(db))


Find = Callable[[peewee.Database, datetime, int | None, Key | None], list[Key]]  # (db, now, size: None for all, after)


@dataclass(frozen=True)
class ScanSweep:
    """A periodic sweep whose rows are found in the state of the desk, not by a due instant (the assignment sweep:
    the tickets whose assignee's shift ended, those nobody holds): `find(db, now, size, after)`, in the batch's
    transaction, gives the keys of at most `size` of them after `after` in its order, claimed (PostgreSQL: locked,
    skipping those another transaction holds; SQLite's write transaction holds the whole database); `handler`, as a
    Sweep's, handles one. A row it leaves as it found (nothing to do after all) is found again by the next run."""

    name: str
    find: Find
    handler: Callable[[peewee.Database, datetime], Handle]

    def batch(self, db: peewee.Database, now: datetime, size: int = BATCH, after: Key | None = None,
              claimed: Claimed = lambda _claim: None) -> Handled:
        """Find a batch (at most `size` rows, after `after`), call `claimed(claim)` (full: a follow-up should look
        after its last row), and handle it, all in one write transaction. Rows another transaction held are left
        for the next run."""
        failed: list[int] = []
        with outbox.recording() as written, write_transaction(db):
            keys = self.find(db, now, size, after)
            full = len(keys) >= size
            claim = Claim(now, tuple(keys), full, keys[-1] if full else None)
            claimed(claim)
            done = _each(db, claim.ids, self.handler(db, now), written, self.name, failed)
        _none_failed(failed, self.name)
        return Handled(done, list(written), claim)

    def run(self, db: peewee.Database, *, now: datetime, dry_run: bool = False, limit: int | None = None,
            size: int = BATCH) -> Handled:
        """Every row found at `now` (at most `limit`), batch after batch in this process; `dry_run`: what it would
        do, in one transaction rolled back."""
        if dry_run:
            return Handled(_rehearsed(db, lambda: [row_id for _, row_id in self.find(db, now, limit, None)],
                                      self.handler(db, now), self.name), [])
        return _batch_after_batch(lambda rows, after: self.batch(db, now, rows, after), limit, size,
                                  store.is_sqlite(db))


def _batch_after_batch(batch: Callable[[int, Key | None], Handled], limit: int | None, size: int,
                       sqlite: bool) -> Handled:
    """`batch(rows, after)` again and again, each after the last, until one is short (or `limit` rows are taken):
    what they did, together."""
    done: list[dict[str, Any]] = []
    written: list[int] = []
    taken, after = 0, None
    while limit is None or taken < limit:
        handled = batch(size if limit is None else min(size, limit - taken), after)
        claim = handled.claim
        done, written, taken = done + handled.done, written + handled.outbox_rows, taken + len(claim.keys)
        if not claim.full or (claim.next is None and not sqlite):
            break  # one process: rows another transaction holds are that one's, or the next sweep's
        after = claim.next
    return Handled(done, written)


def _rehearsed(db: peewee.Database, ids: Callable[[], Sequence[int]], handle: Handle,
               what: str) -> list[dict[str, Any]]:
    """What handling the rows `ids()` would do, in one transaction rolled back."""
    failed: list[int] = []
    with outbox.recording() as written, write_transaction(db) as txn:
        done = _each(db, ids(), handle, written, what, failed)
        txn.rollback()
    _none_failed(failed, what)
    return done


def _each(db: peewee.Database, ids: Sequence[int], handle: Handle, written: list[int], what: str,
          failed: list[int]) -> list[dict[str, Any]]:
    """`handle` each row in a savepoint of its own. One that fails is rolled back (its outbox rows forgotten) and
    left for a later sweep: a DomainError is expected (a warning); any other failure is logged with its traceback
    and its row id added to `failed`. A failure of the database or the system (OSError) ends the batch (raised)."""
    done: list[dict[str, Any]] = []
    for row_id in ids:
        mark = len(written)
        try:
            with db.atomic():
                done += handle(row_id)
        except DomainError as exc:
            del written[mark:]
            log.warning("%s sweep: id %s left for a later sweep: %s", what, row_id, exc)
        except Exception as exc:
            if isinstance(exc, DependencyUnavailable | OSError) or passing_failure(exc):  # the database, the network
                raise
            del written[mark:]
            failed.append(row_id)
            log.exception("%s sweep: id %s failed and was left for a later sweep", what, row_id)
    return done


def _none_failed(failed: Sequence[int], what: str) -> None:
    """After the batch's other rows were committed: fail the job when rows failed unexpectedly."""
    if failed:
        raise SweepRowsFailed(f"{what} sweep: {len(failed)} row(s) failed (ids {', '.join(map(str, failed))}) and "
                              "were left for a later sweep; the batch's other rows were handled (tracebacks in "
                              "the log)")


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

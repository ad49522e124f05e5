"""The sweeps' store: what each periodic sweep finds due, and the claims that share the due rows among sweep jobs.

PostgreSQL: a claim is a row lock. `claim` selects the batch `FOR UPDATE SKIP LOCKED` in the transaction that then
handles it: the rows stay locked until that transaction ends, other jobs' claims skip them (they never wait), and a
job that dies loses its locks with its connection. Nothing is written to claim or release. A row another
transaction holds (another job of the same sweep, another sweep's batch, a staff reply) is skipped too: `held`
says whether such a row is still due, so the caller can look again once it is released.

SQLite, where one writer is the rule: a claim is a short lease, a column per sweep (`Due.lease`: the SLA,
unresolved-for and lifecycle sweeps each have their own on `ticket`, so one sweep's claim never hides a row from
another), set in a short write transaction of its own; a claim takes only rows that sweep's jobs do not hold (no
lease, or one that has ended). `release`, in the transaction that handled the rows, ends the lease on those no
longer due; a row still due (its handling failed and was rolled back) keeps its lease until it ends, so the next
jobs take other rows first. A job that dies holding a claim loses nothing: it committed nothing, and its lease ends.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from typing import TYPE_CHECKING

import peewee

from tgesc.domain.assignment import WAITING_WORK
from tgesc.domain.surveys import PENDING
from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import Survey, Ticket
from tgesc.services.tickets.store import TIMED_STATUSES
from tgesc.store import statements
from tgesc.store.statements import P, Parameter

if TYPE_CHECKING:
    from tgesc.services.tickets.assignment import Watch

Key = tuple[datetime, int]  # a due row's place in a sweep's order: (due instant, id)


@dataclass(frozen=True)
class Due:
    """The rows one sweep works through: those of `model` in one of `statuses` whose due instant `column` has
    come (an index on (status, column) finds them); `lease`: the column of its claims on SQLite."""

    name: str
    model: type[peewee.Model]
    column: peewee.Field
    statuses: tuple[str, ...]
    lease: peewee.Field


def _due(model: type[peewee.Model], column: peewee.Field, statuses: tuple[str, ...]) -> peewee.Expression:
    """Due at the parameter `now`. (Statements close over fields, not over a Due.)"""
    return model.status.in_(statuses) & (column <= P.now)


def _after(model: type[peewee.Model], column: peewee.Field) -> peewee.Expression:
    """Later in the sweep's order than the parameters (`at`, `id`)."""
    return (column >= P.at) & ((column > P.at) | (model.id > P.id))


SLA = Due("sla", Ticket, Ticket.next_check_at, tuple(OPEN_STATUSES), Ticket.sla_lease_until)
UNRESOLVED = Due("unresolved", Ticket, Ticket.escalate_unresolved_at, tuple(OPEN_STATUSES),
                 Ticket.unresolved_lease_until)
LIFECYCLE = Due("lifecycle", Ticket, Ticket.lifecycle_due_at, TIMED_STATUSES, Ticket.lifecycle_lease_until)
SURVEYS = Due("survey", Survey, Survey.due_at, tuple(PENDING), Survey.lease_until)


def is_sqlite(db: peewee.Database) -> bool:
    return isinstance(getattr(db, "obj", None) or db, peewee.SqliteDatabase)


def due_ids(db: peewee.Database, due: Due, now: datetime, limit: int | None) -> list[int]:
    """The ids of the rows due at `now`, most overdue first (at most `limit`), claimed or not."""
    model, column, statuses, limited = due.model, due.column, due.statuses, limit is not None

    def build() -> peewee.Query:
        query = model.select(model.id).where(_due(model, column, statuses)).order_by(column, model.id)
        return query.limit(P.limit) if limited else query

    params = {"limit": limit} if limited else {}
    return [row_id for (row_id,) in statements.tuples(db, build, now=now, **params)]


def claim(db: peewee.Database, due: Due, now: datetime, size: int, after: Key | None,
          until: datetime) -> list[Key]:
    """Claim at most `size` of the rows due at `now` that no other job holds, after `after` in the sweep's order
    (None: from the first); their keys, most overdue first. PostgreSQL: locked until the calling transaction
    ends (`until` unused). SQLite: leased until `until`; run it in a write transaction of its own."""
    model, column, statuses, lease = due.model, due.column, due.statuses, due.lease
    sqlite, later = is_sqlite(db), after is not None

    def build() -> peewee.Query:
        where = _due(model, column, statuses)
        if later:
            where &= _after(model, column)
        if sqlite:
            where &= lease.is_null() | (lease <= P.now)
        free = model.select(model.id, column).where(where).order_by(column, model.id).limit(P.size)
        if not sqlite:
            return free.for_update(skip_locked=True)
        return model.update({lease: P.until}).where(model.id.in_(
            free.select(model.id))).returning(model.id, column)

    params = {"at": after[0], "id": after[1]} if later else {}
    rows = statements.tuples(db, build, now=now, size=size, **params, **({"until": until} if sqlite else {}))
    return sorted((column.python_value(at), row_id) for row_id, at in rows)


def held(db: peewee.Database, due: Due, now: datetime) -> bool:
    """PostgreSQL, in the transaction of a claim: whether a row due at `now` is held by another transaction (a
    claim skipped it). Locks the due rows nobody holds (this transaction's own among them) until it ends."""
    model, column, statuses = due.model, due.column, due.statuses
    due_now = statements.scalar(db, lambda: model.select(peewee.fn.COUNT(model.id)).where(
        _due(model, column, statuses)), now=now)
    free = statements.tuples(db, lambda: model.select(model.id).where(_due(model, column, statuses)).for_update(
        skip_locked=True), now=now)
    return due_now > len(free)


def release(db: peewee.Database, due: Due, ids: Sequence[int], now: datetime | None) -> None:
    """SQLite: end the lease on the claimed rows `ids` that are no longer due at `now` (in the transaction that
    handled them: a row still due keeps its lease until it ends); `now` None: on all of them."""
    model, column, statuses, lease, every = due.model, due.column, due.statuses, due.lease, now is None

    def build() -> peewee.Query:
        ours = model.id.in_(peewee.NodeList((peewee.SQL("SELECT value FROM json_each("), Parameter("ids", json.dumps),
                                             peewee.SQL(")")), parens=True))
        return model.update({lease: None}).where(ours if every else ours & (
            column.is_null() | (column > P.now) | model.status.not_in(statuses)))

    statements.execute(db, build, ids=list(ids), **({} if every else {"now": now}))


def to_assign(db: peewee.Database, watches: Sequence[Watch], size: int | None, after: Key | None, *,
              lock: bool = True) -> list[Key]:
    """The open tickets the assignment sweep is to hand back or assign (what `watches` say, tier by tier), oldest
    first, at most `size` (None: all) after `after` in that order; their keys (created_at, id). With `lock`, on
    PostgreSQL: locked to the end of the calling transaction, skipping those another transaction holds. One range
    of the index (status, tier, assignee) per tier."""
    if not watches:
        return []
    query = (Ticket.select(Ticket.id, Ticket.created_at).where(
        Ticket.status.in_(list(WAITING_WORK)) & reduce(operator.or_, map(_watched, watches)))
        .order_by(Ticket.created_at, Ticket.id))
    if after is not None:
        query = query.where((Ticket.created_at > after[0]) | ((Ticket.created_at == after[0]) & (Ticket.id > after[1])))
    if size is not None:
        query = query.limit(size)
    if lock and not is_sqlite(db):
        query = query.for_update(skip_locked=True)
    return [(Ticket.created_at.python_value(at), row_id) for row_id, at in query.tuples()]


def _watched(watch: Watch) -> peewee.Expression:
    """SQL: a ticket of the watched tier that goes back (held by someone not kept, or by someone whose shift ended
    after it was given them), or, when someone has room, one nobody holds."""
    held_elsewhere = Ticket.assignee.is_null(False) & Ticket.assignee.not_in(list(watch.keep))
    ended = [Ticket.assignee.in_(list(ids)) & (Ticket.assigned_at.is_null() | (Ticket.assigned_at < since))
             for since, ids in watch.off]
    pool = [Ticket.assignee.is_null()] if watch.room else []
    return (Ticket.tier == watch.tier_id) & reduce(operator.or_, [held_elsewhere, *ended, *pool])

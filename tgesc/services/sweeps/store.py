"""The sweeps' store: what each periodic sweep finds due, and the claims that share the due rows among sweep jobs.

A claim is a lease: the claimed rows' `sweep_lease_until` is set to when the claim ends, in a short transaction of
its own, and a claim takes only rows nobody holds (no lease, or one that has ended). On PostgreSQL the claiming
statement also skips the rows another job is claiming at that moment (`FOR UPDATE SKIP LOCKED`), so jobs claiming
at once never wait for each other; on SQLite the write lock makes claims take turns. The job that holds the claim
releases it when it has handled the rows; a row still due then (its handling failed and was rolled back) keeps its
lease until it ends, so the next sweeps take the other rows first. A job that dies holding a claim loses nothing:
it committed nothing, and its lease ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import peewee

from tgesc.domain.surveys import PENDING
from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import Survey, Ticket
from tgesc.services.tickets.store import TIMED_STATUSES
from tgesc.store import statements
from tgesc.store.statements import P


@dataclass(frozen=True)
class Due:
    """The rows one sweep works through: those of `model` in one of `statuses` whose due instant `column` has
    come (an index on (status, column) finds them)."""

    name: str
    model: type[peewee.Model]
    column: peewee.Field
    statuses: tuple[str, ...]


SLA = Due("sla", Ticket, Ticket.next_check_at, tuple(OPEN_STATUSES))
UNRESOLVED = Due("unresolved", Ticket, Ticket.escalate_unresolved_at, tuple(OPEN_STATUSES))
LIFECYCLE = Due("lifecycle", Ticket, Ticket.lifecycle_due_at, TIMED_STATUSES)
SURVEYS = Due("survey", Survey, Survey.due_at, tuple(PENDING))


def due_ids(db: peewee.Database, due: Due, now: datetime, limit: int | None) -> list[int]:
    """The ids of the rows due at `now`, most overdue first (at most `limit`), claimed or not."""
    model, column, statuses, limited = due.model, due.column, due.statuses, limit is not None

    def build() -> peewee.Query:
        query = (model.select(model.id).where(model.status.in_(statuses) & (column <= P.now))
                 .order_by(column, model.id))
        return query.limit(P.limit) if limited else query

    params = {"limit": limit} if limited else {}
    return [row_id for (row_id,) in statements.tuples(db, build, now=now, **params)]


def claim(db: peewee.Database, due: Due, now: datetime, size: int, until: datetime) -> list[int]:
    """Claim, until `until`, at most `size` of the rows due at `now` that no job holds; their ids, most overdue
    first. Run it in a write transaction of its own: the claim holds once that commits."""
    model, column, statuses = due.model, due.column, due.statuses
    postgres = not isinstance(getattr(db, "obj", None) or db, peewee.SqliteDatabase)

    def build() -> peewee.Query:
        lease = model.sweep_lease_until
        free = (model.select(model.id).where(model.status.in_(statuses) & (column <= P.now) & (
            lease.is_null() | (lease <= P.now))).order_by(column, model.id).limit(P.size))
        if postgres:
            free = free.for_update(skip_locked=True)
        return model.update({lease: P.until}).where(model.id.in_(free)).returning(model.id, column)

    rows = statements.tuples(db, build, now=now, size=size, until=until)
    return [row_id for row_id, _ in sorted(rows, key=lambda row: (row[1], row[0]))]


def release(db: peewee.Database, due: Due, until: datetime, now: datetime | None) -> None:
    """End the claim made until `until` on its rows that are no longer due at `now` (in the transaction that
    handled them: a row still due keeps its lease until it ends); `now` None: on all its rows."""
    model, column, statuses, every = due.model, due.column, due.statuses, now is None

    def build() -> peewee.Query:
        lease = model.sweep_lease_until
        ours = lease == P.until
        return model.update({lease: None}).where(ours if every else ours & (
            column.is_null() | (column > P.now) | model.status.not_in(statuses)))

    statements.execute(db, build, until=until, **({} if every else {"now": now}))

"""PostgreSQL transactions in psycopg's pipeline mode: fewer round trips for the same statements.

peewee runs psycopg in autocommit mode and sends BEGIN and COMMIT as statements of their own, each a round trip
to the server, as is every statement: a customer's message cost about ten. In pipeline mode (libpq 14 and
later) a statement is sent without waiting for its answer; the client waits only when it reads one. So inside
`pipelined_transaction` (`tgesc.db.write_transaction(db, pipelined=True)`; the bot's customer messages cost two:
their first read, and the writes with the COMMIT):

- BEGIN waits for nothing: it goes with the first statement that is read;
- a statement whose outcome is read (its rows, the number of rows it changed, its columns) waits for it, as it
  would outside: the cursors of a pipelined connection (`WaitingCursor`) wait for their answer before giving
  any of it, so no caller ever reads "nothing yet" (peewee's `rowcount` would otherwise be -1), and a failure
  of any statement sent before is raised there, as peewee raises it (`peewee.IntegrityError`, with `.orig`);
- a statement whose outcome nobody reads (an audit event, an outbox row) does not wait: its answer comes with
  the next wait;
- COMMIT goes with the statements still unanswered, in one round trip at the end. If any of them failed,
  the server has already refused the COMMIT (everything after a failure in a pipeline is skipped): the
  transaction is rolled back and the failure raised, as peewee raises it.

What changes for the code inside is only when a failure is raised: at the next read or at the end rather than at
the statement itself. Either way the whole transaction is rolled back, and nothing inside recovers from a failed
statement (a savepoint rolled back after a failure would be skipped too).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from weakref import WeakKeyDictionary

import peewee
import psycopg
from psycopg import pq

_open: WeakKeyDictionary[psycopg.Connection, psycopg.Pipeline] = WeakKeyDictionary()  # connection → its pipeline


class WaitingCursor(psycopg.Cursor):
    """A cursor that, in a pipelined transaction, waits for its statement's answer before giving any of it."""

    def _answered(self) -> None:
        if self.pgresult is None:
            pipeline = _open.get(self._conn)
            if pipeline is not None:
                with peewee.__exception_wrapper__:
                    pipeline.sync()

    @property
    def rowcount(self) -> int:
        self._answered()
        return super().rowcount

    @property
    def description(self) -> Any:
        self._answered()
        return super().description

    @property
    def lastrowid(self) -> int | None:
        self._answered()
        return super().lastrowid

    def fetchone(self) -> Any:
        self._answered()
        return super().fetchone()

    def fetchmany(self, size: int = 0) -> list:
        self._answered()
        return super().fetchmany(size)

    def fetchall(self) -> list:
        self._answered()
        return super().fetchall()

    def __next__(self) -> Any:
        self._answered()
        return super().__next__()


@contextlib.contextmanager
def pipelined_transaction(db: peewee.PostgresqlDatabase) -> Iterator[None]:
    """A peewee transaction (`db.atomic()`) on this thread's connection in pipeline mode (see the module
    docstring); outside any other transaction."""
    conn = db.connection()
    conn.cursor_factory = WaitingCursor
    mode = conn.pipeline()
    _open[conn] = mode.__enter__()
    try:
        with db.atomic():
            yield
    except BaseException as exc:
        _ended(conn, mode, exc)
        raise
    try:
        with peewee.__exception_wrapper__:
            _ended(conn, mode, None)
    except BaseException:
        _rolled_back(conn)
        raise


def _ended(conn: psycopg.Connection, mode: contextlib.AbstractContextManager, exc: BaseException | None) -> None:
    """Leave pipeline mode, having waited for every answer (the COMMIT's or ROLLBACK's among them); with `exc`
    (the block failed), a failure there is not raised, and the transaction is rolled back if it is still open."""
    del _open[conn]
    if exc is None:
        mode.__exit__(None, None, None)
        return
    with contextlib.suppress(Exception):
        mode.__exit__(type(exc), exc, exc.__traceback__)
    _rolled_back(conn)


def _rolled_back(conn: psycopg.Connection) -> None:
    """Roll back what the server still holds open (a transaction whose COMMIT or ROLLBACK was skipped)."""
    if conn.info.transaction_status in (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR):
        with contextlib.suppress(Exception):
            conn.rollback()


class RoundTrips:
    """Counts the round trips this thread's connection to `db` makes (PostgreSQL), from libpq's own trace of the
    messages it sends and receives: each answer that follows messages asking for one (Sync, Flush, a simple
    Query) ends a wait. For the benchmarks and the tests; tracing costs time, so count outside what is timed.

        with RoundTrips(db) as trips:
            ...
        trips.count"""

    ASKS = frozenset({"Sync", "Flush", "Query"})

    def __init__(self, db: peewee.Database) -> None:
        self.db, self.count = getattr(db, "obj", None) or db, 0

    def __enter__(self) -> RoundTrips:
        import tempfile

        self._file = tempfile.TemporaryFile("w+")
        self._conn = self.db.connection()
        self._conn.pgconn.trace(self._file.fileno())
        self._conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.pgconn.untrace()
        self._file.seek(0)
        asked = False  # since the server last answered
        for line in self._file:  # direction (Frontend, Backend), length, message type, its fields
            fields = line.rstrip("\n").split("\t", 3)
            if len(fields) > 2 and fields[0] == "F":
                asked = asked or fields[2] in self.ASKS
            elif fields[0] == "B" and asked:
                self.count, asked = self.count + 1, False
        self._file.close()

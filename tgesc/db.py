"""Opening the database named by a URL, and its versioned migrations (`playhouse.migrations`).

SQLite (the default, a file in the data directory) runs in WAL mode with foreign keys on and a busy
timeout, fsyncing at checkpoints only (`synchronous=normal`; the URL may say `?synchronous=off` or `full`);
PostgreSQL is reached with a `postgresql://` URL through psycopg 3. Connection failures become
`DependencyUnavailable` (exit 69), a URL the driver refuses `ConfigInvalid` (exit 78), the password masked in
both. Only `create=True` (`tgesc init`, `tgesc db upgrade`) creates a SQLite database, 0600 in a 0700 directory:
a mistyped path elsewhere is an error naming it (exit 78), never a new empty database.

A write transaction on PostgreSQL may be pipelined (`write_transaction(db, pipelined=True)`, tgesc.store.pipeline):
BEGIN, the writes whose outcome nobody reads and the COMMIT then wait for no answer of their own.

`copy_sqlite` copies a SQLite database while it is open, as one file (what `tgesc simulate --keep` keeps).

A failure that passes (`passing_failure`: the connection lost or refused, a lock held past the busy timeout, a
full disk, a server restarting, a serialization conflict) is told apart from one that does not (a constraint, a
missing table, a bug): long-running processes retry the first kind on a new connection (`reconnect`) and never
the second.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import peewee

from tgesc.domain.errors import ConfigInvalid, DependencyUnavailable
from tgesc.domain.redaction import redact, url_secrets
from tgesc.models import database
from tgesc.private_files import create_private_file, make_private, private_directory
from tgesc.settings import mask_url_password, sqlite_url_parts

MIGRATIONS_TABLE = "schema_migration"
SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10000, "synchronous": "normal"}
POSTGRES_CONNECT_TIMEOUT_S = 5  # an unreachable host fails in this time, not in the system's TCP timeout
# What passes, by SQLite's result code: a lock held past the busy timeout, a full disk, an I/O error, a file that
# could not be opened or written (a disk gone or read-only, a mount not there yet); and by PostgreSQL's SQLSTATE
# class: connection exception, transaction rollback (serialization, deadlock), insufficient resources (disk full,
# too many connections), operator intervention (shutdown, starting up, statement timeout), system error; lock not
# available
SQLITE_PASSING = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_PROTOCOL",
                  "SQLITE_READONLY")
POSTGRES_PASSING = ("08", "40", "53", "57", "58", "55P03")


def open_database(url: str, *, create: bool = False) -> peewee.Database:
    """Bind the models to the database at `url` and connect; raise DependencyUnavailable if unreachable,
    ConfigInvalid if the URL is refused or (without `create`) names a SQLite file that does not exist."""
    db = _make_database(url, create=create)
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
    except peewee.OperationalError as exc:
        raise DependencyUnavailable(
            f"cannot open the database {mask_url_password(url)}: {_first_line(exc, url)}; "
            "check TGESC_DATABASE_URL and that the server is running"
        ) from None
    except peewee.DatabaseError as exc:  # e.g. psycopg refusing an unknown option in the URL's query
        raise ConfigInvalid(f"the database URL {mask_url_password(url)} is refused: {_first_line(exc, url)}; "
                            "fix TGESC_DATABASE_URL") from None
    return db


def _make_database(url: str, *, create: bool) -> peewee.Database:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        try:
            path, pragmas = sqlite_url_parts(url)
        except ValueError as error:
            raise ConfigInvalid(f"database URL {mask_url_password(url)}: {error}") from None
        _sqlite_file(path, create=create)
        return peewee.SqliteDatabase(str(path), pragmas={**SQLITE_PRAGMAS, **pragmas}, timeout=10)
    if scheme in ("postgresql", "postgres"):
        from playhouse.db_url import connect as connect_url

        url = url.replace("postgres://", "postgresql://", 1)
        options = {} if "connect_timeout=" in url else {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
        try:
            return connect_url(url, unquote_password=True, unquote_user=True, **options)
        except ValueError as error:  # a port that is no number: the message may quote part of a password
            raise ConfigInvalid(f"the database URL {mask_url_password(url)} is not valid: "
                                f"{_first_line(error, url)}") from None
    raise ConfigInvalid(f"unsupported database URL scheme {scheme!r}; use sqlite:/// or postgresql://")


def passing_failure(exc: BaseException) -> bool:
    """Whether `exc` is a database failure that passes by itself, so the work is worth retrying on a new
    connection (see the module docstring); False for anything else, a bug included."""
    return passing_cause(exc) is not None


def passing_cause(exc: BaseException | None) -> BaseException | None:
    """The database failure that passes in `exc` or in what it was raised while handling (SQLite ends a
    transaction itself when the disk is full, so peewee's rollback after it fails too), or None."""
    while exc is not None:
        if _passes(exc):
            return exc
        exc = exc.__context__
    return None


def _passes(exc: BaseException) -> bool:
    driver = getattr(exc, "orig", None)  # peewee keeps the driver's exception (none: peewee's own, a misuse)
    if driver is None or not isinstance(exc, peewee.OperationalError | peewee.InterfaceError):
        return False
    if isinstance(exc, peewee.InterfaceError):  # the connection is closed (the server went away)
        return True
    if hasattr(driver, "sqlite_errorname"):
        return driver.sqlite_errorname.startswith(SQLITE_PASSING)
    state = getattr(driver, "sqlstate", None)
    if state is None:  # psycopg's own: the connection refused, closed or timed out before the server answered
        return type(driver).__module__.startswith("psycopg")
    return state.startswith(POSTGRES_PASSING)


def reconnect(db: peewee.Database) -> None:
    """Drop this thread's connection after a passing failure: the next statement opens a new one (peewee connects
    on first use). Call it outside any transaction (a failed one has already been rolled back)."""
    with contextlib.suppress(Exception):  # closing a connection the server already closed may fail: it is gone
        db.close()


def copy_sqlite(db: peewee.Database, path: Path) -> None:
    """The SQLite database `db` as it is now, its write-ahead log included, copied to the new file `path` (0600, in
    a 0700 directory): SQLite's online backup, one file that needs nothing beside it."""
    import sqlite3

    private_directory(path.parent)
    create_private_file(path)
    target = sqlite3.connect(path)
    try:
        db.connection().backup(target)
    finally:
        target.close()


def _sqlite_file(path: Path, *, create: bool) -> None:
    """Make sure the SQLite file exists (created 0600 in a 0700 directory when `create`), and that it and its
    WAL files are private."""
    if str(path) == ":memory:":  # SQLite's name for a database in memory, never a file
        return
    if create:
        private_directory(path.parent)
        create_private_file(path)
    elif not path.exists():
        raise ConfigInvalid(
            f"there is no database at {path}; check --home / TGESC_HOME and --database-url / TGESC_DATABASE_URL "
            "for a typo, or run `tgesc init` to create a new desk there (only `tgesc init` and `tgesc db upgrade` "
            "create a database)")
    make_private(path, Path(f"{path}-wal"), Path(f"{path}-shm"))


def _first_line(exc: Exception, url: str) -> str:
    """The error's first line, without any secret of `url` (a driver may quote the URL or a part of it)."""
    text = str(exc).strip().splitlines()
    return redact(text[0], url_secrets(url)) if text else type(exc).__name__


@dataclass(frozen=True)
class MigrationState:
    name: str
    applied_at: datetime | None


def _runner(db: peewee.Database):
    from playhouse.migrations import Runner

    return Runner(db, str(files("tgesc") / "migrations"), table_name=MIGRATIONS_TABLE)


def migration_status(db: peewee.Database) -> list[MigrationState]:
    """Every migration shipped or recorded, in order, with when it was applied (None: pending)."""
    return [MigrationState(m.name, m.applied) for m in _runner(db).status()]


def upgrade(db: peewee.Database) -> list[str]:
    """Apply every pending migration in order (each in a transaction); return the names applied."""
    return _runner(db).up()


def pending_migrations(db: peewee.Database) -> list[str]:
    """Names of shipped migrations not yet applied: one cheap query, for every command's start-up check."""
    directory = files("tgesc") / "migrations"
    shipped = sorted(p.name[:-3] for p in directory.iterdir() if p.name[:1].isdigit() and p.name.endswith(".py"))
    if not db.table_exists(MIGRATIONS_TABLE):
        return shipped
    applied = {row[0] for row in db.execute_sql(f'SELECT name FROM "{MIGRATIONS_TABLE}"')}
    return [name for name in shipped if name not in applied]


def require_current(db: peewee.Database) -> None:
    """Raise ConfigInvalid when the schema is missing or behind: the user must run `tgesc db upgrade`."""
    pending = pending_migrations(db)
    if pending:
        raise ConfigInvalid(
            f"the database schema is not up to date ({len(pending)} pending migration(s): {', '.join(pending)}); "
            "run `tgesc init` (new database) or `tgesc db upgrade`"
        )


def write_transaction(db: peewee.Database, *, pipelined: bool = False):
    """A transaction that will write: on SQLite it takes the write lock at BEGIN (IMMEDIATE), so two
    writers queue up (for the busy timeout) instead of one failing half-way with 'database is locked'.
    SQLite's busy timeout does not cover a deferred transaction that read first and then writes: its
    upgrade to a write lock fails at once when another writer committed meanwhile. `db` may be the
    models' proxy. Inside an outer transaction this is a savepoint: the outer one must be a write
    transaction too.

    `pipelined` (PostgreSQL; nothing on SQLite): BEGIN, and every statement whose outcome nobody reads, go to the
    server without waiting for its answer, with the next statement whose rows or count are read (which waits, as
    always) or with the COMMIT (see `tgesc.store.pipeline`). A failed statement fails the whole transaction, so
    work inside must not recover from one with a savepoint."""
    real = getattr(db, "obj", None) or db
    if isinstance(real, peewee.SqliteDatabase):
        return db.atomic(lock_type="IMMEDIATE")
    if pipelined and real.transaction_depth() == 0:
        from tgesc.store.pipeline import pipelined_transaction

        return pipelined_transaction(real)
    return db.atomic()


@contextlib.contextmanager
def snapshot(db: peewee.Database) -> Iterator[None]:
    """A read transaction that sees the database as it was at its first statement, however long it lasts (a
    stream read in chunks): SQLite's WAL keeps a reader's snapshot; PostgreSQL needs REPEATABLE READ for it (READ
    ONLY: it never writes). Writers are not held back on either."""
    with db.atomic():
        if not isinstance(getattr(db, "obj", None) or db, peewee.SqliteDatabase):
            db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


COUNTED_UP_TO = 100_000  # a list's total is counted up to this many (a bounded cost); more: "more than"
STREAM_CHUNK = 1000  # rows a list's --all reads at a time


def count_up_to(query: peewee.SelectQuery, up_to: int | None = None) -> int:
    """How many rows `query` selects, counted up to `up_to` (default COUNTED_UP_TO) + 1 (more: that + 1), so
    that counting costs the same however many there are."""
    return query.limit((COUNTED_UP_TO if up_to is None else up_to) + 1).count()


def by_id(query: peewee.SelectQuery, column: peewee.Field, *, descending: bool = False, after: Any = None,
          limit: int | None = None) -> peewee.SelectQuery:
    """`query` in the order of `column` (a unique key, selected first), only the rows past `after` in that order
    (a keyset page), at most `limit`, read as tuples."""
    if after is not None:
        query = query.where(column < after if descending else column > after)
    query = query.order_by(column.desc() if descending else column)
    return (query.limit(limit) if limit else query).tuples()


def stream_by_id(db: peewee.Database, query: peewee.SelectQuery, column: peewee.Field, *, descending: bool = False,
                 after: Any = None, chunk: int = STREAM_CHUNK) -> Iterator[tuple]:
    """Every row of `query` past `after` in `column`'s order (as `by_id`), read `chunk` at a time inside one read
    snapshot: memory stays flat, and a row changed meanwhile is seen once, as it was when the stream began."""
    with snapshot(db):
        while True:
            rows = list(by_id(query, column, descending=descending, after=after, limit=chunk))
            yield from rows
            if len(rows) < chunk:
                return
            after = rows[-1][0]


def maintain(db: peewee.Database) -> dict[str, object]:
    """Routine upkeep that never blocks other processes; what was done. SQLite: a PASSIVE WAL checkpoint (copies
    what it can into the database file without waiting for readers or writers; SQLite's automatic checkpoints do
    the same every 1000 pages; this one also catches up after quiet periods, so the WAL is reused from its start
    rather than growing) and `PRAGMA optimize` (ANALYZE where the query planner would benefit). Nothing that
    waits for other connections (a TRUNCATE checkpoint would hold writers back). PostgreSQL: nothing; autovacuum
    does this there."""
    if not isinstance(db, peewee.SqliteDatabase):
        return {"database": "postgresql", "done": []}
    busy, wal_pages, checkpointed = db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    db.execute_sql("PRAGMA optimize")
    return {"database": "sqlite", "done": ["wal_checkpoint(PASSIVE)", "optimize"],
            "wal_pages": wal_pages, "checkpointed_pages": checkpointed, "busy": bool(busy)}

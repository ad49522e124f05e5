"""Big desks for the benchmarks: tickets bulk-inserted by one server-side statement per 100,000 rows (a recursive
CTE on SQLite, generate_series on PostgreSQL), and the throwaway databases they go into.

    with sqlite_database() as (url, detail): ...        # a file in a temporary directory, tgesc's pragmas
    with postgres_database(server_url) as where: ...    # (url, detail) of a throwaway database, or why not
    fill_tickets(db, 1_000_000, first_number=1, fixed={...}, spread={"next_check_at": (start, 30 * 86_400)})
    each_backend("both", server_url, [10_000, 1_000_000], measure, report)   # a benchmark's main loop

Each ticket's columns are the defaults below, then `fixed` (one value for every row), then `spread`: an
instant per row, `base + ((n * 7919) % seconds)` seconds for row n, so the rows' instants are spread evenly and
in no order over `seconds` after `base`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import peewee
from throwaway_postgres import throwaway_postgres

from tgesc.db import SQLITE_PRAGMAS, write_transaction

CHUNK = 100_000
DEFAULT_POSTGRES_URL = "postgresql://127.0.0.1/test"
DEFAULTS: dict[str, Any] = {
    "status": "open", "priority": "urgent", "tags": "[]", "emotion": "calm", "emotion_set_by_staff": False,
    "problem": "background ticket", "evidence_provided": False, "manager_requests_in_row": 0,
    "urgent_reply_used": False, "version": 1, "sla_paused": "[]"}


def fill_tickets(db: peewee.Database, count: int, *, first_number: int, fixed: Mapping[str, Any],
                 spread: Mapping[str, tuple[datetime, int]] = {},
                 progress: Callable[[str], None] = lambda text: None) -> None:
    """Insert `count` tickets numbered from `first_number`, CHUNK rows a statement, each chunk committed."""
    values = {**DEFAULTS, **fixed}
    sqlite = isinstance(db, peewee.SqliteDatabase)
    statement = _sqlite_fill(values, spread) if sqlite else _postgres_fill(values, spread)
    for offset in range(0, count, CHUNK):
        rows = min(CHUNK, count - offset)
        params = [_stored(v, sqlite) for v in (*values.values(), *(base for base, _ in spread.values()))]
        with write_transaction(db):
            if sqlite:
                db.execute_sql(statement, [rows, first_number + offset, *params])
            else:
                db.execute_sql(statement, [first_number + offset, *params, rows])
        progress(f"  {offset + rows:,} / {count:,} tickets")


def _stored(value: Any, sqlite: bool) -> Any:
    """A value as the driver takes it: instants naive UTC (SQLite: text, as peewee stores them)."""
    if not isinstance(value, datetime):
        return value
    naive = value.astimezone(UTC).replace(tzinfo=None)
    return naive.isoformat(" ") if sqlite else naive


def _sqlite_fill(values: Mapping[str, Any], spread: Mapping[str, tuple[datetime, int]]) -> str:
    columns = ["number", *values, *spread]
    picks = ["n + ?", *("?" for _ in values),
             *(f"datetime(?, '+' || ((n * 7919) % {seconds}) || ' seconds')" for _, seconds in spread.values())]
    return (f"WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?) "
            f"INSERT INTO ticket ({', '.join(columns)}) SELECT {', '.join(picks)} FROM seq")


def _postgres_fill(values: Mapping[str, Any], spread: Mapping[str, tuple[datetime, int]]) -> str:
    columns = ["number", *values, *spread]
    picks = ["n + %s", *("%s" for _ in values),
             *(f"%s::timestamp + ((n * 7919) %% {seconds}) * interval '1 second'" for _, seconds in spread.values())]
    return (f"INSERT INTO ticket ({', '.join(columns)}) SELECT {', '.join(picks)} "
            f"FROM generate_series(0, %s - 1) AS n")


@contextmanager
def sqlite_database() -> Iterator[tuple[str, str]]:
    """(url, detail) of a SQLite file in a temporary directory (TMPDIR), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="tgesc-bench-") as tmp:
        pragmas = ", ".join(f"{k}={v}" for k, v in SQLITE_PRAGMAS.items() if k != "busy_timeout")
        yield f"sqlite:///{Path(tmp) / 'tgesc.db'}", f"file in a temp dir, {pragmas}"


@contextmanager
def postgres_database(server_url: str) -> Iterator[tuple[str, str] | str]:
    """(url, detail) of a throwaway database, dropped afterwards; or why PostgreSQL is skipped."""
    with throwaway_postgres(server_url) as (url, detail):
        yield detail if url is None else (url, f"PostgreSQL {detail}")


def each_backend(backends: str, postgres_url: str, sizes: Sequence[int], measure: Callable[[str, int], Any],
                 report: Callable[[str, str, list], None]) -> None:
    """For SQLite and PostgreSQL (`backends`: one of them or "both"), `measure(url, size)` on a fresh database of
    each size, then `report(backend, detail, results)`; a backend that cannot be had is said so instead."""
    for backend in ("sqlite", "postgres"):
        if backends not in (backend, "both"):
            continue
        results, detail = [], ""
        for size in sizes:
            print(f"{backend}: {size:,} open tickets", file=sys.stderr, flush=True)
            with sqlite_database() if backend == "sqlite" else postgres_database(postgres_url) as where:
                if isinstance(where, str):
                    detail = where
                    break
                url, detail = where
                results.append(measure(url, size))
        if results:
            report(backend, detail, results)
        else:
            print(f"{backend}: {detail}")
        sys.stdout.flush()


def desk_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every desk benchmark takes: --backend, --sizes (open tickets) and --postgres-url."""
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--sizes", default="10000,1000000", help="open tickets, comma-separated (default "
                                                                   "10000,1000000)")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "TGESC_BENCH_POSTGRES_URL", os.environ.get("TGESC_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)),
        help="a server where this script may create and drop a database")

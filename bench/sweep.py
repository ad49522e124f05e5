"""How long the SLA sweep takes with 10,000 and with 1,000,000 open tickets, 100 of them due.

For each backend (SQLite in WAL mode with tgesc's pragmas, in a temporary directory; PostgreSQL, in a
throwaway database `tgesc_bench_<random>` created and dropped by this script) and each size, a fresh
database is initialised with the shipped defaults (L1 given a staff chat, one admin), then filled:

- background: the open tickets not due, bulk-inserted by one server-side statement per 100,000 rows (a
  recursive CTE on SQLite, generate_series on PostgreSQL): urgent, at L1, with a real policy snapshot
  and due instants, their next check spread over the 30 days after the sweeps;
- due: --rounds batches of 100 urgent tickets opened through the ticket service (`lifecycle.create`), batch
  r one virtual second after batch r - 1, so that at batch r's first warning (7 min 30 s after it opened)
  exactly its 100 tickets are due: the earlier batches were swept already, the later ones are not due yet.

On PostgreSQL the table is then ANALYZEd (autovacuum does this soon after such a load); SQLite gets no
statistics (none are needed for the plan: the query has one index that fits). Two figures per size:

- select: `sla_sweep.due_for_sla`, the sweep's one query for what is due (status open or waiting and
  next_check_at at or before now, index (status, next_check_at)), returning the 100 due ids: median of
  --repeats runs at batch 0's instant (nothing changes between them). Also shown: the same query when
  nothing is due (what most runs of the 15 s cron find), and the query plan.
- sweep: `sla_sweep.sweep_sla`, the 100 due tickets claimed as one batch and handled in one write
  transaction, a savepoint each (read again, firing inserted, a warning into L1's chat, an event, the
  ticket's next check stored): median over the --rounds batches, each swept once (a real sweep, committed).

Goals (issue 6), on the select: at most 20 ms with 1,000,000 open tickets, and at most 2x the figure with
10,000. The sweep's figure grows with the number of due tickets, not of open ones: its ratio is shown
against the same 2x. This is a benchmark, not a test: it prints PASS or MISS and exits 0 either way.

    python bench/sweep.py [--backend sqlite|postgres|both] [--sizes 10000,1000000] [--rounds 5]
                          [--repeats 200] [--postgres-url postgresql://127.0.0.1/test]

With `--workers 1,2,4` it measures instead how N `tgesc worker run` processes share one backlog of --due (20,000)
due tickets on PostgreSQL: tickets/s per N, the ratio against one worker (goals: 2 workers at least 1.7x, 4 at
least 2.5x) and the duplicate checks (bench/sweep_sharing.py says how).

    python bench/sweep.py --workers 1,2,4 [--due 20000] [--postgres-url postgresql://127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import peewee
from desks import desk_arguments, each_backend, fill_tickets, postgres_database

from tgesc.db import open_database, write_transaction
from tgesc.models import Customer, Ticket, Tier
from tgesc.services.clocks import sla
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.sweeps.sla import due_for_sla, sweep_sla
from tgesc.services.tickets import lifecycle
from tgesc.services.tickets import store as tickets

GOAL_MS = 20.0
GOAL_RATIO = 2.0
DUE = 100
CHUNK = 100_000
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday; the due batches open from here, a second apart
WARNING = timedelta(minutes=7, seconds=30)  # urgent: 50 % of the 15 min first response
SPREAD_S = 30 * 86_400


@dataclass
class Figures:
    size: int
    fill_s: float
    select_ms: list[float] = field(default_factory=list)
    idle_ms: list[float] = field(default_factory=list)
    sweep_ms: list[float] = field(default_factory=list)
    plan: str = ""

    @property
    def select(self) -> float:
        return statistics.median(self.select_ms)

    @property
    def idle(self) -> float:
        return statistics.median(self.idle_ms)

    @property
    def sweep(self) -> float:
        return statistics.median(self.sweep_ms)


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def fill(db: peewee.Database, size: int, rounds: int) -> float:
    """The open tickets: `size - rounds * DUE` bulk-inserted in the background, then the due batches."""
    began = time.perf_counter()
    customer = bulk_tickets(db, size - rounds * DUE, START + timedelta(days=1), SPREAD_S)
    for batch in range(rounds):
        opened = START + timedelta(seconds=batch)
        with write_transaction(db):
            for _ in range(DUE):
                ticket = lifecycle.create(db, customer, "Where is my order?", opened, "urgent")
                tickets.save(ticket, opened)
    if not isinstance(db, peewee.SqliteDatabase):
        db.execute_sql("ANALYZE ticket")
    return time.perf_counter() - began


def bulk_tickets(db: peewee.Database, count: int, check_at: datetime, spread_s: int) -> Customer:
    """A customer and `count` urgent tickets of theirs at L1, opened at START (with a real policy snapshot and due
    instants), their next check spread over the `spread_s` seconds from `check_at`, bulk-inserted
    (desks.fill_tickets); the customer."""
    customer = Customer.create(telegram_id=1001, first_name="Alice", created_at=START, updated_at=START)
    tier = Tier.get(Tier.code == "L1")
    sample = lifecycle.create(db, customer, "x", START, "urgent")  # for a real policy snapshot and due instants
    policy = json.dumps(sla.current_policy(db, "urgent").as_json(), sort_keys=True)
    first = (tickets.next_number() if count else 1)
    fill_tickets(db, count, first_number=first, progress=progress, fixed={
        "customer_id": customer.id, "tier_id": tier.id, "created_at": START, "updated_at": START,
        "clocks_started_at": START, "sla_policy": policy, "first_response_due": sample.first_response_due,
        "resolution_due": sample.resolution_due}, spread={"next_check_at": (check_at, spread_s)})
    return customer


def timed(call: Callable[[], object]) -> tuple[float, object]:
    began = time.perf_counter()
    result = call()
    return (time.perf_counter() - began) * 1000, result


def plan(db: peewee.Database, now: datetime) -> str:
    sqlite = isinstance(db, peewee.SqliteDatabase)
    query = (Ticket.select(Ticket.id).where(Ticket.status.in_(("open", "waiting")) & (Ticket.next_check_at <= now))
             .order_by(Ticket.next_check_at, Ticket.id))
    sql, params = query.sql()
    rows = db.execute_sql(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + sql, params).fetchall()
    return "; ".join(str(row[-1]).strip() for row in rows)


def measure(url: str, size: int, opts) -> Figures:
    db = open_database(url, create=True)
    try:
        desk(db)
        figures = Figures(size, fill(db, size, opts.rounds))
        first = START + WARNING
        figures.plan = plan(db, first)
        for _ in range(opts.repeats):
            ms, found = timed(lambda: due_for_sla(db, now=first))
            assert len(found) == DUE, len(found)
            figures.select_ms.append(ms)
            ms, found = timed(lambda: due_for_sla(db, now=START))
            assert found == []
            figures.idle_ms.append(ms)
        for batch in range(opts.rounds):
            now = START + timedelta(seconds=batch) + WARNING
            ms, fired = timed(lambda now=now: sweep_sla(db, now=now))
            assert len(fired) == DUE and {row["level"] for row in fired} == {"warn-50"}, (batch, len(fired))
            figures.sweep_ms.append(ms)
        return figures
    finally:
        db.close()


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(backend: str, detail: str, results: list[Figures]) -> None:
    print(f"{backend}: {detail}")
    for f in results:
        print(f"  {f.size:>9,} open tickets (filled in {f.fill_s:.0f} s):")
        print(f"    select {f.select:8.2f} ms   [due_for_sla, {DUE} due; median of {len(f.select_ms)}, "
              f"p95 {statistics.quantiles(f.select_ms, n=20)[-1]:.2f} ms; nothing due: {f.idle:.2f} ms]")
        print(f"    sweep  {f.sweep:8.2f} ms   [sweep_sla: the select + {DUE} tickets handled, "
              f"{f.sweep / DUE:.2f} ms a ticket; median of {len(f.sweep_ms)} sweeps: "
              f"{', '.join(f'{ms:.0f}' for ms in f.sweep_ms)}]")
        print(f"    plan   {f.plan}")
    small, large = results[0], results[-1]
    if large.size >= 1_000_000:
        print(f"  goal: select <= {GOAL_MS:g} ms at {large.size:,}: {large.select:.2f} ms   "
              f"{verdict(large.select <= GOAL_MS)}")
    if len(results) > 1:
        ratio = large.select / small.select
        print(f"  goal: select at {large.size:,} <= {GOAL_RATIO:g}x at {small.size:,}: {ratio:.2f}x   "
              f"{verdict(ratio <= GOAL_RATIO)}")
        ratio = large.sweep / small.sweep
        print(f"        sweep  at {large.size:,} <= {GOAL_RATIO:g}x at {small.size:,}: {ratio:.2f}x   "
              f"{verdict(ratio <= GOAL_RATIO)}")


def desk(db: peewee.Database) -> None:
    """The shipped defaults, L1 given a staff chat and the priority table's budgets (not its own five-minute
    first-response target: urgent's first warning is then at 7 min 30 s), one admin."""
    initialise(db, now=START - timedelta(days=1), actor="bench")
    set_entry(db, "tiers", "L1", {"staff_chat": -100111, "first_response": None}, actor="bench", now=START)
    add_entry(db, "staff", "ann", {"id": 5001, "role": "admin"}, actor="bench", now=START)


def backlog(db: peewee.Database, due: int) -> None:
    """The desk with `due` tickets, each due for its first warning at START + WARNING."""
    desk(db)
    bulk_tickets(db, due, START + WARNING, 1)
    if not isinstance(db, peewee.SqliteDatabase):
        db.execute_sql("ANALYZE ticket")


def sharing(opts) -> None:
    """`--workers`: N worker processes on one backlog, for each N (bench/sweep_sharing.py)."""
    import signal

    import sweep_sharing

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: the workers, database and Redis go too
    runs, detail = [], ""
    for workers in opts.workers:
        progress(f"postgres: {opts.due:,} due tickets, {workers} worker(s)")
        with postgres_database(opts.postgres_url) as where, sweep_sharing.throwaway_redis() as redis_url:
            if isinstance(where, str):
                print(f"postgres: {where}")
                return
            url, detail = where
            runs.append(sweep_sharing.run(url, redis_url, workers, opts.due, START + WARNING, backlog))
    sweep_sharing.report(detail, os.environ.get("TGESC_SWEEP_BATCH", "100 (the default)"), runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    desk_arguments(parser)
    parser.add_argument("--rounds", type=int, default=5, help="sweeps per size, each with its own 100 due")
    parser.add_argument("--repeats", type=int, default=200, help="runs of the select per size")
    parser.add_argument("--workers", type=lambda text: [int(n) for n in text.split(",")],
                        help="instead: time N `tgesc worker run` processes clearing one backlog on PostgreSQL, "
                             "for each N (e.g. 1,2,4)")
    parser.add_argument("--due", type=int, default=20_000, help="with --workers: the due tickets (default 20000)")
    opts = parser.parse_args(argv)
    if opts.workers:
        sharing(opts)
        return 0
    sizes = sorted(int(s.replace("_", "")) for s in opts.sizes.split(","))
    if opts.rounds < 1 or opts.repeats < 2 or min(sizes) < opts.rounds * DUE:
        parser.error(f"--rounds and --repeats must be at least 1 and 2, and every size at least rounds x {DUE}")
    print(f"tgesc SLA sweep, Python {platform.python_version()}, peewee {peewee.__version__}, "
          f"on {platform.machine()} ({os.cpu_count()} CPUs)")
    each_backend(opts.backend, opts.postgres_url, sizes, lambda url, size: measure(url, size, opts), report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How long `tgesc ticket list` takes, and how much memory, with 10,000 and with 1,000,000 open tickets.

For each backend (SQLite in WAL mode with tgesc's pragmas, in a temporary directory; PostgreSQL, in a
throwaway database `tgesc_bench_<random>` created and dropped by this script) and each size, a fresh database
is initialised with the shipped defaults and filled by bench/desks.py (one server-side statement per 100,000
rows): open urgent tickets at L1 with a real policy snapshot, their first-response deadlines spread evenly over
30 days from 7 hours ago (so about 1 % are breaching) and their resolution deadlines a day after that, and the
stored next breach when the schema has one; each opened in the last 30 days, as much later than the first as its
deadline is (so the most recently opened come last in the queue's order), all by one customer but for FEW tickets
of a second.
PostgreSQL is then VACUUMed and ANALYZEd (autovacuum does this soon after such a load).

Then each command runs as a fresh process (`python -m tgesc ...`, stdout to /dev/null), --repeats times, the
three commands in turn: the wall time (median) and the peak resident memory (the largest, from the child's
rusage) of

- `ticket list`: the first page;
- `ticket list --breaching`;
- `ticket list --all --json`: every open ticket;
- `ticket list --since 1d`: the tickets opened in the last day (about 1 in 30), the last in the queue's order;
- `ticket list --customer @bea`: the FEW tickets of the second customer among them.

A command that runs past --timeout seconds is stopped and shown as such (`ticket list` before issue 16 took
minutes at 1,000,000; run against that code, with PYTHONPATH naming its checkout, `ticket list --json` stands in
for --all --json: it listed every ticket). Goals (issue 16): the first page and --breaching at most 0.5 s and 100 MB at
1,000,000, and at most 1.5x their 10,000 figure, and the same for --since and --customer (issue 18); --all --json at
1,000,000 in at most 150 MB (memory flat). This is
a benchmark, not a test: it prints PASS or MISS and exits 0 either way.

    python bench/lists.py [--backend sqlite|postgres|both] [--sizes 10000,1000000] [--repeats 3]
                          [--timeout 300] [--postgres-url postgresql://127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee
from desks import desk_arguments, each_backend, fill_tickets

from tgesc.db import open_database
from tgesc.models import Customer, Tier
from tgesc.services.clocks import sla
from tgesc.services.config.defaults import initialise

NOW = datetime.now(UTC).replace(microsecond=0)
SPREAD_S = 30 * 86_400
BREACHED_FOR = timedelta(hours=7)  # of 30 days: about 1 % of the tickets are breaching
COMMANDS = {"first page": ["ticket", "list"], "--breaching": ["ticket", "list", "--breaching"],
            "--all --json": ["ticket", "list", "--all", "--json"], "--since": ["ticket", "list", "--since", "1d"],
            "--customer": ["ticket", "list", "--customer", "@bea"]}
PAGED = ("first page", "--breaching", "--since", "--customer")  # the commands held to the first page's goals
FEW = 5
GOAL_S, GOAL_MB, GOAL_RATIO, GOAL_ALL_MB = 0.5, 100.0, 1.5, 150.0


@dataclass
class Run:
    wall_s: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    stopped: bool = False

    @property
    def wall(self) -> float:
        return statistics.median(self.wall_s) if self.wall_s else float("inf")

    @property
    def peak(self) -> float:
        return max(self.peak_mb) if self.peak_mb else float("inf")

    def shown(self) -> str:
        if self.stopped:
            return "stopped at the timeout"
        return f"{self.wall:7.3f} s {self.peak:7.1f} MB   [wall: {', '.join(f'{s:.3f}' for s in self.wall_s)}]"


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def fill(db: peewee.Database, size: int) -> float:
    """`size` open tickets, bulk-inserted."""
    began = time.perf_counter()
    customer = Customer.create(telegram_id=1001, username="ana", first_name="Ana", created_at=NOW, updated_at=NOW)
    tier = Tier.get(Tier.code == "L1")
    policy = json.dumps(sla.current_policy(db, "urgent").as_json(), sort_keys=True)
    first_due = NOW - BREACHED_FOR
    spread = {"first_response_due": (first_due, SPREAD_S), "resolution_due": (first_due + timedelta(days=1), SPREAD_S),
              "next_check_at": (first_due, SPREAD_S)}
    if "next_breach_at" in {c.name for c in db.get_columns("ticket")}:
        spread["next_breach_at"] = (first_due, SPREAD_S)  # the earlier of the two: the same offset per row
    opened = {name: (NOW - timedelta(seconds=SPREAD_S), SPREAD_S) for name in ("created_at", "clocks_started_at")}
    fixed = {"tier_id": tier.id, "updated_at": NOW, "sla_policy": policy}
    fill_tickets(db, size - FEW, first_number=1, progress=progress, spread={**spread, **opened},
                 fixed={**fixed, "customer_id": customer.id})
    other = Customer.create(telegram_id=1002, username="bea", first_name="Bea", created_at=NOW, updated_at=NOW)
    fill_tickets(db, FEW, first_number=size - FEW + 1, spread={**spread, **opened},
                 fixed={**fixed, "customer_id": other.id})
    if not isinstance(db, peewee.SqliteDatabase):
        db.execute_sql("VACUUM ANALYZE ticket")
    return time.perf_counter() - began


def commands() -> dict[str, list[str]]:
    """COMMANDS; before issue 16 (no tgesc.services.tickets.queue) `ticket list --json` listed every ticket."""
    if importlib.util.find_spec("tgesc.services.tickets.queue") is None:
        return {**COMMANDS, "--all --json": ["ticket", "list", "--json"]}
    return COMMANDS


def run_once(args: list[str], env: dict[str, str], timeout: float) -> tuple[float, float] | None:
    """(wall seconds, peak MB) of one fresh `python -m tgesc ARGS`, or None when stopped at `timeout`. The child
    is reaped here (os.wait4) for its own rusage."""
    with tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "tgesc", *args], env=env, stdout=subprocess.DEVNULL,
                                 stderr=err)
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            wall = time.perf_counter() - began
            if pid:
                break
            if wall > timeout:
                child.kill()
                os.wait4(child.pid, 0)
                child.returncode = -9
                return None
            time.sleep(0.002)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            err.seek(0)
            raise SystemExit(f"tgesc {' '.join(args)} failed ({child.returncode}): {err.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def measure(url: str, size: int, opts) -> tuple[float, dict[str, Run]]:
    db = open_database(url, create=True)
    try:
        initialise(db, now=NOW - timedelta(days=2), actor="bench")
        filled = fill(db, size)
    finally:
        db.close()
    return filled, time_commands(url, commands(), opts.repeats, opts.timeout)


def time_commands(url: str, chosen: dict[str, list[str]], repeats: int, timeout: float) -> dict[str, Run]:
    """Each of `chosen` as a fresh `python -m tgesc ...` on the desk at `url` (a throwaway home, no settings of
    the caller's), all in turn, `repeats` times: their wall times and peak memory; one stopped at `timeout` is
    not run again."""
    runs = {name: Run() for name in chosen}
    with tempfile.TemporaryDirectory(prefix="tgesc-bench-home-") as home:
        (Path(home) / "empty.env").touch()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TGESC_")}
        env.update(TGESC_HOME=home, TGESC_ENV_FILE=str(Path(home) / "empty.env"), TGESC_DATABASE_URL=url,
                   PYTHONPATH=os.pathsep.join(sys.path[1:]))
        for _ in range(repeats):
            for name, args in chosen.items():
                if runs[name].stopped:
                    continue
                result = run_once(args, env, timeout)
                if result is None:
                    runs[name].stopped = True
                    continue
                runs[name].wall_s.append(result[0])
                runs[name].peak_mb.append(result[1])
    return runs


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(backend: str, detail: str, results: list[tuple[int, float, dict[str, Run]]]) -> None:
    print(f"{backend}: {detail}")
    for size, filled, runs in results:
        print(f"  {size:>9,} open tickets (filled in {filled:.0f} s):")
        for name, run in runs.items():
            print(f"    {name:<13} {run.shown()}")
    (small, _, few), (large, _, many) = results[0], results[-1]
    if large < 1_000_000:
        return
    for name in PAGED:
        run, base = many[name], few[name]
        print(f"  goal: {name} at {large:,} <= {GOAL_S:g} s and <= {GOAL_MB:g} MB: {run.wall:.3f} s, "
              f"{run.peak:.1f} MB   {verdict(run.wall <= GOAL_S and run.peak <= GOAL_MB)}")
        if small < large:
            ratio = run.wall / base.wall
            print(f"        {name} at {large:,} <= {GOAL_RATIO:g}x at {small:,}: {ratio:.2f}x   "
                  f"{verdict(ratio <= GOAL_RATIO)}")
    every = many["--all --json"]
    print(f"  goal: --all --json at {large:,} <= {GOAL_ALL_MB:g} MB: {every.peak:.1f} MB   "
          f"{verdict(every.peak <= GOAL_ALL_MB)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    desk_arguments(parser)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command per size")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a command is stopped")
    opts = parser.parse_args(argv)
    sizes = sorted(int(s.replace("_", "")) for s in opts.sizes.split(","))
    if opts.repeats < 1 or min(sizes) < 1:
        parser.error("--repeats and every size must be at least 1")
    print(f"tgesc ticket list, Python {platform.python_version()}, peewee {peewee.__version__}, "
          f"on {platform.machine()} ({os.cpu_count()} CPUs)")
    each_backend(opts.backend, opts.postgres_url, sizes, lambda url, size: (size, *measure(url, size, opts)), report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

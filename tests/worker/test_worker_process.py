"""`tgesc worker run` as a real process (forking and --simple) on a real Redis and a SQLite file: it executes the
periodic jobs on the virtual clock of TGESC_CLOCK (the relay, housekeeping, the sweeps), SIGTERM lets the running
job finish and exits 0 within 5 s of it (20 times in a row, under CPU load); a database behind its migrations exits
78; the telegram queue is refused (the bot's)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import redis
from rq import Queue
from rq.job import JobStatus
from worker_support import START, Processes, wait_until

from tgesc.db import open_database
from tgesc.models import Outbox
from tgesc.services.config.defaults import initialise
from tgesc.services.outbox import rows as outbox

pytestmark = pytest.mark.slow  # real processes: seconds each

JOBS = "tgesc.worker.jobs."


@pytest.fixture
def desk(tmp_path, sqlite_url, redis_url):
    db = open_database(sqlite_url, create=True)
    initialise(db, now=START, actor="test")
    processes = Processes(tmp_path, sqlite_url, redis_url)
    yield processes
    processes.stop_all()
    db.close()


def run(queue: Queue, name: str, *args, timeout: float = 20) -> object:
    """Enqueue job `name` of tgesc.worker.jobs, wait until the worker finished it, its result."""
    job = queue.enqueue(JOBS + name, *args)
    wait_until(lambda: job.get_status(refresh=True) in (JobStatus.FINISHED, JobStatus.FAILED), timeout,
               f"the worker to run {name}")
    assert job.get_status() == JobStatus.FINISHED, job.latest_result().exc_string
    return job.return_value()


def telegram_jobs(client: redis.Redis) -> set[str]:
    return set(Queue("telegram", connection=client).job_ids)


@pytest.mark.parametrize("simple", [False, True], ids=["forking", "simple"])
def test_the_worker_relays_lost_deliveries_on_the_virtual_clock_and_keeps_house(desk, redis_url, simple):
    client = redis.Redis.from_url(redis_url)
    for number in range(4):
        outbox.queue(None, 7000 + number, f"message {number}", now=START)
    ids = [row.id for row in Outbox.select().order_by(Outbox.id)]
    Outbox.update(not_before=START + timedelta(minutes=10)).where(Outbox.id == ids[2]).execute()  # flood wait
    Outbox.update(status="sent").where(Outbox.id == ids[3]).execute()
    worker = desk.start("run", *(["--simple"] if simple else []))
    default = Queue("default", connection=client)

    assert run(default, "outbox_relay") == 2  # the due pending rows had no job (e.g. Redis was flushed)
    assert telegram_jobs(client) == {f"out-{ids[0]}", f"out-{ids[1]}"}
    assert run(default, "outbox_relay") == 0  # their jobs wait in the queue: nothing twice
    desk.move_clock(minutes=15)
    assert run(default, "outbox_relay") == 1  # the postponed row is due by the virtual clock
    assert telegram_jobs(client) == {f"out-{i}" for i in ids[:3]}

    kept = run(default, "housekeeping")
    assert kept["database"]["database"] == "sqlite" and kept["database"]["busy"] is False
    assert kept["queues_cleaned"] == ["default", "telegram"]

    worker.signal(signal.SIGTERM)
    assert worker.wait(10) == 0, worker.log()[-3000:]
    assert "Traceback" not in worker.log()
    client.close()


@pytest.fixture
def cpu_load():
    """Two busy processes (one per core of the CI machine): the scheduling under which RQ's shutdown used to hang."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield
    for spinner in spinners:
        spinner.kill()
        spinner.wait()


def sigterm_during_a_job(desk: Processes, client: redis.Redis, *args: str) -> float:
    """Start `worker run ARGS`, SIGTERM it while a job runs; how long after the job finished the worker exited."""
    worker = desk.start("run", *args)
    worker.wait_log("Listening on default", 30)
    job = Queue("default", connection=client).enqueue("time.sleep", 0.3)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.STARTED, 10, "the job to start")
    worker.signal(signal.SIGTERM)
    wait_until(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 10, "the running job to finish")
    finished = time.monotonic()
    assert worker.wait(10) == 0, worker.log()[-3000:]
    assert "Traceback" not in worker.log()
    return time.monotonic() - finished


def test_sigterm_lets_the_running_job_finish_then_exits_0_twenty_times_under_load(desk, redis_url, cpu_load):
    client = redis.Redis.from_url(redis_url)
    lags = [sigterm_during_a_job(desk, client, *(["--simple"] if round_ % 2 else [])) for round_ in range(20)]
    assert max(lags) < 5, f"exits after the job finished: {', '.join(f'{lag:.1f} s' for lag in lags)}"
    client.close()


@pytest.mark.parametrize("simple", [False, True], ids=["forking", "simple"])
def test_burst_runs_what_waits_then_exits_0_at_once(desk, redis_url, simple):
    client = redis.Redis.from_url(redis_url)
    jobs = [Queue("default", connection=client).enqueue("time.sleep", 0.05) for _ in range(3)]
    worker = desk.start("run", "--burst", *(["--simple"] if simple else []))
    assert worker.wait(20) == 0, worker.log()[-3000:]
    assert [job.get_status(refresh=True) for job in jobs] == [JobStatus.FINISHED] * 3
    assert "done, quitting" in worker.log() and "Traceback" not in worker.log()
    client.close()


def test_the_telegram_queue_is_left_to_the_bot(cli):
    result = cli("worker", "run", "default", "telegram")
    assert result.exit_code == 2, result
    assert "tgesc worker bot" in result.stderr


def test_a_database_behind_its_migrations_exits_78(tgesc_bin, tmp_path, redis_url):
    result = tgesc_bin(["worker", "run", "--burst"], env={"TGESC_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}",
                                                          "TGESC_REDIS_URL": redis_url}, timeout=60)
    assert result.returncode == 78, result
    assert "tgesc db upgrade" in result.stderr and "Traceback" not in result.stderr

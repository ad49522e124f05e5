"""`tgesc worker cron` as real processes on a real Redis: exactly one enqueues; a standby takes over after kill -9
of the active one and stops cleanly on SIGTERM while it waits; SIGTERM releases the lock, exit 0."""

from __future__ import annotations

import signal
import time

import pytest
import redis
from rq import Queue
from rq.cron import CronScheduler, get_cron_job_ids
from worker_support import Processes, wait_until

from tgesc.adapters.single_lock import CRON_LOCK

pytestmark = pytest.mark.slow  # real processes: seconds each

SWEEP = "tgesc.worker.jobs.sla_sweep"
EVERY_S = 1  # TGESC_SLA_SWEEP_EVERY in this test; the other periodic jobs fire once at each scheduler start
ACTIVE, WAITING = "active cron scheduler", "waiting to take over"


@pytest.fixture
def desk(tmp_path, sqlite_url, redis_url):
    processes = Processes(tmp_path, sqlite_url, redis_url, SLA_SWEEP_EVERY=f"{EVERY_S}s")
    yield processes
    processes.stop_all()


def enqueued(client: redis.Redis) -> int:
    """SLA sweep jobs enqueued so far, by any scheduler (RQ's history of the cron job; no worker runs here)."""
    return len(get_cron_job_ids(SWEEP, client))


def count_over(client: redis.Redis, seconds: float) -> tuple[int, float]:
    """(jobs enqueued, real seconds elapsed) over about `seconds`."""
    before, started = enqueued(client), time.monotonic()
    time.sleep(seconds)
    return enqueued(client) - before, time.monotonic() - started


def one_scheduler(count: int, elapsed: float) -> bool:
    """`count` jobs in `elapsed` seconds are one scheduler's (two would enqueue about twice as many). The lower
    bound is loose: on a loaded machine a tick may come late."""
    return elapsed / EVERY_S - 2 <= count <= elapsed / EVERY_S + 1


def test_two_cron_processes_enqueue_once_and_the_standby_takes_over_after_kill_9(desk, redis_url):
    client = redis.Redis.from_url(redis_url)
    first = desk.start("cron")
    first.wait_log(ACTIVE, 20)
    second = desk.start("cron")
    second.wait_log(WAITING, 20)

    count, elapsed = count_over(client, 4 * EVERY_S)  # both running: one scheduler's worth of jobs
    assert one_scheduler(count, elapsed), (count, elapsed)
    assert [s.pid for s in CronScheduler.all(client)] == [first.pid]
    assert ACTIVE not in second.log()
    default_queue_jobs = client.llen("rq:queue:default")
    assert default_queue_jobs == enqueued(client) + 7  # + one of each other periodic job, at the start

    first.signal(signal.SIGKILL)
    first.wait(10)
    killed = time.monotonic()
    second.wait_log(ACTIVE, 10)
    took_over = time.monotonic() - killed
    assert took_over < 2 + 3, f"the takeover took {took_over:.1f} s (lock TTL 2 s, standby polling every 0.5 s)"
    count, elapsed = count_over(client, 4 * EVERY_S)
    assert one_scheduler(count, elapsed), (count, elapsed)
    assert second.pid in [s.pid for s in CronScheduler.all(client)]

    third = desk.start("cron")  # a standby told to stop while it waits
    third.wait_log(WAITING, 20)
    third.signal(signal.SIGTERM)
    assert third.wait(5) == 0, third.log()[-3000:]
    assert ACTIVE not in third.log()

    asked = time.monotonic()
    second.signal(signal.SIGTERM)
    assert second.wait(5) == 0, second.log()[-3000:]
    assert time.monotonic() - asked < 3
    assert not client.exists(CRON_LOCK)
    assert second.pid not in [s.pid for s in CronScheduler.all(client)]  # it registered its death
    for proc in (second, third):
        assert "Traceback" not in proc.log(), proc.log()[-3000:]
    client.close()


def test_a_cron_that_lost_its_lock_to_a_redis_flush_takes_it_again_and_fires_every_job(desk, redis_url):
    client = redis.Redis.from_url(redis_url)
    cron = desk.start("cron")
    cron.wait_log(ACTIVE, 20)
    wait_until(lambda: enqueued(client) >= 2, 5, "the scheduler to run")
    client.flushdb()  # every job, the lock, RQ's bookkeeping: gone
    wait_until(lambda: cron.log().count(ACTIVE) == 2, 10, "the cron to take its lock again")
    assert "the cron lock was lost" in cron.log()
    assert client.exists(CRON_LOCK)
    wait_until(lambda: client.llen("rq:queue:default") >= 8, 5, "every periodic job enqueued again at once")
    jobs = {j.func_name.rsplit(".", 1)[-1] for j in Queue("default", connection=client).jobs}
    assert jobs == {"sla_sweep", "unresolved_sweep", "survey_sweep", "lifecycle_sweep", "assignment_sweep",
                    "digest", "outbox_relay", "housekeeping"}
    cron.signal(signal.SIGTERM)
    assert cron.wait(5) == 0
    assert "Traceback" not in cron.log(), cron.log()[-3000:]
    client.close()


def test_cron_and_worker_without_redis_exit_69(tgesc_bin, sqlite_url):
    for command in (["worker", "cron"], ["worker", "run", "--burst"]):
        result = tgesc_bin(["init", "--quiet"], env={"TGESC_DATABASE_URL": sqlite_url})
        assert result.returncode == 0, result.stderr
        result = tgesc_bin(command, env={"TGESC_DATABASE_URL": sqlite_url,
                                         "TGESC_REDIS_URL": "redis://:secret@127.0.0.1:1/0"}, timeout=60)
        assert result.returncode == 69, result
        assert "secret" not in result.stderr and "Traceback" not in result.stderr

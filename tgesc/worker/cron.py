"""`tgesc worker cron`: enqueues the periodic jobs (tgesc.worker.jobs) on the `default` queue with RQ's own cron
scheduler (`rq.cron.CronScheduler`), for `tgesc worker run` processes to execute.

RQ's scheduler has no lock: two of them enqueue everything twice. So exactly one cron process is active, the
holder of the single-active Redis lock `tgesc:cron-lock`; another one waits as a standby and takes over within
the lock's time to live (`TGESC_CRON_LOCK_TTL`, 30 s) when the active one dies, even by kill -9. Before every
round of enqueues the active process checks it still holds the lock; when it has lost it (Redis flushed or
restarted, the process frozen past the TTL) it stops scheduling and goes back to waiting, so it takes the lock
again at once when nobody else holds it. Interval jobs fire at every start of a scheduler (RQ's rule): after a
takeover or a Redis flush every sweep and the outbox relay run at once. Missed ticks are not caught up, and need
not be: every sweep finds all that is due by its `now`.

The periodic jobs are ordinary RQ jobs: `rq info`, rq-dashboard and `rq requeue` see them. A job waiting longer
than four of its intervals (at least a minute) is dropped (`ttl`): with no worker running, sweeps do not pile
up, and the next one does the same work. Failed runs are kept a day for `rq info`.

The scheduler runs on real time; the jobs read the clock of the `clock` setting (tests drive them through
virtual time). SIGTERM/SIGINT: the scheduler stops, the lock is released, exit 0.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

import redis

from tgesc.adapters.redis_server import connect
from tgesc.adapters.single_lock import CRON_LOCK, SingleActiveLock
from tgesc.settings import Settings
from tgesc.worker import jobs

log = logging.getLogger(__name__)
QUEUE = "default"
RESULT_TTL_S = 600  # a run's result (what it did) stays visible to `rq` tools this long
FAILURE_TTL_S = 86400
REDIS_RETRY_S = 5.0


@dataclass(frozen=True)
class Periodic:
    """A periodic job: its function, the setting giving its interval, its time limit."""

    func: Callable[..., object]
    every: str
    timeout_s: int


PERIODIC = (
    Periodic(jobs.sla_sweep, "sla_sweep_every", 300),
    Periodic(jobs.unresolved_sweep, "unresolved_sweep_every", 300),
    Periodic(jobs.survey_sweep, "survey_sweep_every", 300),
    Periodic(jobs.lifecycle_sweep, "lifecycle_sweep_every", 300),
    Periodic(jobs.assignment_sweep, "assignment_sweep_every", 300),
    Periodic(jobs.digest, "digest_check_every", 300),
    Periodic(jobs.outbox_relay, "relay_every", 300),
    Periodic(jobs.housekeeping, "housekeeping_every", 1800),
)


def register_periodic_jobs(scheduler, settings: Settings) -> list:
    """Register each periodic job with `scheduler` (an rq.cron.CronScheduler) at its configured interval."""
    registered = []
    for job in PERIODIC:
        every = settings.seconds(job.every)
        registered.append(scheduler.register(
            job.func, queue_name=QUEUE, interval=every, job_timeout=job.timeout_s, ttl=max(4 * every, 60),
            result_ttl=RESULT_TTL_S, failure_ttl=FAILURE_TTL_S))
    return registered


class Cron:
    """The cron process: waits for the lock, schedules while it holds it, stops on `stop()`."""

    def __init__(self, settings: Settings, client: redis.Redis, *, poll_s: float = 0.5) -> None:
        self.settings, self.client, self.poll_s = settings, client, poll_s
        self.stopping, self._lost, self._wake = threading.Event(), threading.Event(), threading.Event()
        self.lock = SingleActiveLock(client, CRON_LOCK, ttl_s=settings.seconds("cron_lock_ttl"),
                                     on_lost=self._on_lost)
        self.terms = 0  # how many times this process became the active scheduler

    def stop(self, *_: object) -> None:
        self.stopping.set()
        self._wake.set()

    def _on_lost(self) -> None:
        self._lost.set()
        self._wake.set()

    def run(self) -> None:
        """Wait for the lock and schedule, again after a loss, until stopped."""
        while not self.stopping.is_set():
            try:
                if not self.lock.acquire(poll_s=self.poll_s, stop=self.stopping.is_set, on_wait=lambda: log.warning(
                        "another cron scheduler is active (lock %s); waiting to take over", CRON_LOCK)):
                    return
                try:
                    self._schedule()
                finally:
                    self.lock.release()
            except redis.RedisError as error:
                log.error("Redis failed (%s); trying again in %.0f s", error, REDIS_RETRY_S)
                self.stopping.wait(REDIS_RETRY_S)

    def _schedule(self) -> None:
        from rq.cron import CronScheduler
        from rq.exceptions import SchedulerNotFound

        self.terms += 1
        self._lost.clear()
        scheduler = CronScheduler(self.client, logging_level=self.settings.get("log_level").upper(),
                                  name=f"tgesc-cron-{socket.gethostname()}-{os.getpid()}-{self.terms}")
        register_periodic_jobs(scheduler, self.settings)
        log.info("active cron scheduler %s: %s", scheduler.name, ", ".join(
            f"{job.func_name.rsplit('.', 1)[-1]} every {job.interval} s" for job in scheduler.get_jobs()))
        scheduler.register_birth()
        try:
            while not self.stopping.is_set():
                if self._lost.is_set() or not self.lock.owned():
                    log.warning("the cron lock was lost; no longer scheduling, waiting to take over again")
                    return
                if scheduler.enqueue_jobs():
                    scheduler.save()
                scheduler.heartbeat()
                self._wake.wait(scheduler.calculate_sleep_interval())
                self._wake.clear()
        finally:
            with contextlib.suppress(redis.RedisError, SchedulerNotFound):  # (not found: Redis was flushed)
                scheduler.register_death()


def run_cron(settings: Settings) -> None:
    """Run the cron process until SIGTERM/SIGINT (exit 0, the lock released)."""
    cron = Cron(settings, connect(settings.redis_url, settings.home))
    signal.signal(signal.SIGTERM, cron.stop)
    signal.signal(signal.SIGINT, cron.stop)
    cron.run()
    log.info("cron scheduler stopped")

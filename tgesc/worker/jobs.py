"""RQ job functions run by `tgesc worker run` (the `default` queue), enqueued by `tgesc worker cron`.

Each job is a few lines: the process's context (settings from the environment, the database opened once per
process and reused, the clock of the `clock` setting), one service call, and a wake-up of the bot for the
outbox rows the call wrote (a `telegram` job per row, enqueued in one round of Redis calls: the messages go out
at once instead of at the bot's next look at the outbox). A sweep job handles one batch of what is due
(`sweep_batch` rows, claimed so that no other job takes them: services.sweeps.batches) and, when more may be due,
enqueues itself again (with where to go on from) before handling it, so that N workers share a backlog. Every
job is safe to run twice or concurrently: the sweeps fire each warning, breach, escalation and survey once per
(ticket, kind, level), the assignment sweep moves each ticket locked and re-checked, the relay's jobs are unique
per row.

In a forking worker each job runs in a child process: the database is opened there (a connection is never
carried across a fork) and the context of the parent (settings, clock) is inherited.

A database failure that passes (tgesc.db.passing_failure: a server restarting, a connection cut, a lock held past
the busy timeout) does not fail the job at once: its connection is dropped and the job's work done again on a new
one (each try is one transaction, rolled back when it failed), for up to `DB_RETRY_FOR_S`; only then does the job
fail, and the next periodic run does the work.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from tgesc.settings import Settings, load_settings
from tgesc.worker.wake import wake_for

if TYPE_CHECKING:
    import peewee
    import redis

    from tgesc.services.sweeps.batches import Claim, ScanSweep, Sweep
    from tgesc.services.sweeps.store import Key

log = logging.getLogger(__name__)
T = TypeVar("T")
DB_RETRY_FIRST_S, DB_RETRY_MAX_S, DB_RETRY_FOR_S = 0.5, 8.0, 60.0  # pauses between tries of a job's work; in all
RELAY_BATCH = 1000  # outbox rows looked at by one relay run (the oldest first; the next run takes the rest)
QUEUES_KEPT = ("default", "telegram")  # the queues housekeeping cleans up after

_settings: Settings | None = None
_clock: Callable[[], datetime] | None = None
_db: tuple[int, peewee.Database] | None = None  # (pid, database): opened again in a forked child
_wake = True  # sweeps enqueue a `telegram` job per outbox row they wrote
_batches = True  # a sweep job handles one batch and hands the rest to a follow-up job


def bootstrap(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None,
              database: peewee.Database | None = None, wake_bot: bool = True, batches: bool = True) -> Settings:
    """Set this process's settings (None: from the environment, `.env` and defaults), clock (None: the one the
    `clock` setting names) and open database (None: opened from the settings at the first job). `wake_bot`
    False: the sweeps enqueue no `telegram` jobs for what they queued (`tgesc simulate` delivers after each).
    `batches` False: a sweep job handles everything due itself instead of one batch and a follow-up job
    (`tgesc simulate`: a tick does all its work at its instant)."""
    global _settings, _clock, _db, _wake, _batches
    from tgesc.adapters.clock import clock_from

    _settings = settings if settings is not None else load_settings()
    _clock = clock if clock is not None else clock_from(_settings)
    _db = (os.getpid(), database) if database is not None else None
    _wake, _batches = wake_bot, batches
    return _settings


def _context() -> tuple[peewee.Database, datetime]:
    """The database of this process and the current instant."""
    global _db
    if _settings is None or _clock is None:
        bootstrap()
    if _db is None or _db[0] != os.getpid():
        from tgesc.db import open_database, require_current

        database = open_database(_settings.database_url)
        require_current(database)
        _db = (os.getpid(), database)
    return _db[1], _clock()


def _on_database(work: Callable[[peewee.Database, datetime], T]) -> T:
    """`work(db, now)`, done again on a new connection after a database failure that passes (see the module
    docstring); any other failure, or one that outlasts DB_RETRY_FOR_S, is raised."""
    from tgesc.db import passing_failure, reconnect
    from tgesc.domain.errors import DependencyUnavailable

    pause, deadline = DB_RETRY_FIRST_S, time.monotonic() + DB_RETRY_FOR_S
    while True:
        db = None
        try:
            db, now = _context()
            return work(db, now)
        except Exception as exc:
            if not (isinstance(exc, DependencyUnavailable) or passing_failure(exc)) or time.monotonic() > deadline:
                raise
            if db is not None:
                reconnect(db)
            log.warning("the database failed (%s); trying again in %.1f s", str(exc).strip().splitlines()[0], pause)
            time.sleep(pause)
            pause = min(2 * pause, DB_RETRY_MAX_S)


def _redis() -> redis.Redis:
    """The running job's Redis connection (outside a worker: the configured or embedded Redis)."""
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        return job.connection
    from tgesc.adapters.redis_server import connect

    return connect(_settings.redis_url, _settings.home)


def _sweeping(sweep: Sweep | ScanSweep, job: Callable[..., object], dry_run: bool,
              after: Key | None) -> list[dict[str, Any]]:
    """One sweep's share of what is due now: a batch claimed (after `after`, the cursor of the job this one
    follows up), `job` enqueued again at once when more may be due (before the batch is handled: on PostgreSQL
    from inside its open transaction, so another worker claims the next batch meanwhile), the batch handled, and
    the bot woken for the rows it wrote. A dry run, or a process without batches (`tgesc simulate`), handles
    everything due in this job."""
    if dry_run or not _batches:
        handled = _on_database(lambda db, now: sweep.run(db, now=now, dry_run=dry_run))
    else:
        def claimed(claim: Claim) -> None:
            if claim.full:
                _follow_up(job, claim.next)
        handled = _on_database(lambda db, now: sweep.batch(db, now, _settings.sweep_batch, after, claimed))
    if _wake and not dry_run:
        wake_for(handled.outbox_rows, lambda _rows: _redis())
    if handled.done:
        log.info("%s sweep: %d action(s)", sweep.name, len(handled.done))
    return handled.done


def _follow_up(job: Callable[..., object], after: Key | None) -> None:
    """`job` enqueued again, as the running job was (same queue, time limit, lifetimes), to claim after `after`:
    the next batch."""
    from rq import Queue, get_current_job

    running = get_current_job()
    if running is None:  # called outside a worker: nobody would run it
        return
    Queue(running.origin, connection=running.connection).enqueue(
        job, after=after, job_timeout=running.timeout, ttl=running.ttl, result_ttl=running.result_ttl,
        failure_ttl=running.failure_ttl)


def sla_sweep(dry_run: bool = False, after: Key | None = None) -> list[dict[str, Any]]:
    """SLA warnings and breaches due by now: notices, escalations, the customer's update (services.sweeps.sla)."""
    from tgesc.services.sweeps.sla import SLA_SWEEP

    return _sweeping(SLA_SWEEP, sla_sweep, dry_run, after)


def unresolved_sweep(dry_run: bool = False, after: Key | None = None) -> list[dict[str, Any]]:
    """The unresolved-for rules: tickets open too long climb a tier (services.sweeps.sla)."""
    from tgesc.services.sweeps.sla import UNRESOLVED_SWEEP

    return _sweeping(UNRESOLVED_SWEEP, unresolved_sweep, dry_run, after)


def survey_sweep(dry_run: bool = False, after: Key | None = None) -> list[dict[str, Any]]:
    """Return-visit surveys due by now: send, remind, expire (services.sweeps.surveys)."""
    from tgesc.services.sweeps.surveys import SURVEY_SWEEP

    return _sweeping(SURVEY_SWEEP, survey_sweep, dry_run, after)


def lifecycle_sweep(dry_run: bool = False, after: Key | None = None) -> list[dict[str, Any]]:
    """Lifecycle steps due by now: waiting reminders, automatic resolutions, closings (services.sweeps.lifecycle)."""
    from tgesc.services.sweeps.lifecycle import LIFECYCLE_SWEEP

    return _sweeping(LIFECYCLE_SWEEP, lifecycle_sweep, dry_run, after)


def assignment_sweep(dry_run: bool = False, after: Key | None = None) -> list[dict[str, Any]]:
    """Tickets back from staff off shift, and those nobody holds to staff on shift (services.sweeps.assignment)."""
    from tgesc.services.sweeps.assignment import ASSIGNMENT_SWEEP

    return _sweeping(ASSIGNMENT_SWEEP, assignment_sweep, dry_run, after)


def digest() -> list[str]:
    """The weekly digest to team leads and admins, when one is due and not sent yet (services.reports.digest)."""
    from zoneinfo import ZoneInfo

    from tgesc.services.outbox.store import recording
    from tgesc.services.reports.digest import send_due

    with recording() as rows:
        sent = _on_database(lambda db, now: send_due(db, now, ZoneInfo(_settings.timezone)))
    if _wake and sent:
        wake_for(rows, lambda _rows: _redis())
    return sent


def next_digest(now: datetime) -> datetime | None:
    """When the weekly digest is next due after `now`, in this process's zone (None: none is configured)."""
    from zoneinfo import ZoneInfo

    from tgesc.services.reports.digest import next_at

    db, _ = _context()
    return next_at(db, now, ZoneInfo(_settings.timezone))


def outbox_relay() -> int:
    """Pending outbox rows due by now whose `telegram` job is gone get one again; how many."""
    from tgesc.adapters.jobs import enqueue_deliveries
    from tgesc.services.outbox import store as outbox

    enqueued = enqueue_deliveries(_redis(), _on_database(lambda db, now: outbox.due_pending(db, now, RELAY_BATCH)))
    if enqueued:
        log.warning("outbox relay: %d pending row(s) had lost their telegram job; enqueued again", enqueued)
    return enqueued


def housekeeping() -> dict[str, Any]:
    """Routine upkeep that never blocks the desk: the database's (SQLite: a passive WAL checkpoint and
    `PRAGMA optimize`) and RQ's (expired registry entries, dead workers) for the default and telegram queues."""
    from tgesc.adapters.jobs import clean_queues
    from tgesc.db import maintain

    return {"database": _on_database(lambda db, _now: maintain(db)), "queues_cleaned": clean_queues(_redis(),
                                                                                                       QUEUES_KEPT)}

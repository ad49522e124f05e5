"""`tgesc worker run` (forking and --simple) and `tgesc worker cron` as real processes while their dependencies go
away and come back: PostgreSQL restarted in the middle of a backlog of due SLA sweeps (every due breach fires and is
noticed exactly once, no job fails), Redis stopped in the middle of a job and started again, empty (they carry on
by themselves: the cron takes its lock again and the workers run what it enqueues). PostgreSQL and Redis are
servers of the tests' own (tests/own_servers.py), never the machine's.
"""

from __future__ import annotations

import signal
from collections import Counter
from datetime import timedelta

import pytest
import redis
from own_servers import OwnRedis
from rq import Queue
from rq.cron import get_cron_job_ids
from rq.job import Job, JobStatus
from worker_support import START, Processes, wait_until

from tgesc.db import open_database, reconnect, write_transaction
from tgesc.models import Customer, Firing, Outbox, Ticket, database
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.tickets import lifecycle
from tgesc.services.tickets import store as tickets

pytestmark = pytest.mark.slow  # real processes: seconds each

L1_CHAT, ANN = -100111, 5001
BACKLOG = 300  # urgent tickets whose first response is overdue when the workers start
KINDS = [pytest.param([], id="forking"), pytest.param(["--simple"], id="simple")]


def breached_tickets() -> set[int]:
    return {f.ticket_id for f in Firing.select().where(Firing.level.startswith("breach"))}


def open_backlog(db, count: int) -> None:
    set_entry(db, "tiers", "L1", {"staff_chat": L1_CHAT}, actor="test", now=START)
    add_entry(db, "staff", "ann", {"id": ANN, "role": "admin"}, actor="test", now=START)
    for number in range(count):
        with write_transaction(db):
            customer = Customer.create(telegram_id=10_000 + number, first_name=f"C{number}", language="en",
                                       created_at=START, updated_at=START)
            tickets.save(lifecycle.create(db, customer, "My order has not arrived", START, "urgent"), START)


def sweeps_finished(client: redis.Redis) -> int:
    jobs = Job.fetch_many(get_cron_job_ids("tgesc.worker.jobs.sla_sweep", client), connection=client)
    return sum(1 for job in jobs if job is not None and job.get_status() == JobStatus.FINISHED)


@pytest.mark.parametrize("kind", KINDS)
def test_postgresql_restarted_in_a_backlog_of_due_sweeps(tmp_path, own_postgres, own_postgres_url, redis_url,
                                                         kind):
    db = open_database(own_postgres_url)
    initialise(db, now=START, actor="test")
    open_backlog(db, BACKLOG)
    desk = Processes(tmp_path, own_postgres_url, redis_url, SLA_SWEEP_EVERY="1s")
    desk.move_clock(minutes=20)  # every ticket's first response (15 min) is overdue: a backlog of breaches
    try:
        worker, cron = desk.start("run", *kind), desk.start("cron")
        wait_until(lambda: len(breached_tickets()) >= BACKLOG // 5, 60, "the sweep to work through part of it")
        own_postgres.restart()
        reconnect(database)
        wait_until(lambda: len(breached_tickets()) == BACKLOG, 90, "every breach of the backlog to fire")

        notices = Counter((o.ticket_id, o.chat_id, o.payload.get("template")) for o in Outbox.select())
        assert set(notices.values()) == {1}, "a notice was written twice"
        assert {t for t, _, template in notices if template == "sla_breach"} == {t.id for t in Ticket.select()}
        assert Firing.select().where(Firing.level.startswith("breach")).count() == BACKLOG
        client = redis.Redis.from_url(redis_url)
        assert Queue("default", connection=client).failed_job_registry.count == 0
        assert "the database failed" in worker.log(), "the restart never reached a sweep"
        worker.signal(signal.SIGTERM)
        cron.signal(signal.SIGTERM)
        assert worker.wait(15) == 0 and cron.wait(15) == 0
        client.close()
    finally:
        desk.stop_all()
        db.close()


@pytest.mark.parametrize("kind", KINDS)
def test_redis_gone_and_back_under_the_cron_and_a_worker(tmp_path, sqlite_url, kind):
    db = open_database(sqlite_url, create=True)
    initialise(db, now=START, actor="test")
    with OwnRedis(tmp_path / "redis") as server:
        desk = Processes(tmp_path, sqlite_url, server.url, SLA_SWEEP_EVERY="1s", CRON_LOCK_TTL="2s")
        client = redis.Redis.from_url(server.url)
        try:
            worker, cron = desk.start("run", *kind), desk.start("cron")
            wait_until(lambda: sweeps_finished(client) >= 2, 30, "the cron's sweeps to run")
            busy = Queue("default", connection=client).enqueue("time.sleep", 1.0)
            wait_until(lambda: busy.get_status(refresh=True) == JobStatus.STARTED, 20, "a job to be running")
            server.stop()  # mid-job: the worker meets it when it records the job's end
            worker.wait_log("Redis went away", 30)
            server.start()  # empty: the cron's lock, its jobs, the workers' registrations are gone
            wait_until(lambda: sweeps_finished(client) >= 2, 60, "sweeps enqueued and run again after the restart")
            assert worker.alive() and cron.alive()
            assert "Traceback" not in worker.log() + cron.log(), (worker.log() + cron.log())[-3000:]
            assert "Redis answers again; working" in worker.log()
            desk.move_clock(seconds=timedelta(minutes=1).total_seconds())
            worker.signal(signal.SIGTERM)
            cron.signal(signal.SIGTERM)
            assert worker.wait(15) == 0 and cron.wait(15) == 0
        finally:
            desk.stop_all()
            client.close()
            db.close()

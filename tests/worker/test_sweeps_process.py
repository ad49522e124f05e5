"""The sweeps end to end in real processes: `tgesc worker cron` enqueuing the SLA sweep every second and two
forking `tgesc worker run` processes executing it (with extra sweeps enqueued at once, so two run concurrently),
against a SQLite file, the virtual clock advanced by rewriting the TGESC_CLOCK file. An urgent ticket that
breaches its first response gets exactly one warning per threshold and one breach notice, routed as the SLA table
says, and the bot is woken for each notice; a resolved ticket's survey goes out once when it is due."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from rq import Queue
from rq.cron import get_cron_job_ids
from rq.job import Job, JobStatus
from worker_support import ANN, L1_CHAT, START, sweeping_desk, wait_until

from tgesc.db import write_transaction
from tgesc.models import Customer, Firing, Outbox, Survey, Ticket
from tgesc.services.tickets import actions, lifecycle
from tgesc.services.tickets import store as tickets

pytestmark = pytest.mark.slow  # real processes: seconds each

ALICE = 1001
FIRST_RESPONSE = timedelta(minutes=15)  # urgent: warnings at 50 % and 80 %, then the breach notifies the admins


@pytest.fixture
def desk(tmp_path, sqlite_url, redis_url):
    processes = sweeping_desk(tmp_path, sqlite_url, redis_url, SLA_SWEEP_EVERY="1s", SURVEY_SWEEP_EVERY="1s")
    yield processes
    processes.stop_all()
    processes.db.close()


def open_ticket(db, priority: str) -> int:
    with write_transaction(db):
        customer = Customer.create(telegram_id=ALICE, first_name="Alice", language="en", created_at=START,
                                   updated_at=START)
        ticket = lifecycle.create(db, customer, "My order has not arrived", START, priority)
        tickets.save(ticket, START)
    return ticket.number


def sweeps_done(client: redis.Redis, name: str) -> int:
    """How many of the cron's runs of job `name` have finished."""
    jobs = Job.fetch_many(get_cron_job_ids(f"tgesc.worker.jobs.{name}", client), connection=client)
    return sum(1 for job in jobs if job is not None and job.get_status() == JobStatus.FINISHED)


def concurrent_sweeps(client: redis.Redis, name: str, count: int = 4) -> None:
    """`count` more runs of job `name` enqueued at once (two workers take them together); wait until done."""
    queue = Queue("default", connection=client)
    jobs = [queue.enqueue(f"tgesc.worker.jobs.{name}") for _ in range(count)]
    wait_until(lambda: all(j.get_status(refresh=True) == JobStatus.FINISHED for j in jobs), 20, f"{count} {name}s")


def notices() -> list[tuple[int, str]]:
    return [(o.chat_id, o.payload.get("template")) for o in Outbox.select().order_by(Outbox.id)]


def firings(kind: str) -> list[str]:
    """The levels fired on clock `kind` (a firing's level is `<level>@<the clock run's start>`)."""
    return [f.level.split("@")[0] for f in Firing.select().where(Firing.kind == kind).order_by(Firing.id)]


def test_a_first_response_breach_warns_once_per_threshold_and_notifies_once(desk, redis_url):
    client = redis.Redis.from_url(redis_url)
    open_ticket(desk.db, "urgent")
    workers = [desk.start("run"), desk.start("run")]
    cron = desk.start("cron")
    cron.wait_log("active cron scheduler", 20)
    wait_until(lambda: sweeps_done(client, "sla_sweep") >= 2, 20, "the cron's sweeps to run")
    assert firings("first_response") == []

    for share, expected in ((0.5, ["warn-50"]), (0.8, ["warn-50", "warn-80"]),
                            (1.0, ["warn-50", "warn-80", "breach"])):
        desk.move_clock(seconds=(START + FIRST_RESPONSE * share - desk.now).total_seconds())
        wait_until(lambda expected=expected: firings("first_response") == expected, 20,
                   f"the sweep at {share:.0%} of the first response budget")
        concurrent_sweeps(client, "sla_sweep")  # swept again, concurrently: nothing fires twice

    desk.move_clock(minutes=1)
    done = sweeps_done(client, "sla_sweep")
    wait_until(lambda: sweeps_done(client, "sla_sweep") >= done + 3, 20, "three more sweeps by the cron")
    assert firings("first_response") == ["warn-50", "warn-80", "breach"]
    assert notices() == [(L1_CHAT, "sla_warning"), (L1_CHAT, "sla_warning"), (ANN, "sla_breach"),
                         (L1_CHAT, "sla_breach")]
    rows = [row.id for row in Outbox.select()]
    assert set(Queue("telegram", connection=client).job_ids) == {f"out-{r}" for r in rows}  # the bot was woken
    for proc in (*workers, cron):
        assert "Traceback" not in proc.log(), proc.log()[-3000:]
    client.close()


def test_a_resolved_tickets_survey_goes_out_once_when_due(desk, redis_url):
    client = redis.Redis.from_url(redis_url)
    number = open_ticket(desk.db, "low")
    actions.resolve(desk.db, number, survey=True, actor="test", now=START)
    survey = Survey.get()
    desk.start("run")
    cron = desk.start("cron")
    cron.wait_log("active cron scheduler", 20)
    wait_until(lambda: sweeps_done(client, "survey_sweep") >= 2, 20, "the cron's survey sweeps to run")
    assert Survey.get().status == "scheduled"

    desk.move_clock(seconds=(survey.due_at - desk.now).total_seconds())
    wait_until(lambda: Survey.get().status == "sent", 20, "the survey sweep at the survey's due time")
    concurrent_sweeps(client, "survey_sweep")
    assert [(o.chat_id, o.payload.get("template")) for o in Outbox.select()] == [(ALICE, "resolved_notice"),
                                                                                (ALICE, "survey")]
    assert Ticket.get().status == "resolved"
    client.close()

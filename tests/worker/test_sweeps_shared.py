"""Four `tgesc worker run` processes sharing one backlog of due sweeps, on SQLite and on PostgreSQL, with a real
Redis: the sweep jobs claim small batches (TGESC_SWEEP_BATCH=7) and follow themselves up, so that the four workers
take batches side by side, while two kinds of sweep want the same tickets (SLA and unresolved-for; lifecycle and
survey). Every due ticket and survey is handled, each milestone, rule, closing and survey step happens once, each
notice is written once, and the bot is woken once for exactly the rows written. The assignment sweep, shared the
same way, hands each ticket back once and fills every capacity exactly."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from conftest import BACKENDS
from rq import Queue
from support import private_message
from worker_support import START, sweeping_desk, wait_until

from tgesc.models import Event, Firing, Outbox, Survey, Ticket
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.sweeps.lifecycle import due_for_lifecycle
from tgesc.services.sweeps.sla import due_for_rules, due_for_sla
from tgesc.services.sweeps.store import SURVEYS, due_ids, to_assign
from tgesc.services.tickets import actions
from tgesc.services.tickets.assignment import watches
from tgesc.services.tickets.ingest import ingest_message

pytestmark = pytest.mark.slow  # real processes on a backlog: tens of seconds

BACKLOG, BATCH, WORKERS = 60, 7, 4
LATE = timedelta(minutes=61)  # medium: the 50 % first-response warning (1 h) and the unresolved-for rule (15 min)


@pytest.fixture
def backlog(tmp_path, db_url, redis_url):
    processes = sweeping_desk(tmp_path, db_url, redis_url, SWEEP_BATCH=str(BATCH))
    for n in range(BACKLOG):
        ingest_message(processes.db, private_message(2000 + n, 1, START, "My order has not arrived"), now=START)
    processes.move_clock(seconds=LATE.total_seconds())
    yield processes
    processes.stop_all()
    processes.db.close()


def swept_by_four(desk, client: redis.Redis, jobs: tuple[str, ...], due: Callable[[], bool]) -> list[str]:
    """Four workers started, each of `jobs` enqueued once per worker at once (as busy crons and operators would),
    until nothing is `due` and every job has finished, without a failure; the `telegram` wake-up jobs."""
    workers = [desk.start("run") for _ in range(WORKERS)]
    wait_until(lambda: all("Listening on" in w.log() for w in workers), 60, "the workers to listen")
    queue = Queue("default", connection=client)
    for _ in range(WORKERS):
        for job in jobs:
            queue.enqueue(f"tgesc.worker.jobs.{job}")
    wait_until(lambda: not (due() or queue.count or queue.started_job_registry.count), 120,
               "the backlog to be cleared and the jobs to finish")
    assert queue.failed_job_registry.count == 0
    assert queue.finished_job_registry.count > len(jobs) * WORKERS  # full batches were followed up
    for worker in workers:
        assert "Traceback" not in worker.log(), worker.log()[-3000:]
    return Queue("telegram", connection=client).job_ids


def outbox_after(row_id: int) -> list[Outbox]:
    return list(Outbox.select().where(Outbox.id > row_id))


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_four_workers_share_a_backlog_and_fire_everything_once(backlog, redis_url):
    client = redis.Redis.from_url(redis_url)
    now, written_before = backlog.now, max((o.id for o in Outbox.select()), default=0)
    due = set(due_for_sla(backlog.db, now=now))
    assert len(due) == BACKLOG and set(due_for_rules(backlog.db, now=now)) == due  # both sweeps want every ticket

    woken = swept_by_four(backlog, client, ("sla_sweep", "unresolved_sweep"), lambda: bool(
        due_for_sla(backlog.db, now=now) or due_for_rules(backlog.db, now=now)))
    fired = {(f.ticket_id, f.kind, f.level.split("@")[0]) for f in Firing.select()}
    assert {(t, k, level) for t, k, level in fired if k in ("first_response", "rule")} == {
        (t, k, level) for t in due for k, level in (("first_response", "warn-50"), ("rule", "unresolved-15m"))}
    events = Counter((e.ticket_id, e.kind) for e in Event.select().where(
        Event.kind.in_(("sla.warning", "ticket.escalated"))))
    assert set(events) == {(t, kind) for t in due for kind in ("sla.warning", "ticket.escalated")}
    assert max(events.values()) == 1
    notices = Counter((o.ticket_id, o.chat_id, o.payload.get("template")) for o in Outbox.select())
    assert max(notices.values()) == 1
    assert sorted(woken) == sorted(f"out-{o.id}" for o in outbox_after(written_before))  # each row once, no other
    client.close()


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_four_workers_share_the_lifecycle_and_survey_backlogs(backlog, redis_url):
    client = redis.Redis.from_url(redis_url)
    for number in range(1, BACKLOG + 1):
        actions.resolve(backlog.db, number, survey=True, actor="test", now=START)
    now = backlog.move_clock(days=3)  # the closings (close_after 3 d) and the surveys (24 h, in daytime) are due
    written_before = max(o.id for o in Outbox.select())
    surveys = {s.id for s in Survey.select()}
    assert set(due_for_lifecycle(backlog.db, now=now)) == {t.id for t in Ticket.select()} and len(surveys) == BACKLOG
    assert set(due_ids(backlog.db, SURVEYS, now, None)) == surveys

    woken = swept_by_four(backlog, client, ("lifecycle_sweep", "survey_sweep"), lambda: bool(
        due_for_lifecycle(backlog.db, now=now) or due_ids(backlog.db, SURVEYS, now, None)))
    assert {t.status for t in Ticket.select()} == {"closed"}
    closed = Counter(e.ticket_id for e in Event.select().where(Event.kind == "ticket.closed"))
    assert set(closed) == {t.id for t in Ticket.select()} and max(closed.values()) == 1
    stepped = Counter(e.details["survey"] for e in Event.select().where(
        Event.kind.in_(("survey.sent", "survey.cancelled"))))
    assert set(stepped) == surveys and max(stepped.values()) == 1
    notices = Counter((o.ticket_id, o.payload.get("template")) for o in outbox_after(written_before))
    assert max(notices.values(), default=1) == 1
    assert sorted(woken) == sorted(f"out-{o.id}" for o in outbox_after(written_before))
    client.close()


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_four_workers_share_the_assignment_backlog(backlog, redis_url):
    client = redis.Redis.from_url(redis_url)
    db, now = backlog.db, backlog.now
    for n, handle in enumerate(("bob", "cy", "dee", "eve")):
        add_entry(db, "staff", handle, {"id": 6001 + n, "tiers": ["L1"], "capacity": 15}, actor="test", now=now)
    for number in range(1, 21):
        actions.assign(db, number, "eve", actor="lead", now=now)
    set_entry(db, "staff", "eve", {"active": False}, actor="test", now=now)  # her 20 go back
    set_entry(db, "tiers", "L1", {"assign": "round-robin"}, actor="test", now=now)
    written_before = max((o.id for o in Outbox.select()), default=0)
    assert len(to_assign(db, watches(db, now), None, None, lock=False)) == BACKLOG

    woken = swept_by_four(backlog, client, ("assignment_sweep",), lambda: bool(
        to_assign(db, watches(db, now), None, None, lock=False)))
    held = Counter(t.assignee.handle for t in Ticket.select().where(Ticket.assignee.is_null(False)))
    assert held == {"bob": 15, "cy": 15, "dee": 15}  # every place filled, none overfilled
    back = Counter(e.ticket_id for e in Event.select().where(Event.kind == "ticket.unassigned"))
    assert len(back) == 20 and max(back.values()) == 1
    given = Counter(e.ticket_id for e in Event.select().where(
        (Event.kind == "ticket.assigned") & (Event.actor == "auto")))
    assert len(given) == 45 and max(given.values()) == 1
    assert sorted(woken) == sorted(f"out-{o.id}" for o in outbox_after(written_before))  # the 45 notices, once
    client.close()

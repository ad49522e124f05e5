"""Four `tgesc worker run` processes sharing one backlog of due sweeps, on SQLite and on PostgreSQL, with a real
Redis: the SLA and unresolved-for sweep jobs claim small batches (TGESC_SWEEP_BATCH=7) and follow themselves up,
so that the four workers take batches side by side, while both kinds of sweep want the same tickets. Every due
ticket is handled, each milestone and rule fires once, each notice is written once, and the bot is woken once
for exactly the rows written."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import redis
from conftest import BACKENDS
from rq import Queue
from support import private_message
from worker_support import START, Processes, wait_until

from tgesc.db import open_database
from tgesc.models import Event, Firing, Outbox
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.sweeps.sla import due_for_rules, due_for_sla
from tgesc.services.tickets.ingest import ingest_message

pytestmark = pytest.mark.slow  # real processes on a backlog: tens of seconds

L1_CHAT, ANN = -100111, 5001
BACKLOG, BATCH, WORKERS = 60, 7, 4
LATE = timedelta(minutes=61)  # medium: the 50 % first-response warning (1 h) and the unresolved-for rule (15 min)


@pytest.fixture
def backlog(tmp_path, db_url, redis_url):
    db = open_database(db_url, create=True)
    initialise(db, now=START, actor="test")
    set_entry(db, "tiers", "L1", {"staff_chat": L1_CHAT, "first_response": None}, actor="test", now=START)
    add_entry(db, "staff", "ann", {"id": ANN, "role": "admin"}, actor="test", now=START)
    for n in range(BACKLOG):
        ingest_message(db, private_message(2000 + n, 1, START, "My order has not arrived"), now=START)
    processes = Processes(tmp_path, db_url, redis_url, SWEEP_BATCH=str(BATCH))
    processes.db = db
    processes.move_clock(seconds=LATE.total_seconds())
    yield processes
    processes.stop_all()
    db.close()


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_four_workers_share_a_backlog_and_fire_everything_once(backlog, redis_url):
    client = redis.Redis.from_url(redis_url)
    now, written_before = backlog.now, max((o.id for o in Outbox.select()), default=0)
    due = set(due_for_sla(backlog.db, now=now))
    assert len(due) == BACKLOG and set(due_for_rules(backlog.db, now=now)) == due  # both sweeps want every ticket
    workers = [backlog.start("run") for _ in range(WORKERS)]
    wait_until(lambda: all("Listening on" in w.log() for w in workers), 60, "the workers to listen")
    queue = Queue("default", connection=client)
    for _ in range(WORKERS):  # each sweep enqueued once per worker at once, as busy crons and operators would
        queue.enqueue("tgesc.worker.jobs.sla_sweep")
        queue.enqueue("tgesc.worker.jobs.unresolved_sweep")

    def idle() -> bool:
        return not (due_for_sla(backlog.db, now=now) or due_for_rules(backlog.db, now=now) or queue.count
                    or queue.started_job_registry.count)

    wait_until(idle, 120, "the backlog to be cleared and the jobs to finish")
    assert queue.failed_job_registry.count == 0
    assert queue.finished_job_registry.count > 2 * WORKERS  # full batches were followed up
    fired = {(f.ticket_id, f.kind, f.level.split("@")[0]) for f in Firing.select()}
    assert {(t, k, level) for t, k, level in fired if k in ("first_response", "rule")} == {
        (t, k, level) for t in due for k, level in (("first_response", "warn-50"), ("rule", "unresolved-15m"))}
    events = Counter((e.ticket_id, e.kind) for e in Event.select().where(
        Event.kind.in_(("sla.warning", "ticket.escalated"))))
    assert set(events) == {(t, kind) for t in due for kind in ("sla.warning", "ticket.escalated")}
    assert max(events.values()) == 1
    notices = Counter((o.ticket_id, o.chat_id, o.payload.get("template")) for o in Outbox.select())
    assert max(notices.values()) == 1
    woken = Queue("telegram", connection=client).job_ids
    assert sorted(woken) == sorted(f"out-{o.id}" for o in Outbox.select().where(Outbox.id > written_before))
    for worker in workers:
        assert "Traceback" not in worker.log(), worker.log()[-3000:]
    client.close()

"""adapters.inline_worker on a real Redis: jobs run on the caller's thread, in order; their results are not kept;
a job that raised is reported with RQ's traceback, whichever way it ran."""

from __future__ import annotations

import pytest
import redis
from rq import Queue

from tgesc.adapters.inline_worker import InlineWorker, JobFailed

DONE: list[str] = []


def note(word: str) -> str:
    DONE.append(word)
    return word


def refuse(word: str) -> None:
    raise ValueError(f"no {word} today")


@pytest.fixture
def worker(redis_url):
    DONE.clear()
    client = redis.Redis.from_url(redis_url)
    inline = InlineWorker(client, ["telegram"])
    yield inline
    inline.close()
    client.close()


def test_run_now_performs_the_job_before_returning_and_keeps_no_result(worker):
    job = worker.run_now("sweeps", note, "sla")
    assert DONE == ["sla"]
    assert not worker.client.exists(job.key)  # result_ttl=0: a finished job leaves nothing behind


def test_a_job_run_now_that_raises_is_reported_with_its_traceback(worker):
    with pytest.raises(JobFailed) as failure:
        worker.run_now("sweeps", refuse, "sweep")
    assert "refuse" in str(failure.value) and "ValueError: no sweep today" in str(failure.value)


def test_run_pending_executes_what_waits_in_order_then_reports_a_failure(worker):
    queue = Queue("telegram", connection=worker.client)
    queue.enqueue(note, "first")
    queue.enqueue(refuse, "second")
    queue.enqueue(note, "third")
    assert worker.waiting() == 3
    with pytest.raises(JobFailed, match="no second today"):
        worker.run_pending()
    assert DONE == ["first", "third"] and worker.waiting() == 0
    assert worker.run_pending() == []  # nothing waits: nothing runs

"""adapters.workers on a real Redis: a worker's command listener stops promptly, whichever way the race between
its thread and the shutdown goes (RQ 3.0 with redis-py 8.2 hung up to 60 s when the thread read the UNSUBSCRIBE
reply before its running flag was cleared)."""

from __future__ import annotations

import time

import pytest
import redis
from rq import Queue

from tgesc.adapters.workers import SimpleWorker, Worker

CLASSES = [pytest.param(Worker, id="forking"), pytest.param(SimpleWorker, id="simple")]
PROMPT_S = 5.0  # a hang lasts the listener's 60 s wait; a prompt stop takes milliseconds


@pytest.fixture
def client(redis_url):
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def subscribed(worker_class, client: redis.Redis, number: int):
    worker = worker_class([Queue("default", connection=client)], connection=client, name=f"tgesc-test-{number}")
    worker.subscribe()
    deadline = time.monotonic() + PROMPT_S
    while not worker.pubsub.subscribed:  # the SUBSCRIBE reply read: the thread waits for the next message
        assert time.monotonic() < deadline, "the listener never subscribed"
        time.sleep(0.001)
    return worker


def reply_read_first(worker) -> None:
    """Make the listener thread win the race: whatever the worker sends on the pubsub connection returns only once
    the thread has read the reply (how a loaded machine schedules it)."""
    pubsub, send = worker.pubsub, worker.pubsub.unsubscribe

    def unsubscribe_then_let_the_thread_read(*args):
        send(*args)
        deadline = time.monotonic() + PROMPT_S
        while pubsub.subscribed and time.monotonic() < deadline:
            time.sleep(0.001)

    pubsub.unsubscribe = unsubscribe_then_let_the_thread_read


@pytest.mark.parametrize("worker_class", CLASSES)
def test_the_listener_stops_promptly_twenty_times_in_a_row(worker_class, client):
    for number in range(20):
        worker = subscribed(worker_class, client, number)
        thread = worker.pubsub_thread
        reply_read_first(worker)
        started = time.monotonic()
        worker.unsubscribe()
        took = time.monotonic() - started
        assert took < PROMPT_S, f"round {number}: unsubscribe took {took:.1f} s"
        thread.join(PROMPT_S)
        assert not thread.is_alive(), f"round {number}: the listener thread outlived the worker"
        assert worker.pubsub.connection is None  # the thread closed its own connection as it left

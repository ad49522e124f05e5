"""The embedded Redis (one server per data directory, persistent) and the single-active lock (one bot per token,
one cron scheduler), on real servers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from tgesc.adapters.redis_server import connect, embedded_url, ensure_embedded, stop_embedded
from tgesc.adapters.single_lock import CRON_LOCK, SingleActiveLock, bot_lock_name
from tgesc.domain.errors import DependencyUnavailable


@pytest.fixture
def home(tmp_path):
    yield tmp_path / "data"
    stop_embedded(tmp_path / "data")


def test_embedded_server_is_shared_started_once_and_keeps_data_across_restarts(home):
    with ThreadPoolExecutor(4) as pool:  # callers starting together get one server
        sockets = set(pool.map(lambda _: ensure_embedded(home), range(4)))
    assert sockets == {home / "redis.sock"}
    pid = (home / "redis.pid").read_text().strip()
    client = connect("", home)
    client.set("kept", "yes")
    assert embedded_url(home) == f"unix://{home / 'redis.sock'}"
    assert stop_embedded(home)
    assert not stop_embedded(home)  # nothing runs any more
    assert connect("", home).get("kept") == b"yes"
    assert (home / "redis.pid").read_text().strip() != pid  # a new server, same data


def test_unreachable_redis_is_a_dependency_error_with_the_password_masked():
    with pytest.raises(DependencyUnavailable, match=r"redis://:\*\*\*\*\*\*\*\*@127.0.0.1:1/0") as caught:
        connect("redis://:secret@127.0.0.1:1/0", Path("/nonexistent"))
    assert "secret" not in str(caught.value)


def test_a_second_bot_waits_and_takes_over_when_the_first_dies(redis_url):
    client = redis.Redis.from_url(redis_url)
    first = SingleActiveLock(client, bot_lock_name("123:token"), ttl_s=1.0)
    assert first.acquire(wait_s=0)
    second, waited = SingleActiveLock(client, bot_lock_name("123:token"), ttl_s=1.0), threading.Event()
    assert not second.acquire(wait_s=1.5, poll_s=0.05, on_wait=waited.set)  # the holder keeps refreshing
    assert waited.is_set()
    first._stop.set()  # the holder dies without releasing: only the TTL frees the lock
    first._refresher.join()
    assert second.acquire(wait_s=3, poll_s=0.05)
    assert client.pttl(bot_lock_name("123:token")) > 0
    other_token = SingleActiveLock(client, bot_lock_name("456:other"), ttl_s=1.0)
    assert other_token.acquire(wait_s=0)  # per bot token
    second.release()
    other_token.release()
    assert not client.exists(bot_lock_name("123:token"))


def test_a_holder_that_loses_the_lock_is_told(redis_url):
    client, lost = redis.Redis.from_url(redis_url), threading.Event()
    lock = SingleActiveLock(client, bot_lock_name("123:token"), ttl_s=0.3, on_lost=lost.set)
    assert lock.acquire(wait_s=0)
    client.delete(bot_lock_name("123:token"))  # e.g. Redis flushed or the key expired while frozen
    assert lost.wait(2)
    lock.release()


def test_the_cron_lock_is_one_for_all_and_a_standby_stops_waiting_when_told(redis_url):
    client = redis.Redis.from_url(redis_url)
    active = SingleActiveLock(client, CRON_LOCK, ttl_s=1.0)
    assert active.acquire(wait_s=0) and active.owned()
    standby, stopping = SingleActiveLock(client, CRON_LOCK, ttl_s=1.0), threading.Event()
    threading.Timer(0.3, stopping.set).start()
    assert not standby.acquire(poll_s=0.05, stop=stopping.is_set)  # waiting for ever, until told to stop
    assert not standby.owned()
    client.delete(CRON_LOCK)  # lost (e.g. Redis flushed): the holder knows it before it acts ...
    assert not active.owned()
    active.release()
    assert active.acquire(wait_s=0) and active.owned()  # ... and may take it again
    active.release()
    assert not client.exists(CRON_LOCK)

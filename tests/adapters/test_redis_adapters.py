"""The embedded Redis (one server per data directory, persistent) and the single-bot lock, on real servers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from tgesc.adapters.bot_lock import BotLock, lock_name
from tgesc.adapters.redis_server import connect, embedded_url, ensure_embedded, stop_embedded
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
    first = BotLock(client, "123:token", ttl_s=1.0)
    assert first.acquire(wait_s=0)
    second, waited = BotLock(client, "123:token", ttl_s=1.0), threading.Event()
    assert not second.acquire(wait_s=1.5, poll_s=0.05, on_wait=waited.set)  # the holder keeps refreshing
    assert waited.is_set()
    first._stop.set()  # the holder dies without releasing: only the TTL frees the lock
    first._refresher.join()
    assert second.acquire(wait_s=3, poll_s=0.05)
    assert client.pttl(lock_name("123:token")) > 0
    other_token = BotLock(client, "456:other", ttl_s=1.0)
    assert other_token.acquire(wait_s=0)  # per bot token
    second.release()
    other_token.release()
    assert not client.exists(lock_name("123:token"))


def test_a_holder_that_loses_the_lock_is_told(redis_url):
    client, lost = redis.Redis.from_url(redis_url), threading.Event()
    lock = BotLock(client, "123:token", ttl_s=0.3, on_lost=lost.set)
    assert lock.acquire(wait_s=0)
    client.delete(lock_name("123:token"))  # e.g. Redis flushed or the key expired while frozen
    assert lost.wait(2)
    lock.release()

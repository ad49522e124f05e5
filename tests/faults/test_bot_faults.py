"""The bot as a process (tests/bot_desk.py) through a burst of 500 customer messages while its database fails under
it: its PostgreSQL connections cut (a failover), the PostgreSQL server restarted, a SQLite write lock held past the
busy timeout (a backup, a `sqlite3` shell). Every message is stored exactly once, every answer and notice sent
exactly once, nothing becomes a dead letter, and the bot is still serving afterwards. And Redis gone and back, or
flushed: the bot stops serving (its single-bot lock is lost), takes the lock again and serves on, by itself.
PostgreSQL and Redis are servers of the tests' own (tests/own_servers.py), never the machine's.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from collections.abc import Callable

import pytest
from bot_desk import bot_desk, burst_plan, customer_messages, sent_exactly_once, settled
from own_servers import OwnRedis
from remote_wire import wait_until

from tgesc.db import reconnect
from tgesc.models import DeadLetter, Message, database

pytestmark = pytest.mark.slow  # real processes: seconds each

CUSTOMERS, MESSAGES = 50, 500
SQLITE_LOCK_S = 12.0  # past SQLite's busy timeout (10 s: tgesc.db.SQLITE_PRAGMAS)


@pytest.fixture
def desk_on(tmp_path, redis_url, monkeypatch):
    monkeypatch.chdir(tmp_path)  # kurigram appends unknown errors to ./unknown_errors.txt

    def make(database_url: str):
        return bot_desk(tmp_path, database_url, redis_url)

    return make


def burst_through(desk, fault: Callable[[], None], *, fault_after: int = 150) -> None:
    """Push the burst to a running bot; once it has stored `fault_after` messages, `fault()`; then check that
    everything came through exactly once and the bot still serves."""
    started = time.monotonic()
    bot = desk.start_bot()
    desk.wait_ready(bot, 1)
    desk.introduce_staff_chats()
    plan = burst_plan(customers=CUSTOMERS, total=MESSAGES)
    pushed = [desk.says(desk.customer(who), text) for who, text in plan[:MESSAGES // 2]]
    wait_until(lambda: len(customer_messages()) >= fault_after, 30, f"the bot to store {fault_after} messages")
    fault()
    pushed += [desk.says(desk.customer(who), text) for who, text in plan[MESSAGES // 2:]]
    reconnect(database)  # the test's own connection may have met the fault too
    wait_until(lambda: settled(MESSAGES), 120, "every message stored and every answer delivered")

    assert customer_messages() == set(pushed)
    assert Message.select().where(Message.sender == "customer").count() == MESSAGES
    kinds = sent_exactly_once(desk.wire)
    assert kinds["card"] > 0 and kinds["message"] > MESSAGES // 10
    assert not DeadLetter.select().exists()
    assert "not handled (OperationalError" in bot.log() or "not handled (InterfaceError" in bot.log(), \
        "the fault never reached the bot's handling"
    assert "Traceback" not in bot.log().split("not handled", 1)[0]  # a traceback only for a retried failure

    after = desk.says(desk.customer(CUSTOMERS + 1), "Hello, I have a question about my order")
    wait_until(lambda: after in customer_messages(), 20, "the bot to go on serving")
    bot.signal(signal.SIGTERM)
    assert bot.wait(10) == 0, bot.log()[-3000:]
    print(f"{MESSAGES} messages through the fault in {time.monotonic() - started:.1f} s")


def test_connections_cut_during_a_burst(desk_on, own_postgres, own_postgres_url):
    with desk_on(own_postgres_url) as desk:
        burst_through(desk, lambda: [own_postgres.terminate_connections() for _ in range(2)])


def test_postgresql_restarted_during_a_burst(desk_on, own_postgres, own_postgres_url):
    with desk_on(own_postgres_url) as desk:
        burst_through(desk, own_postgres.restart)


def test_a_sqlite_lock_held_past_the_busy_timeout_during_a_burst(desk_on, sqlite_url, tmp_path):
    locked, released = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with sqlite3.connect(tmp_path / "tgesc.db", isolation_level=None, timeout=30) as other:
            other.execute("BEGIN IMMEDIATE")
            locked.set()
            released.wait(SQLITE_LOCK_S)  # what a backup or an open `sqlite3` shell does to every writer
            other.execute("COMMIT")

    holder = threading.Thread(target=hold_the_write_lock, daemon=True)

    def lock() -> None:
        holder.start()
        assert locked.wait(30)

    with desk_on(sqlite_url) as desk:
        try:
            burst_through(desk, lock)
        finally:
            released.set()
            holder.join(30)


@pytest.mark.parametrize("fault", ["gone and back", "flushed"])
def test_redis_gone_and_back_or_flushed_under_the_bot(tmp_path, sqlite_url, monkeypatch, fault):
    monkeypatch.chdir(tmp_path)
    with OwnRedis(tmp_path / "redis") as server, bot_desk(tmp_path, sqlite_url, server.url) as desk:
        bot = desk.start_bot()
        desk.wait_ready(bot, 1)
        desk.introduce_staff_chats()
        before = desk.says(desk.customer(1), "Hello, I have a question about my order")
        wait_until(lambda: settled(1), 20, "the first message stored and answered")
        if fault == "flushed":
            server.flush()
        else:
            server.stop()
            wait_until(lambda: "lost the lock" in bot.log(), 30, "the bot to notice its lock is gone")
            server.start()
        desk.wait_ready(bot, 2)  # it connected to Telegram again, as the active bot
        after = desk.says(desk.customer(2), "I want a refund, I was charged twice")
        wait_until(lambda: settled(2), 30, "the bot to serve on after Redis came back")
        assert customer_messages() == {before, after}
        assert "waiting to take the lock again" in bot.log() and "Traceback" not in bot.log(), bot.log()[-3000:]
        bot.signal(signal.SIGTERM)
        assert bot.wait(15) == 0, bot.log()[-3000:]

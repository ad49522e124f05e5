"""Fault test: Redis is flushed in the middle of a run (the bot delivering a batch of outbox rows, `tgesc worker
cron` and `tgesc worker run` running). Every `telegram` job is lost, and with it the bot's and the cron's locks:
the bot stops serving (it cannot know whether another bot took over) and takes its lock again, the cron takes its
lock again and fires the outbox relay at once, which gives every pending row its job back. The bot delivers the
rest, and nothing is sent twice. Telegram is the FakeWire in this process (tests/remote_wire.py)."""

from __future__ import annotations

import signal
from collections import Counter

import pytest
import redis
from bot_support import calls_by_random_id
from pyrogram import raw
from worker_support import START, TESTS, Processes, wait_until, wired_processes

from tgesc.adapters.jobs import enqueue_deliveries
from tgesc.db import write_transaction
from tgesc.models import Message, Outbox
from tgesc.services.outbox import rows as outbox

pytestmark = pytest.mark.slow  # real processes: seconds each

BOT = str(TESTS / "bot_process.py")
CUSTOMERS, ROWS_EACH = 4, 20
LOCK_TTL_S = 3


@pytest.fixture
def desk(tmp_path, sqlite_url, redis_url, monkeypatch):
    monkeypatch.chdir(tmp_path)  # kurigram appends unknown errors to ./unknown_errors.txt
    with wired_processes(tmp_path, sqlite_url, redis_url, RELAY_EVERY="1s", SEND_RATE="1000/1s", CHAT_RATE="5/1s",
                         GROUP_RATE="1000/1s", FLOOD_LIMIT="1000/1m", TEST_LOCK_TTL=str(LOCK_TTL_S)) as processes:
        yield processes


def start_bot(desk: Processes, connection: int):
    """The bot on real time (its sending rates need a clock that moves), ready once it caught up."""
    bot = desk.start(BOT, env={"TGESC_CLOCK": ""})
    def ready() -> bool:
        assert bot.alive(), bot.log()[-3000:]
        return (desk.server.connections >= connection and desk.server.connected
                and len(desk.wire.sent(raw.functions.updates.GetDifference)) >= connection)
    wait_until(ready, 30, f"bot {connection} to connect and catch up")
    return bot


def pending() -> set[int]:
    return {r for (r,) in Outbox.select(Outbox.id).where(Outbox.status == "pending").tuples()}


def test_a_redis_flush_mid_run_loses_no_delivery_and_sends_nothing_twice(desk, redis_url):
    client = redis.Redis.from_url(redis_url)
    bot = start_bot(desk, 1)
    worker, cron = desk.start("run"), desk.start("cron")
    cron.wait_log("active cron scheduler", 20)

    people = [desk.wire.user(70_000 + n, first_name=f"Cust{n}", username=f"cust{n}", lang_code="en")
              for n in range(CUSTOMERS)]
    for person in people:  # the bot learns each customer (and answers them)
        desk.server.push(desk.wire.private_text(person, "Hello, I have a question about my order"))
    wait_until(lambda: Message.select().where(Message.sender == "customer").count() == CUSTOMERS and not pending(),
               20, "the customers' messages handled and answered")

    with write_transaction(Outbox._meta.database):  # a batch for the bot, written by another process
        for number in range(ROWS_EACH):
            for person in people:
                outbox.queue(None, person.id, f"update {number} for {person.first_name}", now=START)
    batch = sorted(pending())
    assert len(batch) == CUSTOMERS * ROWS_EACH
    enqueue_deliveries(client, batch)  # as the CLI does: a `telegram` job per row
    wait_until(lambda: len(batch) - len(pending()) >= 10, 20, "the bot to send part of the batch")

    at_flush = len(pending())
    client.flushdb()  # mid-run: the jobs of the rows not sent yet, both locks, RQ's bookkeeping
    wait_until(lambda: "waiting to take the lock again" in bot.log(), LOCK_TTL_S + 10,
               "the bot to stop serving: its lock went with the flush")
    assert "lost the lock" in bot.log()
    wait_until(lambda: "had lost their telegram job; enqueued again" in worker.log(), 15,
               "the relay to give the pending rows their telegram jobs back")
    wait_until(lambda: cron.log().count("active cron scheduler") == 2, 15, "the cron to take its lock again")

    wait_until(lambda: desk.server.connections >= 2, 30, "the bot to take its lock again and reconnect")
    wait_until(lambda: not pending(), 30, "the rest of the batch delivered")
    assert bot.alive()

    rows = list(Outbox.select().order_by(Outbox.id))
    assert Counter(r.status for r in rows) == {"sent": len(rows)}
    calls = calls_by_random_id(desk.wire, raw.functions.messages.SendMessage)
    on_wire = Counter((chat, q.message) for (chat, _), q in calls.items())
    expected = Counter((r.chat_id, r.text) for r in rows)
    assert on_wire == expected, f"sent twice: {on_wire - expected}; never sent: {expected - on_wire}"
    assert desk.wire.duplicates == 0  # not even a repeated call: the bot stopped between two messages
    print(f"relay fault test: {len(batch)} rows; {at_flush} pending at the flush")

    for proc in (bot, worker, cron):
        proc.signal(signal.SIGTERM)
    for proc in (bot, worker, cron):
        assert proc.wait(15) == 0, proc.log()[-3000:]
        assert "Traceback" not in proc.log(), proc.log()[-3000:]
    client.close()

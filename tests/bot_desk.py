"""`tgesc worker bot` as a process of its own on a desk of the test's (tests/bot_process.py: `run_bot` with the real
RQ worker, sender thread, Redis lock, database and kurigram client), Telegram being a FakeWire in the test process
(tests/remote_wire.py), and what the tests check of it afterwards.

    with bot_desk(tmp_path, database_url, redis_url) as desk:
        bot = desk.start_bot(); desk.wait_ready(bot, 1); desk.introduce_staff_chats()
        desk.says(desk.customer(1), "I want a refund")    # pushed to the bot (or logged when none runs)
        wait_until(lambda: settled(1), 20, "the message stored and answered")
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot_support import calls_by_random_id
from pyrogram import enums, raw
from pyrogram.parser import Parser
from remote_wire import WireServer, wait_until
from support import empty_env_file
from worker_support import Proc

from tgesc.adapters.clock import utc_now
from tgesc.adapters.telegram.wire import FakeWire
from tgesc.models import Message, Outbox, SentMessage
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.config.defaults import initialise

TESTS = Path(__file__).resolve().parent
BOT_PROCESS = TESTS / "bot_process.py"
LOCK_TTL_S = 3.0
START_TIMEOUT_S = 30.0
STAFF = {"bob": (5001, "agent", ["L1"]), "carol": (5002, "agent", ["L2"]), "dave": (5003, "admin", ["L3"])}


@dataclass
class Desk:
    """The test side: the desk's database, the wire and its server, and the bot processes started on them."""

    wire: FakeWire
    server: WireServer
    env: dict[str, str]
    tmp_path: Path
    chats: dict[str, int] = field(default_factory=dict)
    people: dict[str, raw.types.User] = field(default_factory=dict)
    bots: list[Proc] = field(default_factory=list)

    def start_bot(self) -> Proc:
        bot = Proc([sys.executable, str(BOT_PROCESS)], self.env, self.tmp_path,
                   self.tmp_path / f"bot-{len(self.bots) + 1}.log")
        self.bots.append(bot)
        return bot

    def wait_ready(self, bot: Proc, connection: int, timeout: float = START_TIMEOUT_S) -> None:
        """Wait until `bot` is the `connection`th bot on the wire and has caught up (its getDifference)."""
        def caught_up() -> bool:
            if not bot.alive():
                raise AssertionError(f"bot {bot.pid} exited with {bot.proc.returncode}:\n{bot.log()[-3000:]}")
            return (self.server.connections >= connection and self.server.connected
                    and len(self.wire.sent(raw.functions.updates.GetDifference)) >= connection)
        wait_until(caught_up, timeout, f"bot {bot.pid} to connect and catch up")

    def introduce_staff_chats(self) -> None:
        """The bot was added to each staff chat (the client learns the chats from these updates)."""
        for chat in self.chats.values():
            self.server.push(self.wire.service(chat, self.people["dave"]))

    def customer(self, index: int) -> raw.types.User:
        name = f"cust{index}"
        if name not in self.people:
            self.people[name] = self.wire.user(70_000 + index, first_name=f"Cust{index}", username=name,
                                               lang_code="en")
        return self.people[name]

    def says(self, who: raw.types.User, text: str) -> tuple[int, int]:
        """A customer writes; the update is pushed to the bot (or only logged, when none is connected)."""
        updates = self.wire.private_text(who, text)
        self.server.push(updates)
        return who.id, updates.updates[0].message.id



@contextlib.contextmanager
def bot_desk(tmp_path: Path, database_url: str, redis_url: str, **settings: str) -> Iterator[Desk]:
    """An initialised desk at `database_url` with staff chats and staff, its wire and server, the environment of
    its bot processes (`settings`: more TGESC_* settings, e.g. LOG_LEVEL="DEBUG"). Afterwards every bot started is
    killed, and the wire must have answered every request it was sent."""
    from tgesc.db import open_database

    db = open_database(database_url, create=True)
    now = utc_now()
    initialise(db, now=now, actor="test")
    wire = FakeWire()
    server = WireServer(wire)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TGESC_")}
    env.update(server.env())
    env.update(
        PYTHONPATH=os.pathsep.join([str(TESTS), str(TESTS.parent)]),
        TGESC_HOME=str(tmp_path / "home"), TGESC_ENV_FILE=empty_env_file(tmp_path),
        TGESC_DATABASE_URL=database_url, TGESC_REDIS_URL=redis_url, TGESC_LOG_LEVEL="INFO",
        TGESC_API_ID="12345", TGESC_API_HASH="api-hash-secret", TGESC_BOT_TOKEN=wire.bot_token,
        # fast enough to deliver a burst within the test's time; Telegram's own rates are tested elsewhere
        TGESC_SEND_RATE="1000/1s", TGESC_CHAT_RATE="1000/1s", TGESC_GROUP_RATE="1000/1s",
        TGESC_FLOOD_LIMIT="1000/1m", TGESC_TEST_LOCK_TTL=str(LOCK_TTL_S))
    env.update({f"TGESC_{name.upper()}": value for name, value in settings.items()})
    desk = Desk(wire, server, env, tmp_path)
    desk.chats = {"L1": wire.group("Staff L1"), "L2": wire.supergroup("Staff L2", forum=True),
                  "L3": wire.supergroup("Staff L3", forum=True)}
    for code, chat in desk.chats.items():
        set_entry(db, "tiers", code, {"staff_chat": chat, "forum": code != "L1"}, actor="test", now=now)
    for handle, (user_id, role, tiers) in STAFF.items():
        add_entry(db, "staff", handle, {"id": user_id, "name": handle.title(), "role": role, "tiers": tiers},
                  actor="test", now=now)
        desk.people[handle] = wire.user(user_id, first_name=handle.title(), username=handle)
    try:
        yield desk
    finally:
        for bot in desk.bots:
            bot.kill()
        server.close()
        db.close()
    assert not wire.unhandled, f"the fake server was asked what it cannot answer: {wire.unhandled}"


def plain(html_text: str) -> str:
    """What the library sends for an HTML text (markup parsed into entities)."""
    return asyncio.run(Parser(None).parse(html_text, enums.ParseMode.HTML))["message"]


def customer_messages() -> set[tuple[int, int]]:
    return set(Message.select(Message.chat_id, Message.message_id).where(Message.sender == "customer").tuples())


def settled(expected: int) -> bool:
    """All `expected` customer messages stored and nothing left to send."""
    return (Message.select().where(Message.sender == "customer").count() == expected
            and not Outbox.select().where(Outbox.status == "pending").exists())


TEXTS = [
    "Hello, I have a question about my order",
    "I want a refund, I was charged twice",
    "Where do I find the invoice?",
    "My account suspended since this morning",
    "How do I set up 2fa?",
    "I think there was a data leak",
    "Thanks, waiting for your answer",
    "It still does not work",
]


def burst_plan(customers: int, total: int, seed: int = 7) -> list[tuple[int, str]]:
    """`total` messages from `customers` customers, interleaved; each customer's first text decides its ticket."""
    rng = random.Random(seed)
    order = [i % customers for i in range(total)]
    rng.shuffle(order)
    count: Counter[int] = Counter()
    plan = []
    for who in order:
        count[who] += 1
        text = TEXTS[who % len(TEXTS)] if count[who] == 1 else f"{rng.choice(TEXTS)} (message {count[who]})"
        plan.append((who, text))
    return plan



def sent_exactly_once(wire: FakeWire) -> Counter:
    """Check that every outbox row was sent, each exactly once on the wire (a call the bot made again after a crash
    repeats its random_id, which Telegram answers with the first call's message); the rows' kinds counted."""
    rows = list(Outbox.select().order_by(Outbox.id))
    assert Counter(r.status for r in rows) == {"sent": len(rows)}
    expected = Counter((r.chat_id, plain(r.text)) for r in rows if r.kind in ("message", "card"))
    sends = calls_by_random_id(wire, raw.functions.messages.SendMessage)
    on_wire = Counter((chat, q.message) for (chat, _), q in sends.items())
    assert on_wire == expected, f"sent twice: {on_wire - expected}; never sent: {expected - on_wire}"
    cards = [r for r in rows if r.kind == "card" and r.payload.get("forum")]
    assert len(calls_by_random_id(wire, raw.functions.messages.CreateForumTopic)) == len(cards)
    assert SentMessage.select().count() == sum(on_wire.values()) + len(cards)
    return Counter(r.kind for r in rows)

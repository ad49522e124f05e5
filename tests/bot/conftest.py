"""A whole bot on a fake wire: the real kurigram client (offline), the real dispatcher, services, database
and delivery, with a virtual clock. Telegram itself is the only fake (tgesc/adapters/telegram/wire.py)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bot_support import peer_id
from pyrogram import raw

from tgesc.adapters.telegram import TelegramConnection
from tgesc.adapters.telegram.wire import FakeWire
from tgesc.domain.rates import Rate
from tgesc.domain.send_schedule import SendSchedule
from tgesc.models import Outbox
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.telegram.customers import CustomerDesk
from tgesc.services.telegram.delivery import Delivery
from tgesc.services.telegram.dispatch import BotDispatcher

MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # Monday: the default L2 calendar (09-18 UTC) is open
STAFF = {"bob": (5001, "agent", ["L1"]), "carol": (5002, "agent", ["L2"]), "dave": (5003, "admin", [])}


@dataclass
class VirtualClock:
    now: datetime = MON_10

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def seconds(self) -> int:
        return int(self.now.timestamp())


@dataclass
class Bot:
    """The desk as the tests drive it: people write (through the wire), the bot answers (`deliver`)."""

    db: object
    wire: FakeWire
    clock: VirtualClock
    data_dir: Path
    desk: CustomerDesk
    connection: TelegramConnection | None = None
    delivery: Delivery | None = None
    chats: dict[str, int] = field(default_factory=dict)
    people: dict[str, raw.types.User] = field(default_factory=dict)

    def start(self) -> Bot:
        dispatcher = BotDispatcher(self.db, self.desk, self.clock)
        self.connection = TelegramConnection(
            "desk", self.data_dir, 12345, "api-hash", self.wire.bot_token, handlers=dispatcher,
            session_factory=self.wire.session_factory)
        self.connection.start()
        self.desk.bot_username = self.connection.bot.username
        schedule = SendSchedule(Rate(25, 1), Rate(1, 1), Rate(20, 60))
        self.delivery = Delivery(self.db, self.connection, schedule, clock=self.clock, sleep=self.clock.sleep)
        return self

    def stop(self) -> None:
        if self.connection is not None:
            self.connection.stop()
            self.connection = None

    def restart_forgetting_updates(self) -> None:
        """Stop, lose the client's update state (pts back to 0) and start again: the catch-up hands every update
        over again, as after a lost session file."""
        self.stop()
        session = sqlite3.connect(self.data_dir / "desk.session")
        with session:
            session.execute("UPDATE update_state SET pts = 0")
        session.close()
        self.start()
        self.connection.drain()

    def person(self, name: str, user_id: int, language: str = "en") -> raw.types.User:
        if name not in self.people:
            self.people[name] = self.wire.user(user_id, first_name=name.title(), username=name, lang_code=language)
        return self.people[name]

    def says(self, name: str, text: str = "", *, media: str | None = None, after: float = 10) -> None:
        """A customer writes to the bot in private, `after` seconds after the previous step."""
        self.clock.sleep(after)
        user = self.people[name]
        self.connection.feed(self.wire.private_media(user, media, caption=text) if media
                             else self.wire.private_text(user, text))

    def burst(self, *lines: tuple[str, str]) -> None:
        """Customers write (name, text) one right after another: the bot gets them queued together, as a run."""
        self.clock.sleep(10)
        self.connection.feed([self.wire.private_text(self.people[name], text) for name, text in lines])

    def staff_says(self, name: str, chat: str, text: str, *, thread_id: int | None = None,
                   reply_to: int | None = None, after: float = 10) -> None:
        self.clock.sleep(after)
        self.connection.feed(self.wire.group_text(self.chats[chat], self.people[name], text, thread_id=thread_id,
                                                  reply_to=reply_to))

    def deliver(self, budget_s: float = 3600) -> int:
        """Send everything due within `budget_s` virtual seconds."""
        return self.delivery.pump(budget_s)

    def sent(self, kind=raw.functions.messages.SendMessage) -> list:
        return self.wire.sent(kind)

    def texts_to(self, chat_id: int) -> list[str]:
        """The texts the bot sent to `chat_id`, in order."""
        return [request.message for request in self.sent() if peer_id(request.peer) == chat_id]

    def pending(self) -> list[Outbox]:
        return list(Outbox.select().where(Outbox.status == "pending").order_by(Outbox.id))


@pytest.fixture
def bot(db, tmp_path, monkeypatch):
    """A started bot on an initialised desk: L1's staff chat a plain group, L2's and L3's forums; staff bob (L1),
    carol (L2), dave (admin); customer alice (en) and wang (zh)."""
    monkeypatch.chdir(tmp_path)  # kurigram appends unknown errors to ./unknown_errors.txt
    clock = VirtualClock()
    wire = FakeWire(clock=clock.seconds)
    initialise(db, now=clock(), actor="test")
    harness = Bot(db, wire, clock, tmp_path / "data", CustomerDesk(None, Rate(20, 60)))
    harness.chats = {"L1": wire.group("Staff L1"), "L2": wire.supergroup("Staff L2", forum=True),
                     "L3": wire.supergroup("Staff L3", forum=True)}
    for code, chat in harness.chats.items():
        set_entry(db, "tiers", code, {"staff_chat": chat, "forum": code != "L1"}, actor="test", now=clock())
    for handle, (user_id, role, tiers) in STAFF.items():
        add_entry(db, "staff", handle, {"id": user_id, "name": handle.title(), "role": role, "tiers": tiers},
                  actor="test", now=clock())
        harness.person(handle, user_id)
    harness.person("alice", 1001)
    harness.person("wang", 1002, "zh")
    harness.start()
    for chat in harness.chats.values():  # the bot was added to each staff chat: the client knows them
        harness.connection.feed(wire.service(chat, harness.people["dave"]))
    yield harness
    harness.stop()
    assert not wire.unhandled, f"the fake server was asked what it cannot answer: {wire.unhandled}"

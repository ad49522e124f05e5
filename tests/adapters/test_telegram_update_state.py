"""What a kill -9 of the bot must not lose or repeat, at the adapter: the session file's update state only ever
covers updates that were handled (live and caught up), and an outbound call repeated with its random_id makes no
second message (tests/bot/test_bot_process.py kills a real bot process in a burst)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from pyrogram import raw

from tgesc.adapters.telegram import TelegramConnection
from tgesc.adapters.telegram.wire import FakeWire
from tgesc.domain.telegram import IncomingMessage


def _saved_pts(data_dir: Path) -> int | None:
    """The common box's pts in the session file, read as a restarted bot would."""
    with sqlite3.connect(data_dir / "desk.session") as db:
        row = db.execute("SELECT pts FROM update_state WHERE id = 0").fetchone()
    return row[0] if row else None


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def connect(data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made: list[TelegramConnection] = []

    def make(wire: FakeWire, on_message) -> TelegramConnection:
        handlers = SimpleNamespace(on_message=on_message, on_messages=lambda run: [on_message(*item) for item in run],
                                   on_press=lambda press, raw: None,
                                   on_unreadable=lambda kind, raw, error: None)
        conn = TelegramConnection("desk", data_dir, 12345, "api-hash", wire.bot_token, handlers=handlers,
                                  session_factory=wire.session_factory)
        made.append(conn)
        conn.start()
        return conn

    yield make
    for conn in made:
        conn.stop()


def test_the_update_state_saved_never_covers_an_update_not_yet_handled(connect, data_dir):
    wire = FakeWire()
    ann = wire.user(username="ann")
    seen: list[tuple[str, int | None]] = []

    def handler(message: IncomingMessage, raw: object) -> None:  # what a process killed right now would restart from
        seen.append((message.text, _saved_pts(data_dir)))

    conn = connect(wire, handler)
    conn.feed(wire.private_text(ann, "one"))
    assert seen == [("one", 0)]
    conn.feed([wire.private_text(ann, text) for text in ("two", "three", "four")])  # queued together: one run
    assert seen[1:] == [("two", 1), ("three", 1), ("four", 1)]  # the library had already stored pts 4 for each
    assert _saved_pts(data_dir) == 4
    conn.stop()

    seen.clear()
    for text in ("five", "six", "seven"):  # while the bot is down
        wire.private_text(ann, text)
    conn = connect(wire, handler)
    conn.drain()
    assert seen == [("five", 4), ("six", 4), ("seven", 4)]  # the catch-up's state is saved behind its updates
    assert _saved_pts(data_dir) == 7


def test_a_call_repeated_with_its_random_id_makes_one_message(connect):
    wire = FakeWire()
    ann = wire.user(username="ann")
    forum = wire.supergroup(forum=True)
    conn = connect(wire, lambda message, raw: None)
    conn.feed([wire.private_text(ann, "hi"), wire.service(forum, ann)])

    first = conn.send_message(ann.id, "<b>sorry</b> for the wait", random_id=-42)
    again = conn.send_message(ann.id, "<b>sorry</b> for the wait", random_id=-42)  # e.g. after a crash
    other = conn.send_message(ann.id, "<b>sorry</b> for the wait")
    assert first == again != other
    sends = wire.sent(raw.functions.messages.SendMessage)
    assert [q.random_id for q in sends][:2] == [-42, -42] and sends[2].random_id != -42
    topic = conn.create_topic(forum, "#1 Ann", random_id=7)
    assert conn.create_topic(forum, "#1 Ann", random_id=7) == topic
    copied = conn.copy_message(forum, ann.id, 1, thread_id=topic, random_id=8)
    assert conn.copy_message(forum, ann.id, 1, thread_id=topic, random_id=8) == copied
    assert wire.duplicates == 3

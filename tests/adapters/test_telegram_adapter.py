"""The Telegram adapter through the real kurigram library: raw updates in (client.handle_updates), raw TL
functions out (a fake server at the session layer, tgesc/adapters/telegram/wire.py). Nothing of tgesc is mocked."""

from __future__ import annotations

import hashlib
import os
import select
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC
from pathlib import Path
from types import SimpleNamespace

import pytest
from pyrogram import errors, raw
from pyrogram.file_id import FileId, FileType

from tgesc.adapters.telegram import DurableStorage, TelegramConnection
from tgesc.adapters.telegram.journal import journal_since
from tgesc.adapters.telegram.wire import MEDIA_KINDS, FakeWire
from tgesc.domain.errors import ConfigInvalid, DependencyUnavailable
from tgesc.domain.telegram import BotRights, Button, ButtonPress, IncomingMessage, RetryAfter, Undeliverable

TESTS = Path(__file__).resolve().parents[1]
SendMessage = raw.functions.messages.SendMessage


class Inbox:
    """What the handlers received, in order (an `UpdateHandlers`)."""

    def __init__(self) -> None:
        self.messages: list[IncomingMessage] = []
        self.presses: list[ButtonPress] = []
        self.unreadable: list[tuple[str, str, str]] = []
        self.threads: set[str] = set()

    def on_message(self, message: IncomingMessage, raw: object = None) -> None:
        self.threads.add(threading.current_thread().name)
        self.messages.append(message)

    def on_messages(self, run) -> None:
        for message, rendered in run:
            self.on_message(message, rendered)

    def on_press(self, press: ButtonPress, raw: object = None) -> None:
        self.presses.append(press)

    def on_unreadable(self, kind: str, raw: str, error: str) -> None:
        self.unreadable.append((kind, raw, error))

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.messages]


def one_at_a_time(on_message, **handlers) -> SimpleNamespace:
    """Handlers whose runs of messages go to `on_message` one by one (a raise hands the whole run over again)."""
    return SimpleNamespace(on_message=on_message, on_messages=lambda run: [on_message(*item) for item in run],
                           **handlers)


@pytest.fixture
def wire() -> FakeWire:
    return FakeWire()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def connect(wire, data_dir):
    """connect(inbox=None, wire=None) -> a started offline TelegramConnection on `data_dir` (stopped at the end)."""
    made: list[TelegramConnection] = []

    def make(inbox: Inbox | None = None, *, on_wire: FakeWire | None = None, **handlers) -> TelegramConnection:
        box = inbox or Inbox()
        server = on_wire or wire
        conn = TelegramConnection(
            "desk", data_dir, 12345, "api-hash-secret", server.bot_token, handlers=one_at_a_time(
                on_message=handlers.get("on_message", box.on_message), on_press=handlers.get("on_press", box.on_press),
                on_unreadable=handlers.get("on_unreadable", box.on_unreadable)),
            session_factory=server.session_factory)
        conn.inbox = box
        made.append(conn)
        conn.start()
        return conn

    yield make
    for conn in made:
        conn.stop()
    assert not wire.unhandled, f"the fake server was asked what it cannot answer: {wire.unhandled}"


# --- inbound -------------------------------------------------------------------------------------------------


def test_private_text_arrives_with_the_senders_access_hash(connect, wire):
    conn = connect()
    ann = wire.user(first_name="Ann", last_name="Lee", username="ann_lee", lang_code="ru")
    updates = wire.private_text(ann, "my order is late")
    conn.feed(updates)

    [message] = conn.inbox.messages
    assert message == IncomingMessage(
        chat_id=ann.id, chat_type="private", message_id=updates.updates[0].message.id, sender=message.sender,
        sent_at=message.sent_at, text="my order is late")
    sender = message.sender
    assert (sender.id, sender.access_hash, sender.username) == (ann.id, ann.access_hash, "ann_lee")
    assert (sender.first_name, sender.last_name, sender.language_code, sender.is_bot) == ("Ann", "Lee", "ru", False)
    assert message.sent_at.tzinfo is UTC and message.sent_at.timestamp() == updates.updates[0].message.date
    assert conn.inbox.threads == {"telegram-desk"}


@pytest.mark.parametrize("kind", MEDIA_KINDS)
def test_media_message_gives_its_type_file_id_and_caption(connect, wire, kind):
    conn = connect()
    ann = wire.user()
    conn.feed(wire.private_media(ann, kind, caption="see attached" if kind != "sticker" else ""))

    [message] = conn.inbox.messages
    assert message.media_type == kind
    assert FileId.decode(message.file_id).file_type == FileType[kind.upper()]
    assert message.text == ("see attached" if kind != "sticker" else "")


def test_an_edit_arrives_as_the_same_message_with_edited_at(connect, wire):
    conn = connect()
    ann = wire.user()
    first = wire.private_text(ann, "helo")
    conn.feed(first)
    message_id = first.updates[0].message.id
    conn.feed(wire.edit(ann.id, message_id, "hello"))

    original, edit = conn.inbox.messages
    assert (original.text, original.edited_at) == ("helo", None)
    assert (edit.message_id, edit.text, edit.sent_at) == (message_id, "hello", original.sent_at)
    assert edit.edited_at is not None and edit.edited_at.tzinfo is UTC


def test_service_messages_are_ignored(connect, wire):
    conn = connect()
    group, ann = wire.group(), wire.user()
    conn.feed([wire.service(group, ann), wire.group_text(group, ann, "hi all")])
    assert conn.inbox.texts == ["hi all"]


def test_group_message_and_reply(connect, wire):
    conn = connect()
    group, staff = wire.group("Staff L1"), wire.user(first_name="Sam")
    card = wire.group_text(group, staff, "ticket card")
    conn.feed([card, wire.group_text(group, staff, "on it", reply_to=card.updates[0].message.id)])

    first, reply = conn.inbox.messages
    assert (first.chat_id, first.chat_type, first.is_forum, first.thread_id) == (group, "group", False, None)
    assert reply.reply_to_message_id == first.message_id


def test_forum_topic_messages_carry_the_thread(connect, wire):
    conn = connect()
    forum, staff = wire.supergroup("Staff L2", forum=True), wire.user(first_name="Sam")
    topic = wire.topic(forum, "T-42")
    in_topic = wire.group_text(forum, staff, "looking", thread_id=topic)
    conn.feed(in_topic)
    conn.feed(wire.group_text(forum, staff, "done", thread_id=topic, reply_to=in_topic.updates[0].message.id))
    conn.feed(wire.group_text(forum, staff, "general chatter"))

    plain, reply, general = conn.inbox.messages
    assert (plain.chat_id, plain.chat_type, plain.is_forum) == (forum, "supergroup", True)
    assert (plain.thread_id, plain.reply_to_message_id) == (topic, None)
    assert (reply.thread_id, reply.reply_to_message_id) == (topic, plain.message_id)
    assert (general.thread_id, general.reply_to_message_id, general.is_forum) == (None, None, True)


def test_a_button_press_on_a_message_the_bot_sent(connect, wire):
    conn = connect()
    ann = wire.user()
    conn.feed(wire.private_text(ann, "hi"))
    sent = conn.send_message(ann.id, "Rate us", buttons=[[Button("5 stars", "rate:5")]])
    conn.feed(wire.callback(ann, ann.id, sent, "rate:5"))

    [press] = conn.inbox.presses
    assert (press.chat_id, press.message_id, press.data) == (ann.id, sent, "rate:5")
    assert (press.sender.id, press.sender.access_hash) == (ann.id, ann.access_hash)
    conn.answer_button(press.query_id, "Thanks!")
    answer = wire.last(raw.functions.messages.SetBotCallbackAnswer)
    assert (str(answer.query_id), answer.message) == (press.query_id, "Thanks!")


def test_messages_queued_together_go_over_as_runs_in_order_around_a_press(connect, wire):
    calls: list[object] = []
    conn = connect(on_message=lambda message, raw: calls.append(message.text),
                   on_press=lambda press, raw: calls.append(f"press {press.data}"))
    conn._handlers.on_messages = lambda run: calls.append([message.text for message, _ in run])
    ann, bob = wire.user(), wire.user(username="bob")
    conn.feed(wire.private_text(ann, "hi"))
    sent = conn.send_message(ann.id, "Rate us", buttons=[[Button("5 stars", "rate:5")]])
    conn.feed([wire.private_text(ann, "one"), wire.private_text(bob, "two"), wire.callback(ann, ann.id, sent, "rate:5"),
               wire.private_text(bob, "three")])
    assert calls == ["hi", ["one", "two"], "press rate:5", "three"]


def test_a_run_never_holds_more_than_run_max_messages(connect, wire, monkeypatch):
    monkeypatch.setattr("tgesc.adapters.telegram.connection.RUN_MAX", 3)
    runs: list[list[str]] = []
    conn = connect()
    conn._handlers.on_messages = lambda run: runs.append([message.text for message, _ in run])
    ann = wire.user()
    conn.feed([wire.private_text(ann, str(n)) for n in range(7)])
    assert runs == [["0", "1", "2"], ["3", "4", "5"]] and conn.inbox.texts == ["6"]


def test_a_whole_run_handed_over_again_is_known_to_the_flood_counters():
    from tgesc.adapters.telegram.connection import RUN_MAX
    from tgesc.domain.rates import REMEMBERED

    assert RUN_MAX <= REMEMBERED  # a run rolled back and handled one by one counts no message twice


def test_edit_message_changes_the_bots_message_and_the_same_text_again_is_no_error(connect, wire):
    conn = connect()
    ann = wire.user()
    conn.feed(wire.private_text(ann, "hi"))
    sent = conn.send_message(ann.id, "The refund goes out <b>tomorow</b>")
    conn.edit_message(ann.id, sent, "The refund goes out <b>tomorrow</b>")
    conn.edit_message(ann.id, sent, "The refund goes out <b>tomorrow</b>")  # a repeat after a crash: done already
    edited = wire._box(ann.id).messages[sent]
    assert (edited.message, edited.edit_date is not None) == ("The refund goes out tomorrow", True)
    assert [type(e).__name__ for e in edited.entities] == ["MessageEntityBold"]
    with pytest.raises(Exception, match="MESSAGE_ID_INVALID"):
        conn.edit_message(ann.id, sent + 100, "nothing there")


def test_a_button_press_after_a_restart_fetches_its_message(connect, wire):
    conn = connect()
    ann = wire.user()
    conn.feed(wire.private_text(ann, "hi"))
    sent = conn.send_message(ann.id, "Rate us", buttons=[[Button("1", "rate:1")]])
    conn.feed(wire.private_text(ann, "ok"))  # the stored pts passes our message: catch-up will not bring it
    conn.stop()

    again = connect()
    again.feed(wire.callback(ann, ann.id, sent, b"rate:1"))
    [press] = again.inbox.presses
    assert (press.message_id, press.data) == (sent, "rate:1")
    assert [i.id for i in wire.last(raw.functions.messages.GetMessages).id] == [sent]


def test_an_update_whose_handler_raises_is_handed_over_again_until_it_returns(connect, wire, monkeypatch):
    monkeypatch.setattr("tgesc.adapters.telegram.connection.RETRY_FIRST_S", 0.01)
    inbox, attempts = Inbox(), Counter()

    def flaky(message: IncomingMessage, raw: object) -> None:  # the database is down for the first three tries
        attempts[message.text] += 1
        if message.text == "during the outage" and attempts[message.text] <= 3:
            raise ConnectionError("the database is down")
        inbox.on_message(message, raw)

    conn = connect(inbox, on_message=flaky)
    ann = wire.user()
    conn.feed([wire.private_text(ann, "during the outage"), wire.private_text(ann, "after")])
    assert inbox.texts == ["during the outage", "after"]  # in order: the one behind waited its turn
    assert attempts == {"during the outage": 4, "after": 1}


def test_an_update_left_unhandled_at_a_stop_comes_again_at_the_next_start(connect, wire, monkeypatch):
    monkeypatch.setattr("tgesc.adapters.telegram.connection.RETRY_FIRST_S", 0.01)
    down, tries = threading.Event(), Counter()
    inbox = Inbox()

    def flaky(message: IncomingMessage, raw: object) -> None:
        tries[message.text] += 1
        if down.is_set():
            raise ConnectionError("the database is down")
        inbox.on_message(message, raw)

    conn = connect(inbox, on_message=flaky)
    ann = wire.user()
    conn.feed(wire.private_text(ann, "before"))
    conn.stop()
    wire.private_text(ann, "one")  # while the bot is down: the catch-up at the next start brings them
    wire.private_text(ann, "two")
    down.set()
    again = connect(inbox, on_message=flaky)
    deadline = time.monotonic() + 10
    while tries["one"] < 3:  # the catch-up's first update fails, and is tried again
        assert time.monotonic() < deadline, "the catch-up's update was never handed over"
        time.sleep(0.01)
    again.stop()  # stopped while "one" is still being retried: neither it nor "two" counts as handled
    assert inbox.texts == ["before"] and tries["two"] <= 1

    down.clear()
    third = connect(inbox, on_message=flaky)
    third.drain()
    assert inbox.texts == ["before", "one", "two"]


def test_an_update_the_library_cannot_parse_goes_whole_to_on_unreadable(connect, wire, monkeypatch):
    from pyrogram.types import Message

    conn = connect()
    ann = wire.user()
    real_parse = Message._parse

    async def failing_parse(client, message, *args, **kwargs):
        if getattr(message, "message", "") == "poison":
            raise ValueError("the library cannot read this one")
        return await real_parse(client, message, *args, **kwargs)

    monkeypatch.setattr(Message, "_parse", staticmethod(failing_parse))
    conn.feed([wire.private_text(ann, "poison"), wire.private_text(ann, "after")])
    assert conn.inbox.texts == ["after"]
    [(kind, raw_update, error)] = conn.inbox.unreadable
    assert kind == "update" and '"poison"' in raw_update and "the library cannot read this one" in error


def test_fifty_messages_of_one_chat_are_handled_in_order(connect, wire):
    conn = connect()
    ann = wire.user()
    conn.feed([wire.private_text(ann, f"m{i}") for i in range(50)])
    assert conn.inbox.texts == [f"m{i}" for i in range(50)]


# --- outbound ------------------------------------------------------------------------------------------------


def test_send_message_parses_html_and_builds_the_keyboard(connect, wire):
    conn = connect()
    ann = wire.user()
    conn.feed(wire.private_text(ann, "hi"))
    message_id = conn.send_message(
        ann.id, '<b>Ticket #7</b> &lt;escalated&gt; to <i>L2</i>, <a href="https://x.test/7">details</a>',
        buttons=[[Button("Close", "close:7"), Button("Reopen", "reopen:7")], [Button("Rate", "rate:7")]])

    request = wire.last(SendMessage)
    assert request.peer == raw.types.InputPeerUser(user_id=ann.id, access_hash=ann.access_hash)
    assert request.message == "Ticket #7 <escalated> to L2, details"
    entities = [(type(e).__name__, e.offset, e.length) for e in request.entities]
    assert entities == [("MessageEntityBold", 0, 9), ("MessageEntityItalic", 25, 2),
                        ("MessageEntityTextUrl", 29, 7)]
    assert request.entities[2].url == "https://x.test/7"
    rows = [[(b.text, b.type.data) for b in row.buttons] for row in request.reply_markup.rows]
    assert rows == [[("Close", b"close:7"), ("Reopen", b"reopen:7")], [("Rate", b"rate:7")]]
    assert {type(b.type) for row in request.reply_markup.rows for b in row.buttons} == {
        raw.types.InlineButtonTypeCallback}
    assert request.reply_to is None
    assert message_id == 2  # the next id of the common box (the customer's message was 1)


def test_send_message_into_a_forum_topic_and_as_a_reply(connect, wire):
    conn = connect()
    forum, staff = wire.supergroup(forum=True), wire.user()
    topic = wire.topic(forum)
    conn.feed(wire.group_text(forum, staff, "seen", thread_id=topic))  # the bot meets the chat
    in_topic = conn.send_message(forum, "card", thread_id=topic)
    first = wire.last(SendMessage)
    conn.send_message(forum, "reply", thread_id=topic, reply_to=in_topic)
    second = wire.last(SendMessage)

    channel_id = -forum - 1_000_000_000_000
    assert isinstance(first.peer, raw.types.InputPeerChannel) and first.peer.channel_id == channel_id
    assert (first.reply_to.reply_to_msg_id, first.reply_to.top_msg_id) == (topic, None)
    assert (second.reply_to.reply_to_msg_id, second.reply_to.top_msg_id) == (in_topic, topic)


def test_copy_message_forwards_without_the_author(connect, wire):
    conn = connect()
    ann, forum = wire.user(), wire.supergroup(forum=True)
    photo = wire.private_media(ann, "photo", caption="the receipt")
    conn.feed([photo, wire.group_text(forum, wire.user(), "hi")])
    topic = conn.create_topic(forum, "T-7 Ann")
    copied = conn.copy_message(forum, ann.id, photo.updates[0].message.id, thread_id=topic)

    request = wire.last(raw.functions.messages.ForwardMessages)
    assert request.drop_author is True
    assert request.from_peer == raw.types.InputPeerUser(user_id=ann.id, access_hash=ann.access_hash)
    assert isinstance(request.to_peer, raw.types.InputPeerChannel)
    assert (request.id, request.top_msg_id) == ([photo.updates[0].message.id], topic)
    assert copied > topic


def test_send_document_uploads_the_bytes_in_parts_and_sends_the_named_file_once(connect, wire):
    conn = connect()
    ann = wire.user()
    conn.feed(wire.private_text(ann, "hi"))
    data = bytes(range(256)) * 4100  # 1,049,600 bytes: three parts of at most 512 KiB
    message_id = conn.send_document(ann.id, "tgesc-report-2026-03-02.html", data, caption="<b>Week</b> 10",
                                    random_id=-77)

    parts = wire.sent(raw.functions.upload.SaveFilePart)
    assert [(p.file_part, len(p.bytes)) for p in parts] == [(0, 524_288), (1, 524_288), (2, 1024)]
    request = wire.last(raw.functions.messages.SendMedia)
    media = request.media
    assert isinstance(media, raw.types.InputMediaUploadedDocument) and media.mime_type == "text/html"
    assert media.attributes == [raw.types.DocumentAttributeFilename(file_name="tgesc-report-2026-03-02.html")]
    assert media.file.id == parts[0].file_id != request.random_id == -77 and {p.file_id for p in parts} == {
        media.file.id}
    assert (request.message, [type(e).__name__ for e in request.entities]) == ("Week 10", ["MessageEntityBold"])
    assert request.peer == raw.types.InputPeerUser(user_id=ann.id, access_hash=ann.access_hash)
    assert wire.uploaded(ann.id, message_id) == data
    [entry] = [e for e in journal_since(wire, 0)[0] if e["message_id"] == message_id]
    assert (entry["media"], entry["file_name"], entry["text"], entry["outgoing"]) == (
        "document", "tgesc-report-2026-03-02.html", "Week 10", True)

    again = conn.send_document(ann.id, "tgesc-report-2026-03-02.html", data, random_id=-77)  # e.g. after a crash
    assert again == message_id and wire.duplicates == 1
    assert {p.file_id for p in wire.sent(raw.functions.upload.SaveFilePart)} == {media.file.id}  # the same file id
    assert [e["message_id"] for e in journal_since(wire, 0)[0] if e["outgoing"]] == [message_id]
    other = conn.send_document(ann.id, "b.txt", b"other")
    assert other != message_id and wire.uploaded(ann.id, other) == b"other"
    assert wire.last(raw.functions.upload.SaveFilePart).file_id != media.file.id


def test_the_wire_refuses_an_upload_with_a_missing_part_or_a_wrong_md5(wire):
    ann = wire.user()
    peer = raw.types.InputPeerUser(user_id=ann.id, access_hash=ann.access_hash)

    def send(file_id: int, parts: int, md5: str) -> object:
        upload = raw.types.InputMediaUploadedDocument(
            file=raw.types.InputFile(id=file_id, parts=parts, name="a.txt", md5_checksum=md5), mime_type="text/plain",
            attributes=[raw.types.DocumentAttributeFilename(file_name="a.txt")])
        return wire.answer(raw.functions.messages.SendMedia(peer=peer, media=upload, message="", random_id=file_id))

    for part, chunk in enumerate((b"abc", b"def")):
        assert wire.answer(raw.functions.upload.SaveFilePart(file_id=1, file_part=part, bytes=chunk)) is True
    assert send(1, 3, "").error_message == "FILE_PART_2_MISSING"
    assert send(1, 2, "0" * 32).error_message == "MD5_CHECKSUM_INVALID"
    sent = send(1, 2, hashlib.md5(b"abcdef").hexdigest())
    assert wire.uploaded(ann.id, sent.updates[0].id) == b"abcdef"


def test_create_topic_returns_its_thread_id(connect, wire):
    conn = connect()
    forum = wire.supergroup("Staff L3", forum=True)
    conn.feed(wire.group_text(forum, wire.user(), "hi"))
    topic = conn.create_topic(forum, "T-9 refund")

    request = wire.last(raw.functions.messages.CreateForumTopic)
    assert request.title == "T-9 refund" and isinstance(request.peer, raw.types.InputPeerChannel)
    conn.send_message(forum, "card", thread_id=topic)
    assert wire.last(SendMessage).reply_to.reply_to_msg_id == topic


# --- the bot's rights in a group (asked after /bind) -----------------------------------------------------------

EVERY_RIGHT = BotRights(is_member=True, is_admin=True, can_post=True, can_manage_topics=True, can_pin=True,
                        is_forum=True)


def _seen(conn: TelegramConnection, wire: FakeWire, chat_id: int) -> int:
    """`chat_id` once the client has seen a message there (as after a /bind): it knows the group."""
    conn.feed(wire.group_text(chat_id, wire.user(), "/bind L2"))
    return chat_id


def test_bot_rights_in_a_forum_where_it_is_an_administrator_with_every_right(connect, wire):
    conn = connect()
    forum = _seen(conn, wire, wire.supergroup("Staff L2", forum=True))
    assert conn.bot_rights(forum) == EVERY_RIGHT
    asked = wire.last(raw.functions.channels.GetParticipant)
    assert isinstance(asked.participant, raw.types.InputPeerSelf)
    assert [c.channel_id for c in wire.last(raw.functions.channels.GetChannels).id] == [asked.channel.channel_id]


def test_an_administrator_without_the_topic_right_may_not_open_a_topic(connect, wire):
    conn = connect()
    forum = _seen(conn, wire, wire.supergroup("Staff L2", forum=True))
    wire.set_bot_rights(forum, manage_topics=False)
    assert conn.bot_rights(forum) == BotRights(is_member=True, is_admin=True, can_post=True, can_pin=True,
                                               is_forum=True)
    with pytest.raises(errors.ChatAdminRequired):
        conn.create_topic(forum, "#1")
    wire.set_member_rights(forum, manage_topics=True)  # every member may: the bot too
    assert conn.bot_rights(forum).can_manage_topics and conn.create_topic(forum, "#1")


def test_a_plain_member_of_a_supergroup_may_what_every_member_may(connect, wire):
    conn = connect()
    group = _seen(conn, wire, wire.supergroup("Staff L2"))
    wire.set_bot_rights(group, admin=False)
    assert conn.bot_rights(group) == BotRights(is_member=True, can_post=True)
    wire.set_member_rights(group, send=False, pin=True)
    assert conn.bot_rights(group) == BotRights(is_member=True, can_pin=True)
    with pytest.raises(Undeliverable, match="ChatWriteForbidden"):
        conn.send_message(group, "card")


@pytest.mark.parametrize(("admin", "members_pin", "rights"), [
    (True, False, BotRights(is_member=True, is_admin=True, can_post=True, can_pin=True)),  # an admin: every right
    (False, False, BotRights(is_member=True, can_post=True)),
    (False, True, BotRights(is_member=True, can_post=True, can_pin=True)),
])
def test_bot_rights_in_a_basic_group(connect, wire, admin, members_pin, rights):
    conn = connect()
    group = _seen(conn, wire, wire.group("Staff L1"))
    wire.set_bot_rights(group, admin=admin)
    wire.set_member_rights(group, pin=members_pin)
    assert conn.bot_rights(group) == rights
    assert wire.last(raw.functions.messages.GetFullChat).chat_id == -group


@pytest.mark.parametrize("make", ["group", "supergroup"])
def test_a_bot_that_is_no_member_has_no_right(connect, wire, make):
    conn = connect()
    chat = _seen(conn, wire, getattr(wire, make)("Old staff"))
    wire.set_bot_rights(chat, member=False)
    assert conn.bot_rights(chat) == BotRights(is_member=False)


@pytest.mark.parametrize(("error", "seconds", "reason"), [("FLOOD_WAIT_42", 42, "flood wait"),
                                                          ("SLOWMODE_WAIT_7", 7, "slowmode wait")])
def test_flood_waits_surface_as_retry_after(connect, wire, error, seconds, reason):
    conn = connect()
    ann = wire.user()
    conn.feed(wire.private_text(ann, "hi"))
    wire.fail_next(SendMessage, error)
    with pytest.raises(RetryAfter) as caught:
        conn.send_message(ann.id, "hello")
    assert (caught.value.seconds, caught.value.reason) == (seconds, reason)
    assert len(wire.sent(SendMessage)) == 1  # the library did not sleep and retry (sleep_threshold=0)
    assert conn.send_message(ann.id, "hello") > 0


@pytest.mark.parametrize("error", ["USER_IS_BLOCKED", "INPUT_USER_DEACTIVATED", "PEER_ID_INVALID",
                                   "CHAT_WRITE_FORBIDDEN", "USER_DEACTIVATED"])
def test_permanent_refusals_are_undeliverable(connect, wire, error):
    conn = connect()
    ann = wire.user()
    conn.feed(wire.private_text(ann, "hi"))
    wire.fail_next(SendMessage, error)
    with pytest.raises(Undeliverable):
        conn.send_message(ann.id, "hello")


def test_other_errors_propagate_as_the_librarys(connect, wire):
    conn = connect()
    ann = wire.user()
    conn.feed(wire.private_text(ann, "hi"))
    wire.fail_next(SendMessage, "MESSAGE_TOO_LONG")
    with pytest.raises(errors.MessageTooLong):
        conn.send_message(ann.id, "x" * 5000)


def test_remember_peer_reaches_a_user_never_seen_in_an_update(connect, wire):
    conn = connect()
    stranger = wire.user(first_name="Bob")  # known to our DB only (say the session file was lost)
    with pytest.raises(Undeliverable):
        conn.send_message(stranger.id, "hello")

    conn.remember_peer(stranger.id, stranger.access_hash)
    assert conn.send_message(stranger.id, "hello") > 0
    assert wire.last(SendMessage).peer == raw.types.InputPeerUser(user_id=stranger.id,
                                                                  access_hash=stranger.access_hash)


def test_outbound_calls_from_a_handler_refuse_instead_of_deadlocking(connect, wire):
    failures: list[Exception] = []
    conn: TelegramConnection | None = None

    def reply_inline(message: IncomingMessage, raw: object) -> None:
        try:
            conn.send_message(message.chat_id, "echo")
        except RuntimeError as exc:
            failures.append(exc)

    conn = connect(on_message=reply_inline)
    conn.feed(wire.private_text(wire.user(), "hi"))
    assert len(failures) == 1 and "another thread" in str(failures[0])


@pytest.mark.parametrize(("error", "code", "raised", "says"), [
    ("ACCESS_TOKEN_INVALID", None, ConfigInvalid, "refused the bot's credentials (ACCESS_TOKEN_INVALID)"),
    ("API_ID_INVALID", None, ConfigInvalid, "refused the bot's credentials (API_ID_INVALID)"),
    ("SESSION_REVOKED", 401, ConfigInvalid, "refused the bot's session (SESSION_REVOKED)"),
    ("AUTH_KEY_DUPLICATED", 406, ConfigInvalid, "refused the bot's session (AUTH_KEY_DUPLICATED)"),
    ("CHAT_ADMIN_REQUIRED", 400, DependencyUnavailable, "answered the bot's start with an error"),
])
def test_a_start_telegram_refuses_says_what_to_fix(connect, wire, error, code, raised, says):
    wire.fail_next(raw.functions.updates.GetState, error, code=code)
    with pytest.raises(raised) as failed:
        connect()
    assert says in str(failed.value) and "api-hash-secret" not in str(failed.value)
    assert failed.value.__cause__ is None  # the library's traceback is logged at DEBUG, not chained


def test_a_failed_start_raises_and_leaves_the_session_file_free(connect, wire, data_dir):
    wire.fail_next(raw.functions.updates.GetState, "AUTH_KEY_UNREGISTERED")
    with pytest.raises(ConfigInvalid, match=r"refused the bot's session \(AUTH_KEY_UNREGISTERED\).*desk.session"):
        connect()
    assert not any(t.name == "telegram-desk" for t in threading.enumerate())
    conn = connect()  # the same session file opens again: nothing was left holding it
    assert conn.running and conn.bot.id == wire.bot.id


def test_calls_on_a_stopped_connection_raise(connect, wire):
    conn = connect()
    conn.stop()
    with pytest.raises(RuntimeError, match="not started"):
        conn.send_message(1, "x")
    assert "api-hash-secret" not in repr(conn) and "FAKE-TOKEN" not in repr(conn)


# --- the session file: durability and catch-up ---------------------------------------------------------------


def _session_rows(data_dir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(data_dir / "desk.session") as db:
        return db.execute(sql).fetchall()


def test_peers_and_update_state_are_on_disk_without_stop(connect, wire, data_dir):
    conn = connect()
    ann = wire.user(username="ann")
    conn.feed(wire.private_text(ann, "hi"))

    # read by another connection while the bot still runs: committed, not just held in the bot's transaction
    assert _session_rows(data_dir, f"SELECT access_hash, type FROM peers WHERE id = {ann.id}") == [
        (ann.access_hash, "user")]
    assert _session_rows(data_dir, f"SELECT username FROM usernames WHERE id = {ann.id}") == [("ann",)]
    assert _session_rows(data_dir, "SELECT pts FROM update_state WHERE id = 0") == [(1,)]
    [(user_id, is_bot, has_key)] = _session_rows(data_dir, "SELECT user_id, is_bot, auth_key IS NOT NULL "
                                                           "FROM sessions")
    assert (user_id, is_bot, has_key) == (wire.bot.id, 1, 1)
    assert stat.S_IMODE(os.stat(data_dir / "desk.session").st_mode) == 0o600
    assert conn.running


def test_the_data_directory_it_creates_is_0700_and_every_session_file_0600(connect, wire, data_dir):
    previous = os.umask(0o022)  # a usual shell's: the adapter must not rely on the process's umask
    try:
        conn = connect()
        conn.feed(wire.private_text(wire.user(username="ann"), "hi"))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
    for name in ("desk.session", "desk.session-wal", "desk.session-shm"):
        assert stat.S_IMODE(os.stat(data_dir / name).st_mode) == 0o600, name


def test_an_update_from_a_known_unchanged_peer_writes_only_the_update_state(connect, wire, data_dir, monkeypatch):
    conn = connect()
    ann = wire.user(username="ann")

    def changes_by(update) -> int:
        async def total() -> int:
            return conn._live().storage.conn.total_changes

        before = conn._call(total)
        conn.feed(update)
        return conn._call(total) - before

    assert changes_by(wire.private_text(ann, "hi")) == 3  # a new peer, its username, the update state
    assert changes_by(wire.private_text(ann, "again")) == 1  # the update state only
    ann.access_hash, ann.username = 4711, "ann_new"
    assert changes_by(wire.private_text(ann, "new name")) > 1
    assert _session_rows(data_dir, f"SELECT access_hash FROM peers WHERE id = {ann.id}") == [(4711,)]
    assert _session_rows(data_dir, f"SELECT username FROM usernames WHERE id = {ann.id}") == [("ann_new",)]
    monkeypatch.setattr("tgesc.adapters.telegram.storage.PEER_REFRESH_S", 0)  # due for its last_update_on
    assert changes_by(wire.private_text(ann, "later")) == 2  # the peer's row again, the update state


_CRASHING_BOT = """
import sys, time
from types import SimpleNamespace
from tgesc.adapters.telegram.wire import FakeWire
from tgesc.adapters.telegram import TelegramConnection
wire = FakeWire()
ann = wire.user(4242, username="ann", access_hash=987654321)
ignore = lambda *_args: None  # printing it raced "FED": both in one read, the test's select missed the second
handlers = SimpleNamespace(on_message=ignore, on_messages=ignore, on_press=ignore, on_unreadable=ignore)
conn = TelegramConnection("desk", sys.argv[1], 12345, "h", wire.bot_token, handlers=handlers,
                          session_factory=wire.session_factory)
conn.start()
conn.feed(wire.private_text(ann, "before the crash"))
print("FED", flush=True)
time.sleep(120)
"""


def test_a_killed_bot_loses_no_peer_and_no_update_state(connect, data_dir, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)])}
    bot = subprocess.Popen([sys.executable, "-c", _CRASHING_BOT, str(data_dir)], cwd=tmp_path, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            ready, _, _ = select.select([bot.stdout], [], [], max(0.0, deadline - time.monotonic()))
            line = bot.stdout.readline() if ready else ""
            if line.strip() == "FED":
                break
            if not line:
                pytest.fail(f"the bot did not get going: {bot.poll()=}")
        bot.send_signal(signal.SIGKILL)
    finally:
        bot.kill()
        bot.wait(10)
        bot.stdout.close()
        bot.stderr.close()
    assert bot.returncode == -signal.SIGKILL

    assert _session_rows(data_dir, "SELECT access_hash FROM peers WHERE id = 4242") == [(987654321,)]
    assert _session_rows(data_dir, "SELECT pts FROM update_state WHERE id = 0") == [(1,)]

    # the same server history, plus one message while the bot was dead: only that one is delivered
    wire = FakeWire()
    ann = wire.user(4242, username="ann", access_hash=987654321)
    wire.private_text(ann, "before the crash")
    wire.private_text(ann, "while it was dead")
    conn = connect(on_wire=wire)
    conn.drain()
    assert conn.inbox.texts == ["while it was dead"]
    assert conn.send_message(4242, "sorry for the wait") > 0  # the peer survived too


def test_catch_up_delivers_exactly_the_missed_messages_once(connect, wire):
    conn = connect()
    ann, forum, staff = wire.user(), wire.supergroup(forum=True), wire.user(first_name="Sam")
    conn.feed([wire.private_text(ann, "first"), wire.group_text(forum, staff, "staff before")])
    conn.send_message(ann.id, "we are on it")  # our own message: in getDifference later, never delivered
    conn.stop()
    assert conn.inbox.texts == ["first", "staff before"]

    missed = wire.private_text(ann, "second")  # while the bot is down
    wire.private_text(ann, "third")
    wire.edit(ann.id, missed.updates[0].message.id, "second (edited)")
    wire.group_text(forum, staff, "staff while down")

    again = connect()
    again.drain()
    private = [m for m in again.inbox.messages if m.chat_id == ann.id]
    assert [m.text for m in private] == ["second", "third", "second (edited)"]
    assert private[2].edited_at is not None
    assert [m.text for m in again.inbox.messages if m.chat_id == forum] == ["staff while down"]
    assert wire.last(raw.functions.updates.GetDifference).pts == 1  # from "first": our reply (pts 2) came back too
    again.stop()

    third = connect()
    third.drain()
    assert third.inbox.texts == []


def test_a_channel_state_without_pts_does_not_break_catch_up(connect, wire, data_dir):
    connect().stop()
    with sqlite3.connect(data_dir / "desk.session") as db:  # as left by kurigram issue 465
        db.execute("INSERT INTO update_state (id, pts, qts, date, seq) VALUES (-1000000000777, NULL, 5, NULL, NULL)")

    conn = connect()
    ann = wire.user()
    conn.feed(wire.private_text(ann, "still works"))
    assert conn.inbox.texts == ["still works"]
    assert not wire.sent(raw.functions.updates.GetChannelDifference)


def test_durable_storage_does_not_store_channel_states_without_pts(tmp_path):
    import asyncio

    from pyrogram.storage import UpdateState

    async def scenario() -> list[UpdateState]:
        storage = DurableStorage("s", tmp_path)
        await storage.open()
        await storage.set_update_state([UpdateState(-1000000000777, None, 3, None, None),
                                        UpdateState(-1000000000888, 10, None, None, None)])
        states = await storage.get_update_states()
        await storage.close()
        return states

    states = asyncio.run(scenario())
    assert [(s.id, s.pts) for s in states if s.id != 0] == [(-1000000000888, 10)]


@pytest.mark.parametrize(("synchronous", "pragma"), [("normal", 1), ("off", 0)])
def test_the_session_file_is_fsynced_at_checkpoints_unless_it_is_a_throwaway(tmp_path, synchronous, pragma):
    import asyncio

    async def opened() -> int:
        storage = DurableStorage("s", tmp_path, synchronous=synchronous)
        await storage.open()
        try:
            return storage.conn.execute("PRAGMA synchronous").fetchone()[0]
        finally:
            await storage.close()

    assert asyncio.run(opened()) == pragma
    with pytest.raises(ValueError, match="use off, normal or full"):
        DurableStorage("s", tmp_path, synchronous="never")


def test_start_and_catch_up_are_fast(connect, wire):
    started = time.perf_counter()
    conn = connect()
    ann = wire.user()
    conn.feed([wire.private_text(ann, f"m{i}") for i in range(200)])
    assert len(conn.inbox.messages) == 200
    assert time.perf_counter() - started < 5

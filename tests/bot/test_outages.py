"""The bot when handling an update fails: an outage of the database (its connections cut, the server stopped) is
waited out and the update handed over again until it is stored, in order, once; a bug met by one update keeps that
update as a dead letter, with its raw form and the traceback, and the updates behind it go on; `tgesc dead-letter
replay` hands it over again once the cause is fixed. On the real kurigram client, a database of the test's own."""

from __future__ import annotations

import json
import logging
import threading

import pytest
from remote_wire import wait_until

from tgesc.db import reconnect
from tgesc.models import DeadLetter, Message
from tgesc.services.telegram import dispatch as bot_service

RETRY_S = 0.02  # the adapter's first pause before handing an update over again (30 s at most in production)


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr("tgesc.adapters.telegram.connection.RETRY_FIRST_S", RETRY_S)


def stored_texts() -> list[str]:
    return [m.text for m in Message.select().where(Message.sender == "customer").order_by(Message.id)]


class TestAnOutage:
    @pytest.fixture
    def db_url(self, own_postgres_url):
        return own_postgres_url

    def test_cut_connections_lose_no_message(self, bot, own_postgres):
        bot.says("alice", "Hello, my order is late")
        own_postgres.terminate_connections()  # a failover: the bot's connection is gone
        bot.says("alice", "Are you there?")
        bot.says("wang", "我的订单呢")
        reconnect(bot.db)  # the test's own connection was cut too
        assert stored_texts() == ["Hello, my order is late", "Are you there?", "我的订单呢"]
        assert not DeadLetter.select().exists()

    def test_a_run_cut_off_is_handed_over_again_and_stored_once(self, bot, own_postgres, monkeypatch):
        bot.says("alice", "Hello, my order is late")
        own_postgres.terminate_connections()
        bot.burst(("alice", "Are you there?"), ("wang", "我的订单呢"), ("alice", "Hello?"))
        reconnect(bot.db)
        assert stored_texts() == ["Hello, my order is late", "Are you there?", "我的订单呢", "Hello?"]
        assert not DeadLetter.select().exists()

    def test_messages_during_a_stopped_server_are_stored_in_order_once_it_is_back(self, bot, own_postgres, caplog):
        bot.says("alice", "Hello, my order is late")
        own_postgres.stop()
        fed = threading.Thread(target=lambda: [bot.says("alice", "Are you there?", after=1),
                                               bot.says("wang", "我的订单呢", after=1)])
        with caplog.at_level(logging.WARNING, logger="tgesc.adapters.telegram.connection"):
            fed.start()
            wait_until(lambda: sum("handing it over again" in r.getMessage() for r in caplog.records) >= 3, 10,
                       "the bot to try the message a few times")
            own_postgres.start()
            fed.join(30)
        assert not fed.is_alive()
        reconnect(bot.db)  # the test's own connection was cut too
        assert stored_texts() == ["Hello, my order is late", "Are you there?", "我的订单呢"]
        assert not DeadLetter.select().exists()


def failing_on(text: str, monkeypatch):
    """A bug met by one message: the customer service raises for a message with exactly `text`."""
    real = bot_service.customer_message

    def buggy(db, desk, message, now, sender):
        if message.text == text:
            raise RuntimeError(f"a bug met by {text!r}")
        real(db, desk, message, now, sender)

    monkeypatch.setattr(bot_service, "customer_message", buggy)


def test_a_bug_met_by_one_message_keeps_it_as_a_dead_letter_and_the_rest_go_on(bot, monkeypatch, cli):
    failing_on("poison", monkeypatch)
    bot.says("alice", "poison")
    bot.says("alice", "after the poison")
    assert stored_texts() == ["after the poison"]  # nothing of the failed handling is left

    [letter] = DeadLetter.select()
    assert (letter.kind, letter.chat_id, letter.status, letter.failures) == ("message", 1001, "failed", 1)
    assert letter.item["text"] == "poison" and letter.item["sender"]["id"] == 1001
    assert '"poison"' in letter.raw and "RuntimeError: a bug met by 'poison'" in letter.error

    bot.stop()  # the update counts as handled: a restart's catch-up does not bring it again
    bot.start()
    bot.connection.drain()
    assert DeadLetter.get().failures == 1

    listed = cli("dead-letter", "list", "--json")
    assert listed.exit_code == 0, listed
    assert [(r["id"], r["kind"], r["error"]) for r in json.loads(listed.stdout)] == [
        (letter.id, "message", "RuntimeError: a bug met by 'poison'")]

    again = cli("dead-letter", "replay", str(letter.id))  # still broken: it fails again, counted
    assert again.exit_code == 1 and "failed again" in again.stderr, again
    assert DeadLetter.get().failures == 2

    monkeypatch.undo()  # the cause fixed
    replayed = cli("dead-letter", "replay", "--all", "--yes")
    assert replayed.exit_code == 0, replayed
    assert stored_texts() == ["after the poison", "poison"]
    assert DeadLetter.get().status == "replayed"
    assert cli("dead-letter", "replay", str(letter.id)).exit_code == 0  # twice: nothing more happens
    assert stored_texts() == ["after the poison", "poison"]


def test_dead_letter_commands_refuse_bad_input(cli, db):
    assert cli("dead-letter", "show", "9").exit_code == 1
    assert cli("dead-letter", "replay").exit_code == 2
    assert cli("dead-letter", "replay", "1", "--all").exit_code == 2
    assert cli("dead-letter", "list", "--status", "lost").exit_code == 2


def test_a_run_of_messages_is_committed_in_one_transaction(bot, monkeypatch):
    opened = []
    real = bot_service.write_transaction
    monkeypatch.setattr(bot_service, "write_transaction", lambda db, **kw: (opened.append(kw), real(db, **kw))[1])
    bot.burst(("alice", "one"), ("wang", "二"), ("alice", "three"), ("wang", "四"))
    assert stored_texts() == ["one", "二", "three", "四"]
    assert len(opened) == 1


def test_a_bug_met_by_one_message_of_a_run_keeps_it_alone_as_a_dead_letter(bot, monkeypatch):
    failing_on("poison", monkeypatch)
    bot.burst(("alice", "before"), ("wang", "你好"), ("alice", "poison"), ("alice", "after"))
    assert stored_texts() == ["before", "你好", "after"]  # the run rolled back, then each handled alone
    [letter] = DeadLetter.select()
    assert (letter.item["text"], letter.failures, letter.status) == ("poison", 1, "failed")
    assert Message.select().where(Message.text == "before").count() == 1  # nothing of the failed run is left

    bot.stop()  # every update of the run counts as handled: a restart's catch-up brings none again
    bot.start()
    bot.connection.drain()
    assert stored_texts() == ["before", "你好", "after"] and DeadLetter.get().failures == 1

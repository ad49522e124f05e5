"""Messages typed in with the CLI go through the bot's own path: a customer's message opened or added by
`channel_messages` fires the same rules, FAQ answers, templates, thread card and mirror as the same words sent to
the bot; a staff answer is relayed and answers the SLA as one written in the staff thread. Their ids are the
desk's own: never a Telegram id, never dropped as a duplicate, whatever the interleaving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import private_message

from tgesc.db import write_transaction
from tgesc.domain.errors import DomainError, UsageError
from tgesc.domain.telegram import OWN_MESSAGE_IDS
from tgesc.models import Customer, Event, Message, Outbox, Ticket
from tgesc.services.config.apply import set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.telegram.customers import CustomerDesk, on_customer_message
from tgesc.services.tickets import actions, channel_messages
from tgesc.services.tickets.messages import mark_key

MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # Monday: the default L2 calendar (09-18 UTC) is open
TEXTS = ["I was charged twice, I want a REFUND", "how do I reset 2fa?", "This is a SCAM!!! I will call my lawyer",
         "Hello, how do I change my e-mail address?", "我要退款，谢谢", "Списали два раза, верните деньги"]


@pytest.fixture
def desk(db):
    initialise(db, now=MON_10, actor="test")
    set_entry(db, "tiers", "L1", {"staff_chat": -1001}, actor="test", now=MON_10)  # the front line has a chat
    return db


def bot_desk() -> CustomerDesk:
    from tgesc.domain.rates import Rate

    return CustomerDesk(bot_username="desk_bot", flood_limit=Rate(100, 60))


def conversation(number: int) -> tuple[list[tuple[str, dict]], list[tuple[str, str]], list[str]]:
    """What the desk did on ticket `number`, without who and where: its events (kind, details but the channel),
    its outbox (the chat's role, the template or kind) and its messages."""
    ticket = Ticket.get(Ticket.number == number)
    customer_chat = ticket.customer.telegram_id
    events = [(e.kind, {k: v for k, v in (e.details or {}).items() if k != "channel"})
              for e in Event.select().where(Event.ticket == ticket).order_by(Event.id)]
    rows = [("customer" if o.chat_id == customer_chat else "staff", o.payload.get("template") or o.kind)
            for o in Outbox.select().where(Outbox.ticket == ticket).order_by(Outbox.id)]
    messages = [m.text for m in Message.select().where(Message.ticket == ticket).order_by(Message.id)]
    return events, rows, messages


@pytest.mark.parametrize("text", TEXTS)
def test_an_opened_ticket_reacts_exactly_as_the_bot_path(desk, text):
    on_customer_message(desk, bot_desk(), private_message(1001, 7, MON_10, text, language_code="en"), MON_10)
    with write_transaction(desk):
        Customer.create(telegram_id=1002, language="en", created_at=MON_10, updated_at=MON_10)
    opened = channel_messages.open_ticket(desk, 1002, [text], actor="bob", now=MON_10)
    assert opened.number == 2
    assert conversation(2) == conversation(1)
    assert [(e.actor, e.details) for e in Event.select().where((Event.kind == "ticket.opened")
                                                               & (Event.ticket == opened))] == [
        ("bob", {"channel": "cli"})]


def test_a_follow_up_reacts_as_the_bot_path_and_resumes_a_waiting_ticket(desk):
    channel_messages.open_ticket(desk, 1001, "My order has not arrived", actor="bob", now=MON_10)
    actions.resolve(desk, 1, survey=False, actor="bob", now=MON_10 + timedelta(minutes=5))
    later = MON_10 + timedelta(hours=1)
    on_reopen = channel_messages.customer_message(desk, 1, "still not here, I want a refund", actor="bob", now=later)
    assert (on_reopen.number, on_reopen.status, on_reopen.tier.code) == (1, "open", "L2")  # reopened, refund rule
    kinds = [e.kind for e in Event.select().where(Event.ticket == on_reopen).order_by(Event.id)]
    after = kinds[kinds.index("ticket.resolved") + 1:]
    assert after[0] == "ticket.reopened" and "rule.fired" in after and "ticket.escalated" in after
    assert [m.message_id for m in Message.select().order_by(Message.id)] == [OWN_MESSAGE_IDS + 1,
                                                                             OWN_MESSAGE_IDS + 2]


def test_ticket_open_opens_a_new_ticket_with_each_text_a_message(desk):
    channel_messages.open_ticket(desk, 1001, "first case", actor="bob", now=MON_10)
    second = channel_messages.open_ticket(desk, 1001, ["second case", "with more words"], actor="bob", now=MON_10)
    assert second.number == 2 and second.problem == "second case\nwith more words"
    assert [(m.ticket.number, m.text, m.message_id) for m in Message.select().order_by(Message.id)] == [
        (1, "first case", OWN_MESSAGE_IDS + 1), (2, "second case", OWN_MESSAGE_IDS + 2),
        (2, "with more words", OWN_MESSAGE_IDS + 3)]
    mark_key(desk, 2, OWN_MESSAGE_IDS + 3, actor="bob", now=MON_10)  # ticket mark finds it
    assert Message.get(Message.message_id == OWN_MESSAGE_IDS + 3).is_key
    with pytest.raises(UsageError):
        channel_messages.open_ticket(desk, 1001, ["fine", "  "], actor="bob", now=MON_10)
    assert Ticket.select().count() == 2  # nothing of the refused call stayed


def test_a_reply_answers_like_one_in_the_thread_and_shows_there(desk):
    channel_messages.open_ticket(desk, 1001, "My order has not arrived", actor="bob", now=MON_10)
    ticket = Ticket.get()
    assert ticket.staff_chat_id == -1001 and ticket.first_responded_at is None
    answered = channel_messages.reply(desk, 1, "It left the warehouse today.", actor="cli",
                                      now=MON_10 + timedelta(minutes=3))
    assert answered.first_responded_at == MON_10 + timedelta(minutes=3) and answered.awaiting_reply_since is None
    staff_row = Message.get(Message.sender == "staff")
    assert (staff_row.chat_id, staff_row.message_id, staff_row.direction, staff_row.is_internal) == (
        1001, OWN_MESSAGE_IDS + 2, "out", False)
    [replied] = Event.select().where(Event.kind == "ticket.replied")
    assert (replied.actor, replied.details) == ("cli", {"first": True, "chat_id": 1001,
                                                        "message_id": OWN_MESSAGE_IDS + 2})
    rows = [(o.chat_id, o.kind, o.text, o.payload) for o in Outbox.select().order_by(Outbox.id)][-3:]
    assert rows == [(1001, "message", "It left the warehouse today.", {"staff": "cli"}),
                    (-1001, "card-edit", "", {"cause": "ticket.replied"}),  # the card: first response met
                    (-1001, "message", "<b>cli</b> → customer (#1): It left the warehouse today.",
                     {"ticket_thread": True})]
    channel_messages.customer_message(desk, 1, "thanks, and when will it arrive?", actor="cli",
                                      now=MON_10 + timedelta(minutes=9))
    assert Ticket.get().awaiting_reply_since == MON_10 + timedelta(minutes=9)  # the next response is owed
    channel_messages.reply(desk, 1, "Tomorrow.", actor="cli", now=MON_10 + timedelta(minutes=10))
    assert Ticket.get().awaiting_reply_since is None
    assert [e.details["first"] for e in Event.select().where(Event.kind == "ticket.replied")] == [True, False]


def test_a_reply_to_a_customer_who_blocked_the_bot_is_refused(desk):
    channel_messages.open_ticket(desk, 1001, "My order has not arrived", actor="bob", now=MON_10)
    Customer.update(unreachable_at=MON_10).execute()
    before = Outbox.select().count()
    with pytest.raises(DomainError, match="blocked the bot"):
        channel_messages.reply(desk, 1, "hello?", actor="cli", now=MON_10)
    assert Outbox.select().count() == before and Message.select().where(Message.sender == "staff").count() == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.integers(1, 2**31 - 1), st.none()), min_size=1, max_size=8))
def test_own_ids_never_meet_telegram_ids_and_nothing_is_dropped(desk, steps):
    """Telegram messages (an id) and typed-in ones (None) in any order, a replay of each Telegram one: every
    message is stored once, the typed-in ones with ids above every Telegram id."""
    with write_transaction(desk):
        for model in (Event, Outbox, Message, Ticket):
            model.delete().execute()
    at, telegram = MON_10, set()
    for step in steps:
        at += timedelta(minutes=1)
        if step is None:
            if Ticket.select().count():
                channel_messages.customer_message(desk, Ticket.select().first().number, "typed in", actor="bob",
                                                  now=at)
            else:
                channel_messages.open_ticket(desk, 1001, "typed in", actor="bob", now=at)
        else:
            for _ in range(2):  # a catch-up delivers it again: stored once
                on_customer_message(desk, bot_desk(), private_message(1001, step, at, "from telegram"), at)
            telegram.add(step)
    ids = [m.message_id for m in Message.select()]
    own = [i for i in ids if i > OWN_MESSAGE_IDS]
    assert len(own) == steps.count(None) and len(set(own)) == len(own)
    assert sorted(set(ids) - set(own)) == sorted(telegram)


def test_simulate_replay_reads_typed_in_messages_like_the_others(desk):
    from tgesc.simulation.replay import history_scenario

    channel_messages.open_ticket(desk, 1001, "My order has not arrived", actor="bob", now=MON_10)
    on_customer_message(desk, bot_desk(), private_message(1001, 9, MON_10 + timedelta(minutes=1), "any news?"),
                        MON_10 + timedelta(minutes=1))
    channel_messages.customer_message(desk, 1, "I called too", actor="bob", now=MON_10 + timedelta(minutes=2))
    channel_messages.reply(desk, 1, "It ships today.", actor="cli", now=MON_10 + timedelta(minutes=3))
    scenario = history_scenario(MON_10 - timedelta(minutes=1), MON_10 + timedelta(hours=1))
    assert [(s.kind, s.text) for s in scenario.steps[:-1]] == [
        ("customer", "My order has not arrived"), ("customer", "any news?"), ("customer", "I called too"),
        ("staff", "It ships today.")]

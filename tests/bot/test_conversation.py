"""A customer's case through the real bot: from the first message to escalation with a topic and a card,
staff replies relayed, notes kept internal, outsiders refused."""

from __future__ import annotations

import pytest
from pyrogram import raw

from tgesc.models import Customer, Event, Message, SentMessage, Ticket


def test_a_refund_request_escalates_to_a_forum_topic_with_the_card(bot):
    bot.says("alice", "Hello, I was charged twice for my order, I want a refund")
    ticket = Ticket.get(Ticket.number == 1)
    assert (ticket.tier.code, ticket.priority, ticket.tags) == ("L2", "high", ["billing", "refund"])
    assert bot.deliver() >= 3
    to_alice = bot.texts_to(1001)
    assert any("#1" in text and "escalated" in text for text in to_alice), to_alice
    topic = bot.wire.last(raw.functions.messages.CreateForumTopic)
    assert topic.title.startswith("#1 · Alice")
    card = [r for r in bot.sent() if "charged twice" in r.message and "Problem" in r.message]
    assert len(card) == 1
    ticket = Ticket.get(Ticket.number == 1)
    assert (ticket.staff_chat_id, ticket.topic_id) == (bot.chats["L2"], SentMessage.get(part=-1).message_id)
    assert card[0].reply_to.top_msg_id == ticket.topic_id or card[0].reply_to.reply_to_msg_id == ticket.topic_id


def test_later_messages_are_mirrored_and_staff_replies_relayed_as_the_first_response(bot):
    bot.says("alice", "I want a refund, I was charged twice")
    bot.deliver()
    topic = Ticket.get().topic_id
    bot.says("alice", "Order 4711, paid on Friday")
    bot.deliver()
    assert any("Order 4711" in text for text in bot.texts_to(bot.chats["L2"]))
    bot.staff_says("carol", "L2", "Hi Alice, I see the double charge; the refund is on its way.", thread_id=topic)
    bot.deliver()
    assert bot.texts_to(1001)[-1] == "Hi Alice, I see the double charge; the refund is on its way."
    ticket = Ticket.get()
    assert ticket.first_responded_at == bot.clock() and ticket.awaiting_reply_since is None
    assert [e.actor for e in Event.select().where(Event.kind == "ticket.replied")] == ["carol"]


def test_internal_notes_stay_internal_and_outsiders_are_refused(bot):
    bot.says("alice", "refund please, charged twice")
    bot.deliver()
    topic, before = Ticket.get().topic_id, len(bot.texts_to(1001))
    bot.staff_says("carol", "L2", "// she called last week too", thread_id=topic)
    bot.staff_says("bob", "L2", "I can help with that", thread_id=topic)  # L1 staff in L2's topic
    bot.deliver()
    assert len(bot.texts_to(1001)) == before  # nothing relayed
    refusal = bot.texts_to(bot.chats["L2"])[-1]
    assert "bob is not staff of L2" in refusal
    note = Message.get(Message.text == "// she called last week too")
    assert note.is_internal
    kinds = [(e.kind, e.actor) for e in Event.select().where(Event.kind.in_(["ticket.note", "staff.refused"]))
             .order_by(Event.id)]
    assert kinds == [("ticket.note", "carol"), ("staff.refused", "bob")]


def test_a_customer_the_client_forgot_is_reintroduced_from_the_database(bot, tmp_path):
    bot.says("alice", "Hello, how do I change my e-mail?")
    bot.stop()
    for path in bot.data_dir.glob("desk.session*"):
        path.unlink()  # the session file is lost: the client knows no peer any more
    bot.start()
    from tgesc.db import write_transaction
    from tgesc.services.outbox import rows as outbox
    with write_transaction(bot.db):
        outbox.queue(Ticket.get(), 1001, "We changed it for you.", now=bot.clock())
    bot.deliver()
    assert bot.texts_to(1001)[-1] == "We changed it for you."
    assert Customer.get(Customer.telegram_id == 1001).unreachable_at is None


@pytest.mark.parametrize("together", [False, True], ids=["one by one", "as one run"])
def test_what_the_customer_writes_before_the_card_goes_out_is_mirrored_after_it(bot, together):
    if together:  # one transaction: the card the first message queued does not stand for the second
        bot.burst(("alice", "I was charged twice, I want a refund"), ("alice", "Order 4711, paid on Friday"))
    else:
        bot.says("alice", "I was charged twice, I want a refund")
        bot.says("alice", "Order 4711, paid on Friday")  # nothing delivered yet: the card is still queued
    bot.deliver()
    l2 = bot.texts_to(bot.chats["L2"])
    card = next(n for n, text in enumerate(l2) if "Problem" in text)
    mirrored = next(n for n, text in enumerate(l2) if "Order 4711" in text and "Problem" not in text)
    assert card < mirrored
    topic = Ticket.get().topic_id
    mirror = [r for r in bot.sent() if "Order 4711" in r.message and "Problem" not in r.message][0]
    assert topic in (getattr(mirror.reply_to, "top_msg_id", None), getattr(mirror.reply_to, "reply_to_msg_id", None))

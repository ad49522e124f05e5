"""The outbox delivered through the real client: flood waits postpone without losing or reordering
anything, a blocked customer becomes unreachable, long texts arrive split, Telegram's rates are kept per
chat without one busy chat holding up the others, bad buttons are refused before Telegram sees them,
and a button press is acknowledged."""

from __future__ import annotations

from datetime import timedelta

from bot_support import delivered, escalated_to_l2, last_message_id, peer_id, thread_of, to_chat
from pyrogram import raw

from tgesc.db import write_transaction
from tgesc.models import Customer, Event, Outbox, Ticket
from tgesc.services.outbox import rows as outbox
from tgesc.services.tickets.escalation import escalate_ticket

SendMessage = raw.functions.messages.SendMessage


def to_user(user_id: int):
    """A fault predicate: a SendMessage to the private chat of `user_id`."""
    return lambda q: isinstance(q, SendMessage) and getattr(q.peer, "user_id", None) == user_id


def known(bot, *names: str) -> None:
    """`names` wrote to the bot (/start) and got their greeting: the client knows them, the desk too."""
    for name in names:
        bot.says(name, "/start")
    bot.deliver()


def queue(bot, chat_id: int, text: str, **options) -> None:
    with write_transaction(bot.db):
        outbox.queue(None, chat_id, text, now=bot.clock(), **options)


def test_a_flood_wait_postpones_the_chat_and_loses_nothing(bot):
    for text in ("/start", "/status", "/language"):
        bot.says("alice", text, after=0)
    bot.says("wang", "/start", after=0)
    bot.wire.fail_next(to_user(1001), "FLOOD_WAIT_30")
    started = bot.clock()
    bot.deliver(budget_s=5)

    rows = list(Outbox.select().where(Outbox.chat_id == 1001).order_by(Outbox.id))
    assert [r.status for r in rows] == ["pending"] * 3
    assert (rows[0].not_before, rows[0].attempts) == (started + timedelta(seconds=30), 1)
    assert "retry after 30 s" in rows[0].error
    assert delivered(bot, 1001) == []  # refused: nothing reached alice yet
    assert [m.message for m in delivered(bot, 1002)] == [bot.texts_to(1002)[-1]]  # wang is not held up
    assert Outbox.get(Outbox.chat_id == 1002).status == "sent"

    bot.deliver()
    texts = [m.message for m in delivered(bot, 1001)]
    assert [t.split("\n")[0] for t in texts] == [
        "Hello, Alice! Thank you for contacting us. Please describe your issue, and we will do our best to help you.",
        "You have no open tickets. Just write to us whenever you need help.", "Choose your language:"]
    rows = list(Outbox.select().where(Outbox.chat_id == 1001).order_by(Outbox.id))
    assert [r.status for r in rows] == ["sent"] * 3
    assert rows[0].sent_at >= started + timedelta(seconds=30)
    assert rows[0].sent_at <= rows[1].sent_at <= rows[2].sent_at
    assert len(bot.sent()) == 5  # 1 refused + 3 to alice + 1 to wang: each sent exactly once


def test_a_customer_who_blocked_the_bot_becomes_unreachable_and_the_thread_is_told(bot):
    ticket = escalated_to_l2(bot)
    bot.wire.fail_next(to_user(1001), "USER_IS_BLOCKED", times=3)  # alice blocked the bot: every send refused
    bot.staff_says("carol", "L2", "Hi Alice, we are looking into it.", thread_id=ticket.topic_id)
    bot.staff_says("carol", "L2", "Could you send the receipt?", thread_id=ticket.topic_id, after=1)
    bot.deliver()
    bot.deliver()  # the next round of the sender: the notice the refusal queued

    relays = [r for r in Outbox.select().where(Outbox.chat_id == 1001).order_by(Outbox.id)
              if r.payload.get("staff") == "carol"]
    assert [r.status for r in relays] == ["dead", "dead"]  # the refused one and the one queued behind it
    assert "UserIsBlocked" in relays[0].error
    customer = Customer.get(Customer.telegram_id == 1001)
    unreachable = Event.get(Event.kind == "customer.unreachable")
    assert customer.unreachable_at == unreachable.at <= bot.clock()
    assert (unreachable.ticket_id, unreachable.actor) == (ticket.id, "system")
    assert "UserIsBlocked" in unreachable.details["reason"]
    notice = to_chat(bot, bot.chats["L2"])[-1]
    assert notice.message.startswith("⚠ The customer of #1 cannot be reached any more (UserIsBlocked")
    assert thread_of(notice) == ticket.topic_id
    assert [m.message for m in delivered(bot, 1001)][-1].startswith("Your issue has been escalated")
    assert len(to_chat(bot, 1001)) - len(delivered(bot, 1001)) <= 2  # refused at most twice, then given up

    # what staff write next is not relayed, and they are told why
    bot.staff_says("carol", "L2", "Alice?", thread_id=ticket.topic_id)
    bot.deliver()
    assert to_chat(bot, bot.chats["L2"])[-1].message == \
        "Not relayed: the customer has blocked the bot or deleted their account."
    assert len(bot.wire.sent(SendMessage)) == len(to_chat(bot, 1001)) + len(to_chat(bot, bot.chats["L2"]))
    assert Event.select().where(Event.kind == "customer.unreachable").count() == 1


def test_a_long_text_arrives_as_three_messages_split_on_paragraphs_and_lines(bot):
    paragraphs, number = [], 0
    while sum(len(p) + 2 for p in paragraphs) < 10_100:
        number += 1
        paragraphs.append("\n".join(f"Paragraph {number}, line {line}: " + " ".join(["lorem ipsum dolor"] * 3)
                                    for line in range(1, 5)))
    text = "\n\n".join(paragraphs)[:10_000].rstrip()
    text = text + "x" * (10_000 - len(text))
    assert len(text) == 10_000
    known(bot, "alice")
    queue(bot, 1001, text, dedupe_key="long-1")
    bot.deliver()

    sent = to_chat(bot, 1001)[1:]
    assert len(sent) == 3 and [m.message for m in delivered(bot, 1001)][1:] == [r.message for r in sent]
    assert all(len(r.message.encode("utf-16-le")) // 2 <= 4096 for r in sent)
    position = 0
    for number, part in enumerate(r.message for r in sent):
        assert text.startswith(part, position), f"part {number} is not the text's next piece"
        position += len(part)
        if number < 2:  # a cut falls on a paragraph or line boundary, whose whitespace it consumes
            gap = text[position:position + 2]
            assert gap == "\n\n" or gap[0] == "\n", repr(text[position - 20:position + 20])
            position += 2 if gap == "\n\n" else 1
    assert position == len(text)


def test_one_chat_gets_at_most_one_message_a_second_and_the_others_are_not_held_up(bot):
    known(bot, "alice", "wang")
    bot.clock.sleep(10)
    sent_before = Outbox.select().count()
    started = bot.clock()
    for n in range(30):
        queue(bot, 1001, f"alice {n}")
    for n in range(5):
        queue(bot, 1002, f"wang {n}")
    assert bot.deliver() == 35

    to_alice = list(Outbox.select().where((Outbox.chat_id == 1001) & (Outbox.id > sent_before)).order_by(Outbox.id))
    assert [m.message for m in delivered(bot, 1001)][1:] == [f"alice {n}" for n in range(30)]
    gaps = [(b.sent_at - a.sent_at).total_seconds() for a, b in zip(to_alice, to_alice[1:], strict=False)]
    assert min(gaps) >= 1 - 1e-3, gaps
    assert to_alice[-1].sent_at - started >= timedelta(seconds=29)
    to_wang = list(Outbox.select().where((Outbox.chat_id == 1002) & (Outbox.id > sent_before)).order_by(Outbox.id))
    assert [m.message for m in delivered(bot, 1002)][1:] == [f"wang {n}" for n in range(5)]
    assert to_wang[-1].sent_at - started <= timedelta(seconds=5)  # not behind alice's 30


def test_a_group_gets_at_most_twenty_messages_a_minute(bot):
    started = bot.clock()
    for n in range(22):
        queue(bot, bot.chats["L1"], f"note {n}")
    bot.deliver()
    rows = list(Outbox.select().order_by(Outbox.id))
    assert [m.message for m in delivered(bot, bot.chats["L1"])] == [f"note {n}" for n in range(22)]
    assert rows[19].sent_at - started < timedelta(seconds=25)
    assert rows[20].sent_at - rows[0].sent_at >= timedelta(seconds=60)


def test_button_data_over_64_bytes_is_refused_before_telegram_sees_it(bot):
    known(bot, "alice")
    queue(bot, 1001, "How did we do?", buttons=[[{"text": "★★★★★", "data": "survey:1:5:" + "x" * 54}]])
    queue(bot, 1001, "Thank you!")
    bot.deliver()
    greeting, bad, good = Outbox.select().order_by(Outbox.id)
    assert (bad.status, bad.telegram_message_id) == ("failed", None)
    assert "65 bytes" in bad.error
    assert good.status == "sent"
    assert [r.message for r in to_chat(bot, 1001)] == [greeting.text.replace("<b>", "").replace("</b>", ""),
                                                       "Thank you!"]  # the refused row never reached Telegram


def test_a_button_press_is_acknowledged(bot):
    known(bot, "alice")
    queue(bot, 1001, "How did we do?", buttons=[[{"text": "★★★★★", "data": "survey:1:5"},
                                                  {"text": "★", "data": "survey:1:1"}]])
    bot.deliver()
    markup = to_chat(bot, 1001)[-1].reply_markup
    assert [(b.text, b.type.data) for b in markup.rows[0].buttons] == [("★★★★★", b"survey:1:5"),
                                                                      ("★", b"survey:1:1")]
    message_id = last_message_id(bot, 1001, outgoing=True)
    press = bot.wire.callback(bot.people["alice"], 1001, message_id, "survey:1:5")
    bot.connection.feed(press)
    bot.connection.feed(press)  # delivered twice: acknowledged once
    bot.deliver()
    answers = bot.wire.sent(raw.functions.messages.SetBotCallbackAnswer)
    assert [a.query_id for a in answers] == [press.updates[0].query_id]
    row = Outbox.get(Outbox.kind == "answer-callback")
    assert (row.status, row.payload["data"]) == ("sent", "survey:1:5")
    assert Ticket.select().count() == 0  # a press is no message to the desk


def test_an_answer_to_a_press_is_not_held_up_by_the_chats_message_limit(bot):
    known(bot, "alice")
    queue(bot, 1001, "How did we do?", buttons=[[{"text": "★★★★★", "data": "survey:1:5"}]])
    bot.deliver()
    press = bot.wire.callback(bot.people["alice"], 1001, last_message_id(bot, 1001, outgoing=True), "survey:1:5")
    for number in range(5):
        queue(bot, 1001, f"message {number}")  # the chat's 1/s limit: 5 s of messages ahead
    bot.connection.feed(press)
    bot.deliver(budget_s=0.5)
    assert len(bot.wire.sent(raw.functions.messages.SetBotCallbackAnswer)) == 1
    assert len(to_chat(bot, 1001)) <= 2  # the survey and at most one of the five so far


def test_a_message_held_up_while_the_ticket_moved_on_still_goes_into_its_old_topic(bot):
    ticket = escalated_to_l2(bot)
    l2 = bot.chats["L2"]
    bot.wire.fail_next(lambda q: isinstance(q, SendMessage) and peer_id(q.peer) == l2, "FLOOD_WAIT_30")
    bot.says("alice", "more details: order 4711")
    bot.deliver(budget_s=5)  # the mirrored message waits 30 s for L2
    escalate_ticket(bot.db, 1, to="L3", reason="the payment provider is down", actor="dave", now=bot.clock(),
                    quick=True)
    bot.deliver()
    assert Ticket.get().staff_chat_id == bot.chats["L3"]
    mirrored = [r for r in to_chat(bot, l2) if r.message == "Alice (#1): more details: order 4711"]
    assert len(mirrored) == 2  # refused once, then sent
    assert thread_of(mirrored[1]) == ticket.topic_id  # in the ticket's L2 topic, not in the forum's General

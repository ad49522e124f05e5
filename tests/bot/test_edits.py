"""Edits through the real bot: a staff member who edits an answer relayed to the customer edits the customer's copy
(messages.EditMessage), a note stays a note; a customer's edit is shown in the thread as an edit of its mirror, or
as a new line marked edited when it was shown only on the card; a catch-up that brings an edit again changes
nothing more."""

from __future__ import annotations

from bot_support import escalated_to_l2, last_message_id
from pyrogram import raw, utils

from tgesc.models import Event, MessageEdit, Ticket


def edits(bot, chat_id: int) -> list[str]:
    return [r.message for r in bot.wire.sent(raw.functions.messages.EditMessage)
            if utils.get_peer_id(r.peer) == chat_id]


def test_a_staff_member_edits_an_answer_and_the_customers_copy_changes(bot):
    escalated_to_l2(bot)
    topic, l2 = Ticket.get().topic_id, bot.chats["L2"]
    bot.staff_says("carol", "L2", "Hi Alice, the refund goes out tomorow.", thread_id=topic)
    answer = last_message_id(bot, l2, outgoing=False)
    bot.staff_says("carol", "L2", "// she sounded upset", thread_id=topic)
    note = last_message_id(bot, l2, outgoing=False)
    bot.deliver()
    assert bot.texts_to(1001)[-1] == "Hi Alice, the refund goes out tomorow."

    edited = bot.wire.edit(l2, answer, "Hi Alice, the refund goes out tomorrow.")
    bot.connection.feed(edited)
    bot.connection.feed(bot.wire.edit(l2, note, "// she sounded very upset"))
    bot.deliver()
    assert edits(bot, 1001) == ["Hi Alice, the refund goes out tomorrow."]
    copy = bot.wire._box(1001).messages[last_message_id(bot, 1001, outgoing=True)]
    assert copy.message == "Hi Alice, the refund goes out tomorrow." and copy.edit_date
    assert [e.text for e in MessageEdit.select().order_by(MessageEdit.id)] == [
        "Hi Alice, the refund goes out tomorrow.", "// she sounded very upset"]
    assert [e.actor for e in Event.select().where(Event.kind == "ticket.reply_edited")] == ["carol"]

    bot.connection.feed(edited)  # the same edit again (a catch-up): nothing more
    bot.deliver()
    assert len(edits(bot, 1001)) == 1


def test_a_customers_edit_shows_in_the_thread(bot):
    escalated_to_l2(bot)
    l2 = bot.chats["L2"]
    first = last_message_id(bot, 1001, outgoing=False)  # shown on the card only
    bot.says("alice", "Order 4171, paid on Friday")
    later = last_message_id(bot, 1001, outgoing=False)
    bot.deliver()
    bot.connection.feed(bot.wire.edit(1001, later, "Order 4711, paid on Friday"))
    bot.connection.feed(bot.wire.edit(1001, first, "I was charged twice for order 4711, I want a refund"))
    bot.deliver()
    card, mirrored = edits(bot, l2)  # the card grew with the message (the problem, before the first answer)
    assert "Order 4171, paid on Friday" in card and mirrored == "Alice (#1): Order 4711, paid on Friday (edited)"
    assert bot.texts_to(l2)[-1] == "Alice (#1): I was charged twice for order 4711, I want a refund (edited)"

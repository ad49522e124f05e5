"""Catch-up in process: the bot's connection stops, people go on writing (the wire logs every message
with its pts), the connection starts again: what was missed is fetched (getDifference,
getChannelDifference), stored exactly once and handled once; what was handled before is never
duplicated, even when the client's update state is lost and everything is replayed."""

from __future__ import annotations

from bot_support import delivered, escalated_to_l2, to_chat
from pyrogram import raw

from tgesc.models import Event, Message, Outbox, Ticket


def _stored() -> list[tuple[int, int, str, str]]:
    return [(m.chat_id, m.message_id, m.sender, m.text) for m in Message.select().order_by(Message.id)]


def test_messages_missed_while_stopped_are_stored_once_and_nothing_is_duplicated(bot):
    ticket = escalated_to_l2(bot)
    bot.staff_says("carol", "L2", "Hi Alice, I am on it.", thread_id=ticket.topic_id)
    bot.deliver()
    before = _stored()
    assert len(before) == 2

    bot.stop()
    wire, alice = bot.wire, bot.people["alice"]
    bot.clock.sleep(60)
    wire.private_text(alice, "Order 4711, paid on Friday")
    wire.private_media(alice, "photo", caption="the receipt")
    wire.private_text(bot.people["wang"], "/start")
    wire.group_text(bot.chats["L2"], bot.people["carol"], "Thanks, I see the receipt.", thread_id=ticket.topic_id)
    wire.group_text(bot.chats["L2"], bot.people["carol"], "// refund approved by finance",
                    thread_id=ticket.topic_id)
    wire.private_text(alice, "Great, thank you!")
    requests_before = len(wire.requests)
    bot.clock.sleep(60)
    bot.start()
    bot.connection.drain()
    caught_up = [type(r).__name__ for r in wire.requests[requests_before:]]
    assert "GetDifference" in caught_up and "GetChannelDifference" in caught_up
    bot.deliver()

    after = _stored()
    assert after[:2] == before
    assert [(sender, text) for _, _, sender, text in after[2:]] == [
        ("staff", "Thanks, I see the receipt."), ("staff", "// refund approved by finance"),
        ("customer", "Order 4711, paid on Friday"), ("customer", "the receipt"), ("customer", "Great, thank you!")]
    assert len({(chat, message) for chat, message, _, _ in after}) == len(after)
    assert Message.get(Message.text == "the receipt").media_type == "photo"
    assert Message.get(Message.text == "// refund approved by finance").is_internal
    assert Ticket.select().count() == 1

    # each handled once: relayed, mirrored, answered
    assert [m.message for m in delivered(bot, 1001)][-2:] == ["Hi Alice, I am on it.", "Thanks, I see the receipt."]
    assert [m.message for m in delivered(bot, 1002)] == [
        "Wang,您好!感谢您联系我们。请描述您遇到的问题,我们会尽力为您解决。"]
    mirrored = [r.message for r in to_chat(bot, bot.chats["L2"]) if r.message.startswith("Alice (#1)")]
    assert mirrored == ["Alice (#1): Order 4711, paid on Friday", "Alice (#1): Great, thank you!"]
    assert len(to_chat(bot, bot.chats["L2"], raw.functions.messages.ForwardMessages)) == 1
    assert not [r for r in to_chat(bot, 1001) if "refund approved" in r.message]
    outbox_rows, sends = Outbox.select().count(), len(wire.requests)

    # the client loses its update state (pts back to 0): everything is replayed, nothing is done twice
    bot.restart_forgetting_updates()  # the catch-up hands every update over again
    replayed = [r for r in wire.requests[sends:] if isinstance(r, raw.functions.updates.GetDifference
                                                              | raw.functions.updates.GetChannelDifference)]
    assert replayed and all(r.pts == 0 for r in replayed)
    bot.deliver()
    assert _stored() == after
    assert Outbox.select().count() == outbox_rows
    assert not [r for r in wire.requests[sends:] if isinstance(r, raw.functions.messages.SendMessage
                                                                | raw.functions.messages.ForwardMessages)]
    assert Event.select().where(Event.kind == "ticket.replied").count() == 2

"""Attachments through the real bot: a customer's media is mirrored into the ticket's topic as a copy
(a forward without the author, the file staying on Telegram's servers); what they sent before the
escalation follows the card; a staff member's attachment reaches the customer the same way."""

from __future__ import annotations

from bot_support import delivered, escalated_to_l2, last_message_id, peer_id, thread_of, to_chat
from pyrogram import raw

from tgesc.models import Message, Ticket

ForwardMessages = raw.functions.messages.ForwardMessages


def _media_id(message) -> int:
    return (getattr(message.media, "photo", None) or message.media.document).id


def test_a_photo_after_the_escalation_is_copied_into_the_topic(bot):
    ticket = escalated_to_l2(bot)
    bot.says("alice", "the bank statement", media="photo")
    photo_id = last_message_id(bot, 1001, outgoing=False)
    bot.deliver()

    copies = to_chat(bot, bot.chats["L2"], ForwardMessages)
    assert len(copies) == 1
    copy = copies[0]
    assert (copy.id, copy.drop_author, copy.from_peer.user_id) == ([photo_id], True, 1001)
    assert thread_of(copy) == ticket.topic_id
    posted = delivered(bot, bot.chats["L2"])[-1]
    original = bot.wire._box(1001).messages[photo_id]
    assert (posted.fwd_from, _media_id(posted), posted.message) == (None, _media_id(original), "the bank statement")
    assert Ticket.get().evidence_provided
    # the caption went with the copy: no separate text mirrored
    assert not [r for r in to_chat(bot, bot.chats["L2"]) if "bank statement" in r.message]


def test_attachments_sent_before_the_escalation_follow_the_card(bot):
    bot.says("alice", "My payment failed, screenshot attached", media="photo")
    photo_id = last_message_id(bot, 1001, outgoing=False)
    bot.says("alice", "", media="document")
    document_id = last_message_id(bot, 1001, outgoing=False)
    bot.says("alice", "and now I was charged twice, I want a refund")
    assert Ticket.get().tier.code == "L2"
    bot.deliver()

    l2 = bot.chats["L2"]
    to_l2 = [r for r in bot.wire.requests if getattr(r, "peer", None) is not None and _is(r.peer, l2)
             or isinstance(r, ForwardMessages) and _is(r.to_peer, l2)]
    assert [type(r).__name__ for r in to_l2] == ["CreateForumTopic", "SendMessage", "UpdatePinnedMessage",
                                                 "ForwardMessages", "ForwardMessages"]
    card, pin, first, second = to_l2[1:]
    assert pin.silent
    assert "Problem" in card.message and "[photo]" in card.message and "[document]" in card.message
    assert (first.id, second.id) == ([photo_id], [document_id])
    topic = Ticket.get().topic_id
    assert {thread_of(r) for r in (card, first, second)} == {topic}
    posted = delivered(bot, l2)  # the topic's service message, the card, the pin's service message, the copies
    assert [_media_id(m) for m in posted[3:]] == [_media_id(bot.wire._box(1001).messages[i])
                                                  for i in (photo_id, document_id)]


def test_a_staff_attachment_is_copied_to_the_customer(bot):
    ticket = escalated_to_l2(bot)
    bot.clock.sleep(10)
    bot.connection.feed(bot.wire.group_text(bot.chats["L2"], bot.people["carol"], "the refund receipt",
                                            thread_id=ticket.topic_id, media="document"))
    staff_message = last_message_id(bot, bot.chats["L2"], outgoing=False)
    bot.deliver()
    copy = bot.wire.last(ForwardMessages)
    assert (copy.id, copy.drop_author, _is(copy.to_peer, 1001), _is(copy.from_peer, bot.chats["L2"])) == (
        [staff_message], True, True, True)
    assert delivered(bot, 1001)[-1].message == "the refund receipt"
    stored = Message.get(Message.message_id == staff_message)
    assert (stored.sender, stored.media_type, stored.is_internal) == ("staff", "document", False)
    assert Ticket.get().first_responded_at == bot.clock()


def _is(peer, chat_id: int) -> bool:
    return isinstance(peer, raw.types.InputPeerUser | raw.types.InputPeerChat | raw.types.InputPeerChannel) \
        and peer_id(peer) == chat_id

"""Helpers for the end-to-end bot tests (tests/bot): reading the raw requests the fake wire received."""

from __future__ import annotations

from pyrogram import raw, utils

from tgesc.models import Ticket


def peer_id(peer) -> int:
    """The chat id (as the client sees it) an InputPeer names."""
    if isinstance(peer, raw.types.InputPeerUser):
        return peer.user_id
    if isinstance(peer, raw.types.InputPeerChat):
        return -peer.chat_id
    return utils.get_channel_id(peer.channel_id)


def calls_by_random_id(wire, kind: type) -> dict[tuple[int, int], object]:
    """The calls of `kind` the bot made, one per (chat, random_id); a repeated call must repeat the request."""
    calls: dict[tuple[int, int], object] = {}
    for request in wire.sent(kind):
        key = (peer_id(request.peer), request.random_id)
        assert calls.setdefault(key, request) == request, f"random_id {key} reused for another call: {request}"
    return calls


def to_chat(bot, chat_id: int, kind=raw.functions.messages.SendMessage) -> list:
    """The requests of `kind` the bot made to `chat_id`, in order (SendMessage / ForwardMessages)."""
    key = "to_peer" if kind is raw.functions.messages.ForwardMessages else "peer"
    return [r for r in bot.wire.sent(kind) if peer_id(getattr(r, key)) == chat_id]


def thread_of(request) -> int | None:
    """The forum topic a SendMessage / ForwardMessages request was sent into (None: the chat itself)."""
    if getattr(request, "top_msg_id", None):
        return request.top_msg_id
    reply_to = request.reply_to
    if reply_to is None:
        return None
    return reply_to.top_msg_id or reply_to.reply_to_msg_id


def replied_to(request) -> int | None:
    """The message a request replies to (None: not a reply)."""
    reply_to = request.reply_to
    return None if reply_to is None else reply_to.reply_to_msg_id


def escalated_to_l2(bot, name: str = "alice", text: str = "I was charged twice, I want a refund") -> Ticket:
    """`name` writes a refund request (the default rules escalate it to L2's forum); everything delivered:
    the ticket has its topic in L2 with the card."""
    bot.says(name, text)
    bot.deliver()
    ticket = Ticket.get(Ticket.number == Ticket.select().count())
    assert (ticket.tier.code, ticket.staff_chat_id) == ("L2", bot.chats["L2"]) and ticket.topic_id
    return ticket


def last_message_id(bot, chat_id: int, *, outgoing: bool | None = None) -> int:
    """The id of the newest message the wire holds in `chat_id` (only the bot's with `outgoing=True`, only
    people's with False)."""
    found = [m.id for m in bot.wire._box(chat_id).messages.values()
             if utils.get_peer_id(m.peer_id) == chat_id and (outgoing is None or bool(m.out) == outgoing)]
    assert found, f"the wire holds no such message in chat {chat_id}"
    return max(found)


def delivered(bot, chat_id: int) -> list:
    """The messages the bot really posted in `chat_id` (the wire holds them), oldest first: unlike the
    requests, a refused attempt is not among them."""
    box = bot.wire._box(chat_id)
    return [box.messages[i] for i in sorted(box.messages)
            if utils.get_peer_id(box.messages[i].peer_id) == chat_id and box.messages[i].out]


def command(bot, text: str, *, who: str = "carol", chat: str = "L2", thread_id: int | None = None) -> str:
    """`who` types `text` in the ticket's thread of `chat`; everything is delivered; the bot's answer, which
    must be a reply to that message in the same thread (by default the thread of ticket #1: `Ticket.get()` alone
    picks any row, and PostgreSQL may return #2 first once #1 was updated)."""
    thread_id = thread_id or Ticket.get(Ticket.number == 1).topic_id
    bot.staff_says(who, chat, text, thread_id=thread_id)
    typed = last_message_id(bot, bot.chats[chat], outgoing=False)
    bot.deliver()
    answers = [r for r in to_chat(bot, bot.chats[chat]) if replied_to(r) == typed]
    assert len(answers) == 1, f"{text!r}: {[r.message for r in answers]}"
    assert thread_of(answers[0]) == thread_id
    return answers[0].message

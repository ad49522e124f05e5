"""What happened on an in-memory wire, as plain data: each message `FakeWire` stored (sent by the bot, or written
by a person and fed to it) turned into a dict a transcript can show, without pyrogram types leaving the adapter.
"""

from __future__ import annotations

from typing import Any

from pyrogram import raw

from tgesc.adapters.telegram.wire import FakeWire


def journal_since(wire: FakeWire, position: int) -> tuple[list[dict[str, Any]], int]:
    """The messages stored on `wire` after the first `position` of its journal, and the new position.
    Service messages (a topic created, the bot added to a group) are left out."""
    with wire._lock:
        stored = wire.journal[position:]
        position = len(wire.journal)
    return [entry(wire, chat_id, m) for chat_id, m in stored if isinstance(m, raw.types.Message)], position


def entry(wire: FakeWire, chat_id: int, message: raw.types.Message) -> dict[str, Any]:
    """One message: chat, id, sender, direction, Unix date, text (a media message's caption), media kind, the file's
    name (a document's, such as the weekly digest's report), buttons and thread."""
    sender = getattr(message.from_id, "user_id", None) or (chat_id if chat_id > 0 else None)
    return {
        "chat_id": chat_id,
        "message_id": message.id,
        "sender_id": sender,
        "outgoing": sender == wire.bot.id,
        "date": message.date,
        "text": message.message or "",
        "media": media_kind(message.media),
        "file_name": file_name(message.media),
        "buttons": buttons(message.reply_markup),
        "thread": thread_of(message),
    }


def media_kind(media: Any) -> str | None:
    if media is None or isinstance(media, raw.types.MessageMediaEmpty):
        return None
    if isinstance(media, raw.types.MessageMediaPhoto):
        return "photo"
    if isinstance(media, raw.types.MessageMediaDocument):
        for flag in ("voice", "round", "video"):
            if getattr(media, flag, None):
                return {"round": "video_note"}.get(flag, flag)
        return "document"
    return type(media).__name__.removeprefix("MessageMedia").lower()


def file_name(media: Any) -> str | None:
    """The file name a document carries (its DocumentAttributeFilename); None for other media and none."""
    document = getattr(media, "document", None)
    for attribute in getattr(document, "attributes", None) or []:
        if isinstance(attribute, raw.types.DocumentAttributeFilename):
            return attribute.file_name
    return None


def buttons(markup: Any) -> list[list[list[str]]] | None:
    """Inline keyboard rows as [[label, callback data], ...] (data decoded as UTF-8); None without one."""
    if not isinstance(markup, raw.types.ReplyInlineMarkup):
        return None
    return [[[b.text, _data(b)] for b in row.buttons] for row in markup.rows]


def _data(button: Any) -> str:
    """A button's callback data (this layer keeps it in the button's `type`; older ones on the button), or its
    URL."""
    for holder in (getattr(button, "type", None), button):
        data = getattr(holder, "data", None)
        if isinstance(data, bytes):
            return data.decode("utf-8", "replace")
        if getattr(holder, "url", None):
            return holder.url
    return ""


def thread_of(message: raw.types.Message) -> int | None:
    """The forum topic a message sits in, or in a plain group the message it replies to (a ticket's card)."""
    header = message.reply_to
    if not isinstance(header, raw.types.MessageReplyHeader):
        return None
    if header.forum_topic:
        return header.reply_to_top_id or header.reply_to_msg_id
    return header.reply_to_msg_id

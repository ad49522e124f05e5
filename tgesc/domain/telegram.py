"""What tgesc exchanges with Telegram, as plain data: the updates the bot receives, the requests it makes,
and the port (interface) the Telegram adapter implements.

Only `tgesc.adapters.telegram` knows pyrogram; it turns the library's updates into these dataclasses and
carries out `TelegramPort` calls. Services and tests of services work with these types alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

TEXT_LIMIT = 4096  # characters in one message text
CAPTION_LIMIT = 1024  # characters in one media caption
CALLBACK_DATA_LIMIT = 64  # bytes of an inline button's callback data
# Telegram's message ids are 32-bit (MTProto's `id:int`): the desk numbers the messages that came by another
# channel (typed in with the CLI) above this, in the customer's chat, so they never meet a real one
OWN_MESSAGE_IDS = 10_000_000_000


@dataclass(frozen=True)
class User:
    """The sender of an update, as Telegram describes them."""

    id: int
    access_hash: int | None = None
    username: str | None = None
    first_name: str = ""
    last_name: str = ""
    language_code: str | None = None
    is_bot: bool = False


@dataclass(frozen=True)
class IncomingMessage:
    """A new or edited message in a private chat or a group, from a person (service messages are dropped)."""

    chat_id: int
    chat_type: str  # private | group | supergroup | channel
    message_id: int
    sender: User
    sent_at: datetime
    text: str = ""  # the text, or a media message's caption
    media_type: str | None = None  # photo | document | voice | video | video_note | audio | sticker | animation
    file_id: str | None = None
    thread_id: int | None = None  # the forum topic (its creating message id), when in one
    reply_to_message_id: int | None = None
    is_forum: bool = False
    edited_at: datetime | None = None  # set for an edit of an earlier message


@dataclass(frozen=True)
class ButtonPress:
    """A press of an inline button (a callback query)."""

    query_id: str
    sender: User
    chat_id: int
    message_id: int
    data: str


@dataclass(frozen=True)
class Button:
    """An inline button: its label and the callback data (at most 64 bytes) a press sends back."""

    text: str
    data: str


@dataclass(frozen=True)
class BotRights:
    """What the bot may do in a group, as Telegram tells it when asked (`TelegramPort.bot_rights`). A bot that is
    no member (any more) has no right; `is_forum`: the group is a forum (topics)."""

    is_member: bool
    is_admin: bool = False
    can_post: bool = False
    can_manage_topics: bool = False
    can_pin: bool = False
    is_forum: bool = False


def as_record(item: IncomingMessage | ButtonPress) -> dict[str, Any]:
    """`item` as JSON-ready data (a dead letter keeps it so): `from_record` gives it back unchanged."""
    data = asdict(item)
    for name in ("sent_at", "edited_at"):
        if isinstance(data.get(name), datetime):
            data[name] = data[name].isoformat()
    return {"type": "press" if isinstance(item, ButtonPress) else "message", **data}


def from_record(data: dict[str, Any]) -> IncomingMessage | ButtonPress:
    """The update `as_record` made `data` of."""
    fields = {name: value for name, value in data.items() if name != "type"}
    fields["sender"] = User(**fields["sender"])
    if data.get("type") == "press":
        return ButtonPress(**fields)
    for name in ("sent_at", "edited_at"):
        if fields.get(name) is not None:
            fields[name] = datetime.fromisoformat(fields[name])
    return IncomingMessage(**fields)


class Undeliverable(Exception):
    """Telegram refused for good: the user blocked the bot, was deleted, or the peer is unknown."""


class RetryAfter(Exception):
    """Telegram asked to wait (FLOOD_WAIT, SLOWMODE_WAIT) `seconds` before trying again."""

    def __init__(self, seconds: float, reason: str = "flood wait") -> None:
        super().__init__(f"{reason}: retry after {seconds:g} s")
        self.seconds = seconds
        self.reason = reason


class UpdateHandlers(Protocol):
    """What the Telegram adapter hands each update to, one update at a time, in order. A handler returns once
    the update is committed: handled, or kept as a dead letter when handling it failed for good. If it raises,
    nothing was committed, and the adapter hands the same update over again after a pause (growing to half a
    minute) until it returns; only then does the update count as handled. `raw()` renders the update as the
    library received it (JSON text), for a dead letter: called only then, as rendering costs more than handling."""

    def on_message(self, message: IncomingMessage, raw: Callable[[], str]) -> None:
        """A new or edited message."""

    def on_messages(self, run: Sequence[tuple[IncomingMessage, Callable[[], str]]]) -> None:
        """Messages that were queued one behind another, each with its `raw`, in order: committed together, as
        each would be by `on_message` (a raise means none of them was committed)."""

    def on_press(self, press: ButtonPress, raw: Callable[[], str]) -> None:
        """A press of an inline button."""

    def on_unreadable(self, kind: str, raw: str, error: str) -> None:
        """An update the adapter could not read (`kind`: message or press; `error`: the traceback)."""


class TelegramPort(Protocol):
    """The outbound calls services make. Each blocks until Telegram answered; each raises RetryAfter or
    Undeliverable as above, any other failure as it is. Texts are HTML (Telegram's subset).

    `random_id` (a signed 64-bit integer, default: a fresh one) is Telegram's idempotency key: a call with a
    random_id already used towards the same chat sends nothing new and returns what the first call made, so a
    call repeated after a crash between Telegram's answer and our record of it makes no second message."""

    def send_message(self, chat_id: int, text: str, *, thread_id: int | None = None,
                     reply_to: int | None = None, buttons: list[list[Button]] | None = None,
                     random_id: int | None = None) -> int:
        """Send a text; the new message's id."""

    def copy_message(self, chat_id: int, from_chat_id: int, message_id: int, *, thread_id: int | None = None,
                     reply_to: int | None = None, random_id: int | None = None) -> int:
        """Copy a message (media included, without the forward header); the new message's id."""

    def send_document(self, chat_id: int, filename: str, data: bytes, *, caption: str = "",
                      thread_id: int | None = None, reply_to: int | None = None, random_id: int | None = None) -> int:
        """Upload `data` and send it as a file named `filename`, with a caption (HTML, at most CAPTION_LIMIT
        characters) or none; the new message's id. A repeated random_id uploads the file again and sends nothing
        new."""

    def create_topic(self, chat_id: int, title: str, *, random_id: int | None = None) -> int:
        """Open a forum topic in a forum supergroup; its thread id."""

    def answer_button(self, query_id: str, text: str = "") -> None:
        """Acknowledge a button press, with an optional short notice."""

    def edit_message(self, chat_id: int, message_id: int, text: str) -> None:
        """Replace the text of a message the bot sent (the same text again changes nothing, and is no error)."""

    def pin_message(self, chat_id: int, message_id: int) -> bool:
        """Pin a message the bot sent, silently (in a forum, within its topic); False when the bot may not pin
        there (no right to, or the message is gone). Pinning it again changes nothing, and is no error."""

    def remember_peer(self, user_id: int, access_hash: int) -> None:
        """Let the client write to a user it has not seen (known from the database, with their access hash)."""

    def bot_rights(self, chat_id: int) -> BotRights:
        """What the bot may do in the group `chat_id` now: post, manage topics, pin (none when it is no member)."""

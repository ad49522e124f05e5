"""A Telegram server in memory at kurigram's session layer: `tgesc simulate` and the tests drive the real library
without network.

    wire = FakeWire()
    conn = TelegramConnection("bot", tmp_path, 1, "hash", wire.bot_token, handlers=...,  # an UpdateHandlers
                              session_factory=wire.session_factory)
    conn.start()
    ann = wire.user(first_name="Ann", username="ann")
    conn.feed(wire.private_text(ann, "hello"))        # inbound: raw Updates through client.handle_updates
    conn.send_message(ann.id, "<b>hi</b>")
    wire.last(raw.functions.messages.SendMessage)      # outbound: every raw function the library sent

What the wire does, like the server:
- answers getState / getDifference / getChannelDifference from its own update log: every message it built or was
  sent gets the next pts of its box (the common box for private chats and basic groups, one per channel), so a
  client that was away gets exactly what happened after its stored pts;
- numbers messages like Telegram: one increasing id sequence for private chats and basic groups together
  (messages.getMessages takes bare ids), one per supergroup;
- checks access hashes: a peer it never showed the client, or a wrong hash, is PEER_ID_INVALID;
- keeps the messages, so getMessages, forwardMessages (copy) and callback queries work on them;
- takes uploads as the server does: upload.saveFilePart keeps each part under its file id, and messages.sendMedia
  with an uploaded document assembles them (FILE_PART_<n>_MISSING for a part it lacks, MD5_CHECKSUM_INVALID when
  the client's md5 does not match) into a document with its file name and size; `uploaded(chat_id, message_id)`
  gives back the bytes a file message carries;
- dedupes by random_id as Telegram does: a send, forward or topic creation repeating a random_id already used
  towards the same chat makes nothing new and answers what the first call made (`duplicates` counts them);
- knows the bot's place in each group (`set_bot_rights`: an administrator with every right unless told otherwise)
  and what members may do there (`set_member_rights`), answers channels.getParticipant and messages.getFullChat
  with it, and refuses what the bot may not do: posting (CHAT_WRITE_FORBIDDEN; CHANNEL_PRIVATE when it is no
  member of a supergroup) and opening a topic (CHAT_ADMIN_REQUIRED);
- sends every object it answers with through its TL bytes (`TLObject.read(BytesIO(obj.write()))`), so fakes
  look exactly like decoded server data and are checked against the layer. Requests are serialized (checked)
  but kept as the library built them: decoding a bare Vector guesses its element type from the byte size.
Faults: `fail_next(raw.functions.messages.SendMessage, "FLOOD_WAIT_42")` makes the next such call get that
`RpcError` reply, and the library raises its own exception class for it.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyrogram import raw, utils
from pyrogram.errors.rpc_error import RPCError
from pyrogram.raw.core import TLObject
from pyrogram.session import Session

from tgesc.adapters.telegram.wire_methods import ServerMethods, roundtrip, rpc_error

MEDIA_KINDS = ("photo", "document", "voice", "video", "video_note", "audio", "sticker", "animation")
__all__ = ["MEDIA_KINDS", "FakeWire", "WireSession", "raised_if_error", "roundtrip", "rpc_error"]


class WireSession(Session):
    """The client's session: every request goes to the wire instead of a socket; the library's own retry and
    flood-wait logic (`Session.invoke`) stays in the path."""

    def __init__(self, client: Any, wire: FakeWire) -> None:
        super().__init__(client, 2, "127.0.0.1", 443, bytes(256), False)
        self.wire = wire

    async def start(self) -> None:
        self.is_started.set()

    async def stop(self) -> None:
        self.is_started.clear()

    async def send(self, data: TLObject, wait_response: bool = True, timeout: float = Session.WAIT_TIMEOUT) -> Any:
        return raised_if_error(self.wire.answer(data), data)


def raised_if_error(result: Any, request: TLObject) -> Any:
    """`result`, the wire's reply to `request`; an RpcError reply raises the library's own exception class for
    it, as a real session does."""
    if isinstance(result, raw.types.RpcError):
        query = request.query if isinstance(request, raw.functions.InvokeWithoutUpdates) else request
        RPCError.raise_it(result, type(query))
    return result


@dataclass
class _Standing:
    """The bot's place in one group: a member or not; an administrator or a plain member; its admin rights (a basic
    group knows none per right: an administrator there may do everything)."""

    member: bool = True
    admin: bool = True
    pin: bool = True
    manage_topics: bool = True


# what members of a new group may do (Telegram's defaults for a new group, near enough): post, but not pin, change
# the group's info or manage topics
MEMBER_DEFAULTS = {"send": True, "pin": False, "manage_topics": False}
RIGHT_NAMES = {"send": "send_messages", "pin": "pin_messages", "manage_topics": "manage_topics"}


@dataclass
class _Box:
    """A message box: the common one (private chats and basic groups) or one channel's."""

    pts: int = 0
    last_id: int = 0
    log: list[tuple[int, Any]] = field(default_factory=list)  # (pts, update)
    messages: dict[int, Any] = field(default_factory=dict)  # id -> raw message


class FakeWire(ServerMethods):
    def __init__(self, *, bot_id: int = 5_000_000_001, bot_username: str = "tgesc_desk_bot",
                 clock: Callable[[], int] | None = None) -> None:
        self.clock = clock or (lambda: int(time.time()))
        self.requests: list[TLObject] = []  # every raw function received, in order
        self.unhandled: list[TLObject] = []  # requests the fake does not know (answered with an error)
        self._lock = threading.RLock()
        self._faults: list[tuple[Callable[[Any], bool], raw.types.RpcError]] = []
        self._users: dict[int, raw.types.User] = {}
        self._chats: dict[int, raw.types.Chat] = {}  # raw id -> basic group
        self._channels: dict[int, raw.types.Channel] = {}  # raw id -> supergroup
        self._common = _Box()
        self._boxes: dict[int, _Box] = {}  # raw channel id -> box
        self._topics: set[tuple[int, int]] = set()  # (chat id, topic id)
        self._standings: dict[int, _Standing] = {}  # chat id -> the bot's place there (absent: an admin, every right)
        self._media: dict[int, Any] = {}  # photo / document id -> raw MessageMedia
        self._parts: dict[int, dict[int, bytes]] = {}  # file id -> part number -> bytes (uploaded, not sent yet)
        self._files: dict[int, bytes] = {}  # document id -> the bytes uploaded for it
        self._queries: set[int] = set()
        self._by_random_id: dict[tuple[int, int], Any] = {}  # (chat id, random_id) -> the first call's answer
        self.duplicates = 0  # calls answered from _by_random_id
        self.pinned: dict[tuple[int, int | None], int] = {}  # (chat id, topic or None) -> the pinned message id
        self.journal: list[tuple[int, Any]] = []  # (chat id, message): every message stored, in order
        self._ids = itertools.count(100_001)
        self.bot = self._add_user(raw.types.User(
            id=bot_id, is_self=True, bot=True, access_hash=self._hash(bot_id), first_name="Desk",
            username=bot_username, bot_info_version=1))

    @property
    def bot_token(self) -> str:
        return f"{self.bot.id}:FAKE-TOKEN"

    def session_factory(self, client: Any) -> WireSession:
        return WireSession(client, self)

    # --- faults and inspection --------------------------------------------------------------------------------

    def fail_next(self, method: type | Callable[[Any], bool], error: str | raw.types.RpcError, *,
                  code: int | None = None, times: int = 1) -> None:
        """The next `times` requests matching `method` (a raw function class, or a predicate on the request)
        get `error` ("FLOOD_WAIT_42", "USER_IS_BLOCKED", or a raw RpcError) instead of an answer."""
        match = (lambda q: isinstance(q, method)) if isinstance(method, type) else method
        reply = error if isinstance(error, raw.types.RpcError) else rpc_error(error, code)
        with self._lock:
            self._faults.extend([(match, reply)] * times)

    def sent(self, kind: type | None = None) -> list[Any]:
        with self._lock:
            return [q for q in self.requests if kind is None or isinstance(q, kind)]

    def last(self, kind: type) -> Any:
        found = self.sent(kind)
        assert found, f"no {kind.__name__} was sent; requests: {[type(q).__name__ for q in self.requests]}"
        return found[-1]

    def uploaded(self, chat_id: int, message_id: int) -> bytes:
        """The bytes of the file message `message_id` in `chat_id` carries (one the client uploaded)."""
        with self._lock:
            media = self._box(chat_id).messages[message_id].media
            return self._files[media.document.id]

    # --- peers ------------------------------------------------------------------------------------------------

    def user(self, user_id: int | None = None, *, first_name: str = "Ann", last_name: str | None = None,
             username: str | None = None, lang_code: str | None = "en", access_hash: int | None = None
             ) -> raw.types.User:
        """A customer (registered with the wire, not yet seen by the client)."""
        user_id = user_id or next(self._ids)
        return self._add_user(raw.types.User(
            id=user_id, access_hash=access_hash if access_hash is not None else self._hash(user_id),
            first_name=first_name, last_name=last_name, username=username, lang_code=lang_code))

    def group(self, title: str = "Staff L1", *, chat_id: int | None = None) -> int:
        """A basic group (with the client's `chat_id` when given); its chat id as the client sees it (negative)."""
        chat_id = -chat_id if chat_id is not None else next(self._ids)
        self._chats[chat_id] = roundtrip(raw.types.Chat(
            id=chat_id, title=title, photo=raw.types.ChatPhotoEmpty(), participants_count=3, date=self.clock(),
            version=1, default_banned_rights=_banned(**MEMBER_DEFAULTS)))
        return -chat_id

    def supergroup(self, title: str = "Staff L2", *, forum: bool = False, chat_id: int | None = None) -> int:
        """A supergroup (a forum when `forum`; with the client's `chat_id` when given); its chat id as the client
        sees it (-100...)."""
        channel_id = utils.get_raw_peer_id(chat_id) if chat_id is not None else next(self._ids)
        self._channels[channel_id] = roundtrip(raw.types.Channel(
            id=channel_id, title=title, photo=raw.types.ChatPhotoEmpty(), date=self.clock(), megagroup=True,
            forum=forum or None, access_hash=self._hash(channel_id), default_banned_rights=_banned(**MEMBER_DEFAULTS)))
        self._boxes[channel_id] = _Box()
        return utils.get_channel_id(channel_id)

    def topic(self, chat_id: int, title: str = "Ticket") -> int:
        """A forum topic created by someone else; its thread id (the id of its creating service message)."""
        service = self._store(chat_id, lambda mid, peer: raw.types.MessageService(
            id=mid, peer_id=peer, date=self.clock(), from_id=raw.types.PeerUser(user_id=self.bot.id),
            action=raw.types.MessageActionTopicCreate(title=title, icon_color=0x6FB9F0)))
        self._topics.add((chat_id, service.id))
        return service.id

    # --- the bot's rights in groups ----------------------------------------------------------------------------

    def set_bot_rights(self, chat_id: int, *, member: bool = True, admin: bool = True, pin: bool = True,
                       manage_topics: bool = True) -> None:
        """The bot's place in group `chat_id` from now on: no member; a plain member (`admin=False`: the group's
        member rights apply, `set_member_rights`); or an administrator with the admin rights `pin` and
        `manage_topics` (in a basic group an administrator may do everything)."""
        with self._lock:
            self._standings[chat_id] = _Standing(member, admin, pin, manage_topics)

    def set_member_rights(self, chat_id: int, *, send: bool = True, pin: bool = False,
                          manage_topics: bool = False) -> None:
        """What every member of group `chat_id` may do (its default rights, sent along with the group): the bot too,
        when it is no administrator."""
        with self._lock:
            group = self._group(chat_id)
            group.default_banned_rights = _banned(send=send, pin=pin, manage_topics=manage_topics)
            if chat_id < utils.ZERO_CHANNEL_ID:
                self._channels[group.id] = roundtrip(group)
            else:
                self._chats[group.id] = roundtrip(group)

    def _may(self, chat_id: int, right: str) -> bool:
        """Whether the bot may `right` ("send", "pin" or "manage_topics") in `chat_id`, as the server decides: an
        administrator posts, and has its admin rights (every one in a basic group); anyone else what members may."""
        if chat_id > 0:
            return True
        standing = self._standing(chat_id)
        if not standing.member:
            return False
        basic = chat_id > utils.ZERO_CHANNEL_ID
        if standing.admin and (right == "send" or basic or getattr(standing, right)):
            return True
        return not getattr(self._group(chat_id).default_banned_rights, RIGHT_NAMES[right])

    def _standing(self, chat_id: int) -> _Standing:
        return self._standings.get(chat_id, _Standing())

    def _group(self, chat_id: int) -> Any:
        """The raw Chat (basic group) or Channel (supergroup) of `chat_id`."""
        if chat_id < utils.ZERO_CHANNEL_ID:
            return self._channels[utils.get_channel_id(chat_id)]
        return self._chats[-chat_id]

    # --- inbound updates (each returns raw Updates for TelegramConnection.feed) ---------------------------------

    def private_text(self, user: raw.types.User, text: str, *, entities: list | None = None,
                     reply_to: int | None = None) -> raw.types.Updates:
        return self.message(user.id, user, text, entities=entities, reply_to=reply_to)

    def private_media(self, user: raw.types.User, kind: str, *, caption: str = "") -> raw.types.Updates:
        return self.message(user.id, user, caption, media=kind)

    def group_text(self, chat_id: int, user: raw.types.User, text: str, *, thread_id: int | None = None,
                   reply_to: int | None = None, media: str | None = None) -> raw.types.Updates:
        return self.message(chat_id, user, text, thread_id=thread_id, reply_to=reply_to, media=media)

    def message(self, chat_id: int, user: raw.types.User, text: str = "", *, media: str | None = None,
                entities: list | None = None, thread_id: int | None = None, reply_to: int | None = None
                ) -> raw.types.Updates:
        """A new message from `user` in `chat_id` (a private chat when chat_id == user.id)."""
        header = self._reply_header(chat_id, reply_to or thread_id, thread_id)
        message = self._store(chat_id, lambda mid, peer: raw.types.Message(
            id=mid, peer_id=peer, date=self.clock(), message=text, entities=entities,
            from_id=None if chat_id == user.id else raw.types.PeerUser(user_id=user.id),
            media=self._new_media(media) if media else None, reply_to=header))
        return self._updates([self._log_new(chat_id, message)], chat_id, user)

    def edit(self, chat_id: int, message_id: int, text: str) -> raw.types.Updates:
        """The author edited one of their messages."""
        with self._lock:
            box = self._box(chat_id)
            old = box.messages[message_id]
            edited = roundtrip(raw.types.Message(
                id=old.id, peer_id=old.peer_id, date=old.date, message=text, from_id=old.from_id, media=old.media,
                reply_to=old.reply_to, edit_date=self.clock()))
            box.messages[message_id] = edited
            channel = chat_id < utils.ZERO_CHANNEL_ID
            kind = raw.types.UpdateEditChannelMessage if channel else raw.types.UpdateEditMessage
            update = self._log(chat_id, lambda pts: kind(message=edited, pts=pts, pts_count=1))
            sender = self._users[utils.get_raw_peer_id(old.from_id or old.peer_id)]
        return self._updates([update], chat_id, sender)

    def service(self, chat_id: int, user: raw.types.User) -> raw.types.Updates:
        """A service message (`user` joined the group)."""
        message = self._store(chat_id, lambda mid, peer: raw.types.MessageService(
            id=mid, peer_id=peer, date=self.clock(), from_id=raw.types.PeerUser(user_id=user.id),
            action=raw.types.MessageActionChatAddUser(users=[user.id])))
        return self._updates([self._log_new(chat_id, message)], chat_id, user)

    def callback(self, user: raw.types.User, chat_id: int, message_id: int, data: str | bytes
                 ) -> raw.types.Updates:
        """`user` pressed an inline button of message `message_id` in `chat_id`."""
        query_id = next(self._ids) * 7919
        with self._lock:
            self._queries.add(query_id)
        update = raw.types.UpdateBotCallbackQuery(
            query_id=query_id, user_id=user.id, peer=self._peer(chat_id), msg_id=message_id,
            chat_instance=chat_id * 31 + 7, data=data.encode() if isinstance(data, str) else data)
        return self._updates([update], chat_id, user)

    # --- internals --------------------------------------------------------------------------------------------

    @staticmethod
    def _hash(peer_id: int) -> int:
        return (peer_id * 2654435761) % (1 << 62) + 1

    def _add_user(self, user: raw.types.User) -> raw.types.User:
        user = roundtrip(user)
        with self._lock:
            self._users[user.id] = user
        return user

    def _peers_of(self, messages: list[Any]) -> tuple[list[Any], list[Any]]:
        """The users and chats `messages` name (chat, sender, forwarded from), and the bot: what Telegram sends
        along with messages (not every peer it knows: a desk with thousands of customers would pay for all)."""
        users, chats = {self.bot.id: self.bot}, {}
        for message in messages:
            fwd = getattr(message, "fwd_from", None)
            for peer in (getattr(message, "peer_id", None), getattr(message, "from_id", None),
                         getattr(fwd, "from_id", None)):
                if isinstance(peer, raw.types.PeerUser) and peer.user_id in self._users:
                    users[peer.user_id] = self._users[peer.user_id]
                elif isinstance(peer, raw.types.PeerChat) and peer.chat_id in self._chats:
                    chats[-peer.chat_id] = self._chats[peer.chat_id]
                elif isinstance(peer, raw.types.PeerChannel) and peer.channel_id in self._channels:
                    chats[peer.channel_id] = self._channels[peer.channel_id]
        return list(users.values()), list(chats.values())

    def _all_users(self) -> list[Any]:
        return list(self._users.values())

    def _all_chats(self) -> list[Any]:
        return [*self._chats.values(), *self._channels.values()]

    def _input_user(self, input_user: Any) -> raw.types.User | None:
        user = self._users.get(getattr(input_user, "user_id", None))
        if user is None or input_user.access_hash != user.access_hash:
            return None
        return user

    def _chat_of(self, peer: Any) -> int | None:
        """The chat id an InputPeer names, if it is valid (known, with the right access hash)."""
        if isinstance(peer, raw.types.InputPeerSelf):
            return self.bot.id
        if isinstance(peer, raw.types.InputPeerUser):
            user = self._users.get(peer.user_id)
            return user.id if user is not None and user.access_hash == peer.access_hash else None
        if isinstance(peer, raw.types.InputPeerChat):
            return -peer.chat_id if peer.chat_id in self._chats else None
        if isinstance(peer, raw.types.InputPeerChannel):
            channel = self._channels.get(peer.channel_id)
            ok = channel is not None and channel.access_hash == peer.access_hash
            return utils.get_channel_id(peer.channel_id) if ok else None
        return None

    @staticmethod
    def _peer(chat_id: int) -> Any:
        if chat_id > 0:
            return raw.types.PeerUser(user_id=chat_id)
        if chat_id < utils.ZERO_CHANNEL_ID:
            return raw.types.PeerChannel(channel_id=utils.get_channel_id(chat_id))
        return raw.types.PeerChat(chat_id=-chat_id)

    def _box(self, chat_id: int) -> _Box:
        if chat_id < utils.ZERO_CHANNEL_ID:
            return self._boxes[utils.get_channel_id(chat_id)]
        return self._common

    def _store(self, chat_id: int, build: Callable[[int, Any], Any]) -> Any:
        """A new message in `chat_id` with the box's next id, kept for getMessages / forwarding."""
        with self._lock:
            box = self._box(chat_id)
            box.last_id += 1
            message = roundtrip(build(box.last_id, self._peer(chat_id)))
            box.messages[message.id] = message
            self.journal.append((chat_id, message))
            return message

    def _log(self, chat_id: int, build: Callable[[int], Any]) -> Any:
        with self._lock:
            box = self._box(chat_id)
            box.pts += 1
            update = roundtrip(build(box.pts))
            box.log.append((box.pts, update))
            return update

    def _log_new(self, chat_id: int, message: Any) -> Any:
        kind = raw.types.UpdateNewChannelMessage if chat_id < utils.ZERO_CHANNEL_ID else raw.types.UpdateNewMessage
        return self._log(chat_id, lambda pts: kind(message=message, pts=pts, pts_count=1))

    @staticmethod
    def _since(box: _Box, pts: int) -> tuple[list[Any], list[Any]]:
        news, others = [], []
        for update_pts, update in box.log:
            if update_pts <= pts:
                continue
            if isinstance(update, raw.types.UpdateNewMessage | raw.types.UpdateNewChannelMessage):
                news.append(update.message)
            else:
                others.append(update)
        return news, others

    def _chat_objects(self, chat_id: int) -> list[Any]:
        if chat_id > 0:
            return []
        if chat_id < utils.ZERO_CHANNEL_ID:
            return [self._channels[utils.get_channel_id(chat_id)]]
        return [self._chats[-chat_id]]

    def _updates(self, updates: list[Any], chat_id: int, user: raw.types.User) -> raw.types.Updates:
        return roundtrip(raw.types.Updates(updates=updates, users=[user], chats=self._chat_objects(chat_id),
                                           date=self.clock(), seq=0))

    def _thread_of(self, chat_id: int, message_id: int | None) -> int | None:
        """The forum topic `message_id` is (or sits in), if any."""
        if message_id is None:
            return None
        if (chat_id, message_id) in self._topics:
            return message_id
        target = self._box(chat_id).messages.get(message_id)
        header = getattr(target, "reply_to", None)
        if header is not None and header.forum_topic:
            return header.reply_to_top_id or header.reply_to_msg_id
        return None

    def _reply_header(self, chat_id: int, reply_to: int | None, top: int | None = None) -> Any:
        if reply_to is None:
            return None
        thread = top or self._thread_of(chat_id, reply_to)
        return raw.types.MessageReplyHeader(
            forum_topic=True if thread else None, reply_to_msg_id=reply_to,
            reply_to_top_id=thread if thread and thread != reply_to else None)

    def _send(self, to_peer: Any, random_id: int, reply_to: Any, *, text: str, entities: Any = None,
              reply_markup: Any = None, media: Any = None, fwd_from: Any = None) -> Any:
        chat_id = self._chat_of(to_peer)
        if chat_id is None:
            return rpc_error("PEER_ID_INVALID")
        if (chat_id, random_id) in self._by_random_id:
            return self._repeated(chat_id, random_id)
        if not self._may(chat_id, "send"):
            away = not self._standing(chat_id).member and chat_id < utils.ZERO_CHANNEL_ID
            return rpc_error("CHANNEL_PRIVATE" if away else "CHAT_WRITE_FORBIDDEN")
        header = None
        if isinstance(reply_to, raw.types.InputReplyToMessage):
            header = self._reply_header(chat_id, reply_to.reply_to_msg_id, reply_to.top_msg_id)
        message = self._store(chat_id, lambda mid, peer: raw.types.Message(
            id=mid, peer_id=peer, date=self.clock(), message=text, out=True,
            from_id=raw.types.PeerUser(user_id=self.bot.id), entities=entities or None, reply_markup=reply_markup,
            media=media, reply_to=header, fwd_from=fwd_from))
        update = self._log_new(chat_id, message)
        users = [self.bot] + ([self._users[chat_id]] if chat_id > 0 else [])
        chats = self._chat_objects(chat_id)
        reply = raw.types.Updates(updates=[raw.types.UpdateMessageID(id=message.id, random_id=random_id), update],
                                  users=users, chats=chats, date=self.clock(), seq=0)
        self._by_random_id[chat_id, random_id] = reply
        return reply

    def _repeated(self, chat_id: int, random_id: int) -> Any:
        """The answer to a call repeating a random_id: the first call's, nothing sent again."""
        self.duplicates += 1
        return self._by_random_id[chat_id, random_id]

    def _file_fields(self) -> dict[str, Any]:
        """What every new photo or document has: a fresh id, its access hash, a file reference, date and data center."""
        file_id = next(self._ids)
        return {"id": file_id, "access_hash": self._hash(file_id), "file_reference": b"\x01ref", "date": self.clock(),
                "dc_id": 2}

    def _kept_media(self, media: Any) -> Any:
        """`media` (a new MessageMedia) as decoded from the wire, kept under its photo's or document's id."""
        media = roundtrip(media)
        with self._lock:
            self._media[(media.photo if isinstance(media, raw.types.MessageMediaPhoto) else media.document).id] = media
        return media

    def _uploaded_document(self, upload: Any, data: bytes) -> Any:
        """The document an InputMediaUploadedDocument of `data` makes (its mime type and attributes, such as the
        file name), its bytes kept for `uploaded`."""
        document = raw.types.Document(**self._file_fields(), mime_type=upload.mime_type, size=len(data),
                                      attributes=upload.attributes)
        media = self._kept_media(raw.types.MessageMediaDocument(document=document))
        with self._lock:
            self._files[document.id] = data
        return media

    def _new_media(self, kind: str) -> Any:
        if kind not in MEDIA_KINDS:
            raise ValueError(f"unknown media kind {kind!r}: one of {', '.join(MEDIA_KINDS)}")
        common = self._file_fields()
        if kind == "photo":
            photo = raw.types.Photo(**common, sizes=[raw.types.PhotoSize(type="y", w=1280, h=960, size=200_000)])
            media = raw.types.MessageMediaPhoto(photo=photo)
        else:
            video = raw.types.DocumentAttributeVideo(duration=5.0, w=640, h=480)
            mime, attributes, flags = {
                "document": ("application/pdf", [raw.types.DocumentAttributeFilename(file_name="invoice.pdf")], {}),
                "voice": ("audio/ogg", [raw.types.DocumentAttributeAudio(duration=4, voice=True)], {"voice": True}),
                "audio": ("audio/mpeg", [raw.types.DocumentAttributeAudio(duration=180, title="Song"),
                                         raw.types.DocumentAttributeFilename(file_name="song.mp3")], {}),
                "video": ("video/mp4", [video, raw.types.DocumentAttributeFilename(file_name="clip.mp4")],
                          {"video": True}),
                "video_note": ("video/mp4", [raw.types.DocumentAttributeVideo(duration=3.0, w=240, h=240,
                                                                              round_message=True)], {"round": True}),
                "sticker": ("image/webp", [raw.types.DocumentAttributeImageSize(w=512, h=512),
                                           raw.types.DocumentAttributeSticker(
                                               alt="🙂", stickerset=raw.types.InputStickerSetEmpty())], {}),
                "animation": ("video/mp4", [video, raw.types.DocumentAttributeAnimated()], {}),
            }[kind]
            document = raw.types.Document(**common, mime_type=mime, size=50_000, attributes=attributes)
            media = raw.types.MessageMediaDocument(document=document, **flags)
        return self._kept_media(media)


def _banned(*, send: bool, pin: bool, manage_topics: bool) -> raw.types.ChatBannedRights:
    """A group's default rights, as Telegram writes them: what members may NOT do (also change the group's info)."""
    return raw.types.ChatBannedRights(until_date=0, send_messages=not send or None, pin_messages=not pin or None,
                                      manage_topics=not manage_topics or None, change_info=True)

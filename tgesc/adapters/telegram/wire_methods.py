"""The in-memory Telegram server's side of each raw function kurigram calls (`FakeWire` is built on it): the
answer to one request, or the RpcError Telegram would give, from the wire's users, chats and message boxes.

`answer` dispatches a request to `_on_<its TL name>` (`_on_functions_messages_SendMessage`); a method the fake
does not know is answered FAKE_WIRE_UNSUPPORTED_METHOD and kept in `unhandled`, and an armed fault
(`fail_next`) answers first. Every answer goes through its TL bytes (`roundtrip`).
"""

from __future__ import annotations

from hashlib import md5
from io import BytesIO
from typing import Any

from pyrogram import raw, utils
from pyrogram.raw.core import TLObject

ERROR_CODES = {"USER_DEACTIVATED": 401, "USER_DEACTIVATED_BAN": 401, "AUTH_KEY_UNREGISTERED": 401,
               "CHAT_WRITE_FORBIDDEN": 403, "INTERNAL": 500}


def roundtrip(obj: Any) -> Any:
    """`obj` as the library would decode it from the wire ([] where a hand-built object has None)."""
    return TLObject.read(BytesIO(obj.write()))


def error_code(message: str) -> int:
    if message.startswith(("FLOOD_WAIT_", "FLOOD_PREMIUM_WAIT_", "SLOWMODE_WAIT_")):
        return 420
    return ERROR_CODES.get(message, 400)


def rpc_error(message: str, code: int | None = None) -> raw.types.RpcError:
    return raw.types.RpcError(error_code=code or error_code(message), error_message=message)


class ServerMethods:
    """The server's methods, over the state `FakeWire` keeps (its users, chats, boxes, topics, media, queries)."""

    def answer(self, query: TLObject) -> Any:
        """The reply to one raw request: an answer, or an RpcError."""
        with self._lock:
            query.write()  # it must serialize; it is kept as built: TL decoding of a bare Vector is a guess
            self.requests.append(query)  # (elements of 8 bytes, like InputMessageID, come back as longs)
            inner = query.query if isinstance(query, raw.functions.InvokeWithoutUpdates) else query
            for index, (match, error) in enumerate(self._faults):
                if match(inner):
                    del self._faults[index]
                    return error
            handler = getattr(self, f"_on_{type(inner).QUALNAME.replace('.', '_')}", None)
            if handler is None:
                self.unhandled.append(inner)
                return rpc_error("FAKE_WIRE_UNSUPPORTED_METHOD")
            reply = handler(inner)
            if isinstance(reply, TLObject) and not isinstance(reply, raw.types.RpcError):
                return roundtrip(reply)
            return reply

    def _on_functions_updates_GetState(self, q: Any) -> Any:
        return raw.types.updates.State(pts=self._common.pts, qts=0, date=self.clock(), seq=0, unread_count=0)

    def _on_functions_users_GetFullUser(self, q: Any) -> Any:
        user = self.bot if isinstance(q.id, raw.types.InputUserSelf) else self._input_user(q.id)
        if user is None:
            return rpc_error("USER_ID_INVALID")
        full = raw.types.UserFull(id=user.id, settings=raw.types.PeerSettings(),
                                  notify_settings=raw.types.PeerNotifySettings(), common_chats_count=0)
        return raw.types.users.UserFull(full_user=full, chats=[], users=[user])

    def _on_functions_users_GetUsers(self, q: Any) -> Any:
        found = [self.bot if isinstance(i, raw.types.InputUserSelf) else self._input_user(i) for i in q.id]
        return [u for u in found if u is not None]

    def _on_functions_messages_GetChats(self, q: Any) -> Any:
        return raw.types.messages.Chats(chats=[self._chats[i] for i in q.id if i in self._chats])

    def _on_functions_channels_GetChannels(self, q: Any) -> Any:
        known = [self._channels.get(i.channel_id) for i in q.id]
        return raw.types.messages.Chats(chats=[c for c, i in zip(known, q.id, strict=True)
                                               if c is not None and c.access_hash == i.access_hash])

    def _on_functions_channels_GetParticipant(self, q: Any) -> Any:
        """Only the bot itself is asked about (get_chat_member(chat, "me")): its place in the supergroup."""
        channel = self._channels.get(q.channel.channel_id)
        if channel is None or channel.access_hash != q.channel.access_hash:
            return rpc_error("CHANNEL_INVALID")
        if not isinstance(q.participant, raw.types.InputPeerSelf):
            return rpc_error("FAKE_WIRE_ONLY_THE_BOT_ITSELF")
        standing = self._standing(utils.get_channel_id(channel.id))
        if not standing.member:
            return rpc_error("USER_NOT_PARTICIPANT")
        bot, date = self.bot.id, self.clock()  # the fake says the bot added and promoted itself
        if standing.admin:
            rights = raw.types.ChatAdminRights(other=True, delete_messages=True, invite_users=True,
                                               pin_messages=standing.pin or None,
                                               manage_topics=standing.manage_topics or None)
            participant = raw.types.ChannelParticipantAdmin(user_id=bot, promoted_by=bot, date=date, is_self=True,
                                                            inviter_id=bot, admin_rights=rights)
        else:
            participant = raw.types.ChannelParticipantSelf(user_id=bot, inviter_id=bot, date=date)
        return raw.types.channels.ChannelParticipant(participant=participant, chats=[], users=[self.bot])

    def _on_functions_messages_GetFullChat(self, q: Any) -> Any:
        """A basic group with its participants: the bot (an administrator or a plain member), when it is one."""
        chat = self._chats.get(q.chat_id)
        if chat is None:
            return rpc_error("CHAT_ID_INVALID")
        standing, bot = self._standing(-chat.id), self.bot.id
        kind = raw.types.ChatParticipantAdmin if standing.admin else raw.types.ChatParticipant
        members = [kind(user_id=bot, inviter_id=bot, date=self.clock())] if standing.member else []
        full = raw.types.ChatFull(id=chat.id, about="", notify_settings=raw.types.PeerNotifySettings(),
                                  participants=raw.types.ChatParticipants(chat_id=chat.id, participants=members,
                                                                          version=1))
        return raw.types.messages.ChatFull(full_chat=full, chats=[chat], users=[self.bot])

    def _on_functions_messages_SendMessage(self, q: Any) -> Any:
        return self._send(q.peer, q.random_id, q.reply_to, text=q.message, entities=q.entities,
                          reply_markup=q.reply_markup)

    def _on_functions_upload_SaveFilePart(self, q: Any) -> Any:
        """One part of a file being uploaded, kept under its file id (a part sent again replaces it)."""
        self._parts.setdefault(q.file_id, {})[q.file_part] = q.bytes
        return True

    _on_functions_upload_SaveBigFilePart = _on_functions_upload_SaveFilePart

    def _on_functions_messages_SendMedia(self, q: Any) -> Any:
        if isinstance(q.media, raw.types.InputMediaUploadedDocument):
            return self._send_upload(q)
        media = self._media.get(getattr(getattr(q.media, "id", None), "id", None))
        if media is None:
            return rpc_error("MEDIA_INVALID")
        return self._send(q.peer, q.random_id, q.reply_to, text=q.message, entities=q.entities,
                          reply_markup=q.reply_markup, media=media)

    def _send_upload(self, q: Any) -> Any:
        """A sendMedia of a document just uploaded: its parts assembled into the file (the parts are used up), sent
        as a document message; a repeated random_id answers the first call's message, as `_send` does."""
        chat_id = self._chat_of(q.peer)
        if (chat_id, q.random_id) in self._by_random_id:
            self._parts.pop(q.media.file.id, None)  # uploaded again for nothing
            return self._repeated(chat_id, q.random_id)
        data = self._assembled(q.media.file)
        if isinstance(data, raw.types.RpcError):
            return data
        return self._send(q.peer, q.random_id, q.reply_to, text=q.message, entities=q.entities,
                          reply_markup=q.reply_markup, media=self._uploaded_document(q.media, data))

    def _assembled(self, file: Any) -> bytes | raw.types.RpcError:
        """The bytes of an uploaded InputFile / InputFileBig from its parts, checked against the md5 the client
        sent (if it sent one); the error Telegram gives when a part is missing or the md5 differs."""
        parts = self._parts.get(file.id, {})
        missing = [number for number in range(file.parts) if number not in parts]
        if missing:
            return rpc_error(f"FILE_PART_{missing[0]}_MISSING")
        data = b"".join(parts[number] for number in range(file.parts))
        if getattr(file, "md5_checksum", "") and md5(data).hexdigest() != file.md5_checksum:
            return rpc_error("MD5_CHECKSUM_INVALID")
        del self._parts[file.id]
        return data

    def _on_functions_messages_ForwardMessages(self, q: Any) -> Any:
        source = self._chat_of(q.from_peer)
        if source is None:
            return rpc_error("PEER_ID_INVALID")
        originals = [self._box(source).messages.get(i) for i in q.id]
        if any(m is None or isinstance(m, raw.types.MessageService) for m in originals):
            return rpc_error("MESSAGE_ID_INVALID")
        reply_to = q.reply_to or (raw.types.InputReplyToMessage(reply_to_msg_id=q.top_msg_id) if q.top_msg_id else None)
        updates: list[Any] = []
        for original, random_id in zip(originals, q.random_id, strict=True):
            fwd = None if q.drop_author else raw.types.MessageFwdHeader(
                date=original.date, from_id=original.from_id or original.peer_id)
            sent = self._send(q.to_peer, random_id, reply_to, text=original.message, entities=original.entities,
                              media=original.media, fwd_from=fwd)
            if isinstance(sent, raw.types.RpcError):
                return sent
            updates.extend(sent.updates)
        users, chats = self._peers_of([u.message for u in updates if hasattr(u, "message")])
        return raw.types.Updates(updates=updates, users=users, chats=chats, date=self.clock(), seq=0)

    def _on_functions_messages_CreateForumTopic(self, q: Any) -> Any:
        chat_id = self._chat_of(q.peer)
        if chat_id is None:
            return rpc_error("PEER_ID_INVALID")
        channel = self._channels.get(utils.get_channel_id(chat_id)) if chat_id < utils.ZERO_CHANNEL_ID else None
        if channel is None or not channel.forum:
            return rpc_error("CHANNEL_FORUM_MISSING")
        if not self._may(chat_id, "manage_topics"):
            return rpc_error("CHAT_ADMIN_REQUIRED")
        if (chat_id, q.random_id) in self._by_random_id:
            return self._repeated(chat_id, q.random_id)
        service = self._store(chat_id, lambda mid, peer: raw.types.MessageService(
            id=mid, peer_id=peer, date=self.clock(), out=True, from_id=raw.types.PeerUser(user_id=self.bot.id),
            action=raw.types.MessageActionTopicCreate(title=q.title, icon_color=q.icon_color or 0x6FB9F0)))
        self._topics.add((chat_id, service.id))
        update = self._log_new(chat_id, service)
        reply = raw.types.Updates(updates=[raw.types.UpdateMessageID(id=service.id, random_id=q.random_id), update],
                                  users=[self.bot], chats=[channel], date=self.clock(), seq=0)
        self._by_random_id[chat_id, q.random_id] = reply
        return reply

    def _on_functions_messages_EditMessage(self, q: Any) -> Any:
        chat_id = self._chat_of(q.peer)
        if chat_id is None:
            return rpc_error("PEER_ID_INVALID")
        with self._lock:
            box = self._box(chat_id)
            old = box.messages.get(q.id)
            if old is None or not getattr(old, "out", False) or isinstance(old, raw.types.MessageService):
                return rpc_error("MESSAGE_ID_INVALID")
            if q.message == old.message:
                return rpc_error("MESSAGE_NOT_MODIFIED")
            edited = roundtrip(raw.types.Message(
                id=old.id, peer_id=old.peer_id, date=old.date, message=q.message, entities=q.entities, out=True,
                from_id=old.from_id, media=old.media, reply_to=old.reply_to, reply_markup=old.reply_markup,
                edit_date=self.clock()))
            box.messages[q.id] = edited
            channel = chat_id < utils.ZERO_CHANNEL_ID
            kind = raw.types.UpdateEditChannelMessage if channel else raw.types.UpdateEditMessage
            update = self._log(chat_id, lambda pts: kind(message=edited, pts=pts, pts_count=1))
        users, chats = self._peers_of([edited])
        return raw.types.Updates(updates=[update], users=users, chats=chats, date=self.clock(), seq=0)

    def _on_functions_messages_UpdatePinnedMessage(self, q: Any) -> Any:
        """Pin (or unpin) a message: in a forum, within its topic. Telegram announces a pin with a service message
        (in the message's topic), and answers a pin of the message pinned already with CHAT_NOT_MODIFIED."""
        chat_id = self._chat_of(q.peer)
        if chat_id is None:
            return rpc_error("PEER_ID_INVALID")
        with self._lock:
            target = self._box(chat_id).messages.get(q.id)
            if target is None or isinstance(target, raw.types.MessageService):
                return rpc_error("MESSAGE_ID_INVALID")
            where = (chat_id, self._thread_of(chat_id, q.id))
            if q.unpin:
                self.pinned.pop(where, None)
                return raw.types.Updates(updates=[], users=[], chats=[], date=self.clock(), seq=0)
            if self.pinned.get(where) == q.id:
                return rpc_error("CHAT_NOT_MODIFIED")
            self.pinned[where] = q.id
            header = self._reply_header(chat_id, q.id, where[1])
            service = self._store(chat_id, lambda mid, peer: raw.types.MessageService(
                id=mid, peer_id=peer, date=self.clock(), out=True, from_id=raw.types.PeerUser(user_id=self.bot.id),
                reply_to=header, action=raw.types.MessageActionPinMessage(), silent=q.silent))
            update = self._log_new(chat_id, service)
        return raw.types.Updates(updates=[update], users=[self.bot], chats=self._chat_objects(chat_id),
                                 date=self.clock(), seq=0)

    def _on_functions_messages_SetBotCallbackAnswer(self, q: Any) -> Any:
        if q.query_id not in self._queries:
            return rpc_error("QUERY_ID_INVALID")
        self._queries.discard(q.query_id)
        return True

    def _on_functions_messages_GetMessages(self, q: Any) -> Any:
        found = [self._common.messages.get(i.id) or raw.types.MessageEmpty(id=i.id) for i in q.id]
        users, chats = self._peers_of(found)
        return raw.types.messages.Messages(messages=found, topics=[], chats=chats, users=users)

    def _on_functions_channels_GetMessages(self, q: Any) -> Any:
        box = self._boxes.get(q.channel.channel_id)
        if box is None:
            return rpc_error("CHANNEL_INVALID")
        found = [box.messages.get(i.id) or raw.types.MessageEmpty(id=i.id) for i in q.id]
        users, chats = self._peers_of(found)
        return raw.types.messages.ChannelMessages(pts=box.pts, count=len(found), messages=found, topics=[],
                                                  chats=chats, users=users)

    def _on_functions_updates_GetDifference(self, q: Any) -> Any:
        news, others = self._since(self._common, q.pts)
        if not news and not others:
            return raw.types.updates.DifferenceEmpty(date=self.clock(), seq=0)
        state = raw.types.updates.State(pts=self._common.pts, qts=0, date=self.clock(), seq=0, unread_count=0)
        return raw.types.updates.Difference(new_messages=news, new_encrypted_messages=[], other_updates=others,
                                            chats=self._all_chats(), users=self._all_users(), state=state)

    def _on_functions_updates_GetChannelDifference(self, q: Any) -> Any:
        box = self._boxes.get(q.channel.channel_id)
        if box is None:
            return rpc_error("CHANNEL_INVALID")
        news, others = self._since(box, q.pts)
        if not news and not others:
            return raw.types.updates.ChannelDifferenceEmpty(pts=box.pts, final=True)
        return raw.types.updates.ChannelDifference(pts=box.pts, new_messages=news, other_updates=others,
                                                   chats=self._all_chats(), users=self._all_users(), final=True)

"""The bot's connection: a kurigram `Client` on its own event-loop thread, translated to and from
`tgesc.domain.telegram` (see the package docstring for the threading rules).

Inbound, every update goes to the `UpdateHandlers` one at a time, in order, and counts as handled (its update state
saved, so a restart's catch-up will not bring it again) only once a handler returned: a handler that raises gets the
same update again after a pause (`RETRY_FIRST_S`, doubling up to `RETRY_MAX_S`) while the loop goes on serving the
sender's calls. Messages queued one behind another (a burst, a catch-up) go over as a run (`on_messages`, at most
`RUN_MAX`), which the handlers commit together: a run ends when nothing more is queued, when it is full, or before
anything else is handed over; the states of its updates are saved after it. An update the library or this adapter
cannot read goes to `on_unreadable` whole. When the connection stops while an update is still being retried, nothing
from then on is saved: the next start's catch-up brings that update and those behind it again."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import itertools
import logging
import os
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from pyrogram import Client, enums, errors, filters, raw, types, utils
from pyrogram.handlers import CallbackQueryHandler, EditedMessageHandler, MessageHandler, RawUpdateHandler
from pyrogram.handlers.handler import Handler
from pyrogram.session import Session
from pyrogram.storage import UpdateState

from tgesc.adapters.clock import utc_now
from tgesc.adapters.telegram.storage import DurableStorage, merged_state
from tgesc.domain.errors import ConfigInvalid, DependencyUnavailable
from tgesc.domain.telegram import (
    BotRights,
    Button,
    ButtonPress,
    IncomingMessage,
    RetryAfter,
    Undeliverable,
    UpdateHandlers,
    User,
)
from tgesc.private_files import private_directory

log = logging.getLogger(__name__)
T = TypeVar("T")

MEDIA_KINDS = ("photo", "document", "voice", "video", "video_note", "audio", "sticker", "animation")
CHAT_TYPES = {
    enums.ChatType.PRIVATE: "private", enums.ChatType.BOT: "private", enums.ChatType.GROUP: "group",
    enums.ChatType.SUPERGROUP: "supergroup", enums.ChatType.FORUM: "supergroup",
    enums.ChatType.CHANNEL: "channel", enums.ChatType.DIRECT: "channel",
}
BREATHE_S = 0.002  # during a backlog of updates, other tasks of the loop run at least this often
RETRY_FIRST_S, RETRY_MAX_S = 0.5, 30.0  # the pauses before an update is handed over again
RUN_MAX = 100  # messages handed over together at most
NO_MEMBER = (errors.UserNotParticipant, errors.ChannelPrivate, errors.ChatIdInvalid, errors.ChannelInvalid)
UNDELIVERABLE = (errors.UserIsBlocked, errors.InputUserDeactivated, errors.PeerIdInvalid, errors.UserIdInvalid,
                 errors.UserDeactivated, errors.ChatWriteForbidden)


class _Barrier:
    """Put on the dispatcher's queue: when the single handler worker reaches it, all before it is handled."""

    def __init__(self) -> None:
        self.done = asyncio.Event()


class _Unreadable(Handler):
    """The handler type of an update the library could not parse: only raw update handlers see it."""


class _Checkpoint:
    """Put on the dispatcher's queue behind a catch-up's updates: the state it reached, saved once they are handled."""

    def __init__(self, states: Iterable[UpdateState]) -> None:
        self.states = list(states)



def _state_of(update: Any) -> UpdateState | None:
    """The update state a raw update brings its box to (its pts); None when it brings none to save here."""
    pts = getattr(update, "pts", None)
    if pts is None or getattr(update, "pts_count", None) == -1:
        return None
    message = getattr(update, "message", None)
    channel_id = getattr(getattr(message, "peer_id", None), "channel_id", None) or getattr(update, "channel_id", None)
    return UpdateState(utils.get_channel_id(channel_id) if channel_id else 0, pts, None, None, None)


def _utc(timestamp: int | None, fallback: datetime | None) -> datetime | None:
    if timestamp:
        return datetime.fromtimestamp(timestamp, UTC)
    return fallback.astimezone(UTC) if fallback is not None else None


class TelegramConnection:
    """The bot's connection, implementing `TelegramPort`: `start()`, outbound calls from other threads, `stop()`."""

    def __init__(self, name: str, workdir: str | Path, api_id: int, api_hash: str, bot_token: str, *,
                 handlers: UpdateHandlers, session_factory: Callable[[Client], Session] | None = None,
                 call_timeout: float = 120.0, test_mode: bool = False, clock: Callable[[], datetime] = utc_now,
                 session_synchronous: str = "normal") -> None:
        """`session_synchronous`: the session file's SQLite `synchronous` (`off` for a throwaway one, as
        `tgesc simulate`'s: no fsync)."""
        self.name = name
        self._session_synchronous = session_synchronous
        self._clock = clock
        self.workdir = Path(workdir)
        self._api_id, self._api_hash, self._bot_token = api_id, api_hash, bot_token
        self._handlers = handlers
        self._session_factory = session_factory
        self._test_mode = test_mode
        self.call_timeout = call_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: Client | None = None
        self.bot: User | None = None  # the bot itself, known once started
        self._catching_up = 0  # catch-ups whose checkpoint the handler worker has not reached yet
        self._caught_up: dict[int, UpdateState] = {}  # box -> the state the running catch-up reached
        self._handled_meanwhile: dict[int, UpdateState] = {}  # box -> live updates handled during a catch-up
        self._breathe_at = 0.0  # monotonic: when the handler worker next lets other tasks of the loop run
        self._stopping = False  # stop() was called
        self._saving = True  # update states are saved; False once an update was left unhandled at a stop
        self._unreadable: dict[int, str] = {}  # id() of a raw update the library could not parse -> the traceback
        self._run: list[tuple[IncomingMessage, Callable[[], str]]] = []  # messages read, not handed over yet
        self._run_states: dict[int, UpdateState] = {}  # box -> the state reached by the run's updates

    def __repr__(self) -> str:  # never the token or the api hash
        return f"TelegramConnection({self.name!r}, offline={self._session_factory is not None}, running={self.running})"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- life cycle -------------------------------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> None:
        """Start the loop thread and the client in it; missed updates (getDifference) are queued to the handlers."""
        if self._thread is not None:
            raise RuntimeError("the Telegram connection is already started")
        private_directory(self.workdir)
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=self._run_loop, args=(loop,), name=f"telegram-{self.name}",
                                        daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._boot(), loop).result(timeout)
        except BaseException as exc:
            signed_in = self._client is not None and getattr(self._client, "me", None) is not None
            with contextlib.suppress(BaseException):  # close what the failed start opened
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
            self._halt_loop()
            log.debug("the Telegram connection did not start", exc_info=True)
            failure = _start_failure(exc, signed_in, self.workdir / f"{self.name}.session")
            if failure is exc:
                raise
            raise failure from None

    def stop(self, timeout: float = 60.0) -> None:
        """Let the handlers finish what is queued, save and close the session, stop the loop thread."""
        if self._thread is None or self._loop is None:
            return
        self._stopping = True  # an update being retried is left for the next start's catch-up
        try:
            if self._client is not None and self._thread.is_alive():
                asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout)
        finally:
            self._halt_loop()

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    def _halt_loop(self) -> None:
        loop, thread, client = self._loop, self._thread, self._client
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None and thread is not threading.current_thread():
            thread.join(30)
        if client is not None:
            client.executor.shutdown(wait=False)
        self._loop = self._thread = self._client = None

    async def _boot(self) -> None:
        storage = DurableStorage(self.name, self.workdir, self._clock, synchronous=self._session_synchronous)
        storage.defer_update_state()  # saved by _handled, once the update is handled
        storage.on_update_state = self._state_reached
        self._catching_up, self._caught_up, self._handled_meanwhile = 0, {}, {}
        self._stopping, self._saving, self._unreadable, self._run, self._run_states = False, True, {}, [], {}
        client = Client(
            self.name, api_id=self._api_id, api_hash=self._api_hash, bot_token=self._bot_token,
            workdir=str(self.workdir), storage_engine=storage,
            workers=1, skip_updates=False, sleep_threshold=0, parse_mode=enums.ParseMode.HTML,
            fetch_replies=False, fetch_topics=False, fetch_stories=False, fetch_stickers=False,
            test_mode=self._test_mode, loop=asyncio.get_running_loop(),
        )
        client.add_handler(MessageHandler(partial(self._deliver, edited=False)))
        client.add_handler(EditedMessageHandler(partial(self._deliver, edited=True)))
        client.add_handler(CallbackQueryHandler(self._handle_press))
        client.add_handler(RawUpdateHandler(self._handle_barrier, filters.create(_is_barrier)), group=-1)
        client.add_handler(RawUpdateHandler(self._handle_unreadable, filters.create(self._is_unreadable)))
        client.add_handler(RawUpdateHandler(self._handled), group=1)  # after the handlers: the state is saved
        client.recover_gaps = partial(self._recover_gaps, client.recover_gaps)  # start's catch-up and the watchdog's
        client.rnd_id = partial(_random_id, client.rnd_id)  # the caller's random_id where it gave one
        client.dispatcher.update_parsers = {kind: self._guarded(parse)
                                            for kind, parse in client.dispatcher.update_parsers.items()}
        await asyncio.sleep(0)  # add_handler registers in a task: let it run before updates can arrive
        self._client = client
        if self._session_factory is None:
            await client.start()
        else:
            await self._start_offline(client, self._session_factory)
        me = client.me
        self.bot = User(id=me.id, username=me.username, first_name=me.first_name or "",
                        last_name=me.last_name or "", is_bot=True)

    async def _start_offline(self, client: Client, session_factory: Callable[[Client], Session]) -> None:
        """`Client.start()` after its connect, with `session_factory(client)` as the server."""
        storage = client.storage
        await storage.open()
        if await storage.user_id() is None:
            await storage.api_id(self._api_id)
            await storage.test_mode(self._test_mode)
            await storage.auth_key(os.urandom(256))
            await storage.user_id(int(self._bot_token.split(":", 1)[0]))
            await storage.is_bot(True)
            await storage.date(int(self._clock().timestamp()))
        session = session_factory(client)
        client.session = session
        # uploads (save_file) ask for the data center's media session: the same server, not a Session of the
        # library's own that would connect to Telegram
        client.media_sessions[await storage.dc_id()] = session
        await session.start()
        client.is_connected = True
        state = await client.invoke(raw.functions.updates.GetState())
        if not await storage.get_update_states(0):
            await storage.set_update_state(UpdateState(0, state.pts, state.qts, state.date, state.seq))
            await storage.save()
        client.me = await client.get_me()
        await client.initialize()

    async def _shutdown(self) -> None:
        client = self._client
        if client is None:
            return
        if client.is_initialized:
            await client.stop()
        elif client.is_connected:
            await client.disconnect()
        else:
            await client.storage.close()

    # --- inbound ----------------------------------------------------------------------------------------------

    def feed(self, updates: Any, timeout: float = 30.0) -> None:
        """Hand raw `Updates` (one or a list) to the library as the server would; wait until they are handled."""
        batch = list(updates) if isinstance(updates, list | tuple) else [updates]

        async def go() -> None:
            for item in batch:
                await self._live().handle_updates(item)
            await self._drain()

        self._call(go, timeout)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every update queued so far (e.g. by the catch-up at start) has been handled."""
        self._call(self._drain, timeout)

    async def _drain(self) -> None:
        barrier = _Barrier()
        self._live().dispatcher.updates_queue.put_nowait((barrier, {}, {}))
        await barrier.done.wait()

    async def _handle_barrier(self, _client: Client, update: _Barrier, _users: Any, _chats: Any) -> None:
        await self._hand_over_run()
        update.done.set()

    # --- the update state: saved for what was handled (see DurableStorage) --------------------------------------

    def _state_reached(self, states: list[UpdateState]) -> None:
        """A state the library would have saved. During a catch-up it is the catch-up's (or that of an update
        that arrived meanwhile, queued before the catch-up's checkpoint): saved at the checkpoint. Otherwise it is
        a live update's, saved by `_handled` once that update is handled."""
        if self._catching_up:
            for state in states:
                self._caught_up[state.id] = merged_state(self._caught_up.get(state.id), state)

    async def _recover_gaps(self, recover: Callable[[], Awaitable[Any]]) -> Any:
        """The library's catch-up (getDifference): it queues the missed updates, then a checkpoint behind them."""
        self._catching_up += 1
        try:
            return await recover()
        finally:
            reached, self._caught_up = self._caught_up, {}
            self._live().dispatcher.updates_queue.put_nowait((_Checkpoint(reached.values()), {}, {}))

    async def _handled(self, client: Client, update: Any, _users: Any, _chats: Any) -> None:
        """Group 1, after the handlers, on the one handler worker: everything queued before `update` went to the
        handlers too, so the update state up to it is saved (after the run of messages, when one is open; the run
        is handed over here once nothing more is queued, or it is full, or the connection is stopping)."""
        if (now := time.monotonic()) >= self._breathe_at:  # a backlog never yields to the loop (the queue is never
            self._breathe_at = now + BREATHE_S              # empty): let the sender's calls and new packets through
            await asyncio.sleep(0)
        if isinstance(update, _Checkpoint):
            await self._hand_over_run()  # the catch-up's messages, before its state is saved
        if not self._saving:  # an update before this one was left unhandled: the next start brings them again
            return
        if isinstance(update, _Checkpoint):
            self._catching_up -= 1
            states = {s.id: s for s in update.states}
            for box, live in self._handled_meanwhile.items():  # live updates handled during the catch-up
                states[box] = merged_state(states.get(box), live)
            if not self._catching_up:
                self._handled_meanwhile.clear()
            await client.storage.checkpoint(states.values())
            return
        state = _state_of(update)  # None: it brings none, or it is a catch-up's (saved at its checkpoint)
        if state is not None:
            await self._reached(client, state)
        if self._run and (self._stopping or len(self._run) >= RUN_MAX or client.dispatcher.updates_queue.empty()):
            await self._hand_over_run()

    async def _reached(self, client: Client, state: UpdateState) -> None:
        """A live update's state, once the update went to the handlers: saved now, or with the catch-up's
        checkpoint while one runs, or after the run of messages it belongs to."""
        if self._catching_up:
            self._handled_meanwhile[state.id] = merged_state(self._handled_meanwhile.get(state.id), state)
        elif self._run:
            self._run_states[state.id] = merged_state(self._run_states.get(state.id), state)
        else:
            await client.storage.checkpoint([state])

    async def _deliver(self, client: Client, message: types.Message, *, edited: bool) -> None:
        raw = partial(_json, message.raw if getattr(message, "raw", None) is not None else message)
        what = f"message {message.id} of chat {getattr(message.chat, 'id', None)}"
        try:
            incoming = await self._incoming(client, message, edited)
        except Exception:
            error = traceback.format_exc()
            await self._hand_over_run()
            await self._hand_over(lambda: self._handlers.on_unreadable("message", raw(), error), what)
            return
        if incoming is not None:
            self._run.append((incoming, raw))  # handed over with the messages queued behind it (_handled)

    async def _hand_over_run(self) -> None:
        """Hand over the messages read so far, one or a run, then save the update states they reached."""
        run, states, self._run, self._run_states = self._run, self._run_states, [], {}
        if not run or not self._saving:  # not saving: an update was left unhandled at a stop (the next start)
            return
        if len(run) == 1:
            message, raw = run[0]
            await self._hand_over(lambda: self._handlers.on_message(message, raw),
                                  f"message {message.message_id} of chat {message.chat_id}")
        else:
            await self._hand_over(lambda: self._handlers.on_messages(run), f"a run of {len(run)} messages")
        if states and self._saving:
            await self._live().storage.checkpoint(states.values())

    async def _incoming(self, client: Client, message: types.Message, edited: bool) -> IncomingMessage | None:
        user = message.from_user
        if message.empty or message.service or message.outgoing or user is None or message.chat is None:
            return None  # service message, channel post / anonymous admin, or our own
        if client.me is not None and user.id == client.me.id:
            return None
        media_type = file_id = None
        if message.media is not None and message.media != enums.MessageMediaType.WEB_PAGE:
            media_type = message.media.value
            if media_type in MEDIA_KINDS:
                file_id = getattr(message, media_type).file_id
        topic = bool(getattr(message, "topic_message", False))
        thread_id = message.message_thread_id if topic else None
        reply_to = message.reply_to_message_id
        if topic and message.reply_to_top_message_id is None:
            reply_to = None  # a message that merely sits in the topic points at the topic's first message
        raw_message = message.raw
        sent_at = _utc(getattr(raw_message, "date", None), message.date)
        return IncomingMessage(
            chat_id=message.chat.id, chat_type=CHAT_TYPES.get(message.chat.type, "private"),
            message_id=message.id, sender=await self._user(client, user), sent_at=sent_at,
            text=str(message.text or message.caption or ""), media_type=media_type, file_id=file_id,
            thread_id=thread_id, reply_to_message_id=reply_to,
            is_forum=bool(message.chat.is_forum) or message.chat.type == enums.ChatType.FORUM,
            edited_at=(_utc(getattr(raw_message, "edit_date", None), message.edit_date) or sent_at) if edited else None,
        )

    async def _handle_press(self, client: Client, query: types.CallbackQuery) -> None:
        raw = partial(_json, query)
        what = f"button press {query.id}"
        await self._hand_over_run()
        try:
            message = query.message
            if message is None or message.chat is None:
                log.warning("ignoring button press %s: its message is unknown", query.id)
                return
            data = query.data.decode("utf-8", "replace") if isinstance(query.data, bytes) else query.data or ""
            press = ButtonPress(query_id=str(query.id), sender=await self._user(client, query.from_user),
                                chat_id=message.chat.id, message_id=message.id, data=data)
        except Exception:
            error = traceback.format_exc()
            await self._hand_over(lambda: self._handlers.on_unreadable("press", raw(), error), what)
            return
        await self._hand_over(lambda: self._handlers.on_press(press, raw), what)

    def _guarded(self, parse: Callable[..., Awaitable[tuple[Any, type]]]) -> Callable[..., Awaitable[tuple[Any, type]]]:
        """The library's parser of one kind of update, which drops an update it fails on (logged, never handled,
        its state saved with the next one's): such an update goes to `_handle_unreadable` instead."""
        async def parsed(update: Any, users: Any, chats: Any) -> tuple[Any, type]:
            try:
                return await parse(update, users, chats)
            except Exception:
                self._unreadable[id(update)] = traceback.format_exc()
                return None, _Unreadable
        return parsed

    async def _is_unreadable(self, _client: Any, update: Any) -> bool:
        """The filter (a bound method: the library passes no filter object) of `_handle_unreadable`; async, as
        `_is_barrier`."""
        return id(update) in self._unreadable

    async def _handle_unreadable(self, _client: Client, update: Any, _users: Any, _chats: Any) -> None:
        error = self._unreadable.pop(id(update))
        await self._hand_over_run()
        await self._hand_over(lambda: self._handlers.on_unreadable("update", _json(update), error),
                              f"a {type(update).__name__}")

    async def _hand_over(self, handle: Callable[[], None], what: str) -> None:
        """Run `handle` until it returns: the update is committed. A failure is logged and the update handed over
        again after a pause; stopping meanwhile leaves it (and every update after it) unsaved, for the catch-up."""
        for attempt in itertools.count():
            try:
                handle()
                return
            except Exception as exc:
                if self._stopping:
                    log.warning("stopping with %s not handled (%s); the next start brings it again", what, exc)
                    self._saving = False
                    return
                pause = min(RETRY_FIRST_S * 2 ** attempt, RETRY_MAX_S)
                log.warning("%s not handled (%s: %s); handing it over again in %.1f s", what, type(exc).__name__,
                            str(exc).strip().splitlines()[0] if str(exc).strip() else "", pause,
                            exc_info=attempt == 0)
                await self._pause(pause)

    async def _pause(self, seconds: float) -> None:
        """Sleep `seconds`, or less when the connection is stopping."""
        deadline = time.monotonic() + seconds
        while not self._stopping and (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(left, 0.1))

    @staticmethod
    async def _user(client: Client, user: types.User) -> User:
        raw_user = user.raw
        access_hash = None if getattr(raw_user, "min", False) else getattr(raw_user, "access_hash", None)
        if access_hash is None:  # a "min" user: the stored peer has the real one, if we ever saw it
            try:
                access_hash = getattr(await client.storage.get_peer_by_id(user.id), "access_hash", None)
            except KeyError:
                pass
        return User(id=user.id, access_hash=access_hash, username=user.username, first_name=user.first_name or "",
                    last_name=user.last_name or "", language_code=user.language_code, is_bot=bool(user.is_bot))

    # --- outbound ---------------------------------------------------------------------------------------------

    def send_message(self, chat_id: int, text: str, *, thread_id: int | None = None, reply_to: int | None = None,
                     buttons: list[list[Button]] | None = None, random_id: int | None = None) -> int:
        async def go() -> int:
            _plan_random_ids(random_id)
            markup = types.InlineKeyboardMarkup([[types.InlineKeyboardButton(b.text, callback_data=b.data)
                                                  for b in row] for row in buttons]) if buttons else None
            sent = await self._live().send_message(
                chat_id, text, parse_mode=enums.ParseMode.HTML, message_thread_id=thread_id,
                reply_parameters=types.ReplyParameters(message_id=reply_to) if reply_to else None,
                reply_markup=markup)
            return _message_id(sent)

        return self._call(go)

    def copy_message(self, chat_id: int, from_chat_id: int, message_id: int, *, thread_id: int | None = None,
                     reply_to: int | None = None, random_id: int | None = None) -> int:
        """A forward without the author (messages.forwardMessages drop_author): media stays on the server."""
        async def go() -> int:
            _plan_random_ids(random_id)
            sent = await self._live().forward_messages(
                chat_id, from_chat_id, message_id, message_thread_id=thread_id, hide_sender_name=True,
                reply_parameters=types.ReplyParameters(message_id=reply_to) if reply_to else None)
            return _message_id(sent)

        return self._call(go)

    def send_document(self, chat_id: int, filename: str, data: bytes, *, caption: str = "",
                      thread_id: int | None = None, reply_to: int | None = None, random_id: int | None = None) -> int:
        """kurigram's send_document with the bytes in memory: its upload (save_file: upload.saveFilePart, in parts
        of 512 KiB) asks `rnd_id` for the file's id first, then the send (messages.sendMedia) for its random_id;
        both are planned in that order, the file's id derived from the random_id, so a repeated call uploads
        under the same file id and sends nothing new. (A FILE_PART_MISSING answer fails the call: kurigram 2.2
        reads `file_part`, which its error lacks; a repeated call uploads every part again.)"""
        async def go() -> int:
            _plan_random_ids(*_document_ids(random_id))
            file = io.BytesIO(data)
            file.name = filename
            sent = await self._live().send_document(
                chat_id, file, file_name=filename, caption=caption, parse_mode=enums.ParseMode.HTML,
                message_thread_id=thread_id,
                reply_parameters=types.ReplyParameters(message_id=reply_to) if reply_to else None)
            return _message_id(sent)

        return self._call(go)

    def create_topic(self, chat_id: int, title: str, *, random_id: int | None = None) -> int:
        async def go() -> int:
            _plan_random_ids(random_id)
            created = await self._live().create_forum_topic(chat_id, title)
            return int(created.id)

        return self._call(go)

    def answer_button(self, query_id: str, text: str = "") -> None:
        async def go() -> None:
            await self._live().answer_callback_query(str(query_id), text=text or None)

        self._call(go)

    def edit_message(self, chat_id: int, message_id: int, text: str) -> None:
        async def go() -> None:
            try:
                await self._live().edit_message_text(chat_id, message_id, text, parse_mode=enums.ParseMode.HTML)
            except errors.MessageNotModified:
                pass  # the text it has already: a repeated edit (after a crash) is done

        self._call(go)

    def pin_message(self, chat_id: int, message_id: int) -> bool:
        async def go() -> bool:
            try:
                await self._live().pin_chat_message(chat_id, message_id, disable_notification=True)
            except errors.ChatNotModified:
                pass  # pinned already: a repeated pin (after a crash) is done
            except (errors.ChatAdminRequired, errors.RightForbidden, errors.PinRestricted,
                    errors.MessageIdInvalid) as refusal:
                log.warning("could not pin message %s in chat %s: %s", message_id, chat_id, refusal.ID)
                return False
            return True

        return self._call(go)

    def remember_peer(self, user_id: int, access_hash: int) -> None:
        """Make a user known only to our DB writable (session file lost); a peer already held is kept."""
        async def go() -> None:
            storage = self._live().storage
            try:
                await storage.get_peer_by_id(user_id)
            except KeyError:
                await storage.update_peers([(user_id, access_hash, "user", None)])

        self._call(go)

    def bot_rights(self, chat_id: int) -> BotRights:
        """The bot's own membership (get_chat_member "me": channels.getParticipant in a supergroup, the participants
        of messages.getFullChat in a basic group) and what members may do there (get_chat: the group's default
        rights and whether it is a forum), read as `_rights` says."""
        async def go() -> BotRights:
            client = self._live()
            try:
                member = await client.get_chat_member(chat_id, "me")
            except NO_MEMBER:
                return BotRights(is_member=False)
            chat = await client.get_chat(chat_id, force_full=False)
            return _rights(chat, member)

        return self._call(go)

    # --- plumbing ---------------------------------------------------------------------------------------------

    def _live(self) -> Client:
        if self._client is None:
            raise RuntimeError("the Telegram connection is not started")
        return self._client

    def _call(self, make: Callable[[], Awaitable[T]], timeout: float | None = None) -> T:
        """Run `make()` on the client's loop (the coroutine is created there: see pyrogram.sync) and wait."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            raise RuntimeError("the Telegram connection is not started")
        if threading.current_thread() is thread:
            raise RuntimeError("TelegramConnection calls block: make them from another thread, not a handler")
        future = asyncio.run_coroutine_threadsafe(_translated(make), loop)
        try:
            return future.result(self.call_timeout if timeout is None else timeout)
        except TimeoutError:
            future.cancel()
            raise


_PLANNED_RANDOM_IDS: ContextVar[list[int] | None] = ContextVar("tgesc_planned_random_ids", default=None)


def _plan_random_ids(*random_ids: int | None) -> None:
    """The random_ids the library's next calls of `client.rnd_id` return in this task (one outbound call)."""
    _PLANNED_RANDOM_IDS.set([r for r in random_ids if r is not None] or None)


def _document_ids(random_id: int | None) -> tuple[int | None, int | None]:
    """The ids `send_document` asks for, in its order: the upload's file id (derived from `random_id`: the same for
    every attempt, distinct from the random_id itself), then the send's random_id; (None, None) for fresh ones."""
    if random_id is None:
        return None, None
    key = b"tgesc-upload/" + random_id.to_bytes(8, "big", signed=True)
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big", signed=True) or 1, random_id


def _random_id(fresh: Callable[[], int]) -> int:
    """`client.rnd_id`: a random_id planned for the running call, else a fresh one as the library makes them."""
    planned = _PLANNED_RANDOM_IDS.get()
    return planned.pop(0) if planned else fresh()


async def _translated(make: Callable[[], Awaitable[T]]) -> T:
    try:
        return await make()
    except errors.SlowmodeWait as exc:
        raise RetryAfter(float(exc.value or 0), "slowmode wait") from exc
    except errors.Flood as exc:
        if not isinstance(exc.value, int):
            raise
        raise RetryAfter(float(exc.value), "flood wait") from exc
    except UNDELIVERABLE as exc:
        raise Undeliverable(f"{type(exc).__name__}: {exc}") from exc


def _rights(chat: types.Chat, member: types.ChatMember) -> BotRights:
    """What the bot may do in `chat`, given its membership there: the owner may do everything; an administrator
    posts and has its admin rights (a basic group's administrator has them all: it knows none per right); any other
    member what the group lets every member do (its default rights) and its own restrictions leave it."""
    status, forum = member.status, bool(chat.is_forum)
    if status in (enums.ChatMemberStatus.LEFT, enums.ChatMemberStatus.BANNED):
        return BotRights(is_member=False, is_forum=forum)
    owner = status == enums.ChatMemberStatus.OWNER
    admin = owner or status == enums.ChatMemberStatus.ADMINISTRATOR
    granted = None if owner else member.privileges  # None: every admin right

    def may(right: str) -> bool:
        if admin and (granted is None or getattr(granted, right)):
            return True
        return all(getattr(rules, right) for rules in (chat.permissions, member.permissions) if rules is not None)

    return BotRights(is_member=True, is_admin=admin, can_post=admin or may("can_send_messages"),
                     can_manage_topics=forum and may("can_manage_topics"), can_pin=may("can_pin_messages"),
                     is_forum=forum)


def _message_id(sent: Any) -> int:
    if not getattr(sent, "id", None):
        raise RuntimeError("Telegram answered without the new message")
    return int(sent.id)


CREDENTIALS = (errors.ApiIdInvalid, errors.ApiIdPublishedFlood, errors.AccessTokenInvalid, errors.AccessTokenExpired)
SESSION_REFUSED = (errors.Unauthorized, errors.NotAcceptable)  # the session file's key: revoked, unknown, in use


def _start_failure(exc: BaseException, signed_in: bool, session_file: Path) -> BaseException:
    """What a failed start tells the operator: ConfigInvalid (exit 78, nothing to retry) for credentials Telegram
    refuses, DependencyUnavailable (exit 69) for a Telegram that cannot be reached, does not answer as Telegram
    does (anything failing before the bot is signed in: the library gives up after its own retries) or answers
    with an error; anything after the sign-in (a bug) as it is. Never the token or the api hash: the library's
    messages name neither. The whole traceback is logged at DEBUG."""
    if isinstance(exc, CREDENTIALS):
        return ConfigInvalid(f"Telegram refused the bot's credentials ({exc.ID}): check TGESC_BOT_TOKEN (from "
                             "@BotFather), TGESC_API_ID and TGESC_API_HASH (from my.telegram.org)")
    if isinstance(exc, SESSION_REFUSED):
        return ConfigInvalid(f"Telegram refused the bot's session ({exc.ID}): it was revoked or is in use "
                             f"elsewhere; check TGESC_BOT_TOKEN is the current token, then move {session_file} "
                             "away so that the bot logs in afresh")
    if isinstance(exc, errors.RPCError):
        return DependencyUnavailable(f"Telegram answered the bot's start with an error ({exc}); try again later")
    if isinstance(exc, Exception) and not signed_in:
        return DependencyUnavailable(f"Telegram cannot be reached ({type(exc).__name__}: {exc}); check the "
                                     "network and any proxy or firewall between this machine and Telegram "
                                     "(TGESC_LOG_LEVEL=DEBUG shows the details)")
    return exc


def _json(update: Any) -> str:
    """An update as the library describes it (its JSON text), for a dead letter."""
    try:
        return str(update)
    except Exception as exc:  # noqa: BLE001 - a dead letter keeps what can be kept
        return f"<{type(update).__name__}: not printable ({exc})>"


async def _is_barrier(_flt: Any, _client: Any, update: Any) -> bool:
    """Checked for every update (group -1): async, or the library would run it in its thread pool (a thread
    hop per update; bench/bot.py)."""
    return isinstance(update, _Barrier)

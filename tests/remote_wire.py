"""A FakeWire in the test process serving a bot in another process (tests/bot_process.py) over a local socket.

Test process:

    wire = FakeWire()
    server = WireServer(wire)                      # listens on 127.0.0.1:<free port>
    env = {**server.env(), ...}                    # TGESC_TEST_WIRE, TGESC_TEST_WIRE_KEY for the bot process
    ... start `python tests/bot_process.py` ...
    server.push(wire.private_text(ann, "hi"))      # a server push, to the connected bot if there is one
    wire.sent(raw.functions.messages.SendMessage)  # every request the bot made, as with an in-process wire

Bot process: `remote_session_factory(address, key)` is the `session_factory` of `TelegramConnection`: a
`pyrogram.session.Session` whose `send` forwards each request to the test process and returns the answer of
`FakeWire.answer` (an `RpcError` answer raises the library's own exception, as a real session does), and whose
receive side hands every server push to `client.handle_updates` in a tracked task on the client's loop, exactly
as `Session.handle_packet` does for a real connection. The library's retry (`Session.invoke`) stays in the path.

Transport: `multiprocessing.connection` (HMAC-authenticated) carrying pickled TL objects. Pickle, not TL bytes:
TL decoding of a bare Vector guesses its element type from the byte size (`FakeWire` keeps requests as built for
that reason), and some answers are plain Python values (`True`, a list of users). The wire already round-trips
every object it answers with through TL bytes, so what the bot receives is what it would decode from Telegram.

A push when no bot is connected (it was killed, or not started yet) is only logged: every update the wire builds
is already in its pts log, so the next bot start gets it through updates.getDifference, like from Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Client, Connection, Listener
from typing import Any

from pyrogram.session import Session

from tgesc.adapters.telegram.wire import FakeWire, raised_if_error, rpc_error

log = logging.getLogger(__name__)
WIRE_ENV, KEY_ENV = "TGESC_TEST_WIRE", "TGESC_TEST_WIRE_KEY"


# --- the test process: the server --------------------------------------------------------------------------


class WireServer:
    """Serves `wire` to bot processes: one thread accepts, one thread per connection answers its requests."""

    def __init__(self, wire: FakeWire, *, key: bytes | None = None) -> None:
        self.wire = wire
        self.key = key or os.urandom(16)
        self._listener = Listener(("127.0.0.1", 0), authkey=self.key)
        self.address: tuple[str, int] = self._listener.address
        self._lock = threading.Lock()  # the current connection, and every send on any connection
        self._changed = threading.Condition(self._lock)
        self._current: Connection | None = None
        self._open: set[Connection] = set()
        self.connections = 0  # bots that connected so far
        self.pushed = self.delivered = 0
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept, name="wire-accept", daemon=True)
        self._acceptor.start()

    def env(self) -> dict[str, str]:
        """What the bot process needs to connect (see `remote_session_factory_from_env`)."""
        host, port = self.address
        return {WIRE_ENV: f"{host}:{port}", KEY_ENV: self.key.hex()}

    @property
    def connected(self) -> bool:
        with self._lock:
            return self._current is not None

    def push(self, updates: Any) -> bool:
        """Send raw Updates to the connected bot; whether one was connected (else it is only in the pts log)."""
        with self._lock:
            self.pushed += 1
            conn = self._current
            if conn is None:
                return False
            try:
                conn.send(("push", updates))
            except OSError:  # the bot just died: its connection is dropped by its serving thread
                self._drop(conn)
                return False
            self.delivered += 1
            return True

    def wait_for_connection(self, count: int, timeout: float) -> None:
        """Wait until `count` bots have connected in all (the `count`th is connected now)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.connections >= count and self._current is not None, timeout):
                raise TimeoutError(f"no bot connected to the wire within {timeout} s "
                                   f"({self.connections} connection(s) so far, {count} expected)")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for conn in list(self._open):
                self._drop(conn)
        with contextlib.suppress(OSError, EOFError):  # wakes the acceptor (closing the listener would not)
            Client(self.address, authkey=self.key).close()
        self._acceptor.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                conn = self._listener.accept()
            except OSError:  # the listener was closed
                return
            except Exception:  # noqa: BLE001 - a failed handshake must not stop the server
                log.exception("a connection to the wire failed its handshake")
                continue
            with self._changed:
                if self._closed:
                    conn.close()
                    return
                self._open.add(conn)
                self._current = conn
                self.connections += 1
                self._changed.notify_all()
            threading.Thread(target=self._serve, args=(conn,), name=f"wire-serve-{self.connections}",
                             daemon=True).start()

    def _serve(self, conn: Connection) -> None:
        while True:
            try:
                kind, request_id, query = conn.recv()
            except (EOFError, OSError):
                break
            if kind != "call":
                continue
            try:
                answer = self.wire.answer(query)
            except Exception as error:  # noqa: BLE001 - a bug in the fake: tell the bot, keep serving
                log.exception("the fake wire failed on %s", type(query).__name__)
                answer = rpc_error(f"FAKE_WIRE_FAILED_{type(error).__name__.upper()}", 500)
            with self._lock:
                try:
                    conn.send(("reply", request_id, answer))
                except OSError:
                    break
        with self._changed:
            self._drop(conn)
            self._changed.notify_all()

    def _drop(self, conn: Connection) -> None:  # with self._lock held
        if self._current is conn:
            self._current = None
        self._open.discard(conn)
        with contextlib.suppress(OSError):
            conn.close()


# --- the bot process: the session --------------------------------------------------------------------------


class RemoteSession(Session):
    """The client's session in the bot process: requests answered by the test process's FakeWire, pushes
    from it handed to the library like a real session's receive loop does."""

    def __init__(self, client: Any, address: tuple[str, int], key: bytes) -> None:
        super().__init__(client, 2, "127.0.0.1", 443, bytes(256), False)
        self._address, self._key = address, key
        self._conn: Connection | None = None
        self._reader: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}

    async def start(self) -> None:
        loop = self.client.loop
        self._conn = await loop.run_in_executor(None, lambda: Client(self._address, authkey=self._key))
        self._reader = threading.Thread(target=self._read, args=(self._conn, loop), name="wire-reader", daemon=True)
        self._reader.start()
        self.is_started.set()

    async def stop(self) -> None:
        self.is_started.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError), socket.socket(fileno=os.dup(conn.fileno())) as sock:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reader: its recv returns EOF
            if self._reader is not None:
                await self.client.loop.run_in_executor(None, self._reader.join, 5)
            conn.close()
        self._fail_waiting(ConnectionError("the session was stopped"))
        await self._wait_pending_tasks()

    async def send(self, data: Any, wait_response: bool = True, timeout: float = Session.WAIT_TIMEOUT) -> Any:
        conn = self._conn
        if conn is None:
            raise ConnectionError("not connected to the fake wire")
        request_id = next(self._ids)
        reply = self.client.loop.create_future()
        self._waiting[request_id] = reply
        try:
            conn.send(("call", request_id, data))
            result = await asyncio.wait_for(reply, timeout)
        except TimeoutError:  # asyncio's, on the reply: said as Session.send says it
            raise TimeoutError("Request timed out") from None
        finally:
            self._waiting.pop(request_id, None)
        return raised_if_error(result, data)

    def _read(self, conn: Connection, loop: asyncio.AbstractEventLoop) -> None:
        """The receive loop (a thread: multiprocessing connections block); everything else runs on `loop`."""
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                message = ("lost",)
            try:
                loop.call_soon_threadsafe(self._received, message)
            except RuntimeError:  # the loop is closed: the client is gone
                return
            if message[0] == "lost":
                return

    def _received(self, message: tuple) -> None:
        kind = message[0]
        if kind == "reply":
            reply = self._waiting.get(message[1])
            if reply is not None and not reply.done():
                reply.set_result(message[2])
        elif kind == "push":  # as Session.handle_packet does for anything that is not an answer
            self._create_tracked_task(self.client.handle_updates(message[1]))
        elif kind == "lost":
            self._fail_waiting(ConnectionError("the fake wire closed the connection"))

    def _fail_waiting(self, error: Exception) -> None:
        for reply in self._waiting.values():
            if not reply.done():
                reply.set_exception(error)
        self._waiting.clear()


def remote_session_factory(address: tuple[str, int], key: bytes) -> Callable[[Any], RemoteSession]:
    return lambda client: RemoteSession(client, address, key)


def remote_session_factory_from_env(environ: dict[str, str] | None = None) -> Callable[[Any], RemoteSession]:
    """The factory for the wire named by TGESC_TEST_WIRE (host:port) and TGESC_TEST_WIRE_KEY (hex)."""
    environ = os.environ if environ is None else environ
    host, port = environ[WIRE_ENV].rsplit(":", 1)
    return remote_session_factory((host, int(port)), bytes.fromhex(environ[KEY_ENV]))


def wait_until(condition: Callable[[], Any], timeout: float, what: str, *, every: float = 0.02) -> Any:
    """Poll `condition` until it is truthy (its value) or fail after `timeout` seconds, saying `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)

"""`tgesc worker bot`: the one process that holds the Telegram connection.

Threads: the Telegram client's event loop runs in a background thread (the adapter's), and receives every
update, handing it to the bot dispatcher; the sender thread delivers the outbox within Telegram's rates;
the main thread runs an RQ `SimpleWorker` on the `telegram` queue (RQ's signal handling and job timeouts
work only there, and a process holding a live connection must not fork). A `telegram` job wakes the
sender; the sender also looks at the outbox every second, so rows written by any process go out.

Only one bot runs per bot token: a second process waits on the Redis lock and takes over within its TTL
when the first dies. A bot that loses the lock (Redis restarted or flushed) stops serving at once, as another may
have taken it, and waits to take it again; Redis being away is retried with a growing pause. SIGTERM: the current
job finishes, the sender stops after its current message, the client stops (its session saved), the lock is
released, exit 0. Telegram refusing the credentials at the start exits 78, Telegram unreachable 69.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tgesc.adapters.clock import clock_from
from tgesc.adapters.redis_server import connect
from tgesc.adapters.single_lock import SingleActiveLock, bot_lock_name
from tgesc.db import open_database, passing_failure, reconnect, require_current
from tgesc.domain.send_schedule import SendSchedule
from tgesc.services.telegram.customers import CustomerDesk
from tgesc.services.telegram.delivery import Delivery
from tgesc.services.telegram.dispatch import BotDispatcher
from tgesc.settings import Settings

if TYPE_CHECKING:
    import peewee

log = logging.getLogger(__name__)
QUEUE = "telegram"
SESSION_NAME = "tgesc-bot"
_sender: Sender | None = None  # the running bot's sender, for the `telegram` jobs
_terms = itertools.count(1)  # the terms this process served as the active bot (each has its own RQ worker)


class Sender(threading.Thread):
    """Delivers the outbox: pumps whenever woken, when the next postponed row is due, and every `poll_s`."""

    def __init__(self, delivery: Delivery, *, poll_s: float = 1.0, budget_s: float = 5.0) -> None:
        super().__init__(name="sender", daemon=True)
        self.delivery, self.poll_s, self.budget_s = delivery, poll_s, budget_s
        self._woken, self._stopping = threading.Event(), threading.Event()

    def wake(self) -> None:
        self._woken.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._woken.set()
        self.join(timeout)

    def run(self) -> None:
        while not self._stopping.is_set():
            due = None
            try:
                self.delivery.pump(self.budget_s, stop=self._stopping.is_set)
                due = self.delivery.next_due_in()
            except Exception as exc:  # noqa: BLE001 - the sender outlives any failure; the rows stay pending
                if passing_failure(exc):
                    reconnect(self.delivery.db)  # the next pump opens a new connection
                    log.warning("delivering the outbox: the database failed (%s); trying again shortly", exc)
                else:
                    log.exception("delivering the outbox failed; trying again shortly")
            self._woken.wait(self.poll_s if due is None else min(self.poll_s, due))
            self._woken.clear()


def wake_sender(outbox_id: int | None = None) -> None:
    """The `telegram` queue's job: an outbox row is waiting (the sender reads the row itself)."""
    if _sender is None:
        raise RuntimeError("telegram jobs run only in `tgesc worker bot` (the process holding the connection)")
    _sender.wake()


def serve_wakeups(sender: Any) -> None:
    """Make `sender` (anything with `wake()`) the one `telegram` jobs wake in this process (`tgesc simulate`
    delivers in its own loop; `run_bot` sets its sender thread)."""
    global _sender
    _sender = sender


def run_bot(settings: Settings, *, session_factory: Callable[[Any], Any] | None = None,
            burst: bool = False, lock_ttl_s: float = 30.0) -> None:
    """Run the bot until SIGTERM/SIGINT (or, with `burst`, until the `telegram` queue is empty). `lock_ttl_s`:
    the single-bot lock's time to live, how soon a waiting bot takes over from a dead one. A bot that loses the
    lock (Redis restarted, flushed or gone past the TTL) stops serving at once, then waits to take it again."""
    settings.require("api_id", "api_hash", "bot_token", purpose="tgesc worker bot")
    db = open_database(settings.database_url)
    require_current(db)
    redis = connect(settings.redis_url, settings.home)
    terms = _Terms()
    try:
        while not terms.stopping.is_set():
            lost = threading.Event()
            lock = SingleActiveLock(redis, bot_lock_name(settings.get("bot_token")), ttl_s=lock_ttl_s,
                                    on_lost=lambda lost=lost: terms.lose(lost))
            if not terms.take(lock):
                return
            try:
                _serve(settings, db, redis, session_factory, burst, terms,
                       over=lambda lost=lost: terms.stopping.is_set() or lost.is_set())
            finally:
                lock.release()
            if burst or not lost.is_set():
                return
            log.warning("no longer the active bot (its lock was lost); waiting to take the lock again")
    finally:
        db.close()


class _Terms:
    """The bot process's terms as the active bot: SIGTERM/SIGINT between them, taking the lock, losing it."""

    def __init__(self) -> None:
        self.stopping = threading.Event()

    def lose(self, lost: threading.Event) -> None:
        """The lock was lost: the term ends. While RQ works the queue, as SIGTERM ends it (RQ's warm shutdown);
        before that, `_serve` sees `lost` itself."""
        lost.set()
        if signal.getsignal(signal.SIGTERM) != self._signalled:  # RQ's handler: the worker is running
            os.kill(os.getpid(), signal.SIGTERM)

    def take(self, lock: SingleActiveLock) -> bool:
        """Take the lock, waiting for another holder (and, Redis being away, retrying with a growing pause, said in
        the log) until SIGTERM/SIGINT; whether it was taken."""
        import redis

        self.listen()
        pause = 1.0
        while not self.stopping.is_set():
            try:
                return lock.acquire(stop=self.stopping.is_set, on_wait=lambda: log.warning(
                    "another bot holds the lock for this token; waiting to take over"))
            except redis.RedisError as error:
                log.error("Redis failed (%s); trying again in %.0f s", error, pause)
                self.stopping.wait(pause)
                pause = min(2 * pause, 30.0)
        return False

    def listen(self) -> None:
        """SIGTERM/SIGINT stop the process (outside RQ's `work`, whose handlers would raise into the cleanup)."""
        signal.signal(signal.SIGTERM, self._signalled)
        signal.signal(signal.SIGINT, self._signalled)

    def _signalled(self, _signum: int, _frame: Any) -> None:
        self.stopping.set()


def _serve(settings: Settings, db: peewee.Database, redis: Any, session_factory: Callable[[Any], Any] | None,
           burst: bool, terms: _Terms, over: Callable[[], bool]) -> None:
    """One term as the active bot: the Telegram connection, the sender and the `telegram` queue's worker, until
    SIGTERM (RQ's warm shutdown: also how a lost lock ends the term) or, with `burst`, an empty queue; `over()`
    says the term ended before the worker began."""
    global _sender
    from rq import Queue

    from tgesc.adapters.telegram import TelegramConnection
    from tgesc.adapters.workers import SimpleWorker

    desk = CustomerDesk(None, settings.rate("flood_limit"))
    clock = clock_from(settings)  # real time, or the virtual clock of TGESC_CLOCK (tests, simulations)
    dispatcher = BotDispatcher(db, desk, clock, new_tags_by=settings.get("new_tags_by"))
    connection = TelegramConnection(
        SESSION_NAME, settings.home, int(settings.get("api_id")), settings.get("api_hash"),
        settings.get("bot_token"), handlers=dispatcher, session_factory=session_factory, clock=clock)
    try:
        connection.start()
        desk.bot_username = connection.bot.username
        schedule = SendSchedule(settings.rate("send_rate"), settings.rate("chat_rate"), settings.rate("group_rate"))
        _sender = Sender(Delivery(db, connection, schedule, clock=clock, sleep=time.sleep))
        dispatcher.wake = _sender.wake
        _sender.start()
        if over():  # SIGTERM or a lost lock while the connection started (RQ's own handling begins with `work`)
            return
        worker = SimpleWorker([Queue(QUEUE, connection=redis)], connection=redis,
                              name=f"tgesc-bot-{socket.gethostname()}-{os.getpid()}-{next(_terms)}")
        worker.work(burst=burst, logging_level=settings.get("log_level").upper())
    finally:
        terms.listen()
        if _sender is not None:
            _sender.stop()
            _sender = None
        connection.stop()

"""One active bot per bot token: a Redis lock with a time to live that its holder keeps refreshing.

A second bot process waits for the lock; when the holder dies (even by kill -9) the lock expires within
its TTL and the waiting process takes over. A holder that fails to refresh in time (Redis gone, process
frozen) is told through `on_lost` and must stop at once: another bot may already be running.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable

import redis
from redis.exceptions import LockError

log = logging.getLogger(__name__)


def lock_name(bot_token: str) -> str:
    """The lock's key: per bot token, without revealing it."""
    return "tgesc:bot-lock:" + hashlib.sha256(bot_token.encode()).hexdigest()[:16]


class BotLock:
    """The single-bot lock (use `acquire`, then `release` when stopping)."""

    def __init__(self, client: redis.Redis, bot_token: str, *, ttl_s: float = 30.0,
                 on_lost: Callable[[], None] = lambda: None) -> None:
        self.ttl_s = ttl_s
        self.on_lost = on_lost
        self._lock = client.lock(lock_name(bot_token), timeout=ttl_s, thread_local=False)
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None

    def acquire(self, *, wait_s: float | None = None, poll_s: float = 0.5,
                on_wait: Callable[[], None] = lambda: None) -> bool:
        """Take the lock, waiting for another holder up to `wait_s` seconds (None: for ever); whether it was
        taken. `on_wait` is called once if the lock is held by someone else."""
        if not self._lock.acquire(blocking=False):
            on_wait()
            if not self._lock.acquire(blocking=True, blocking_timeout=wait_s, sleep=poll_s):
                return False
        self._stop.clear()
        self._refresher = threading.Thread(target=self._refresh, name="bot-lock", daemon=True)
        self._refresher.start()
        return True

    def _refresh(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                self._lock.reacquire()
            except (LockError, redis.RedisError) as error:
                log.critical("lost the single-bot lock (%s): stopping", error)
                self.on_lost()
                return

    def release(self) -> None:
        """Stop refreshing and give the lock up (nothing if it was lost meanwhile)."""
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join()
        try:
            self._lock.release()
        except (LockError, redis.RedisError):
            pass

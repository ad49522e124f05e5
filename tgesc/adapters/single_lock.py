"""One active process of a kind (the bot per bot token, the cron scheduler): a Redis lock with a time to live
that its holder keeps refreshing.

A second process of the same kind waits for the lock as a standby; when the holder dies (even by kill -9)
the lock expires within its TTL and the standby takes over. A holder that fails to refresh in time (Redis
flushed or gone, process frozen) is told through `on_lost` and must stop acting at once: another process may
already hold the lock. `owned()` asks Redis, for a holder that wants to be sure right before it acts.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable

import redis
from redis.exceptions import LockError

log = logging.getLogger(__name__)
CRON_LOCK = "tgesc:cron-lock"


def bot_lock_name(bot_token: str) -> str:
    """The single-bot lock's key: per bot token, without revealing it."""
    return "tgesc:bot-lock:" + hashlib.sha256(bot_token.encode()).hexdigest()[:16]


class SingleActiveLock:
    """The lock named `name` (use `acquire`, then `release` when stopping; `acquire` again after a loss)."""

    def __init__(self, client: redis.Redis, name: str, *, ttl_s: float = 30.0,
                 on_lost: Callable[[], None] = lambda: None) -> None:
        self.name, self.ttl_s, self.on_lost = name, ttl_s, on_lost
        self._lock = client.lock(name, timeout=ttl_s, thread_local=False)
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None

    def acquire(self, *, wait_s: float | None = None, poll_s: float = 0.5,
                on_wait: Callable[[], None] = lambda: None,
                stop: Callable[[], bool] = lambda: False) -> bool:
        """Take the lock, waiting for another holder up to `wait_s` seconds (None: for ever) or until `stop()`
        says so; whether it was taken. `on_wait` is called once if the lock is held by someone else."""
        deadline = None if wait_s is None else time.monotonic() + wait_s
        waited = False
        while not self._lock.acquire(blocking=False):
            if not waited:
                waited = True
                on_wait()
            if stop() or (deadline is not None and time.monotonic() >= deadline):
                return False
            time.sleep(poll_s if deadline is None else max(0.0, min(poll_s, deadline - time.monotonic())))
        self._stop.clear()
        self._refresher = threading.Thread(target=self._refresh, name=f"lock {self.name}", daemon=True)
        self._refresher.start()
        return True

    def owned(self) -> bool:
        """Whether this process holds the lock now (asks Redis; False when it cannot be asked)."""
        try:
            return bool(self._lock.owned())
        except redis.RedisError:
            return False

    def _refresh(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                self._lock.reacquire()
            except (LockError, redis.RedisError) as error:
                log.critical("lost the lock %s (%s): stopping", self.name, error)
                self.on_lost()
                return

    def release(self) -> None:
        """Stop refreshing and give the lock up (nothing if it was lost meanwhile)."""
        self._stop.set()
        if self._refresher is not None and self._refresher is not threading.current_thread():
            self._refresher.join()
        self._refresher = None
        try:
            self._lock.release()
        except (LockError, redis.RedisError):
            pass

"""RQ's worker classes as tgesc runs them: RQ 3.0's own, with a shutdown that cannot hang, and a work loop that
outlives Redis going away.

Redis gone: RQ waits out a Redis that does not answer only while it waits for a job; anywhere else (recording a
job's end, a heartbeat, maintenance) the lost connection ends `work()` ("found an unhandled exception, quitting")
and the process exits, with a traceback. Here such a loss ends RQ's loop quietly (as a stop request does, with
one warning), and once Redis answers again (tried with a growing pause, said in the log; SIGTERM meanwhile stops
the worker) the loop begins anew: a Redis restarted, even empty, is worked on as a fresh one.

Shutdown: every RQ worker listens for commands (`rq suspend`, kill-horse) on a pubsub channel, in a thread blocked up to
60 s in `get_message`. RQ 3.0 stops it by sending UNSUBSCRIBE (whose reply wakes the thread) and only then
clearing the thread's running flag, and redis-py 8.2's `stop()` waits for the thread with no time limit. When
the reply wins the race (a loaded machine), the thread loops into a fresh 60 s wait for a subscription that will
never come, and `stop()` waits with it: `--burst` "done, quitting" and SIGTERM "stopping on request" were
followed by a hang of up to a minute.

Here the flag is cleared first, and the thread is woken by a message published on its own channel (one RQ's
command handler ignores) rather than by an UNSUBSCRIBE sent on the connection it is reading: only the thread ever
touches its connection, and it closes it itself as it leaves. The wait for it is bounded all the same (the thread
is a daemon, a process never waits on it to exit), and a Redis gone meanwhile costs a log line, not a traceback.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

import rq
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq.command import send_command
from rq.exceptions import StopRequested

UNSUBSCRIBE_WAIT_S = 2.0
WAKE_LISTENER = "tgesc-wake"  # not one of RQ's commands: its handler ignores it
REDIS_LOST = (RedisConnectionError, RedisTimeoutError)
REDIS_RETRY_FIRST_S, REDIS_RETRY_MAX_S = 1.0, 30.0


class OutlivesRedis:
    """Mixin for RQ worker classes: `work()` begins again after Redis went away mid-loop (module docstring)."""

    _redis_lost = False

    def work(self, burst: bool = False, logging_level: str | None = None, **options: Any) -> bool:
        worked = False
        while True:
            self._redis_lost = False
            worked = super().work(burst, logging_level, **options) or worked
            if not self._redis_lost or self._stop_requested or not self._redis_answers_again():
                return worked

    @contextlib.contextmanager
    def _noting_redis_loss(self) -> Iterator[None]:
        """Redis lost in the block: RQ's loop ends as on a stop request (work() begins it again)."""
        try:
            yield
        except REDIS_LOST as error:
            self._redis_lost = True
            self.log.warning("Worker %s: Redis went away (%s)", self.name, error)
            raise StopRequested() from None

    def execute_job(self, job: Any, queue: Any) -> Any:
        with self._noting_redis_loss():
            return super().execute_job(job, queue)

    def heartbeat(self, *args: Any, **kwargs: Any) -> Any:
        with self._noting_redis_loss():
            return super().heartbeat(*args, **kwargs)

    def run_maintenance_tasks(self) -> Any:
        with self._noting_redis_loss():
            return super().run_maintenance_tasks()

    def check_for_suspension(self, burst: bool) -> Any:
        with self._noting_redis_loss():
            return super().check_for_suspension(burst)

    def set_shutdown_requested_date(self) -> None:
        """RQ's note of a stop request (SIGTERM during a job), which is for `rq info` only: without Redis the stop
        is still taken (RQ would raise from the signal handler, into the running job)."""
        try:
            super().set_shutdown_requested_date()
        except RedisError as error:
            self.log.warning("Worker %s: could not note the stop request in Redis (%s)", self.name, error)

    def teardown(self) -> None:
        """RQ's, which records the worker's death before it unsubscribes: without Redis, a warning, and the
        command listener is stopped all the same."""
        try:
            super().teardown()
        except REDIS_LOST as error:
            self.log.warning("Worker %s: could not record its stop in Redis (%s)", self.name, error)
            self.unsubscribe()

    def _redis_answers_again(self) -> bool:
        """Wait until Redis answers (True) or SIGTERM/SIGINT comes (False)."""
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        pause = REDIS_RETRY_FIRST_S
        while True:
            self.log.warning("Worker %s: Redis went away; working again once it answers (next try in %.0f s)",
                             self.name, pause)
            if stop.wait(pause):
                return False
            try:
                self.connection.ping()
            except RedisError:
                pause = min(2 * pause, REDIS_RETRY_MAX_S)
                continue
            with contextlib.suppress(RedisError):
                self.register_death()  # what the teardown could not record (a Redis that kept its data)
            self.log.warning("Worker %s: Redis answers again; working", self.name)
            return True


class PromptShutdown:
    """Mixin for RQ worker classes: `unsubscribe()` (RQ calls it once, at the end of `work()`) returns promptly."""

    def unsubscribe(self) -> None:
        thread = self.pubsub_thread
        if thread is None:
            return
        self.log.info("Worker %s: unsubscribing from channel %s", self.name, self.pubsub_channel_name)
        thread.stop(timeout=0)  # clear the running flag without waiting: the thread leaves at its next wake-up
        try:
            send_command(self.connection, self.name, WAKE_LISTENER)
        except RedisError as error:  # the thread's own read fails too, and then it sees the flag down
            self.log.warning("Worker %s: could not wake the command listener (%s); stopping anyway", self.name, error)
        thread.join(UNSUBSCRIBE_WAIT_S)
        self.pubsub_thread = None


class Worker(OutlivesRedis, PromptShutdown, rq.Worker):
    """RQ's forking worker: each job in a child process."""


class SimpleWorker(OutlivesRedis, PromptShutdown, rq.SimpleWorker):
    """RQ's worker that runs the jobs itself (the bot's: a process holding a live connection must not fork)."""

"""RQ's worker classes as tgesc runs them: RQ 3.0's own, with a shutdown that cannot hang.

Every RQ worker listens for commands (`rq suspend`, kill-horse) on a pubsub channel, in a thread blocked up to
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

import rq
from redis.exceptions import RedisError
from rq.command import send_command

UNSUBSCRIBE_WAIT_S = 2.0
WAKE_LISTENER = "tgesc-wake"  # not one of RQ's commands: its handler ignores it


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


class Worker(PromptShutdown, rq.Worker):
    """RQ's forking worker: each job in a child process."""


class SimpleWorker(PromptShutdown, rq.SimpleWorker):
    """RQ's worker that runs the jobs itself (the bot's: a process holding a live connection must not fork)."""

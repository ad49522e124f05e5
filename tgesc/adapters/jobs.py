"""The bot's `telegram` queue seen from other processes: one RQ job per new outbox row wakes its sender.

The outbox table is the queue of record (the bot also looks at it every second); a job only makes
delivery immediate. Job ids are `out-<row id>`, unique, so enqueueing a row twice (a retry, the relay)
runs once. `rq info` and `rq requeue` see the queue like any other.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis
from rq import Queue
from rq.exceptions import DuplicateJobError

QUEUE = "telegram"
WAKE = "tgesc.worker.bot.wake_sender"  # by name: producers need not import the bot


def enqueue_deliveries(client: redis.Redis, outbox_ids: Iterable[int]) -> int:
    """A `telegram` job for each outbox row (none for a row that has one waiting); how many were enqueued."""
    queue, enqueued = Queue(QUEUE, connection=client), 0
    for row_id in outbox_ids:
        try:
            queue.enqueue(WAKE, row_id, job_id=f"out-{row_id}", unique=True, result_ttl=3600, failure_ttl=86400)
        except DuplicateJobError:
            continue
        enqueued += 1
    return enqueued

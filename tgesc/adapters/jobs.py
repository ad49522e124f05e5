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


def relay_deliveries(client: redis.Redis, outbox_ids: Iterable[int]) -> int:
    """The outbox relay's part in Redis: a `telegram` job for each of `outbox_ids` (pending, due rows) that has
    none (lost in a Redis flush or restart without persistence, or never enqueued because Redis was down when
    the row was written); how many were enqueued. A row whose job is waiting, running or finished is left
    alone: the bot's sender also polls the outbox, and its delivery sends a row at most once whatever the jobs."""
    from rq.job import Job

    ids = list(outbox_ids)
    with client.pipeline(transaction=False) as pipeline:
        for row_id in ids:
            pipeline.exists(Job.key_for(f"out-{row_id}"))
        known = pipeline.execute()
    return enqueue_deliveries(client, [row_id for row_id, exists in zip(ids, known, strict=True) if not exists])


def clean_queues(client: redis.Redis, names: Iterable[str]) -> list[str]:
    """Housekeeping of RQ's bookkeeping for the queues `names`: expired entries leave the started, finished,
    failed, deferred and ready registries (a job whose worker died is moved to failed), and workers that died
    without saying so leave the worker registry. Only expired or dead entries go: RQ's workers do the same every
    few minutes for the queues they serve, this covers queues nobody serves for a while. The names cleaned."""
    from rq.registry import clean_registries
    from rq.worker_registration import clean_worker_registry

    cleaned = []
    for name in names:
        queue = Queue(name, connection=client)
        clean_registries(queue)
        clean_worker_registry(queue)
        cleaned.append(name)
    return cleaned

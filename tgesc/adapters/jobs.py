"""The bot's `telegram` queue seen from other processes: one RQ job per new outbox row wakes its sender.

The outbox table is the queue of record (the bot also looks at it every second); a job only makes
delivery immediate. Job ids are `out-<row id>`, unique, so enqueueing a row twice (a retry, the relay)
runs once. `rq info` and `rq requeue` see the queue like any other.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis
from rq import Queue
from rq.job import Job

QUEUE = "telegram"
WAKE = "tgesc.worker.bot.wake_sender"  # by name: producers need not import the bot


def enqueue_deliveries(client: redis.Redis, outbox_ids: Iterable[int]) -> int:
    """A `telegram` job for each outbox row that has none (none for a row whose job is waiting, running or
    finished: the bot's sender also polls the outbox, and its delivery sends a row at most once whatever the
    jobs; the outbox relay gives rows whose job was lost one again); how many were enqueued. One
    round of Redis calls for them all: RQ's `enqueue_many` in a MULTI/EXEC transaction, watched, because
    `enqueue_many` has no `unique` (it would overwrite a waiting job and push its id a second time): rows whose
    job exists are left out, and when one appears meanwhile the transaction is refused and done again."""
    ids = list(dict.fromkeys(outbox_ids))
    if not ids:
        return 0
    queue = Queue(QUEUE, connection=client)
    keys = [Job.key_for(f"out-{row_id}") for row_id in ids]

    def enqueue(pipeline: redis.client.Pipeline) -> int:
        fresh = ids if not pipeline.exists(*keys) else _without_jobs(client, ids, keys)
        pipeline.multi()
        queue.enqueue_many([Queue.prepare_data(WAKE, (row_id,), job_id=f"out-{row_id}", result_ttl=3600,
                                               failure_ttl=86400) for row_id in fresh], pipeline=pipeline)
        return len(fresh)

    return client.transaction(enqueue, *keys, value_from_callable=True)


def _without_jobs(client: redis.Redis, ids: list[int], keys: list[str]) -> list[int]:
    """The rows among `ids` whose job (key in `keys`) does not exist (one pipelined round trip)."""
    with client.pipeline(transaction=False) as pipeline:
        for key in keys:
            pipeline.exists(key)
        known = pipeline.execute()
    return [row_id for row_id, exists in zip(ids, known, strict=True) if not exists]


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

"""An RQ worker that runs the jobs waiting on its queues when told to, on the caller's thread.

`tgesc simulate` drives time itself: at each virtual instant it enqueues the periodic jobs due, then has them
executed before the clock moves on. RQ's own `SimpleWorker` does the work (dequeue, the job's bookkeeping in
Redis, its failure; a result is not kept); only the polling loop of `work()` is left out, whose start and stop (worker
registration, the pubsub thread, maintenance) cost about 0.3 s a call.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import redis
from rq import Queue, SimpleWorker
from rq.exceptions import InvalidJobOperation
from rq.job import Job, JobStatus


class JobFailed(RuntimeError):
    """A job raised: its description and the traceback RQ recorded."""


class InlineWorker:
    """A registered `SimpleWorker` on `queue_names`; `run_pending()` executes what waits, in order."""

    def __init__(self, client: redis.Redis, queue_names: Iterable[str]) -> None:
        self.client = client
        self.queues = {name: Queue(name, connection=client) for name in queue_names}
        self.worker = SimpleWorker(list(self.queues.values()), connection=client,
                                   name=f"tgesc-inline-{uuid.uuid4().hex[:12]}")
        self.worker.register_birth()

    def enqueue(self, queue_name: str, func: Any, *args: Any, **kwargs: Any) -> Job:
        return self.queues[queue_name].enqueue(func, *args, result_ttl=0, failure_ttl=3600, **kwargs)

    def run_pending(self) -> list[Job]:
        """Execute every job waiting on the queues (including those the jobs enqueue); the jobs run.
        Raises JobFailed for the first job that failed, after running the rest."""
        done: list[Job] = []
        if not self.waiting():
            return done
        while (found := self.worker.dequeue_job_and_maintain_ttl(None)) is not None:
            job, queue = found
            self.worker.execute_job(job, queue)
            done.append(job)
        failed = [job for job in done if _failed(job)]
        if failed:
            job = failed[0]
            raise JobFailed(f"job {job.description} failed:\n{job.latest_result().exc_string}")
        return done

    def waiting(self) -> int:
        """How many jobs wait on the queues (one LLEN each: cheaper than asking the worker to dequeue)."""
        with self.client.pipeline(transaction=False) as pipeline:
            for queue in self.queues.values():
                pipeline.llen(queue.key)
            return sum(pipeline.execute())

    def close(self, *, delete_queues: bool = True) -> None:
        """Unregister the worker; with `delete_queues`, delete the queues and their jobs too."""
        self.worker.register_death()
        if delete_queues:
            for queue in self.queues.values():
                queue.delete(delete_jobs=True)


def _failed(job: Job) -> bool:
    """Whether `job` failed (a job that succeeded is gone: results are not kept, `result_ttl=0`)."""
    try:
        return job.get_status(refresh=True) == JobStatus.FAILED
    except InvalidJobOperation:
        return False

"""RQ jobs run on the caller's thread when it says so: `tgesc simulate` drives time itself.

- `run_now`: at each virtual instant the simulation runs the periodic jobs due as jobs of a synchronous RQ
  queue (`is_async=False`: RQ creates the job in Redis, performs it at once and records its end or its
  failure; 2-3 ms a job, where a worker's dequeue-and-perform takes 6-10 ms, and a week of a busy desk runs
  thousands of them).
- `run_pending`: jobs other code enqueued on ordinary queues (the `telegram` wake-ups a command line
  enqueues) are executed by RQ's own `SimpleWorker`; only the polling loop of `work()` is left out, whose
  start and stop (worker registration, the pubsub thread, maintenance) cost about 0.3 s a call.
A job's result is not kept; a failed job raises `JobFailed` with RQ's traceback.
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

    def __init__(self, description: str, traceback: str) -> None:
        super().__init__(f"job {description} failed:\n{traceback}")
        self.description, self.traceback = description, traceback

    @property
    def reason(self) -> str:
        """The exception the job raised, as the traceback's last line says it (`ValueError: ...`)."""
        lines = [line for line in self.traceback.strip().splitlines() if line.strip()]
        return lines[-1].strip() if lines else "no traceback recorded"


class InlineWorker:
    """A registered `SimpleWorker` on `queue_names`; `run_pending()` executes what waits, in order."""

    def __init__(self, client: redis.Redis, queue_names: Iterable[str]) -> None:
        self.client = client
        self.queues = {name: Queue(name, connection=client) for name in queue_names}
        self.worker = SimpleWorker(list(self.queues.values()), connection=client,
                                   name=f"tgesc-inline-{uuid.uuid4().hex[:12]}")
        self.worker.register_birth()

    def run_now(self, queue_name: str, func: Any, *args: Any, **kwargs: Any) -> Job:
        """Enqueue `func` on the synchronous queue `queue_name`: RQ performs it before this returns."""
        queue = Queue(queue_name, connection=self.client, is_async=False)
        job = queue.enqueue(func, *args, result_ttl=0, failure_ttl=3600, **kwargs)
        if job.get_status(refresh=False) == JobStatus.FAILED:  # RQ's synchronous run records it on the job too
            _raise_failed(job)
        return job

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
        _raise_if_failed(done)
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


def _raise_if_failed(jobs: Iterable[Job]) -> None:
    failed = [job for job in jobs if _failed(job)]
    if failed:
        _raise_failed(failed[0])


def _raise_failed(job: Job) -> None:
    result = job.latest_result()
    raise JobFailed(str(job.description), result.exc_string if result is not None else "")

"""`tgesc worker run [QUEUES...]`: an RQ worker on the `default` queue (or the given ones) with tgesc's bootstrap.

Bootstrap: the settings (the parent's, inherited by every job), the database checked once (reachable, schema
current; exit 69 / 78 otherwise) and closed again, the job modules imported up front, logging. The forking
`Worker` (the default) runs each job in a child process, which opens the database itself (tgesc.worker.jobs);
`simple` runs the jobs in this process (RQ's `SimpleWorker`), reusing one database connection. Any number of
these run at once, on any machines sharing the database and Redis. SIGTERM: warm shutdown (the current job
finishes), exit 0; a second SIGTERM kills the job (cold shutdown).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Sequence

from tgesc.adapters.redis_server import connect
from tgesc.db import open_database, require_current
from tgesc.settings import Settings
from tgesc.worker import jobs

log = logging.getLogger(__name__)
DEFAULT_QUEUES = ("default",)
PRELOADED = ("tgesc.services.outbox.rows", "tgesc.services.sweeps.sla", "tgesc.services.tickets.surveys")


def run_worker(settings: Settings, queues: Sequence[str] = DEFAULT_QUEUES, *, simple: bool = False,
               burst: bool = False) -> None:
    """Work the `queues` until SIGTERM/SIGINT (with `burst`: until they are empty)."""
    from rq import Queue

    from tgesc.adapters.workers import SimpleWorker, Worker

    db = open_database(settings.database_url)
    try:
        require_current(db)
    finally:
        db.close()  # a forked child must not inherit an open connection: each job opens its own
    jobs.bootstrap(settings)
    _preload()
    redis = connect(settings.redis_url, settings.home)
    worker_class = SimpleWorker if simple else Worker
    worker = worker_class([Queue(name, connection=redis) for name in queues], connection=redis,
                          name=f"tgesc-worker-{socket.gethostname()}-{os.getpid()}")
    log.info("working queue(s) %s with a %s", ", ".join(queues), worker_class.__name__)
    worker.work(burst=burst, logging_level=settings.get("log_level").upper())


def _preload() -> None:
    """Import what the jobs use once, here, rather than in every forked child."""
    import importlib

    for module in PRELOADED:
        with contextlib.suppress(ImportError):  # a sweep service not installed yet fails its job, not the worker
            importlib.import_module(module)

"""Waking the bot for the outbox rows another process wrote (a sweep job, a CLI command): a `telegram` job per
pending row, so that they go out at once instead of at the bot's next look at the outbox (every second while it
runs). The outbox table is the record; the jobs only make delivery immediate, so a Redis that is away costs
nothing but that second. Redis (rq and redis are imported) is asked only when there are rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import peewee

from tgesc.services.outbox import store as outbox

if TYPE_CHECKING:
    import redis


def wake_bot(db: peewee.Database, after_row: int, client: Callable[[int], redis.Redis | None]) -> int:
    """Enqueue a `telegram` job for each pending outbox row written after row `after_row` (`outbox.newest_id(db)`,
    taken before the change); how many. `client` as for `wake_for`."""
    return wake_for(outbox.pending_after(db, after_row), client)


def wake_for(rows: Sequence[int], client: Callable[[int], redis.Redis | None]) -> int:
    """Enqueue a `telegram` job for each of the outbox rows `rows` (those a sweep batch wrote), in one round of
    Redis calls; how many. `client(rows)` gives the Redis connection, or None when Redis is optional and does not
    answer (`rows`: how many rows wait, for its word about it)."""
    if not rows:
        return 0
    connection = client(len(rows))
    if connection is None:
        return 0
    from tgesc.adapters.jobs import enqueue_deliveries

    return enqueue_deliveries(connection, rows)

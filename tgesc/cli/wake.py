"""After a CLI change that queued Telegram messages: wake the bot, so they go out at once.

Redis is optional here: when it does not answer (or the embedded one is not running) the command still
succeeds, and the bot delivers the rows when it next looks at the outbox (every second while it runs).
Only commands that queued something import rq and redis.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tgesc.cli.context import state
from tgesc.cli.output import info
from tgesc.services.outbox import store as outbox
from tgesc.settings import mask_url_password
from tgesc.worker.wake import wake_bot as wake
from tgesc.worker.wake import wake_for

if TYPE_CHECKING:
    import peewee
    import redis


@contextmanager
def waking_bot() -> Iterator[None]:
    """Around a change: afterwards, wake the bot for the Telegram messages it queued."""
    db = state().database()
    before = outbox.newest_id(db)
    yield
    wake_bot(db, before)


def wake_bot(db: peewee.Database, after_row: int) -> None:
    """Enqueue a `telegram` job for each pending outbox row written after `after_row`."""
    wake(db, after_row, _running_redis)


def wake_bot_for(rows: list[int]) -> None:
    """Enqueue a `telegram` job for each of the outbox rows `rows` (pending again: `tgesc outbox retry`)."""
    wake_for(rows, _running_redis)


def _running_redis(rows: int) -> redis.Redis | None:
    """The configured Redis, or the embedded one if it runs (never started here); None, with a word about the
    `rows` queued when a configured one does not answer."""
    from tgesc.adapters.redis_server import connect_if_running

    settings = state().settings()
    client = connect_if_running(settings.redis_url, settings.home)
    if client is None and settings.redis_url:  # configured but not answering: worth a word (no embedded: no bot)
        info(f"Warning: Redis at {mask_url_password(settings.redis_url)} does not answer; the bot sends the "
             f"{rows} queued Telegram message(s) when it next looks at the outbox.")
    return client

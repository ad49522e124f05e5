"""After a CLI change that queued Telegram messages: wake the bot, so they go out at once.

Redis is optional here: when it does not answer (or the embedded one is not running) the command still
succeeds, and the bot delivers the rows when it next looks at the outbox (every second while it runs).
Only commands that queued something import rq and redis.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tgesc.cli.context import state
from tgesc.cli.output import info
from tgesc.services.outbox import rows as outbox
from tgesc.settings import mask_url_password


@contextmanager
def waking_bot() -> Iterator[None]:
    """Around a change: afterwards, wake the bot for the Telegram messages it queued."""
    before = outbox.newest_id()
    yield
    wake_bot(before)


def wake_bot(after_row: int) -> None:
    """Enqueue a `telegram` job for each pending outbox row written after `after_row`."""
    rows = outbox.pending_after(after_row)
    if not rows:
        return
    from tgesc.adapters.jobs import enqueue_deliveries
    from tgesc.adapters.redis_server import connect_if_running

    settings = state().settings()
    client = connect_if_running(settings.redis_url, settings.home)
    if client is None:
        if settings.redis_url:  # configured but not answering: worth a word (no embedded one running: no bot)
            info(f"Warning: Redis at {mask_url_password(settings.redis_url)} does not answer; the bot sends the "
                 f"{len(rows)} queued Telegram message(s) when it next looks at the outbox.")
        return
    enqueue_deliveries(client, rows)

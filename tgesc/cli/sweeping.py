"""`tgesc sla|rule|survey sweep --once`: one sweep now, for cron or a systemd timer, or to look (--dry-run).

The periodic sweeps run in `tgesc worker cron`; these commands run the same service function once,
wake the bot for the Telegram messages it queued, and print what it did with instants in the viewer's zone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer

from tgesc.cli.context import current_time, state
from tgesc.cli.output import emit
from tgesc.domain.errors import UsageError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

ONCE_OPTION = typer.Option(False, "--once", help="Sweep once and exit (required: `tgesc worker cron` runs the "
                                                 "periodic sweep).")


def sweep_once(sweep: Callable[..., list[dict[str, Any]]], *, once: bool, dry_run: bool, as_json: bool,
               columns: Sequence[str], instants: Sequence[str] = ("due",), ticket_marks: bool = True,
               **options: Any) -> list[dict[str, Any]]:
    """Run `sweep(db, now=, dry_run=, **options)` once and print its rows (`columns` in the table; `instants`,
    datetimes or ISO texts, in the viewer's zone; tickets as #N unless not `ticket_marks`); the rows."""
    if not once:
        raise UsageError("pass --once: this command sweeps once (the periodic sweep runs in `tgesc worker cron`)")
    from zoneinfo import ZoneInfo

    from tgesc.cli.wake import waking_bot  # the outbox and Redis: only for the command that sweeps

    cli = state()
    database = cli.database()
    zone = ZoneInfo(cli.settings().timezone)
    with waking_bot():
        done = sweep(database, now=current_time(), dry_run=dry_run, **options)
    rows = [{**row, **{key: _local(row[key], zone) for key in instants if row.get(key)}} for row in done]
    if as_json:
        emit(rows, True)
    else:
        emit([{**row, "ticket": f"#{row['ticket']}"} for row in rows] if ticket_marks else rows, False,
             columns=list(columns))
    return done


def _local(instant: datetime | str, zone: ZoneInfo) -> str:
    moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    return moment.astimezone(zone).isoformat(timespec="seconds")

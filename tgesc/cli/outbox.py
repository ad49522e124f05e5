"""`tgesc outbox ...`: the messages waiting to go out to Telegram, those that went and those that failed: list them,
look at one, send a failed one again, cancel one not sent yet (services.telegram.outbox).

Times are shown in the viewer's zone (--tz or TGESC_TIMEZONE), in --json too (ISO 8601 with the offset).
"""

from __future__ import annotations

import typer

from tgesc.cli.context import current_time, in_viewer_zone, state
from tgesc.cli.output import JSON_OPTION, emit, emit_page, info
from tgesc.cli.parsing import choice, choices_metavar, whole_number
from tgesc.domain.errors import UsageError
from tgesc.domain.limits import LIMIT, ROW_ID, TICKET_NUMBER

app = typer.Typer(help="Outbound Telegram messages: pending, sent, failed.", no_args_is_help=True)
SHOWN = ("pending", "sent", "failed", "dead", "cancelled", "all")
PAGE = 50
LIST_COLUMNS = ["id", "status", "kind", "chat_id", "ticket", "attempts", "not_before", "sent_at", "error"]
ROW_IDS = typer.Argument(..., parser=whole_number(ROW_ID), metavar="ID...", help="Outbox row ids (see `outbox list`).")


@app.callback()
def outbox() -> None:
    """Every message tgesc sends through Telegram is first an outbox row, written with the change that caused it;
    the bot sends them in order per chat, within Telegram's rates. A row Telegram refused for good is `dead` (the
    customer blocked the bot, the group is gone), one that kept failing is `failed`.
    """


@app.command("list")
def list_(
    status: list[str] = typer.Option(None, "--status", parser=choice(SHOWN), metavar=choices_metavar(SHOWN),
                                     help="Which rows (repeat for several; default: all)."),
    ticket: int = typer.Option(None, "--ticket", parser=whole_number(TICKET_NUMBER), metavar="N",
                               help="Only the rows of ticket #N."),
    limit: int = typer.Option(None, "--limit", parser=whole_number(LIMIT), metavar="N",
                              help="At most this many, oldest first (default 50; 0: all, as --all)."),
    after: int = typer.Option(None, "--after", parser=whole_number(ROW_ID), metavar="ID",
                              help="Only rows after this id: the next page, as the last one printed it."),
    all_: bool = typer.Option(False, "--all", help="Every row that matches, written as it is read."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The outbox rows, oldest first, a page at a time, and above them (on stderr) how many wait, and since when.

    Examples:

      tgesc outbox list --status pending

      tgesc outbox list --status failed --status dead --json | jq -r '.[].error' | sort | uniq -c

      tgesc outbox list --ticket 12
    """
    from tgesc.cli.output import stream_rows
    from tgesc.services.telegram import outbox as rows

    if all_ and limit:
        raise typer.BadParameter("--all lists every row: leave --limit out (or use --limit N alone)")
    db = state().database()
    statuses = () if not status or "all" in status else tuple(dict.fromkeys(status))
    _backlog(rows.backlog(db))
    if all_ or limit == 0:
        stream_rows((in_viewer_zone(r) for r in rows.stream(db, statuses, ticket, after)), as_json,
                    columns=LIST_COLUMNS, noun="outbox rows")
        return
    limit = limit or PAGE
    options = [*(f"--status {s}" for s in statuses), *([f"--ticket {ticket}"] if ticket else []),
               *([f"--limit {limit}"] if limit != PAGE else []), *(["--json"] if as_json else [])]
    emit_page([in_viewer_zone(r) for r in rows.listed(db, statuses, ticket, limit=limit + 1, after=after)], limit,
              as_json, " ".join(["tgesc outbox list", *options, "--after"]), columns=LIST_COLUMNS,
              total=rows.count(db, statuses, ticket), noun="outbox rows")


def _backlog(counts: dict) -> None:
    oldest = counts["oldest_pending"]
    since = f", the oldest due {in_viewer_zone({'at': oldest})['at']}" if oldest else ""
    info(f"Pending {counts['pending']}{since}; failed {counts['failed']}, dead {counts['dead']}, "
         f"cancelled {counts['cancelled']}, sent {counts['sent']}.")


@app.command("show")
def show(row_id: int = typer.Argument(..., parser=whole_number(ROW_ID), metavar="ID",
                                      help="The row's id (see `outbox list`)."),
         as_json: bool = JSON_OPTION) -> None:
    """One row whole: its text, buttons and payload, the whole error, and the Telegram messages it made.

    Examples:

      tgesc outbox show 42

      tgesc outbox show 42 --json | jq .payload
    """
    from tgesc.services.telegram import outbox as rows

    emit(in_viewer_zone(rows.details(state().database(), row_id)), as_json)


@app.command("retry")
def retry(row_ids: list[int] = ROW_IDS, as_: str = typer.Option(None, "--as", metavar="HANDLE",
                                                                  help="Staff member to record as (default: you).")
          ) -> None:
    """Send failed or dead rows again (after fixing the cause: the bot's rights in a group, a customer who unblocked
    the bot). Each is pending from now on; the bot is woken to send it.

    Examples:

      tgesc outbox retry 42 43
    """
    _each("retry", row_ids, as_)


@app.command("cancel")
def cancel(row_ids: list[int] = ROW_IDS, as_: str = typer.Option(None, "--as", metavar="HANDLE",
                                                                   help="Staff member to record as (default: you).")
           ) -> None:
    """Cancel rows not sent yet (pending or failed): nothing sends them any more. The row stays, `cancelled`.

    Examples:

      tgesc outbox cancel 42
    """
    _each("cancel", row_ids, as_)


def _each(verb: str, row_ids: list[int], as_: str | None) -> None:
    from tgesc.services.telegram import outbox as rows

    if not row_ids:
        raise UsageError(f"name the rows to {verb} (IDs)")
    db, actor, now = state().database(), state().actor(as_), current_time()
    change = rows.retry if verb == "retry" else rows.cancel
    for row_id in row_ids:
        change(db, row_id, actor=actor, now=now)
    if verb == "retry":
        from tgesc.cli.wake import wake_bot_for

        wake_bot_for(row_ids)
    info(f"{'Retried' if verb == 'retry' else 'Cancelled'} {len(row_ids)} outbox row(s): "
         f"{', '.join(str(i) for i in row_ids)}.")

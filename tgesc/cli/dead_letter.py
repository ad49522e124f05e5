"""`tgesc dead-letter ...`: inbound Telegram updates whose handling failed for good (a bug, not an outage), kept
with the raw update by the bot so that nothing a customer wrote is lost: list them, look at one, replay them
once the cause is fixed (services.telegram.dead_letters).

Times are shown in the viewer's zone (--tz or TGESC_TIMEZONE), in --json too (ISO 8601 with the offset).
"""

from __future__ import annotations

from typing import Any

import typer

from tgesc.cli.context import in_viewer_zone, state
from tgesc.cli.entries import DRY_RUN_OPTION, YES_OPTION, confirm_bulk
from tgesc.cli.output import JSON_OPTION, emit, emit_page, info
from tgesc.cli.parsing import choice, choices_metavar, whole_number
from tgesc.domain.errors import UsageError
from tgesc.domain.limits import LIMIT, ROW_ID

app = typer.Typer(help="Inbound updates the bot could not handle, kept to be replayed.", no_args_is_help=True)
SHOWN_STATUSES = ("failed", "replayed", "all")
PAGE = 50  # letters a page unless asked otherwise
LIST_COLUMNS = ["id", "kind", "chat", "update", "status", "failures", "failed_at", "error"]


@app.callback()
def dead_letter() -> None:
    """Inbound Telegram updates whose handling failed for good (a bug met by one update, not an outage: the
    bot waits an outage out and hands the update over again). The bot keeps each with its raw form and the
    traceback, logs it as an error, and goes on with the next update. Fix the cause, then replay them.
    """


@app.command("list")
def list_(
    status: str = typer.Option("failed", "--status", parser=choice(SHOWN_STATUSES),
                               metavar=choices_metavar(SHOWN_STATUSES), help="Which letters (default: failed)."),
    limit: int = typer.Option(None, "--limit", parser=whole_number(LIMIT), metavar="N",
                              help="At most this many, oldest first (default 50; 0: all, as --all)."),
    after: int = typer.Option(None, "--after", parser=whole_number(ROW_ID), metavar="ID",
                              help="Only letters after this id: the next page, as the last one printed it."),
    all_: bool = typer.Option(False, "--all", help="Every letter that matches, written as it is read."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The dead letters, oldest first, with the last line of their error, a page at a time.

    A page holds 50 letters (--limit); under the table, how many match in all and the command for the next page
    (--after the last one's id). --all writes every letter as it is read (--json: one a line). With --json the
    rows are one JSON array; the count and the next command go to stderr.

    Examples:

      tgesc dead-letter list

      tgesc dead-letter list --status all --json

      tgesc dead-letter list --after 120

      tgesc dead-letter list --status all --all --json | jq -r '.[].error' | sort | uniq -c
    """
    from tgesc.cli.output import stream_rows
    from tgesc.services.telegram import dead_letters

    if all_ and limit:
        raise typer.BadParameter("--all lists every letter: leave --limit out (or use --limit N alone)")
    db, which = state().database(), None if status == "all" else status
    if all_ or limit == 0:
        rows = (in_viewer_zone(letter) for letter in dead_letters.stream(db, which, after=after))
        stream_rows(rows, as_json, columns=LIST_COLUMNS, noun="dead letters")
        return
    limit = limit or PAGE
    command = f"tgesc dead-letter list --status {status}{f' --limit {limit}' if limit != PAGE else ''}" \
              f"{' --json' if as_json else ''} --after"
    letters = dead_letters.listed(db, which, limit=limit + 1, after=after)
    emit_page([in_viewer_zone(letter) for letter in letters], limit, as_json, command, columns=LIST_COLUMNS,
              total=dead_letters.count(db, which), noun="dead letters")


@app.command("show")
def show(
    letter_id: int = typer.Argument(..., parser=whole_number(ROW_ID), metavar="ID",
                                    help="The letter's id (see `dead-letter list`)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """One dead letter whole: the update as read, its raw form as Telegram sent it, the full traceback.

    Examples:

      tgesc dead-letter show 3

      tgesc dead-letter show 3 --json | jq -r .error
    """
    from tgesc.services.telegram import dead_letters

    state().database()
    emit(in_viewer_zone(dead_letters.details(dead_letters.letter(letter_id))), as_json)


@app.command("replay")
def replay(
    letter_ids: list[int] = typer.Argument(None, parser=whole_number(ROW_ID), metavar="[ID]...",
                                           help="The letters to replay."),
    every: bool = typer.Option(False, "--all", help="Replay every failed letter, oldest first."),
    yes: bool = YES_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
) -> None:
    """Hand kept updates to the bot's handlers again, once their cause is fixed.

    A letter that goes through is marked replayed and its answers go out through the outbox; one that fails
    again stays failed, its failures counted (exit 1). Replaying is safe twice: every update is handled once
    by its id. The bot need not run: it sends the answers when it next looks at the outbox.

    Examples:

      tgesc dead-letter replay 3

      tgesc dead-letter replay --all --dry-run

      tgesc dead-letter replay --all --yes
    """
    from tgesc.cli.wake import waking_bot
    from tgesc.services.telegram import dead_letters

    db = state().database()
    if bool(letter_ids) == every:
        raise UsageError("name the letters to replay (IDs) or give --all, not both")
    chosen = [dead_letters.letter(i) for i in letter_ids] if letter_ids else dead_letters.letters("failed")
    if dry_run or not chosen:
        emit([dead_letters.summary(found) for found in chosen], False, columns=LIST_COLUMNS)
        info("Dry run: nothing replayed." if dry_run else "No failed dead letters.")
        return
    if every and not yes:
        confirm_bulk(f"Replay {len(chosen)} dead letter(s)?")
    with waking_bot():
        _replay_each(db, [found.id for found in chosen])


def _replay_each(db: Any, letter_ids: list[int]) -> None:
    from tgesc.adapters.clock import clock_from
    from tgesc.domain.errors import DomainError
    from tgesc.services.telegram.customers import CustomerDesk
    from tgesc.services.telegram.dispatch import BotDispatcher

    settings = state().settings()
    dispatcher = BotDispatcher(db, CustomerDesk(None, settings.rate("flood_limit")),
                               clock_from(settings), new_tags_by=settings.get("new_tags_by"))
    failed = []
    for letter_id in letter_ids:
        try:
            dispatcher.replay(letter_id)
            info(f"Replayed dead letter {letter_id}.")
        except DomainError as error:
            failed.append(letter_id)
            info(f"Error: {error}")
    if failed:
        raise DomainError(f"{len(failed)} of {len(letter_ids)} dead letter(s) failed again: "
                          f"{', '.join(map(str, failed))}")

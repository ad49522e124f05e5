"""`tgesc survey ...`: return-visit surveys (article, step 5): list, show, send one now, sweep once.

Times are shown in the viewer's zone (--tz or TGESC_TIMEZONE), in --json too (ISO 8601 with the offset).
The periodic sweep runs in `tgesc worker cron`; `survey sweep --once` is the same sweep as one command.
"""

from __future__ import annotations

from typing import Any

import typer

from tgesc.cli.context import current_time, in_viewer_zone, state
from tgesc.cli.entries import AS_OPTION, DRY_RUN_OPTION
from tgesc.cli.output import JSON_OPTION, emit, emit_page, info
from tgesc.cli.parsing import choice, choices_metavar, whole_number
from tgesc.cli.sweeping import ONCE_OPTION, sweep_once
from tgesc.domain.errors import UsageError
from tgesc.domain.limits import LIMIT, ROW_ID, TICKET_NUMBER
from tgesc.domain.surveys import STATUSES

app = typer.Typer(help="Return-visit surveys: 1-5 stars after a resolution; low scores reopen and escalate.",
                  no_args_is_help=True)
LIST_COLUMNS = ["id", "ticket", "round", "status", "stars", "next", "next at", "sent", "answered", "comment"]
PAGE = 50  # surveys a page unless asked otherwise


@app.callback()
def survey() -> None:
    """Return-visit surveys: scheduled when a ticket is resolved (survey_delay later, in the customer's
    daytime survey_hours), sent with 1-5 ★ buttons, reminded once (survey_remind_after), expired
    (survey_expire_after). 1-3 stars reopen the ticket and escalate it to survey_low_score_tier; 4-5 stars
    invite a review. `tgesc config show` lists these settings.
    """


def _short_time(iso: str | None) -> str:
    return iso.replace("T", " ")[:16] if iso else ""


def _row(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "ticket": f"#{record['ticket']}", "round": record["round"],
            "status": record["status"], "stars": record["stars"], "next": record["next"] or "",
            "next at": _short_time(record["next_at"]), "sent": _short_time(record["sent_at"]),
            "answered": _short_time(record["answered_at"]), "comment": record["comment"]}


@app.command("list")
def list_(
    status: list[str] = typer.Option(None, "--status", parser=choice(STATUSES), metavar=choices_metavar(STATUSES),
                                     help="Only surveys with this status (repeatable; default: all)."),
    ticket: int = typer.Option(None, "--ticket", parser=whole_number(TICKET_NUMBER), metavar="N",
                               help="Only the surveys of this ticket number."),
    limit: int = typer.Option(None, "--limit", parser=whole_number(LIMIT), metavar="N",
                              help="At most this many, newest first (default 50; 0: all, as --all)."),
    before: int = typer.Option(None, "--before", parser=whole_number(ROW_ID), metavar="ID",
                               help="Only surveys older than this id: the next page, as the last one printed it."),
    all_: bool = typer.Option(False, "--all", help="Every survey that matches, written as it is read."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The surveys, newest first, with what the sweep does next (send, remind, expire) and when, a page at a
    time.

    A page holds 50 surveys (--limit); under the table, how many match in all and the command for the next page
    (--before the last one's id). --all writes every survey as it is read (--json: one a line). With --json the
    rows are one JSON array; the count and the next command go to stderr.

    Examples:

      tgesc survey list

      tgesc survey list --status answered --all --json | jq '[.[].stars] | add / length'

      tgesc survey list --ticket 1042

      tgesc survey list --before 3120
    """
    from tgesc.cli.output import stream_rows
    from tgesc.services.tickets import surveys

    if all_ and limit:
        raise typer.BadParameter("--all lists every survey: leave --limit out (or use --limit N alone)")
    db, wanted, shown = state().database(), {"statuses": tuple(status or ()), "ticket": ticket}, _shown(as_json)
    if all_ or limit == 0:
        rows = (shown(in_viewer_zone(r)) for r in surveys.stream_surveys(db, **wanted, before=before))
        stream_rows(rows, as_json, columns=LIST_COLUMNS, noun="surveys")
        return
    limit = limit or PAGE
    records = [in_viewer_zone(r) for r in surveys.list_surveys(db, **wanted, limit=limit + 1, before=before)]
    options = [*(f"--status {s}" for s in status or ()), *([f"--ticket {ticket}"] if ticket else []),
               *([f"--limit {limit}"] if limit != PAGE else []), *(["--json"] if as_json else [])]
    emit_page(records, limit, as_json, " ".join(["tgesc survey list", *options, "--before"]), columns=LIST_COLUMNS,
              shown=shown, total=surveys.count_surveys(db, **wanted), noun="surveys")


def _shown(as_json: bool) -> Any:
    """How `survey list` shows a survey: the document itself with --json, else the table's row."""
    return (lambda record: record) if as_json else _row


@app.command("show")
def show(
    survey_id: int = typer.Argument(..., parser=whole_number(ROW_ID), metavar="ID",
                                    help="Survey id (`survey list` shows them)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """One survey: its ticket and round, customer, status, the timer instants, stars and comment.

    ID is the survey's id, not the ticket number (a ticket resolved twice has two surveys);
    `tgesc survey list --ticket N` finds a ticket's surveys.

    Examples:

      tgesc survey show 17

      tgesc survey show 17 --json | jq .comment
    """
    from tgesc.services.tickets.surveys import show as show_survey

    emit(in_viewer_zone(show_survey(state().database(), survey_id)), as_json)


@app.command("send")
def send(
    number: int = typer.Argument(..., parser=whole_number(TICKET_NUMBER), metavar="TICKET",
                                 help="Ticket number, e.g. 1042."),
    now: bool = typer.Option(False, "--now", help="Send it at once (required: the only way to send by hand)."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Queue a ticket's scheduled survey for the bot to send at once, whatever the customer's time of day.

    Refused (exit 1, nothing changed) when the ticket has no scheduled survey, or when it may not go
    out: the customer has another open ticket, the ticket was reopened, the customer is unreachable.

    Example:

      tgesc survey send 1042 --now
    """
    from tgesc.cli.wake import waking_bot
    from tgesc.services.tickets.surveys import send_now

    if not now:
        raise UsageError("pass --now to send the survey at once (otherwise it goes out by itself when due: "
                         f"`tgesc survey list --ticket {number}` shows when)")
    settings = state().settings()
    database = state().database()
    with waking_bot():
        record = send_now(database, number, actor=state().actor(as_), now=current_time(), policy=settings.survey_policy)
    emit(in_viewer_zone(record), as_json)
    info(f"Queued the survey of ticket #{number} (survey {record['id']}) for the bot to send.")


@app.command("sweep")
def sweep(
    once: bool = ONCE_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Send the surveys due, remind the unanswered, expire those past their reminder: once.

    The same sweep `tgesc worker cron` runs every survey_sweep_every; this runs it now, for cron or a
    systemd timer, or to look (--dry-run). Prints one row per survey acted on (action: sent, reminded,
    expired, cancelled with the reason).

    Examples:

      tgesc survey sweep --once --dry-run

      tgesc survey sweep --once --json
    """
    from tgesc.services.sweeps.surveys import sweep_surveys

    done = sweep_once(sweep_surveys, once=once, dry_run=dry_run, as_json=as_json,
                      columns=["survey", "ticket", "round", "action", "due_at", "reason"],
                      instants=("due_at", "remind_at", "expires_at"), ticket_marks=False,
                      policy=state().settings().survey_policy)
    verb = "would act on" if dry_run else "acted on"
    info(f"Survey sweep{' (dry run)' if dry_run else ''}: {verb} {len(done)} survey(s).")

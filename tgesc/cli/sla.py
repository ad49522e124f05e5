"""`tgesc sla ...`: the SLA policy of each priority (response and resolution budgets, what a breach does).

There is exactly one policy per priority (urgent, high, medium, low) and `tgesc init` creates all four,
so the verbs are list, show and set; there is no add or remove. `set` on a priority whose policy was
pruned by `tgesc config apply --prune` creates it again (then --first-response, --resolution and
--on-breach are required). `recompute` moves open tickets onto the policies now configured; `sweep --once`
fires the warnings and breaches due now (the periodic sweep runs in `tgesc worker cron`).
"""

from __future__ import annotations

from typing import Literal

import typer

from tgesc.cli.entries import AS_OPTION, DRY_RUN_OPTION, columns, confirm_bulk, duration, list_cmd, show_cmd
from tgesc.cli.output import JSON_OPTION
from tgesc.cli.parsing import whole_number
from tgesc.cli.sweeping import ONCE_OPTION, sweep_once
from tgesc.domain.limits import PERCENT
from tgesc.domain.vocabulary import BREACH_ACTIONS, PRIORITIES

app = typer.Typer(help="SLA policies per priority: first response, next response, resolution, breach action.",
                  no_args_is_help=True)
SECTION = "sla"
Priority = Literal[PRIORITIES]
BreachAction = Literal[BREACH_ACTIONS]
PRIORITY = typer.Argument(..., help="Priority: urgent, high, medium or low.")
summary = columns(SECTION, ["first_response", "next_response", "resolution", "calendar", "warn_at",
                           "pause_when_waiting", "on_breach", "escalate_to"])


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List the SLA policies, most urgent first.

    Examples:

      tgesc sla list

      tgesc sla list --json | jq -r '.urgent.first_response'
    """
    list_cmd(SECTION, as_json, summary)


@app.command("show")
def show(priority: Priority = PRIORITY, as_json: bool = JSON_OPTION) -> None:
    """Show the SLA policy of one priority.

    Example:

      tgesc sla show urgent --json
    """
    show_cmd(SECTION, priority, as_json)


@app.command("set")
def set_(
    priority: Priority = PRIORITY,
    first_response: str = typer.Option(None, "--first-response", parser=duration,
                                       help="Budget for the first staff reply, e.g. 15m."),
    next_response: str = typer.Option(None, "--next-response", parser=duration,
                                      help="Budget for each later reply; '' removes it."),
    resolution: str = typer.Option(None, "--resolution", parser=duration, help="Budget to resolve, e.g. 2h, 1d."),
    calendar: str = typer.Option(None, "--calendar", help="Business-hours calendar the clock runs in; '' = 24/7."),
    warn_at: list[int] = typer.Option(None, "--warn-at", parser=whole_number(PERCENT), metavar="1-99",
                                      help="Warning threshold in % of each budget (repeat; replaces the list)."),
    no_warnings: bool = typer.Option(False, "--no-warnings", help="Send no warnings before a breach."),
    pause: bool = typer.Option(None, "--pause-when-waiting/--no-pause-when-waiting",
                               help="Stop the clock while waiting on the customer."),
    on_breach: BreachAction = typer.Option(None, "--on-breach", help="What a breach does."),
    escalate_to: str = typer.Option(None, "--escalate-to", help="Tier for --on-breach escalate; '' unsets it."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change the SLA policy of one priority; options not given stay as they are.

    Durations: 90s, 15m, 2h, 1d4h. A calendar makes the clock run in business hours only.

    Examples:

      tgesc sla set urgent --first-response 10m --resolution 1h30m

      tgesc sla set high --warn-at 50 --warn-at 90 --calendar office-hours

      tgesc sla set medium --on-breach escalate --escalate-to L2

      tgesc sla set medium --on-breach remind-tier --escalate-to ''
    """
    from tgesc.cli.edits import put_cmd

    if warn_at and no_warnings:
        raise typer.BadParameter("give either --warn-at or --no-warnings, not both")
    put_cmd(SECTION, priority, {
        "first_response": first_response, "next_response": next_response, "resolution": resolution,
        "calendar": calendar, "warn_at": [] if no_warnings else (warn_at or None), "pause_when_waiting": pause,
        "on_breach": on_breach, "escalate_to": escalate_to}, as_, as_json)


@app.command("recompute")
def recompute(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would change, change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Move every open ticket onto the SLA policy now configured for its priority.

    Editing a policy does not change the deadlines of tickets already open: each keeps the policy
    (and calendar) it was opened or last re-prioritised under. This command applies the current
    policies to them: deadlines still to come move; history stays. A clock that was already met,
    stopped or breached (its deadline passed, or its breach notice fired) keeps its deadline, so the
    ticket still shows it breached and `ticket list --breaching` still lists it; warnings that fired
    are not sent again. One row per deadline, warning set or breach action the new policy touches:
    action 'change', or 'keep' with the reason it stays (with --dry-run too, and a warning on stderr).

    Examples:

      tgesc sla recompute --dry-run

      tgesc sla recompute --dry-run --json | jq '.[] | select(.action == "keep")'

      tgesc sla recompute --yes
    """
    from tgesc.cli.context import current_time, state
    from tgesc.cli.output import emit, progress
    from tgesc.services.clocks.sla import recompute as recompute_tickets

    if not dry_run and not yes:
        confirm_bulk("Recompute the SLA deadlines of every open ticket?")
    cli = state()
    changes = recompute_tickets(cli.database(), now=current_time(), actor=cli.actor(as_), dry_run=dry_run,
                                progress=progress("Recomputing"))
    zone = cli.settings().timezone
    emit([{"ticket": f"#{c.ticket}", "what": c.what, "old": _shown(c.old, zone), "new": _shown(c.new, zone),
           "action": c.action, "reason": c.reason} for c in changes], as_json)
    _summary(changes, dry_run)


def _summary(changes, dry_run: bool) -> None:
    """What a recompute did (or would do), on stderr: a warning for each deadline it leaves as it was."""
    from tgesc.cli.output import info

    if not changes:
        info("Every open ticket already runs on the current policies.")
        return
    kept = [c for c in changes if c.action == "keep"]
    for row in kept:
        info(f"Warning: #{row.ticket} {row.what}: {'would stay' if dry_run else 'stays'} as it was "
             f"({row.reason}); history is not rewritten.")
    tail = f"; {len(kept)} deadline(s) {'would be' if dry_run else 'were'} kept" if kept else ""
    info(f"{len({c.ticket for c in changes})} open ticket(s) {'would change' if dry_run else 'changed'}{tail}.")


def _shown(value, zone: str):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes") if isinstance(value, datetime) else value


@app.command("sweep")
def sweep(
    once: bool = ONCE_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Fire the SLA warnings and breaches that are due now: once.

    The same sweep `tgesc worker cron` runs every few seconds; this runs it now, for cron or a systemd
    timer, or to look (--dry-run). A warning reminds the ticket's thread in its tier's staff chat; a
    breach does what the ticket's policy says (notify-admins, notify-leads, remind-tier, escalate,
    none), and a resolution breach also sends the customer a new expected time. Low and medium
    priority notices wait while the ticket's tier is closed (action: wait). Prints one row per
    milestone: ticket, priority, clock, level (warn-N or breach), due, action, recipients, note.
    Each fires once, however often the sweep runs.

    Examples:

      tgesc sla sweep --once --dry-run

      tgesc sla sweep --once --json | jq -r '.[] | select(.level == "breach") | .ticket'
    """
    from tgesc.cli.output import info
    from tgesc.services.sweeps.sla import sweep_sla

    done = sweep_once(sweep_sla, once=once, dry_run=dry_run, as_json=as_json,
                      columns=["ticket", "priority", "clock", "level", "due", "action", "recipients", "note"])
    tickets = len({row["ticket"] for row in done})
    verb = "would fire" if dry_run else "fired"
    info(f"SLA sweep{' (dry run)' if dry_run else ''}: {len(done)} milestone(s) {verb} on {tickets} ticket(s)."
         if done else "SLA sweep: nothing is due.")

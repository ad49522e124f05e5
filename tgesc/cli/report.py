"""`tgesc report ...`: what happened on the desk in a period, for the team lead: summary, sla, csat, triggers, staff.

Every report takes the period (`--since`, default 7d back, `--until`, default now: a duration back from now or an
instant), the filters `--tier`, `--priority`, `--tag`, `--staff` (each may be repeated), and prints a table, or
`--json` (one document) or `--csv` (its rows). The numbers come from the measures stored when things happened
(docs/reports.md).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from tgesc.cli.context import current_time, state
from tgesc.cli.output import JSON_OPTION, emit, info, table
from tgesc.domain.errors import UsageError

app = typer.Typer(help="Reports: the desk's numbers over a period.", no_args_is_help=True)
DEFAULT_SINCE = "7d"
SINCE = typer.Option(DEFAULT_SINCE, "--since", metavar="WHEN",
                     help="The period's start: a duration back from now (7d, 36h) or an instant (2026-03-02, "
                          "2026-03-02T09:00+01:00).")
UNTIL = typer.Option(None, "--until", metavar="WHEN", help="The period's end, excluded (default: now); as --since.")
TIER = typer.Option(None, "--tier", metavar="TIER", help="Only this tier's tickets (repeat for several).")
PRIORITY = typer.Option(None, "--priority", metavar="P", help="Only this priority (repeat for several).")
TAG = typer.Option(None, "--tag", metavar="TAG", help="Only tickets with this tag (repeated: with all of them).")
STAFF = typer.Option(None, "--staff", metavar="HANDLE", help="Only tickets assigned to them (repeat for several).")
CSV_OPTION = typer.Option(False, "--csv", help="Print the report's rows as CSV instead of a table.")


@app.callback()
def report() -> None:
    """Reports over a period (default: the last 7 days), from what the desk measured as it happened.

    Examples:

      tgesc report summary

      tgesc report summary --since 30d --tier L2 --json

      tgesc report summary --since 2026-03-01 --until 2026-04-01 --csv > march.csv
    """


def scope(since: str, until: str | None, tiers: list[str] | None, priorities: list[str] | None,
          tags: list[str] | None, staff: list[str] | None) -> Any:
    """The report's scope from its options (a usage error for a period that is not one)."""
    from zoneinfo import ZoneInfo

    from tgesc.services.reports.scope import Scope

    now, zone = current_time(), ZoneInfo(state().settings().timezone)
    end = when("--until", until, now, zone) if until else now
    start = when("--since", since, now, zone)
    if start >= end:
        raise UsageError(f"--since ({start.isoformat()}) must come before --until ({end.isoformat()})")
    state().database()
    return Scope(start, end, tuple(tiers or ()), tuple(priorities or ()), tuple(tags or ()), tuple(staff or ()))


def when(option: str, text: str, now: datetime, zone: Any) -> datetime:
    """A duration back from `now`, or an instant (a bare date: its midnight in `zone`)."""
    from tgesc.domain.durations import DurationError, parse_duration
    from tgesc.domain.instants import InstantError, parse_moment

    try:
        return now - timedelta(seconds=parse_duration(text))
    except (DurationError, OverflowError):
        pass
    try:
        return parse_moment(text, zone)
    except InstantError as exc:
        raise UsageError(f"{option}: {text!r} is neither a duration such as 7d nor an instant ({exc})") from None


def emit_report(document: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], as_json: bool, as_csv: bool,
                columns: Sequence[str] | None = None) -> None:
    """The report as JSON (`document`), CSV or a table (its `rows`)."""
    if as_json and as_csv:
        raise UsageError("--json and --csv: choose one")
    if as_json:
        emit(document, True)
    elif as_csv:
        columns = list(columns or (rows[0].keys() if rows else ()))
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        print(f"{document['since']} – {document['until']}")
        print(table(rows, columns))


@app.command("summary")
def summary(since: str = SINCE, until: str = UNTIL, tier: list[str] = TIER, priority: list[str] = PRIORITY,
            tag: list[str] = TAG, staff: list[str] = STAFF, as_json: bool = JSON_OPTION,
            as_csv: bool = CSV_OPTION) -> None:
    """The period at a glance: tickets opened, resolved, closed, reopened and open now; first response and
    resolution times (count, median, 90th percentile; wall-clock and business time); the SLA met and breached per
    clock; escalations by trigger; surveys and ratings; the follow-up rate of escalated tickets.

    Examples:

      tgesc report summary

      tgesc report summary --since 30d --priority urgent --priority high

      tgesc report summary --json | jq .sla.first_response.met_pct
    """
    from tgesc.services.reports.summary import summary as summarised

    document = summarised(scope(since, until, tier, priority, tag, staff))
    emit_report(document, flattened(document), as_json, as_csv, ["measure", "value"])


def flattened(document: Mapping[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """A nested document as rows of (dotted measure, value), the period aside."""
    rows: list[dict[str, Any]] = []
    for key, value in document.items():
        if not prefix and key in ("since", "until"):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows += flattened(value, name + ".")
        else:
            rows.append({"measure": name, "value": value})
    return rows


def _listed(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows for a table or CSV: lists and mappings in one cell each (`#3 #7`, `1:0 2:1 …`)."""
    def cell(value: Any) -> Any:
        if isinstance(value, Mapping):
            return " ".join(f"{k}:{v}" for k, v in value.items())
        if isinstance(value, list):
            return " ".join(f"#{v['ticket']} ({v['stars']}★)" if isinstance(v, Mapping) else f"#{v}" for v in value)
        return value

    return [{key: cell(value) for key, value in row.items()} for row in rows]


@app.command("sla")
def sla(since: str = SINCE, until: str = UNTIL, tier: list[str] = TIER, priority: list[str] = PRIORITY,
        tag: list[str] = TAG, staff: list[str] = STAFF, as_json: bool = JSON_OPTION, as_csv: bool = CSV_OPTION) -> None:
    """The SLA met per priority, tier and clock (as the ticket stood when the clock ended), with the tickets that
    breached.

    Examples:

      tgesc report sla --since 30d

      tgesc report sla --priority urgent --json | jq '.rows[] | select(.met_pct < 90)'
    """
    from tgesc.services.reports.breakdowns import sla_rows

    document = sla_rows(scope(since, until, tier, priority, tag, staff))
    emit_report(document, _listed(document["rows"]), as_json, as_csv)


@app.command("csat")
def csat(by: str = typer.Option("tier", "--by", metavar="tier|staff|tag|priority",
                                help="Group the ratings by the ticket's tier, assignee, tags or priority."),
         since: str = SINCE, until: str = UNTIL, tier: list[str] = TIER, priority: list[str] = PRIORITY,
         tag: list[str] = TAG, staff: list[str] = STAFF, as_json: bool = JSON_OPTION,
         as_csv: bool = CSV_OPTION) -> None:
    """Ratings per group: surveys sent and answered, answer rate, average, distribution, and the low scores (1-2
    stars) with their tickets: which kind of issue keeps getting low ratings.

    Examples:

      tgesc report csat --by tag --since 30d

      tgesc report csat --by staff --json | jq '.rows[] | {staff, average}'
    """
    from tgesc.services.reports.breakdowns import GROUPS, csat_rows

    if by not in GROUPS:
        raise typer.BadParameter(f"{by!r} is not one of {', '.join(GROUPS)}", param_hint="--by")
    document = csat_rows(scope(since, until, tier, priority, tag, staff), by)
    emit_report(document, _listed(document["rows"]), as_json, as_csv)


@app.command("triggers")
def triggers(since: str = SINCE, until: str = UNTIL, tier: list[str] = TIER, priority: list[str] = PRIORITY,
             tag: list[str] = TAG, staff: list[str] = STAFF, as_json: bool = JSON_OPTION,
             as_csv: bool = CSV_OPTION) -> None:
    """Per trigger rule: how often it fired, the escalations it caused, how many of those tickets were sent back
    down or resolved at the front line anyway (a rule too eager), their median resolution and average rating. Then
    rehearse deleting a rule with `tgesc simulate --replay`.

    Examples:

      tgesc report triggers --since 30d

      tgesc report triggers --json | jq '.rules[] | select(.sent_back > 0) | .rule'
    """
    from tgesc.services.reports.triggers import trigger_rows

    document = trigger_rows(scope(since, until, tier, priority, tag, staff))
    emit_report(document, _listed(document["rules"]), as_json, as_csv)


@app.command("staff")
def staff_(since: str = SINCE, until: str = UNTIL, tier: list[str] = TIER, priority: list[str] = PRIORITY,
           tag: list[str] = TAG, staff: list[str] = STAFF, as_json: bool = JSON_OPTION,
           as_csv: bool = CSV_OPTION) -> None:
    """Per staff member: tickets they answered, the median of their first answers, their resolutions and the
    average rating of the tickets they resolved.

    Examples:

      tgesc report staff --since 30d

      tgesc report staff --staff carol --json
    """
    from tgesc.services.reports.breakdowns import staff_rows

    document = staff_rows(scope(since, until, tier, priority, tag, staff))
    emit_report(document, _listed(document["rows"]), as_json, as_csv)


@app.command("html")
def html(out: Path = typer.Option(Path("report.html"), "--out", metavar="FILE", dir_okay=False,
                                  help="Where to write the page (default report.html; created 0600: it holds "
                                       "customer data)."),
         since: str = SINCE, until: str = UNTIL, tier: list[str] = TIER, priority: list[str] = PRIORITY,
         tag: list[str] = TAG, staff: list[str] = STAFF) -> None:
    """One self-contained HTML page with charts: tickets per day, first-response and resolution times against the
    SLA, the SLA met per priority, ratings per tier, escalations by trigger (docs/report-html.md). It needs no
    network to view: open it in any browser, or attach it to a mail.

    Examples:

      tgesc report html --out week.html

      tgesc report html --since 30d --tier L2 --out l2-month.html
    """
    from zoneinfo import ZoneInfo

    from tgesc.private_files import creation_error, private_opener
    from tgesc.services.reports.html import render
    from tgesc.services.reports.page import page

    chosen = scope(since, until, tier, priority, tag, staff)
    text = render(page(chosen, ZoneInfo(state().settings().timezone), current_time()))
    try:
        with open(out, "w", encoding="utf-8", opener=private_opener) as file:
            file.write(text)
    except OSError as error:
        raise creation_error(out, error) from None
    info(f"Wrote the report of {chosen.since:%Y-%m-%d %H:%M} – {chosen.until:%Y-%m-%d %H:%M} to {out} "
         f"({len(text.encode()) // 1024} KB).")

"""`tgesc calendar ...`: business-hours calendars (time zone, weekly hours, holidays, per-date overrides).

Tiers and SLA policies name a calendar; their clocks run only while it is open. Hours are given per
weekday (or a range such as mon-fri) as comma-separated HH:MM-HH:MM intervals; an empty value closes
the day. Overrides replace the weekly hours on one date (empty: closed that day). `calendar due`,
`calendar elapsed` and `calendar show NAME --week DATE` (business time on a calendar) are in calendar_time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

import typer

from tgesc.cli import calendar_time
from tgesc.cli.calendar_time import NAME
from tgesc.cli.edits import edit_cmd
from tgesc.cli.entries import AS_OPTION, DRY_RUN_OPTION, YES_OPTION, add_cmd, list_cmd, remove_cmd, show_cmd
from tgesc.cli.output import JSON_OPTION
from tgesc.domain.vocabulary import DEADLINE_AT_CLOSE, WEEKDAYS

app = typer.Typer(help="Business-hours calendars used by tiers and SLA policies.", no_args_is_help=True)
SECTION = "calendars"
DeadlineAtClose = Literal[DEADLINE_AT_CLOSE]
DEADLINE_HELP = "A deadline falling at closing time: 'close' keeps it, 'next-open' moves it to the next opening."


# --- parsing the option values -------------------------------------------------------------------


def _intervals(text: str, where: str) -> list[str]:
    """`09:00-12:00,13:00-17:00` → canonical sorted intervals; '' → [] (closed)."""
    from tgesc.domain.hours import HoursError, format_interval, parse_day

    items = [part.strip() for part in text.split(",") if part.strip()]
    try:
        return [format_interval(interval) for interval in parse_day(items)]
    except HoursError as exc:
        raise typer.BadParameter(f"{where}: {exc}") from None


def _days(spec: str) -> list[str]:
    """`mon`, or a range `mon-fri` (wrapping is not allowed)."""
    first, sep, last = spec.strip().lower().partition("-")
    for day in (first, last) if sep else (first,):
        if day not in WEEKDAYS:
            raise typer.BadParameter(f"{day!r} is not a weekday; use {', '.join(WEEKDAYS)} or a range such as mon-fri")
    if not sep:
        return [first]
    start, end = WEEKDAYS.index(first), WEEKDAYS.index(last)
    if start > end:
        raise typer.BadParameter(f"{spec!r}: a day range runs forward within one week, e.g. mon-fri")
    return list(WEEKDAYS[start:end + 1])


def hours_option(value: str) -> list[tuple[str, list[str]]]:
    """`DAY=INTERVALS` or `DAY-DAY=INTERVALS` → [(day, intervals)] for each day."""
    spec, sep, text = value.partition("=")
    if not sep:
        raise typer.BadParameter(f"{value!r} is not DAY=HH:MM-HH:MM[,HH:MM-HH:MM]; e.g. mon-fri=09:00-18:00")
    intervals = _intervals(text, value)
    return [(day, intervals) for day in _days(spec)]


def date_option(value: str) -> str:
    """`YYYY-MM-DD`, a date within the years of docs/limits.md, in its canonical text."""
    from tgesc.domain.instants import InstantError, parse_date

    try:
        return parse_date(value).isoformat()
    except InstantError as exc:
        raise typer.BadParameter(str(exc)) from None


def override_option(value: str) -> tuple[str, list[str]]:
    """`DATE=INTERVALS`; `DATE=` closes that day."""
    day, sep, text = value.partition("=")
    if not sep:
        raise typer.BadParameter(f"{value!r} is not DATE=HH:MM-HH:MM[,...]; e.g. 2026-12-24=09:00-12:00, "
                                 "or 2026-12-24= for closed")
    return date_option(day), _intervals(text, value)


def _weekly(groups: list[list[tuple[str, list[str]]]] | None) -> dict[str, list[str]]:
    return {day: intervals for group in groups or [] for day, intervals in group}


# --- rendering ------------------------------------------------------------------------------------


def hours_summary(hours: Mapping[str, list[str]]) -> str:
    """Consecutive weekdays with equal hours joined: `mon-fri 09:00-18:00; sat 10:00-14:00`."""
    runs: list[tuple[str, str, list[str]]] = []
    for day in WEEKDAYS:
        intervals = hours.get(day) or []
        if runs and runs[-1][2] == intervals and WEEKDAYS.index(runs[-1][1]) == WEEKDAYS.index(day) - 1:
            runs[-1] = (runs[-1][0], day, intervals)
        else:
            runs.append((day, day, intervals))
    return "; ".join(f"{a if a == b else f'{a}-{b}'} {','.join(iv)}" for a, b, iv in runs if iv) or "closed"


def calendar_rows(name: str, calendar: Mapping[str, Any]) -> dict[str, str]:
    """`calendar show`: identity, then one row per weekday, then holidays and overrides by date."""
    rows = {"calendar": name, "timezone": calendar["timezone"], "deadline_at_close": calendar["deadline_at_close"]}
    for day in WEEKDAYS:
        rows[day] = ", ".join(calendar["hours"].get(day, [])) or "closed"
    for day in calendar["holidays"]:
        rows[f"holiday {day}"] = "closed"
    for day, intervals in calendar["overrides"].items():
        rows[f"override {day}"] = ", ".join(intervals) or "closed"
    return rows


# --- commands ------------------------------------------------------------------------------------


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List calendars with their weekly hours in short.

    Examples:

      tgesc calendar list

      tgesc calendar list --json
    """
    list_cmd(SECTION, as_json, summary)


def summary(entries: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Calendars with their weekly hours in short and how many holidays and overrides they have."""
    return [{"calendar": name, "timezone": c["timezone"], "hours": hours_summary(c["hours"]),
             "holidays": len(c["holidays"]), "overrides": len(c["overrides"]),
             "deadline_at_close": c["deadline_at_close"]} for name, c in entries.items()]


@app.command("show")
def show(
    name: str = NAME,
    week: str = typer.Option(None, "--week", parser=date_option, metavar="YYYY-MM-DD",
                             help="Instead, list the open hours of the week (Monday to Sunday) holding this date, "
                                  "in the calendar's zone and in yours (--tz / TGESC_TIMEZONE)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one calendar: the hours of each weekday, then holidays and overrides.

    With --week DATE: the open hours of the week holding DATE, from its Monday to its Sunday.

    One row per open interval: its day, its hours in the calendar's zone and in yours (--tz), and its length.

    Your hours carry a date where it differs from the calendar's; DST days show as the clock counts them.

    --week with --json: a list of intervals with ISO 8601 instants.

    Examples:

      tgesc calendar show office-hours

      tgesc --tz Europe/Berlin calendar show cn-support --week 2026-12-24
    """
    if week is not None:
        calendar_time.show_week(name, dt.date.fromisoformat(week), as_json)
        return
    show_cmd(SECTION, name, as_json, calendar_rows)


HOURS_HELP = "DAY=HH:MM-HH:MM[,HH:MM-HH:MM], DAY a weekday or a range like mon-fri (repeatable)"


@app.command("add")
def add(
    name: str = NAME,
    timezone: str = typer.Option(..., "--timezone", help="IANA time zone, e.g. Europe/Berlin or UTC."),
    hours: list[str] = typer.Option(None, "--hours", parser=hours_option, metavar="DAY=INTERVALS",
                                    help=f"Opening hours: {HOURS_HELP}."),
    holidays: list[str] = typer.Option(None, "--holiday", parser=date_option, metavar="YYYY-MM-DD",
                                       help="A whole day closed (repeatable)."),
    overrides: list[str] = typer.Option(None, "--override", parser=override_option, metavar="DATE=INTERVALS",
                                        help="Hours for one date instead of its weekday's; DATE= closes it."),
    deadline_at_close: DeadlineAtClose = typer.Option(None, "--deadline-at-close", help=DEADLINE_HELP),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a calendar.

    Examples:

      tgesc calendar add berlin --timezone Europe/Berlin --hours mon-fri=09:00-12:00,13:00-17:00

      tgesc calendar add support-cn --timezone Asia/Shanghai --hours mon-sat=09:00-21:00
      --holiday 2026-10-01 --override 2026-09-30=09:00-12:00 --deadline-at-close next-open
    """
    add_cmd(SECTION, name, {
        "timezone": timezone, "hours": {d: iv for d, iv in _weekly(hours).items() if iv},
        "holidays": sorted(set(holidays or [])), "overrides": dict(overrides or []),
        "deadline_at_close": deadline_at_close}, as_, as_json, calendar_rows)


@app.command("set")
def set_(
    name: str = NAME,
    timezone: str = typer.Option(None, "--timezone", help="IANA time zone, e.g. Europe/Berlin."),
    hours: list[str] = typer.Option(None, "--hours", parser=hours_option, metavar="DAY=INTERVALS",
                                    help=f"Replace the hours of the days given: {HOURS_HELP}; sat= closes it."),
    add_holidays: list[str] = typer.Option(None, "--add-holiday", parser=date_option, metavar="YYYY-MM-DD",
                                           help="Close a whole day (repeatable)."),
    remove_holidays: list[str] = typer.Option(None, "--remove-holiday", parser=date_option,
                                              metavar="YYYY-MM-DD", help="Take a holiday off (repeatable)."),
    overrides: list[str] = typer.Option(None, "--override", parser=override_option, metavar="DATE=INTERVALS",
                                        help="Set the hours of one date (repeatable); DATE= closes it."),
    remove_overrides: list[str] = typer.Option(None, "--remove-override", parser=date_option,
                                               metavar="YYYY-MM-DD", help="Remove a date's override (repeatable)."),
    deadline_at_close: DeadlineAtClose = typer.Option(None, "--deadline-at-close", help=DEADLINE_HELP),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change a calendar; options not given stay as they are.

    Examples:

      tgesc calendar set office-hours --hours sat=10:00-14:00 --add-holiday 2026-12-25

      tgesc calendar set office-hours --hours sat= --remove-holiday 2026-12-25

      tgesc calendar set office-hours --override 2026-12-24=09:00-12:00 --override 2026-12-31=
    """
    edit_cmd(SECTION, name, {"timezone": timezone, "deadline_at_close": deadline_at_close}, as_, as_json,
             put=[(("hours", day), intervals or None) for day, intervals in _weekly(hours).items()]
             + [(("overrides", day), intervals) for day, intervals in overrides or []],
             drop=[("overrides", day) for day in remove_overrides or []],
             add=[(("holidays",), day) for day in add_holidays or []],
             discard=[(("holidays",), day) for day in remove_holidays or []], view=calendar_rows)


@app.command("remove")
def remove(name: str = NAME, as_: str = AS_OPTION, yes: bool = YES_OPTION, dry_run: bool = DRY_RUN_OPTION) -> None:
    """Remove a calendar no tier or SLA policy uses.

    Example:

      tgesc calendar remove berlin --yes
    """
    remove_cmd(SECTION, name, as_, yes, dry_run)


app.registered_commands.extend(calendar_time.app.registered_commands)  # `calendar due` and `calendar elapsed`

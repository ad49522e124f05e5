"""`tgesc calendar due | elapsed` and `tgesc calendar show NAME --week DATE`: business time on a calendar.

Its commands are on an app of its own, which tgesc.cli.calendar adds to the `calendar` noun's (and it shows
the week for that noun's `show --week`); this module imports nothing of that one. Instants are ISO 8601
date-times; one without an offset is read in the calendar's zone (tgesc.domain.instants). Malformed
values are usage errors naming the option (exit 2); an unknown calendar exits 1.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import TypeVar
from zoneinfo import ZoneInfo

import typer

from tgesc.cli.context import state
from tgesc.cli.output import JSON_OPTION, emit, info
from tgesc.domain.instants import (
    InstantError,
    format_minutes,
    format_seconds,
    monday_of,
    parse_instant,
    parse_minutes,
    parse_pause,
)

T = TypeVar("T")
app = typer.Typer()  # its commands join the `calendar` noun's app (tgesc.cli.calendar)
NAME = typer.Argument(..., help="Calendar name, e.g. office-hours.")
INSTANT_HELP = ("an ISO 8601 date and time, e.g. 2026-03-02T09:30+01:00 or 2026-03-02T08:30Z; "
                "without an offset it is read in the calendar's zone")
PAUSE_HELP = ("A range of instants that does not count, START/END, e.g. 2026-03-02T10:00/2026-03-02T11:30 "
              "(same form as the instants; repeatable).")

# --- option values: syntax checked while parsing (exit 2), the zone applied once the calendar is known --


def _syntax(parse: Callable[[str, dt.tzinfo], object]) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            parse(value, dt.UTC)
        except InstantError as exc:
            raise typer.BadParameter(str(exc)) from None
        return value

    return check


def minutes_option(value: str) -> dt.timedelta:
    try:
        return parse_minutes(value)
    except InstantError as exc:
        raise typer.BadParameter(str(exc)) from None


def _in_zone(parse: Callable[[str, dt.tzinfo], T], text: str, zone: dt.tzinfo, option: str) -> T:
    try:
        return parse(text, zone)
    except InstantError as exc:
        raise typer.BadParameter(str(exc), param_hint=f"'{option}'") from None


def _zone(name: str) -> ZoneInfo:
    """The calendar's zone (NotFound, exit 1, for an unknown calendar)."""
    from tgesc.services.clocks.calendars import business_calendar

    return business_calendar(state().database(), name).zone


def _pauses(texts: list[str] | None, zone: dt.tzinfo) -> list[tuple[dt.datetime, dt.datetime]]:
    return [_in_zone(parse_pause, text, zone, "--pause") for text in texts or []]


def utc_text(instant: dt.datetime) -> str:
    """ISO 8601 in UTC with the `Z` designator: 2026-03-02T10:00:00Z."""
    return instant.astimezone(dt.UTC).replace(tzinfo=None).isoformat() + "Z"


def _print_numbers(fields: dict[str, str]) -> None:
    """A flat JSON object of exact decimal numbers (json.dumps would go through float)."""
    print("{\n" + ",\n".join(f"  {json.dumps(key)}: {value}" for key, value in fields.items()) + "\n}")


# --- commands ------------------------------------------------------------------------------------


@app.command("due")
def due(
    name: str = NAME,
    start: str = typer.Option(..., "--start", parser=_syntax(parse_instant), metavar="ISO8601",
                              help=f"When the clock starts: {INSTANT_HELP}."),
    minutes: dt.timedelta = typer.Option(..., "--minutes", parser=minutes_option, metavar="N",
                                help="The budget in business minutes, e.g. 90 or 0.5 (exact to the microsecond)."),
    pauses: list[str] = typer.Option(None, "--pause", parser=_syntax(parse_pause), metavar="START/END",
                                     help=PAUSE_HELP),
    as_json: bool = JSON_OPTION,
) -> None:
    """When a budget of business minutes from --start runs out on this calendar.

    Prints one line: the deadline, ISO 8601 in the calendar's zone (microseconds shown only when not zero).

    With --json: {"due": the deadline in the calendar's zone, "due_utc": the same instant in UTC, ending in Z}.

    Time counts only in the calendar's open hours (local wall-clock hours) and outside every --pause.

    A deadline exactly at a closing time stays there; with deadline_at_close = next-open it moves to the next opening.

    --minutes 0 gives --start itself when the calendar is open then, else its next opening.

    Examples:

      tgesc calendar due office-hours --start 2026-03-02T16:30+01:00 --minutes 120

      tgesc calendar due cn-support --start 2026-09-30T17:00 --minutes 90.5 --json

      tgesc calendar due office-hours --start 2026-03-02T09:00Z --minutes 60 --pause 2026-03-02T09:15Z/2026-03-02T09:45Z
    """
    from tgesc.services.clocks.calendars import due as due_at

    zone = _zone(name)
    begin = _in_zone(parse_instant, start, zone, "--start")
    ranges = _pauses(pauses, zone)
    deadline = due_at(state().database(), name, begin, minutes, ranges)
    if as_json:
        emit({"due": deadline.isoformat(), "due_utc": utc_text(deadline)}, True)
    else:
        print(deadline.isoformat())


@app.command("elapsed")
def elapsed(
    name: str = NAME,
    from_: str = typer.Option(..., "--from", parser=_syntax(parse_instant), metavar="ISO8601",
                              help=f"Start: {INSTANT_HELP}."),
    to: str = typer.Option(..., "--to", parser=_syntax(parse_instant), metavar="ISO8601",
                           help="End, not before --from; same form."),
    pauses: list[str] = typer.Option(None, "--pause", parser=_syntax(parse_pause), metavar="START/END",
                                     help=PAUSE_HELP),
    as_json: bool = JSON_OPTION,
) -> None:
    """Business minutes on this calendar between --from and --to, not counting any --pause.

    Prints one number of minutes: an integer when whole (90), else a decimal (90.5).

    A decimal has at most 8 places, rounded half-even: still exact to the microsecond.

    With --json: {"minutes": that number, "seconds": the exact number of seconds, e.g. 5430.25}.

    Examples:

      tgesc calendar elapsed office-hours --from 2026-03-02T08:00Z --to 2026-03-03T12:00Z

      tgesc calendar elapsed cn-support --from "2026-09-30 11:00" --to "2026-10-02 10:00" --json
    """
    from tgesc.services.clocks.calendars import elapsed as elapsed_between

    zone = _zone(name)
    begin, end = _in_zone(parse_instant, from_, zone, "--from"), _in_zone(parse_instant, to, zone, "--to")
    if end < begin:
        raise typer.BadParameter(f"{to!r} is before --from {from_!r}; give the later instant as --to",
                                 param_hint="'--to'")
    ranges = _pauses(pauses, zone)
    spent = elapsed_between(state().database(), name, begin, end, ranges)
    if as_json:
        _print_numbers({"minutes": format_minutes(spent), "seconds": format_seconds(spent)})
    else:
        print(format_minutes(spent))


# --- calendar show NAME --week DATE ---------------------------------------------------------------


def _length(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Real time between two instants (subtracting datetimes of one zone would give wall-clock time)."""
    return end.astimezone(dt.UTC) - start.astimezone(dt.UTC)


def _clock(moment: dt.datetime) -> str:
    return moment.strftime("%H:%M:%S" if moment.second or moment.microsecond else "%H:%M")


def span_text(start: dt.datetime, end: dt.datetime, zone: dt.tzinfo, day: dt.date) -> str:
    """`09:00-12:00` in `zone`; an end at midnight is 24:00 of the day before; dates are shown when they
    are not `day` (`2026-12-20 17:00-20:00`), both of them when the span crosses a local midnight."""
    a, b = start.astimezone(zone), end.astimezone(zone)
    end_date, end_clock = b.date(), _clock(b)
    if b.time() == dt.time(0) and _length(a, b) > dt.timedelta(0):
        end_date, end_clock = end_date - dt.timedelta(days=1), "24:00"
    if end_date != a.date():
        return f"{a.date()} {_clock(a)} - {end_date} {end_clock}"
    if a.date() != day:
        return f"{a.date()} {_clock(a)}-{end_clock}"
    return f"{_clock(a)}-{end_clock}"


def week_rows(spans: list[tuple[dt.datetime, dt.datetime]], zone: ZoneInfo, viewer: ZoneInfo) -> list[dict]:
    """One table row per open interval: its local day, the interval in both zones, its length."""
    from tgesc.domain.durations import format_duration

    rows = []
    for start, end in spans:
        day = start.astimezone(zone).date()
        rows.append({"day": f"{day:%a} {day}", f"{zone.key} (calendar)": span_text(start, end, zone, day),
                     f"{viewer.key} (viewer)": span_text(start, end, viewer, day),
                     "length": format_duration(int(_length(start, end).total_seconds()))})
    return rows


def week_intervals(spans: list[tuple[dt.datetime, dt.datetime]], zone: ZoneInfo, viewer: ZoneInfo) -> list[dict]:
    """--json: each interval's calendar date, its ends in both zones (ISO 8601) and its minutes."""
    return [{"date": start.astimezone(zone).date().isoformat(),
             "start": start.astimezone(zone).isoformat(), "end": end.astimezone(zone).isoformat(),
             "viewer_start": start.astimezone(viewer).isoformat(), "viewer_end": end.astimezone(viewer).isoformat(),
             "minutes": json.loads(format_minutes(_length(start, end)))} for start, end in spans]


def show_week(name: str, day: dt.date, as_json: bool) -> None:
    """`calendar show NAME --week DATE`: the open intervals of the week (Monday to Sunday) holding DATE."""
    from tgesc.services.clocks.calendars import week

    monday = monday_of(day)
    if monday != day:
        info(f"{day} is a {day:%A}: showing the week from Monday {monday}.")
    zone = _zone(name)
    viewer = ZoneInfo(state().settings().timezone)
    spans = week(state().database(), name, monday)
    if as_json:
        emit(week_intervals(spans, zone, viewer), True)
    else:
        emit(week_rows(spans, zone, viewer), False)

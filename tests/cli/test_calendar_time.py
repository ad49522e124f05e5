"""`tgesc calendar due | elapsed` and `calendar show NAME --week` through the real CLI entry point.

Expected values are worked out by hand from the calendars below (Europe/Berlin is UTC+1 in winter and
UTC+2 from 2026-03-29 to 2026-10-25; Asia/Shanghai is UTC+8 all year; America/Los_Angeles is UTC-8 in
December).
"""

from __future__ import annotations

import json

import pytest
from support import cells, flat, ok_json

BERLIN = ("calendar", "add", "berlin", "--timezone", "Europe/Berlin",
          "--hours", "mon-fri=09:00-12:00,13:00-17:00", "--holiday", "2026-04-03")
CN = ("calendar", "add", "cn", "--timezone", "Asia/Shanghai",
      "--hours", "mon-fri=09:00-12:00,13:30-18:00", "--holiday", "2026-10-01")
NIGHT = ("calendar", "add", "night", "--timezone", "Europe/Berlin", "--hours", "sun=01:00-04:00")


def added(cli, *commands: tuple[str, ...]):
    for command in commands:
        result = cli(*command)
        assert result.exit_code == 0, result
    return cli


@pytest.fixture
def desk(desk):
    return added(desk, BERLIN, CN, NIGHT)


def out(result) -> str:
    assert result.exit_code == 0, result
    return result.stdout


def usage_error(result) -> str:
    """The message of a usage error (exit 2), without the panel Typer draws around it."""
    assert result.exit_code == 2, result
    assert result.stdout == ""
    return flat(result.stderr)


def domain_error(result) -> str:
    assert result.exit_code == 1, result
    assert result.stdout == ""
    return result.stderr


# --- due -----------------------------------------------------------------------------------------


def test_due_and_elapsed_on_both_backends(cli, db_url):
    added(cli, ("init", "--quiet"), BERLIN)
    due = cli("calendar", "due", "berlin", "--start", "2026-03-02T16:30+01:00", "--minutes", "120")
    # 30 min on Monday until 17:00, then 90 min from Tuesday 09:00
    assert (due.exit_code, due.stdout, due.stderr) == (0, "2026-03-03T10:30:00+01:00\n", "")
    elapsed = cli("calendar", "elapsed", "berlin", "--from", "2026-03-02T08:00Z", "--to", "2026-03-03T12:00Z")
    # Monday 09:00-17:00 less lunch (420), Tuesday 09:00-12:00 (180), 13:00-13:00 (0)
    assert (elapsed.exit_code, elapsed.stdout, elapsed.stderr) == (0, "600\n", "")


def test_due_json(desk):
    # 16:30Z is 17:30 in Berlin, after closing: 90 minutes from Tuesday 09:00
    result = desk("calendar", "due", "berlin", "--start", "2026-03-02T16:30Z", "--minutes", "90", "--json")
    assert out(result) == '{\n  "due": "2026-03-03T10:30:00+01:00",\n  "due_utc": "2026-03-03T09:30:00Z"\n}\n'
    assert json.loads(result.stdout) == {"due": "2026-03-03T10:30:00+01:00", "due_utc": "2026-03-03T09:30:00Z"}


@pytest.mark.parametrize(("minutes", "due"), [
    ("0.5", "2026-03-02T09:00:30+01:00"),
    ("1.25", "2026-03-02T09:01:15+01:00"),
    ("0.00000005", "2026-03-02T09:00:00.000003+01:00"),  # 3 µs: microseconds shown only when not zero
    ("180.5", "2026-03-02T13:00:30+01:00"),  # 180 min to 12:00, lunch, 30 s after 13:00
    ("2880", "2026-03-10T16:00:00+01:00"),  # 7 h a day: Mon-Fri 2100, Mon 420, Tue 180 + 180 from 13:00
])
def test_due_fractional_minutes(desk, minutes, due):
    assert out(desk("calendar", "due", "berlin", "--start", "2026-03-02T09:00+01:00", "--minutes", minutes)) \
        == due + "\n"


def test_due_with_pauses(desk):
    # 10:00 CET; 10:00-10:15 counts, paused until 10:45, then 45 minutes
    one = desk("calendar", "due", "berlin", "--start", "2026-03-02T09:00Z", "--minutes", "60",
               "--pause", "2026-03-02T09:15Z/2026-03-02T09:45Z")
    assert out(one) == "2026-03-02T11:30:00+01:00\n"
    # 11:30-12:00 counts (30), lunch; the overlapping pauses (naive: Berlin time) hold the clock until 13:15
    two = desk("calendar", "due", "berlin", "--start", "2026-03-02T11:30", "--minutes", "60",
               "--pause", "2026-03-02T12:30/2026-03-02T13:15", "--pause", "2026-03-02T13:00/2026-03-02T13:10")
    assert out(two) == "2026-03-02T13:45:00+01:00\n"
    # a pause outside the business hours changes nothing; an empty one neither
    three = desk("calendar", "due", "berlin", "--start", "2026-03-02T11:30", "--minutes", "60",
                 "--pause", "2026-03-02T20:00/2026-03-03T08:00", "--pause", "2026-03-02T11:40/2026-03-02T11:40")
    assert out(three) == "2026-03-02T13:30:00+01:00\n"


def test_naive_start_is_in_the_calendar_zone(desk):
    # Wednesday 17:00 in Shanghai: 60 min to 18:00, Thursday 1 October is a holiday, Friday 09:00 + 30
    assert out(desk("calendar", "due", "cn", "--start", "2026-09-30T17:00", "--minutes", "90")) \
        == "2026-10-02T09:30:00+08:00\n"
    # the same wall-clock time in UTC is 01:00 on Thursday in Shanghai: the holiday, then Friday
    assert out(desk("calendar", "due", "cn", "--start", "2026-09-30T17:00Z", "--minutes", "90")) \
        == "2026-10-02T10:30:00+08:00\n"
    # a space instead of the T, and the holiday in Berlin (Good Friday 2026-04-03)
    assert out(desk("calendar", "due", "berlin", "--start", "2026-04-02 16:00", "--minutes", "120")) \
        == "2026-04-06T10:00:00+02:00\n"


def test_due_across_the_dst_change(desk):
    # Friday 16:00 CET: 60 min; the clocks go forward on Sunday; Monday 09:00 CEST + 60
    result = desk("calendar", "due", "berlin", "--start", "2026-03-27T16:00", "--minutes", "120", "--json")
    assert ok_json(result) == {"due": "2026-03-30T10:00:00+02:00", "due_utc": "2026-03-30T08:00:00Z"}
    # the night calendar opens 01:00-04:00 local on Sundays: 2 real hours on 2026-03-29, 4 on 2026-10-25
    assert out(desk("calendar", "due", "night", "--start", "2026-03-29T00:00Z", "--minutes", "150")) \
        == "2026-04-05T01:30:00+02:00\n"
    assert out(desk("calendar", "due", "night", "--start", "2026-10-25T01:00", "--minutes", "210")) \
        == "2026-10-25T03:30:00+01:00\n"


def test_deadline_at_close_and_zero_budget(desk):
    def due(start: str, minutes: str) -> str:
        return out(desk("calendar", "due", "berlin", "--start", start, "--minutes", minutes)).strip()

    assert due("2026-03-02T11:30", "30") == "2026-03-02T12:00:00+01:00"  # close: the deadline stays at 12:00
    assert due("2026-03-02T10:00", "0") == "2026-03-02T10:00:00+01:00"  # open: the start itself
    assert due("2026-03-02T12:30", "0") == "2026-03-02T13:00:00+01:00"  # closed: the next opening
    assert due("2026-03-02T12:00", "0") == "2026-03-02T13:00:00+01:00"  # closing time is not open
    assert desk("calendar", "set", "berlin", "--deadline-at-close", "next-open").exit_code == 0
    assert due("2026-03-02T11:30", "30") == "2026-03-02T13:00:00+01:00"
    assert due("2026-03-06T16:00", "60") == "2026-03-09T09:00:00+01:00"  # Friday's close: Monday's opening


# --- elapsed -------------------------------------------------------------------------------------


def test_elapsed(desk):
    def elapsed(*args: str) -> str:
        return out(desk("calendar", "elapsed", *args)).strip()

    assert elapsed("cn", "--from", "2026-09-30 11:00", "--to", "2026-10-02 10:00") == "390"  # 60+270, holiday, 60
    assert elapsed("cn", "--from", "2026-09-30 11:00", "--to", "2026-10-02 10:00",
                   "--pause", "2026-09-30T14:00/2026-09-30T15:00") == "330"
    assert elapsed("berlin", "--from", "2026-03-02T10:00", "--to", "2026-03-02T10:00") == "0"
    assert elapsed("berlin", "--from", "2026-03-02T12:10", "--to", "2026-03-02T12:50") == "0"  # lunch
    assert elapsed("berlin", "--from", "2026-03-02T09:00+01:00", "--to", "2026-03-02T10:30:30+01:00") == "90.5"
    assert elapsed("berlin", "--from", "2026-03-02T09:00", "--to", "2026-03-02T09:00:10") == "0.16666667"
    # the weeks either side of the DST change: 5 days of 7 h, then 4 (Good Friday is a holiday)
    assert elapsed("berlin", "--from", "2026-03-23T00:00", "--to", "2026-04-06T00:00") == "3780"


def test_elapsed_json(desk):
    result = desk("calendar", "elapsed", "berlin", "--from", "2026-03-02T09:00",
                  "--to", "2026-03-02T10:30:15.25", "--json")
    # 90 min 15.25 s = 5415.25 s = 90.2541666… min
    assert out(result) == '{\n  "minutes": 90.25416667,\n  "seconds": 5415.25\n}\n'
    assert json.loads(result.stdout) == {"minutes": 90.25416667, "seconds": 5415.25}
    whole = desk("calendar", "elapsed", "berlin", "--from", "2026-03-02T08:00Z", "--to", "2026-03-03T12:00Z",
                 "--json")
    assert out(whole) == '{\n  "minutes": 600,\n  "seconds": 36000\n}\n'


# --- show --week ---------------------------------------------------------------------------------


def table(result) -> list[list[str]]:
    lines = out(result).splitlines()
    return [cells(lines[0])] + [cells(line) for line in lines[2:]]


def test_show_week_in_two_zones(desk):
    result = desk("--tz", "Europe/Berlin", "calendar", "show", "cn", "--week", "2026-12-24")
    assert result.stderr == "2026-12-24 is a Thursday: showing the week from Monday 2026-12-21.\n"
    rows = table(result)
    assert rows[0] == ["day", "Asia/Shanghai (calendar)", "Europe/Berlin (viewer)", "length"]
    days = ["Mon 2026-12-21", "Tue 2026-12-22", "Wed 2026-12-23", "Thu 2026-12-24", "Fri 2026-12-25"]
    assert rows[1:] == [row for day in days for row in (
        [day, "09:00-12:00", "02:00-05:00", "3h"], [day, "13:30-18:00", "06:30-11:00", "4h30m"])]


def test_show_week_with_dates_where_the_viewer_day_differs(desk):
    result = desk("--tz", "America/Los_Angeles", "calendar", "show", "cn", "--week", "2026-12-21")
    assert result.stderr == ""  # a Monday: nothing to say
    rows = table(result)
    assert rows[0] == ["day", "Asia/Shanghai (calendar)", "America/Los_Angeles (viewer)", "length"]
    assert rows[1:3] == [
        ["Mon 2026-12-21", "09:00-12:00", "2026-12-20 17:00-20:00", "3h"],
        ["Mon 2026-12-21", "13:30-18:00", "2026-12-20 21:30 - 2026-12-21 02:00", "4h30m"]]
    assert rows[-1] == ["Fri 2026-12-25", "13:30-18:00", "2026-12-24 21:30 - 2026-12-25 02:00", "4h30m"]
    assert len(rows) == 11


def test_show_week_across_dst_changes(desk):
    spring = table(desk("--tz", "UTC", "calendar", "show", "night", "--week", "2026-03-29"))
    assert spring[1:] == [["Sun 2026-03-29", "01:00-04:00", "00:00-02:00", "2h"]]  # 01:00 CET to 04:00 CEST
    autumn = table(desk("--tz", "UTC", "calendar", "show", "night", "--week", "2026-10-19"))
    assert autumn[1:] == [["Sun 2026-10-25", "01:00-04:00", "2026-10-24 23:00 - 2026-10-25 03:00", "4h"]]
    # the week before and after the spring change, seen from Shanghai: the offset difference shrinks by 1 h
    before = table(desk("--tz", "Asia/Shanghai", "calendar", "show", "berlin", "--week", "2026-03-23"))
    assert before[1:3] == [["Mon 2026-03-23", "09:00-12:00", "16:00-19:00", "3h"],
                           ["Mon 2026-03-23", "13:00-17:00", "20:00-24:00", "4h"]]
    after = table(desk("--tz", "Asia/Shanghai", "calendar", "show", "berlin", "--week", "2026-03-30"))
    assert after[1:3] == [["Mon 2026-03-30", "09:00-12:00", "15:00-18:00", "3h"],
                          ["Mon 2026-03-30", "13:00-17:00", "19:00-23:00", "4h"]]
    assert [row[0] for row in after[1:]].count("Fri 2026-04-03") == 0  # Good Friday


def test_show_week_json(desk):
    doc = ok_json(desk("--tz", "UTC", "calendar", "show", "night", "--week", "2026-10-25", "--json"))
    assert doc == [{"date": "2026-10-25", "start": "2026-10-25T01:00:00+02:00", "end": "2026-10-25T04:00:00+01:00",
                    "viewer_start": "2026-10-24T23:00:00+00:00", "viewer_end": "2026-10-25T03:00:00+00:00",
                    "minutes": 240}]


def test_show_week_of_a_closed_week_and_show_without_week(desk):
    assert len(ok_json(desk("--tz", "UTC", "calendar", "show", "night", "--week", "2026-10-26", "--json"))) == 1
    assert desk("calendar", "set", "night", "--override", "2026-11-01=").exit_code == 0
    assert out(desk("--tz", "UTC", "calendar", "show", "night", "--week", "2026-10-26")) == "(none)\n"
    assert out(desk("--tz", "UTC", "calendar", "show", "night", "--week", "2026-10-26", "--json")) == "[]\n"
    plain = table(desk("calendar", "show", "night"))
    assert plain[1] == ["calendar", "night"]


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (["--start", "2026-03-02", "--minutes", "5"],
     "Invalid value for '--start': '2026-03-02' is not an instant: it is a date without a time of day"),
    (["--start", "2026-03-02-10:00", "--minutes", "5"],
     "Invalid value for '--start': '2026-03-02-10:00' is not an instant: the date and the time must be separated"),
    (["--start", "tomorrow", "--minutes", "5"], "Invalid value for '--start': 'tomorrow' is not an instant"),
    (["--start", "2026-03-02T10:00", "--minutes", "-5"],
     "Invalid value for '--minutes': '-5' is not a number of minutes: a budget cannot be negative"),
    (["--start", "2026-03-02T10:00", "--minutes", "NaN"], "'NaN' is not a number of minutes: it is not a finite"),
    (["--start", "2026-03-02T10:00", "--minutes", "2h"], "without a unit"),
    (["--start", "2026-03-02T10:00", "--minutes", "0.00000001"], "not a whole number of microseconds"),
    (["--start", "2026-03-02T10:00", "--minutes", "5", "--pause", "2026-03-02T11:00"],
     "Invalid value for '--pause': '2026-03-02T11:00' is not a pause: write START/END"),
    (["--start", "2026-03-02T10:00", "--minutes", "5", "--pause", "2026-03-02T11:00/2026-03-02T10:00"],
     "Invalid value for '--pause': '2026-03-02T11:00/2026-03-02T10:00': the pause ends before it starts"),
    # fine when both are read in UTC; reversed once the naive end is read in Berlin (11:00 CET = 10:00Z)
    (["--start", "2026-03-02T10:00", "--minutes", "5", "--pause", "2026-03-02T10:30Z/2026-03-02T11:00"],
     "Invalid value for '--pause': '2026-03-02T10:30Z/2026-03-02T11:00': the pause ends before it starts"),
    (["--minutes", "5"], "Missing option '--start'"),
])
def test_due_usage_errors_exit_2(desk, args, message):
    assert message in usage_error(desk("calendar", "due", "berlin", *args))


def test_elapsed_and_show_usage_errors_exit_2(desk):
    reversed_ = desk("calendar", "elapsed", "berlin", "--from", "2026-03-03T10:00", "--to", "2026-03-02T10:00")
    assert ("Invalid value for '--to': '2026-03-02T10:00' is before --from '2026-03-03T10:00'"
            in usage_error(reversed_))
    bad = desk("calendar", "elapsed", "berlin", "--from", "2026-03-03", "--to", "2026-03-04T10:00")
    assert "Invalid value for '--from'" in usage_error(bad)
    week = desk("calendar", "show", "berlin", "--week", "2026-02-30")
    assert "Invalid value for '--week': '2026-02-30' is not a date" in usage_error(week)
    # a malformed value is reported before the calendar is looked up
    assert "'--start'" in usage_error(desk("calendar", "due", "nowhere", "--start", "x", "--minutes", "1"))


def test_unknown_calendar_and_refusals_exit_1(desk):
    expected = "Error: there is no calendar 'nowhere'; `tgesc calendar list` shows them\n"
    assert domain_error(desk("calendar", "due", "nowhere", "--start", "2026-03-02T10:00Z",
                             "--minutes", "5")) == expected
    assert domain_error(desk("calendar", "elapsed", "nowhere", "--from", "2026-03-02T10:00Z",
                             "--to", "2026-03-02T11:00Z")) == expected
    assert domain_error(desk("calendar", "show", "nowhere", "--week", "2026-03-02")) == expected
    assert desk("calendar", "add", "sparse", "--timezone", "UTC", "--hours", "mon=09:00-09:01").exit_code == 0
    beyond = desk("calendar", "due", "sparse", "--start", "8999-12-30T10:00", "--minutes", "525600")
    assert domain_error(beyond) == ("Error: on calendar 'sparse' this budget runs out only after the year 9999, "
                                    "beyond what tgesc can count in; use a smaller budget, an earlier start or "
                                    "longer hours\n")

"""`tgesc calendar list | show | add | set | remove` through the real CLI entry point."""

from __future__ import annotations

import json
import re

import pytest
from support import ok_json

BERLIN = {"calendar": "berlin", "timezone": "Europe/Berlin",
          "hours": {day: ["09:00-12:00", "13:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
          | {"sat": ["10:00-14:00"]},
          "holidays": ["2026-12-25"], "overrides": {"2026-12-24": ["09:00-12:00"], "2026-12-31": []},
          "deadline_at_close": "close"}
ADD_BERLIN = ("calendar", "add", "berlin", "--timezone", "Europe/Berlin",
              "--hours", "mon-fri=13:00-17:00,09:00-12:00", "--hours", "sat=10:00-14:00",
              "--holiday", "2026-12-25", "--override", "2026-12-31=", "--override", "2026-12-24=09:00-12:00")


@pytest.fixture
def desk(desk):
    added = desk(*ADD_BERLIN)
    assert added.exit_code == 0, added
    return desk


def show(cli, name: str) -> dict:
    return ok_json(cli("calendar", "show", name, "--json"))


def test_add_show_round_trip(cli, db_url):
    assert cli("init", "--quiet").exit_code == 0
    added = cli(*ADD_BERLIN, "--json")
    assert added.exit_code == 0, added
    assert json.loads(added.stdout) == BERLIN
    assert added.stderr == "Added calendars.berlin.\n"
    assert show(cli, "berlin") == BERLIN
    table = cli("calendar", "show", "berlin")
    assert table.exit_code == 0, table
    assert [re.split(r"\s{2,}", line.strip()) for line in table.stdout.splitlines()[2:]] == [
        ["calendar", "berlin"], ["timezone", "Europe/Berlin"], ["deadline_at_close", "close"],
        ["mon", "09:00-12:00, 13:00-17:00"], ["tue", "09:00-12:00, 13:00-17:00"],
        ["wed", "09:00-12:00, 13:00-17:00"], ["thu", "09:00-12:00, 13:00-17:00"],
        ["fri", "09:00-12:00, 13:00-17:00"], ["sat", "10:00-14:00"], ["sun", "closed"],
        ["holiday 2026-12-25", "closed"], ["override 2026-12-24", "09:00-12:00"], ["override 2026-12-31", "closed"]]


def test_list_table_and_json(desk):
    listed = desk("calendar", "list")
    assert listed.exit_code == 0, listed
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["calendar", "timezone", "hours", "holidays", "overrides", "deadline_at_close"]
    assert lines[2].split() == ["berlin", "Europe/Berlin", "mon-fri", "09:00-12:00,13:00-17:00;", "sat",
                                "10:00-14:00", "1", "2", "close"]
    assert lines[3].split() == ["office-hours", "UTC", "mon-fri", "09:00-18:00", "0", "0", "close"]
    doc = json.loads(desk("calendar", "list", "--json").stdout)
    assert list(doc) == ["berlin", "office-hours"]
    assert doc["office-hours"]["hours"]["fri"] == ["09:00-18:00"]


def test_set_changes_only_what_is_given(desk):
    result = desk("calendar", "set", "berlin", "--hours", "wed=10:00-16:00", "--hours", "sat=")
    assert result.exit_code == 0, result
    expected = json.loads(json.dumps(BERLIN))
    expected["hours"]["wed"] = ["10:00-16:00"]
    del expected["hours"]["sat"]
    assert show(desk, "berlin") == expected
    assert desk("calendar", "set", "berlin", "--add-holiday", "2026-01-01", "--remove-holiday", "2026-12-25",
                "--override", "2026-12-31=10:00-12:00", "--remove-override", "2026-12-24",
                "--deadline-at-close", "next-open").exit_code == 0
    expected |= {"holidays": ["2026-01-01"], "overrides": {"2026-12-31": ["10:00-12:00"]},
                 "deadline_at_close": "next-open"}
    assert show(desk, "berlin") == expected
    assert desk("calendar", "set", "berlin", "--timezone", "Asia/Shanghai").exit_code == 0
    assert show(desk, "berlin") == {**expected, "timezone": "Asia/Shanghai"}


def test_usage_errors_exit_2(desk):
    for args in (["--hours", "mon=9-17"], ["--hours", "funday=09:00-10:00"], ["--hours", "09:00-10:00"],
                 ["--hours", "fri-mon=09:00-10:00"], ["--hours", "mon=12:00-10:00"],
                 ["--add-holiday", "2026-02-30"], ["--override", "2026-12-24"],
                 ["--deadline-at-close", "later"], []):
        result = desk("calendar", "set", "berlin", *args)
        assert result.exit_code == 2, (args, result)
    assert show(desk, "berlin") == BERLIN


def test_domain_errors_exit_1(desk):
    zone = desk("calendar", "add", "mars", "--timezone", "Mars/Olympus", "--hours", "mon=09:00-10:00")
    assert zone.exit_code == 1 and '"Mars/Olympus" is not a known time zone' in zone.stderr
    closed = desk("calendar", "add", "never", "--timezone", "UTC")
    assert closed.exit_code == 1 and "calendars.never.hours: the calendar has no open hours" in closed.stderr
    both = desk("calendar", "set", "berlin", "--override", "2026-12-25=09:00-10:00")
    assert both.exit_code == 1 and "also a holiday" in both.stderr
    absent = desk("calendar", "set", "berlin", "--remove-holiday", "2026-07-04")
    assert absent.exit_code == 1 and "does not contain '2026-07-04'" in absent.stderr
    assert desk("calendar", "set", "berlin", "--remove-override", "2026-07-04").exit_code == 1
    assert desk("calendar", "add", "berlin", "--timezone", "UTC", "--hours", "mon=09:00-10:00").exit_code == 1
    unknown = desk("calendar", "show", "nowhere")
    assert unknown.exit_code == 1 and "there is no calendar 'nowhere'" in unknown.stderr
    assert desk("calendar", "set", "nowhere", "--timezone", "UTC").exit_code == 1
    assert show(desk, "berlin") == BERLIN


def test_remove_needs_yes_and_is_refused_while_referenced(desk):
    refused = desk("calendar", "remove", "office-hours", "--yes")
    assert refused.exit_code == 1
    assert "calendar 'office-hours' cannot be removed" in refused.stderr
    assert "it is still used by tiers.L2.calendar" in refused.stderr
    assert desk("calendar", "show", "office-hours").exit_code == 0
    assert desk("calendar", "remove", "berlin").exit_code == 2  # needs --yes off a terminal
    assert desk("calendar", "remove", "berlin", "--dry-run").exit_code == 0
    assert show(desk, "berlin") == BERLIN
    assert desk("calendar", "remove", "berlin", "--yes").exit_code == 0
    assert desk("calendar", "show", "berlin").exit_code == 1

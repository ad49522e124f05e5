"""`tgesc sla list | show | set` through the real CLI entry point (there is no sla add or remove)."""

from __future__ import annotations

import json

from support import ok_json

URGENT = {"priority": "urgent", "first_response": "15m", "next_response": "15m", "resolution": "2h",
          "warn_at": [50, 80], "pause_when_waiting": True, "on_breach": "notify-admins"}


def show(cli, priority: str) -> dict:
    return ok_json(cli("sla", "show", priority, "--json"))


def test_list_table_and_json(cli, db_url):
    assert cli("init", "--quiet").exit_code == 0
    table = cli("sla", "list")
    assert table.exit_code == 0, table
    assert table.stderr == ""
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["priority", "first_response", "next_response", "resolution", "calendar", "warn_at",
                                "pause_when_waiting", "on_breach", "escalate_to"]
    assert [line.split() for line in lines[2:]] == [
        ["urgent", "15m", "15m", "2h", "50,", "80", "yes", "notify-admins"],
        ["high", "30m", "30m", "4h", "50,", "80", "yes", "notify-leads"],
        ["medium", "2h", "2h", "1d", "50,", "80", "yes", "remind-tier"],
        ["low", "4h", "4h", "2d", "50,", "80", "yes", "none"],
    ]
    doc = json.loads(cli("sla", "list", "--json").stdout)
    assert list(doc) == ["urgent", "high", "medium", "low"]
    assert {"priority": "urgent", **doc["urgent"]} == URGENT
    assert doc["low"]["resolution"] == "2d"


def test_show_table(desk):
    result = desk("sla", "show", "high")
    assert result.exit_code == 0, result
    assert [line.split(None, 1) for line in result.stdout.splitlines()[2:]] == [
        ["priority", "high"], ["first_response", "30m"], ["next_response", "30m"], ["resolution", "4h"],
        ["warn_at", "50, 80"], ["pause_when_waiting", "yes"], ["on_breach", "notify-leads"]]


def test_set_one_field_leaves_the_others(desk, db_url):
    result = desk("sla", "set", "urgent", "--first-response", "600s", "--json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == {**URGENT, "first_response": "10m"}
    assert result.stderr == "Updated sla.urgent.\n"
    assert show(desk, "urgent") == {**URGENT, "first_response": "10m"}
    assert desk("sla", "set", "urgent", "--warn-at", "90", "--warn-at", "25", "--no-pause-when-waiting").exit_code == 0
    assert show(desk, "urgent") == {**URGENT, "first_response": "10m", "warn_at": [25, 90],
                                    "pause_when_waiting": False}
    assert desk("sla", "set", "urgent", "--no-warnings").exit_code == 0
    assert show(desk, "urgent")["warn_at"] == []


def test_unset_with_empty_value(desk):
    assert desk("sla", "set", "high", "--calendar", "office-hours", "--on-breach", "escalate",
                "--escalate-to", "L3").exit_code == 0
    assert show(desk, "high")["calendar"] == "office-hours"
    assert show(desk, "high")["escalate_to"] == "L3"
    assert desk("sla", "set", "high", "--next-response", "", "--calendar", "", "--on-breach", "notify-leads",
                "--escalate-to", "").exit_code == 0
    assert show(desk, "high") == {"priority": "high", "first_response": "30m", "resolution": "4h",
                                  "warn_at": [50, 80], "pause_when_waiting": True, "on_breach": "notify-leads"}


def test_usage_errors_exit_2(desk):
    bad = desk("sla", "set", "urgent", "--resolution", "2hours")
    assert bad.exit_code == 2 and "Invalid value for '--resolution'" in bad.stderr
    assert desk("sla", "set", "urgent", "--first-response", "15x").exit_code == 2
    assert desk("sla", "set", "critical", "--first-response", "5m").exit_code == 2
    assert desk("sla", "set", "urgent", "--on-breach", "panic").exit_code == 2
    assert desk("sla", "set", "urgent", "--warn-at", "100").exit_code == 2
    assert desk("sla", "set", "urgent", "--warn-at", "50", "--no-warnings").exit_code == 2
    assert desk("sla", "set", "urgent").exit_code == 2
    assert desk("sla", "remove", "urgent").exit_code == 2  # no such verb
    assert show(desk, "urgent") == URGENT


def test_domain_errors_exit_1_naming_the_reference(desk):
    unknown = desk("sla", "set", "medium", "--on-breach", "escalate", "--escalate-to", "L9")
    assert unknown.exit_code == 1
    assert "sla.medium.escalate_to: there is no tier 'L9'" in unknown.stderr
    missing = desk("sla", "set", "medium", "--on-breach", "escalate")
    assert missing.exit_code == 1
    assert 'sla.medium.escalate_to: required when on_breach = "escalate"' in missing.stderr
    calendar = desk("sla", "set", "medium", "--calendar", "weekends")
    assert calendar.exit_code == 1 and "there is no calendar 'weekends'" in calendar.stderr
    zero = desk("sla", "set", "medium", "--resolution", "0s")
    assert zero.exit_code == 1 and "sla.medium.resolution: must be longer than 0s" in zero.stderr
    assert show(desk, "medium")["on_breach"] == "remind-tier"


def test_set_recreates_a_pruned_policy(desk, tmp_path):
    text = desk("config", "export").stdout
    start = text.index("[sla.low]")
    end = text.index("\n[", start + 1)
    path = tmp_path / "desk.toml"
    path.write_text(text[:start] + text[end + 1:], encoding="utf-8")
    assert desk("config", "apply", str(path), "--prune", "--yes").exit_code == 0
    assert desk("sla", "show", "low").exit_code == 1
    incomplete = desk("sla", "set", "low", "--first-response", "8h")
    assert incomplete.exit_code == 1 and "sla.low.resolution: required" in incomplete.stderr
    created = desk("sla", "set", "low", "--first-response", "8h", "--resolution", "3d", "--on-breach", "none")
    assert created.exit_code == 0, created
    assert created.stderr == "Added sla.low.\n"
    assert show(desk, "low") == {"priority": "low", "first_response": "8h", "resolution": "3d", "warn_at": [50, 80],
                                 "pause_when_waiting": True, "on_breach": "none"}

"""`tgesc init`, `tgesc db ...` and `tgesc config export | apply` through the real CLI entry point."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tgesc


def test_init_creates_the_database_once_and_prints_the_configuration(cli, db_url):
    first = cli("init")
    assert first.exit_code == 0, first
    assert "Applied migrations: 0001_initial" in first.stderr
    assert "Loaded the shipped defaults" in first.stderr
    assert "[tiers]" in first.stdout and "Second line" in first.stdout
    again = cli("init", "--json")
    assert again.exit_code == 0, again
    assert "nothing changed" in again.stderr
    doc = json.loads(again.stdout)
    assert list(doc["tiers"]) == ["L1", "L2", "L3"]
    assert doc["sla"]["urgent"] == {"first_response": "15m", "next_response": "15m", "resolution": "2h",
                                    "warn_at": [50, 80], "pause_when_waiting": True, "on_breach": "notify-admins"}


def test_db_status_and_upgrade(cli):
    shipped = sorted(p.stem for p in (Path(tgesc.__file__).parent / "migrations").glob("[0-9]*.py"))
    assert shipped[:2] == ["0001_initial", "0002_ticket_sla_snapshot"]
    assert cli("db", "upgrade").stderr.strip() == f"Applied: {', '.join(shipped)}"
    assert cli("db", "upgrade").stderr.strip() == "The schema is up to date."
    rows = json.loads(cli("db", "status", "--json").stdout)
    assert [(r["migration"], r["state"]) for r in rows] == [(name, "applied") for name in shipped]


def test_export_to_file_and_apply_round_trip(cli, tmp_path, db_url):
    cli("init", "--quiet")
    target = tmp_path / "desk.toml"
    assert cli("config", "export", str(target)).exit_code == 0
    stdout_export = cli("config", "export").stdout
    assert target.read_text(encoding="utf-8") == stdout_export
    result = cli("config", "apply", str(target))
    assert result.exit_code == 0, result
    assert result.stdout == "" and "No changes" in result.stderr


def test_apply_prints_the_plan_and_dry_run_changes_nothing(cli, tmp_path):
    cli("init", "--quiet")
    text = cli("config", "export").stdout.replace('name = "Second line"', 'name = "Billing line"')
    text += '\n[staff.bob]\nid = 5001\ntiers = ["L1"]\n'
    path = tmp_path / "desk.toml"
    path.write_text(text, encoding="utf-8")
    dry = cli("config", "apply", str(path), "--dry-run")
    assert dry.exit_code == 0, dry
    assert dry.stdout.splitlines() == ["~ tiers.L2 (name)", "+ staff.bob"]
    assert "2 change(s) would apply." in dry.stderr
    assert "Second line" in cli("tier", "show", "L2").stdout
    applied = cli("config", "apply", str(path), "--json")
    assert json.loads(applied.stdout)["changes"][1] == {"op": "+", "section": "staff", "key": "bob", "fields": []}
    assert "Billing line" in cli("tier", "show", "L2").stdout


def test_apply_from_stdin_with_prune_needs_yes(cli):
    cli("init", "--quiet")
    head, _, tail = cli("config", "export").stdout.partition("[faq.reset-2fa]")
    text = head + "[lifecycle]" + tail.partition("[lifecycle]")[2]  # the last entry goes, the settings stay
    refused = cli("config", "apply", "-", "--prune", input=text)
    assert refused.exit_code == 2, refused
    assert "the plan removes 1 entry (- faq.reset-2fa); pass --yes" in refused.stderr
    assert "reset-2fa" in cli("config", "export").stdout
    result = cli("config", "apply", "-", "--prune", "--yes", input=text)
    assert result.exit_code == 0, result
    assert result.stdout.splitlines() == ["- faq.reset-2fa"]
    assert "reset-2fa" not in cli("config", "export").stdout


def test_bad_file_exits_78_and_names_line_and_column(cli, tmp_path):
    cli("init", "--quiet")
    path = tmp_path / "broken.toml"
    path.write_text('[tiers.L1]\nname = "Front\n', encoding="utf-8")
    result = cli("config", "apply", str(path))
    assert result.exit_code == 78, result
    assert f"Error: {path}: malformed TOML: " in result.stderr and "line 2" in result.stderr
    missing = cli("config", "apply", str(tmp_path / "nope.toml"))
    assert missing.exit_code == 78 and "No such file" in missing.stderr


def test_bad_references_exit_78_listing_each(cli, tmp_path):
    cli("init", "--quiet")
    path = tmp_path / "refs.toml"
    path.write_text('[tiers.L4]\nname = "x"\nlevel = 4\ncalendar = "weekend"\n'
                    '[sla.urgent]\nfirst_response = "1x"\nresolution = "2h"\non_breach = "escalate"\n'
                    'escalate_to = "L9"\n', encoding="utf-8")
    result = cli("config", "apply", str(path))
    assert result.exit_code == 78, result
    assert "3 problem(s); nothing was applied" in result.stderr
    for fragment in ("tiers.L4.calendar: there is no calendar 'weekend'", "sla.urgent.first_response:",
                     "sla.urgent.escalate_to: there is no tier 'L9'"):
        assert fragment in result.stderr
    assert "L4" not in cli("tier", "list").stdout


def test_tier_crud_and_exit_codes(cli):
    cli("init", "--quiet")
    added = cli("tier", "add", "L4", "--name", "Vendor", "--level", "4", "--chat", "-100123", "--forum", "--json")
    assert added.exit_code == 0, added
    assert json.loads(added.stdout) == {"code": "L4", "name": "Vendor", "level": 4, "staff_chat": -100123,
                                        "forum": True, "description": ""}
    assert cli("tier", "add", "L4", "--name", "Again", "--level", "5").exit_code == 1
    assert cli("tier", "add", "L5", "--name", "Clash", "--level", "4").exit_code == 1
    assert cli("tier", "set", "L4", "--chat", "").exit_code == 0
    assert "staff_chat" not in json.loads(cli("tier", "show", "L4", "--json").stdout)
    assert cli("tier", "set", "L4", "--calendar", "nope").exit_code == 1
    assert json.loads(cli("tier", "set", "L4", "--first-response", "10m", "--json").stdout)["first_response"] == "10m"
    assert cli("tier", "set", "L4", "--first-response", "ten").exit_code == 2
    assert cli("tier", "set", "L4", "--first-response", "0s").exit_code == 1
    assert cli("tier", "set", "L4", "--first-response", "").exit_code == 0
    assert "first_response" not in json.loads(cli("tier", "show", "L4", "--json").stdout)
    shipped = json.loads(cli("tier", "show", "L1", "--json").stdout)
    assert (shipped["first_response"], shipped["names"]) == ("5m", {"ru": "Первая линия", "zh": "一线客服"})
    assert cli("tier", "remove", "L4").exit_code == 2  # needs --yes off a terminal
    assert cli("tier", "remove", "L4", "--dry-run").exit_code == 0
    assert cli("tier", "remove", "L4", "--yes").exit_code == 0
    assert cli("tier", "show", "L4").exit_code == 1
    refused = cli("tier", "remove", "L3", "--yes")
    assert refused.exit_code == 1, refused
    assert refused.stderr == ("Error: tier 'L3' cannot be removed: it is still used by rules.legal.escalate_to, "
                              "rules.outage.escalate_to, rules.security.escalate_to; change those first\n")


def test_writers_at_once_on_sqlite_wait_their_turn(tgesc_bin, tmp_path):
    """Each writer takes SQLite's write lock when its transaction begins, so a busy database makes it wait
    (the busy timeout) instead of failing with 'database is locked' (exit 69) when its read turns into a write."""
    assert tgesc_bin(["init", "--quiet"]).returncode == 0
    files = []
    for n in range(6):
        files.append(tmp_path / f"staff-{n}.toml")
        files[-1].write_text(f'[staff.agent{n}]\nid = {7000 + n}\ntiers = ["L1"]\n', encoding="utf-8")
    commands = [["config", "apply", str(path)] for path in files]
    commands += [["sla", "set", "low", "--resolution", f"{50 + n}h"] for n in range(2)]
    with ThreadPoolExecutor(len(commands)) as pool:
        results = list(pool.map(tgesc_bin, commands))
    assert [(r.returncode, r.stderr) for r in results if r.returncode != 0] == []
    staff = json.loads(tgesc_bin(["staff", "list", "--json"]).stdout)
    assert set(staff) == {f"agent{n}" for n in range(6)}
    assert json.loads(tgesc_bin(["sla", "show", "low", "--json"]).stdout)["resolution"] in ("2d2h", "2d3h")

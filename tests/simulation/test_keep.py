"""`tgesc simulate --keep DIR`: the simulated desk kept as a tgesc data directory. One desk is DIR itself, several
DIR/<file stem>; each holds its SQLite database (`tgesc.db`, the home's default, so TGESC_HOME alone reads it, with
the configuration the scenario ran with and the virtual clock's instants) and `clock` (the last instant), nothing
of the run besides. DIR must be new or empty (exit 2, nothing played); a run that fails keeps nothing. The kept
database is SQLite on both backends' machines: a simulation's desk always is."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from scenario_support import EXAMPLES, REFUND, failed, marking, rule_file, scenario
from support import ok_json

OUTAGE = EXAMPLES / "3-outage-to-l3.toml"
KEPT = {"tgesc.db", "clock"}


def on_desk(cli, home: Path, *args: str):
    """`tgesc ARGS` with TGESC_HOME=home and no other setting (UTC shown)."""
    return cli(*args, env={"TGESC_HOME": str(home), "TGESC_TIMEZONE": "UTC"})


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_one_scenario_is_kept_as_a_data_directory_that_tgesc_home_reads(cli, tgesc_bin, tmp_path):
    home = tmp_path / "kept" / "refund"
    tagged = rule_file(tmp_path / "tagged.toml", tags='["billing", "refund", "double-charge"]')
    played = cli("simulate", str(REFUND), "--config", str(tagged), "--keep", str(home))
    assert played.exit_code == 0, played
    assert played.stdout == cli("simulate", str(REFUND), "--config", str(tagged)).stdout  # the same run
    assert {path.name for path in home.iterdir()} == KEPT
    assert (mode(home), mode(home / "tgesc.db"), mode(home / "clock")) == (0o700, 0o600, 0o600)
    assert (home / "clock").read_text(encoding="utf-8") == "2026-03-02T10:20:00+00:00\n"  # the last step

    listed = tgesc_bin(["ticket", "list", "--status", "all", "--json"], env={"TGESC_HOME": str(home),
                                                                            "TGESC_TIMEZONE": "UTC"})
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["number"], row["customer"]["username"], row["status"], row["tier"], row["tags"]) == (
        1, "alice", "resolved", "L2", ["billing", "double-charge", "refund"])
    assert (row["opened_at"], row["first_response_at"], row["resolved_at"], row["closed_at"]) == (
        "2026-03-02T10:00:00+00:00", "2026-03-02T10:12:00+00:00", "2026-03-02T10:20:00+00:00", None)
    exported = on_desk(cli, home, "config", "export").stdout  # the configuration the scenario ran with
    assert '"double-charge"' in exported.split("[rules.refund]")[1].split("\n[")[0]
    assert "[staff.carol]" in exported
    assert on_desk(cli, home, "ticket", "show", "1").exit_code == 0
    assert {path.name for path in home.iterdir()} == KEPT  # reading it left nothing behind


def test_the_kept_clock_shows_the_desk_as_of_the_end(cli, tmp_path):
    home = tmp_path / "outage"
    assert cli("simulate", str(OUTAGE), "--keep", str(home)).exit_code == 0
    then = cli("ticket", "list", "--json", env={"TGESC_HOME": str(home), "TGESC_CLOCK": f"file:{home / 'clock'}"})
    assert [(row["number"], row["age"], row["breaching"]) for row in ok_json(then)] == [(1, "20m", True)]


def test_several_scenarios_are_kept_one_per_file_stem(cli, tmp_path):
    home = tmp_path / "kept"
    home.mkdir()
    assert cli("simulate", str(REFUND), str(OUTAGE), "--keep", str(home)).exit_code == 0
    assert sorted(path.name for path in home.iterdir()) == ["1-refund-to-l2", "3-outage-to-l3"]
    for stem, who in (("1-refund-to-l2", "alice"), ("3-outage-to-l3", "dan")):
        assert {path.name for path in (home / stem).iterdir()} == KEPT
        rows = ok_json(on_desk(cli, home / stem, "ticket", "list", "--status", "all", "--json"))
        assert [row["customer"]["username"] for row in rows] == [who]


def test_scenarios_played_together_are_kept_as_one_desk(cli, tmp_path):
    home = tmp_path / "together"
    assert cli("simulate", str(REFUND), str(OUTAGE), "--together", "--keep", str(home)).exit_code == 0
    assert {path.name for path in home.iterdir()} == KEPT
    rows = ok_json(on_desk(cli, home, "ticket", "list", "--status", "all", "--json"))
    assert sorted((row["number"], row["customer"]["username"]) for row in rows) == [(1, "alice"), (2, "dan")]


@pytest.mark.parametrize("make", ["a file", "a directory"])
def test_a_directory_that_is_not_empty_is_refused_before_anything_plays(cli, tmp_path, make):
    home = tmp_path / "kept"
    home.mkdir()
    (home / "notes.txt").touch() if make == "a file" else (home / "old").mkdir()
    good, marker = marking(tmp_path)
    result = cli("simulate", str(good), "--keep", str(home))
    assert (result.exit_code, result.stdout) == (2, ""), result
    assert result.stderr == (f"Error: --keep {home}: it is not empty ({'notes.txt' if make == 'a file' else 'old'}); "
                             "a kept desk is never written over: give a new or empty directory, or remove this one "
                             "first\n")
    assert not marker.exists() and len(list(home.iterdir())) == 1


def test_a_file_is_no_directory_to_keep_a_desk_in(cli, tmp_path):
    taken = tmp_path / "taken"
    taken.touch()
    result = cli("simulate", str(REFUND), "--keep", str(taken))
    assert result.exit_code == 2 and "is a file" in result.stderr, result


@pytest.mark.parametrize("existed", [False, True])
def test_a_run_that_fails_keeps_nothing(cli, tmp_path, existed):
    home = tmp_path / "kept"
    if existed:
        home.mkdir()
    good = scenario(tmp_path / "good.toml")
    bad = scenario(tmp_path / "bad.toml", 'at = "+1m"\nstaff = "bob"\nticket = 2\ntext = "Hello"')
    failed(cli("simulate", str(good), str(bad), "--keep", str(home)), "bad.toml: step 2")
    assert (list(home.iterdir()) == []) if existed else not home.exists()


def test_two_files_of_one_stem_cannot_share_a_home(cli, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = scenario(tmp_path / "a" / "same.toml"), scenario(tmp_path / "b" / "same.toml")
    result = cli("simulate", str(first), str(second), "--keep", str(tmp_path / "kept"))
    assert result.exit_code == 2 and "two scenario files are named same" in result.stderr, result
    assert not (tmp_path / "kept").exists()


@pytest.mark.parametrize("option", [["--keep", "kept"], ["--together"], ["--crowd", "5"]])
def test_keeping_and_playing_together_go_with_scenario_files_not_with_replay(cli, tmp_path, option):
    candidate = rule_file(tmp_path / "c.toml", enabled="false")
    result = cli("simulate", "--replay", "--config", str(candidate), *option)
    assert result.exit_code == 2 and f"{option[0]} goes with scenario files, not with --replay" in result.stderr
    assert not (Path(os.getcwd()) / "kept").exists()


def test_recent_moves_a_week_on_to_end_before_now_keeping_weekdays(cli, tmp_path):
    """--recent: the kept desk's instants are moved on by whole weeks, ending in the week before now."""
    from datetime import UTC, datetime, timedelta

    from tgesc.domain.scenario import load_scenario

    story = load_scenario(EXAMPLES / "1-refund-to-l2.toml")
    now = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
    moved = story.in_week_before(now)
    assert now - timedelta(days=7) < moved.last_instant() <= now
    assert (moved.start - story.start) % timedelta(days=7) == timedelta(0) and moved.start.weekday() == 0
    assert moved.in_week_before(now) == moved and story.in_week_before(story.start) == story
    home = tmp_path / "desk"
    result = cli("simulate", str(EXAMPLES / "1-refund-to-l2.toml"), "--recent", "--keep", str(home))
    assert result.exit_code == 0, result
    listed = cli("ticket", "list", "--status", "all", "--since", "8d", "--json", env={"TGESC_HOME": str(home)})
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)) == 1, listed


def test_the_kept_desk_is_named_with_the_period_to_report_on(cli, tmp_path):
    home = tmp_path / "refund"
    result = cli("simulate", str(EXAMPLES / "1-refund-to-l2.toml"), "--keep", str(home))
    assert result.exit_code == 0, result
    assert f"Kept the desk in {home}: TGESC_HOME={home} tgesc ticket list; its days: tgesc report summary " \
           "--since 2026-03-01 --until 2026-03-04" in result.stderr
    summary = cli("report", "summary", "--since", "2026-03-01", "--until", "2026-03-04", "--json",
                  env={"TGESC_HOME": str(home)})
    assert summary.exit_code == 0, summary
    assert json.loads(summary.stdout)["escalations"] == {"total": 1, "by_trigger": {"keyword": 1}}

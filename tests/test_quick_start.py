"""The README's first Quick start command works: `./scripts/demo` plays a demo week (examples 1-6 among a generated
crowd) into a demo desk on embedded defaults (SQLite, an embedded Redis, no Telegram credentials), exit 0, and that
desk is a tgesc home `ticket list` reads; a second run makes it again; a directory that is no demo desk is never
replaced; the user's own TGESC_* settings never reach the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import empty_env_file

pytestmark = pytest.mark.slow  # real processes: seconds each

REPO = Path(__file__).resolve().parents[1]
STORIES = {"alice", "ben", "dan", "eva", "felix", "wang"}  # the customers of examples 1-6


def demo(home: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TGESC_")}
    env.update(TGESC_VENV=sys.prefix, TGESC_DEMO_HOME=str(home), **settings)  # this venv, a desk of the test's own
    return subprocess.run(["bash", str(REPO / "scripts" / "demo"), *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=240)


def tickets(home: Path) -> list[dict]:
    """Every ticket of the desk at `home`, as `TGESC_HOME=home tgesc ticket list --status all --all --json` prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TGESC_")}
    env.update(TGESC_HOME=str(home), TGESC_ENV_FILE=empty_env_file(home.parent))
    listed = subprocess.run([sys.executable, "-m", "tgesc", "ticket", "list", "--status", "all", "--all", "--json"],
                            env=env, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(listed.stdout)


def reports() -> bool:
    """Whether this checkout has `tgesc report` (issue 18, built beside the demo)."""
    return subprocess.run([sys.executable, "-m", "tgesc", "report", "--help"], capture_output=True).returncode == 0


def test_the_demo_plays_a_week_into_a_desk_that_tgesc_reads_and_makes_it_again(tmp_path):
    home = tmp_path / "demo"
    done = demo(home, TGESC_DATABASE_URL="postgresql://nowhere.invalid/desk", TGESC_HOME=str(tmp_path / "mine"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() and "Traceback" not in done.stderr
    assert {"tgesc.db", "clock", "transcript.txt", "DEMO.txt"} <= {path.name for path in home.iterdir()}
    assert (home / "report.html").exists() == reports()
    assert oct(home.stat().st_mode & 0o777) == "0o700"
    assert "Scenario: 1-refund-to-l2.toml + " in (home / "transcript.txt").read_text(encoding="utf-8")
    rows = tickets(home)
    assert len(rows) > 150 and STORIES <= {row["customer"]["username"] for row in rows}
    assert not (tmp_path / "mine").exists()  # the user's TGESC_HOME was not the demo's

    again = demo(home, "--crowd", "5")
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(tickets(home)) == len(STORIES) + 5


def test_a_directory_that_is_no_demo_desk_is_never_replaced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "tgesc.db").write_text("my own desk", encoding="utf-8")
    refused = demo(mine)
    assert refused.returncode == 2 and "is no demo desk" in refused.stderr, refused.stderr
    assert [path.name for path in mine.iterdir()] == ["tgesc.db"]

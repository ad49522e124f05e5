"""The README's first Quick start command works: `./scripts/demo` sets up a demo desk on embedded defaults (SQLite,
an embedded Redis, no Telegram credentials) and plays the examples through it, exit 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real processes: seconds each

REPO = Path(__file__).resolve().parents[1]


def test_the_demo_sets_up_a_desk_and_plays_the_examples(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TGESC_")}
    env.update(TGESC_VENV=sys.prefix, TGESC_HOME=str(tmp_path / "demo"))  # this venv, a desk of the test's own
    done = subprocess.run(["bash", str(REPO / "scripts" / "demo")], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Tickets" in done.stdout and "Traceback" not in done.stderr
    assert (tmp_path / "demo" / "tgesc.db").exists()
    assert oct((tmp_path / "demo").stat().st_mode & 0o777) == "0o700"

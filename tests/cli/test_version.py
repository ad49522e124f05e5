"""`tgesc --version`: the installed package's version, the one pyproject.toml declares, before anything else runs
(no settings read, no database opened)."""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_version_is_the_packages_and_needs_nothing(cli, tmp_path):
    declared = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"]
    result = cli("--version", env={"TGESC_DATABASE_URL": "postgresql://nowhere.invalid/none"})
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"tgesc {declared}\n", "")
    assert not (tmp_path / "home").exists()

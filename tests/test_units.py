"""The systemd units and the docs agree on one binary path (the venv of docs/operations.md's install) and on a
private environment file."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINARY = "/opt/tgesc/bin/tgesc"
UNITS = sorted((ROOT / "systemd").glob("*.service"))


def test_every_unit_runs_the_one_binary_the_docs_install():
    assert UNITS
    for unit in UNITS:
        starts = re.findall(r"^ExecStart=(\S+)", unit.read_text(encoding="utf-8"), re.MULTILINE)
        assert starts == [BINARY], unit.name
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert "python3 -m venv /opt/tgesc" in operations and f"`{BINARY}`" in operations


def test_the_environment_file_is_made_private():
    texts = [unit.read_text(encoding="utf-8") for unit in UNITS] + [
        (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")]
    made = [line for text in texts for line in text.splitlines()
            if "/etc/tgesc/tgesc.env" in line and "install" in line]
    assert made and all("-m 0600" in line for line in made)

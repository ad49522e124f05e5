"""The `console` examples of the README and of every page in docs/ are real: each `$ tgesc ...` line runs, in
order, against one fresh data directory per page, and must print exactly what the page shows (stdout; with a
trailing `2>&1`, stdout then stderr). Other code blocks (`text`, `toml`, `sh`) are illustrations and are not
run."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
DOCS = sorted((README.parent / "docs").glob("*.md"))
CONSOLE_BLOCK = re.compile(r"^```console\n(.*?)^```", re.M | re.S)


def examples(text: str) -> list[tuple[str, str]]:
    """(command, expected output) pairs from every console block, in document order."""
    pairs: list[tuple[str, str]] = []
    for block in CONSOLE_BLOCK.findall(text):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            pairs.append((command.strip(), output))
    return pairs


def normalized(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def test_readme_has_a_two_command_quick_start():
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^```sh\n(.*?)^```", quick, re.M | re.S)[0].strip().splitlines()
    assert [c.split("#")[0].strip() for c in commands] == ["./scripts/demo", "./scripts/test"]


def test_readme_console_examples_print_what_they_show(cli, tmp_path):
    pairs = examples(README.read_text(encoding="utf-8"))
    assert len(pairs) >= 10
    run_examples(cli, tmp_path, pairs)


@pytest.mark.parametrize("page", DOCS, ids=[page.name for page in DOCS])
def test_docs_console_examples_print_what_they_show(cli, tmp_path, page):
    run_examples(cli, tmp_path, examples(page.read_text(encoding="utf-8")))


def run_examples(cli, tmp_path: Path, pairs: list[tuple[str, str]]) -> None:
    """The examples of one page, run as from a checkout (the cwd holds examples/)."""
    shutil.copytree(README.parent / "examples", tmp_path / "examples")
    check_examples(cli, pairs)


def check_examples(cli, pairs: list[tuple[str, str]]) -> None:
    """Run each example's command with `cli`; it must print what the example shows."""
    for command, expected in pairs:
        args = shlex.split(command)
        assert args[0] == "tgesc", f"console examples run tgesc only: {command}"
        merge = args[-1] == "2>&1"
        result = cli(*args[1:len(args) - merge])
        shown = result.stdout + (result.stderr if merge else "")
        assert normalized(shown) == normalized(expected), f"$ {command}\n{result}"

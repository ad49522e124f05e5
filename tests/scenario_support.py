"""Scenario files for the tests of `tgesc simulate`: the examples, a small refund scenario with a step of the
test's own, a configuration changing the shipped `refund` rule, a scenario that leaves a marker when played, and
the check of a failed run."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REFUND = EXAMPLES / "1-refund-to-l2.toml"

HEAD = '''start = "2026-03-02T10:00:00+00:00"   # a Monday: L2 is open
{config}
[customers.alice]
id = 1001
name = "Alice"

[staff.bob]
id = 5001
tiers = ["L1"]

[[steps]]
at = "+0m"
customer = "alice"
text = "I was charged twice, I want a refund"
'''


def rule_file(path: Path, **fields: str) -> Path:
    """A configuration with the shipped `refund` rule (entries are replaced whole), `fields` changed."""
    rule = {"kind": '"keyword"', "tags": '["billing", "refund"]', "priority": '"high"', "escalate_to": '"L2"',
            "reply": '"comfort"', "phrases.en": '["refund", "charged twice"]', **fields}
    path.write_text("[rules.refund]\n" + "".join(f"{key} = {value}\n" for key, value in rule.items()),
                    encoding="utf-8")
    return path


def scenario(path: Path, second_step: str = "", *, config: str | None = None) -> Path:
    """Alice's refund message, then `second_step` (TOML lines of step 2, without the header)."""
    text = HEAD.format(config=f'config = "{config}"' if config else "")
    if second_step:
        text += "\n[[steps]]\n" + second_step.strip() + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def marking(tmp_path: Path, name: str = "good.toml") -> tuple[Path, Path]:
    """A good scenario whose step 2 runs `tgesc config export MARKER`: MARKER exists iff it was played."""
    marker = tmp_path / f"{name}.marker"
    return scenario(tmp_path / name, f"at = \"+1m\"\ncli = \"config export '{marker}'\""), marker


def failed(result, *parts: str) -> str:
    """Exit 1, nothing on stdout, one `Error:` on stderr containing `parts` (no traceback); stderr."""
    assert result.exit_code == 1, result
    assert result.stdout == "", result
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr, result
    for part in parts:
        assert part in result.stderr, result
    return result.stderr

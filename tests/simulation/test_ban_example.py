"""examples/16-abusive-customer-banned.toml as a test: the ban from a ticket's thread, what a banned customer's
messages do (stored, nothing else but one notice), the ban lifted from the command line, and the `--json` events
`customer_banned` and `customer_unbanned`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tgesc.cli.main import run
from tgesc.domain.scenario import load_scenario
from tgesc.simulation.runner import run_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "16-abusive-customer-banned.toml"


@pytest.fixture(scope="module")
def doc() -> dict:
    return run_scenario(load_scenario(EXAMPLE), run_command=run)


def test_the_ban_and_its_lifting_are_events_with_who_why_and_until(doc):
    bans = [(e["at"], e["ticket"], e["kind"], e["detail"]) for e in doc["events"] if e["kind"].startswith("customer_")]
    assert bans == [
        ("2026-03-09T10:03:00+00:00", 1, "customer_banned", {"customer": 1016, "until": "2026-03-10T10:03:00+00:00",
                                                            "reason": "abusive language to staff", "by": "lena"}),
        ("2026-03-10T06:00:00+00:00", None, "customer_unbanned", {"customer": 1016, "reason": "apologised by email",
                                                                 "by": "cli"}),
    ]


def test_while_banned_max_is_stored_and_told_once_and_nothing_else_happens(doc):
    banned = ("2026-03-09T10:03", "2026-03-10T06:00")
    during = [m for m in doc["messages"] if banned[0] < m["at"][:16] < banned[1]]
    assert [(m["from"], m["text"][:29]) for m in during if m["chat"] == "max"] == [
        ("max", "I want to talk to a manager, "),
        ("bot", "Your messages to support are "),
        ("max", "Hello?? Answer me!")]
    assert not [m for m in during if m["from"] == "max" and m["chat"] != "max"]  # nothing mirrored to L2
    kinds = {e["kind"] for e in doc["events"] if banned[0] < e["at"][:16] < banned[1]}
    assert not kinds & {"rule_fired", "escalated", "priority_changed", "emotion_changed"}
    assert "Is there news" in [m for m in doc["messages"] if m["chat"] == "L2"][-1]["text"]  # unbanned: as anyone
    assert [t["status"] for t in doc["tickets"]] == ["open"]

"""examples/17-shift-ends-hands-back.toml as a test: an L2 that gives out its tickets by itself, in shifts. A ticket
that found nobody waits for the first shift; one whose assignee's shift ends with its work waiting goes back to the
pool and on to someone on shift (round-robin, within capacity), told in private and shown on the card; one waiting
on the customer stays until the customer answers. The --json events: `assigned` {to, by: auto} and `unassigned`
{from, reason, by}."""

from __future__ import annotations

from pathlib import Path

import pytest

from tgesc.cli.main import run
from tgesc.domain.scenario import load_scenario
from tgesc.simulation.runner import run_scenario
from tgesc.simulation.transcript import render_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "17-shift-ends-hands-back.toml"


@pytest.fixture(scope="module")
def doc() -> dict:
    return run_scenario(load_scenario(EXAMPLE), run_command=run)


def test_each_ticket_goes_back_when_its_assignees_shift_ends_and_on_to_someone_on_shift(doc):
    moves = [(e["at"][11:16], e["ticket"], e["kind"], e["detail"]) for e in doc["events"]
             if e["kind"] in ("assigned", "unassigned")]
    assert moves == [
        ("09:00", 1, "assigned", {"to": "carol", "by": "auto"}),  # the pool, when her shift opens
        ("09:05", 2, "assigned", {"to": "carol", "by": "auto"}),  # at once: she is on shift
        ("13:00", 1, "unassigned", {"from": "carol", "reason": "off_shift", "by": "auto"}),
        ("13:00", 1, "assigned", {"to": "dan", "by": "auto"}),
        ("13:30", 2, "unassigned", {"from": "carol", "reason": "off_shift", "by": "auto"}),  # once Ben answered
        ("13:30", 2, "assigned", {"to": "erin", "by": "auto"}),  # Dan has his one ticket
    ]


def test_the_card_shows_each_move(doc):
    updated = {(e["at"][11:16], e["ticket"]) for e in doc["events"] if e["kind"] == "card_updated"}
    assert {("09:00", 1), ("13:00", 1), ("13:30", 2)} <= updated


def test_the_assignee_is_told_in_private_and_the_one_off_shift_is_not_told(doc):
    private = [(m["at"][11:16], m["chat"], m["text"].partition(" is yours")[0]) for m in doc["messages"]
               if m["direction"] == "out" and m["chat"] in ("carol", "dan", "erin")]
    assert private == [("09:00", "carol", "📌 Ticket #1 (L2, high)"), ("09:05", "carol", "📌 Ticket #2 (L2, high)"),
                       ("13:00", "dan", "📌 Ticket #1 (L2, high)"), ("13:30", "erin", "📌 Ticket #2 (L2, high)")]


def test_the_transcript_says_who_a_ticket_went_back_from_and_why(doc):
    text = render_text(doc, load_scenario(EXAMPLE).start.tzinfo)
    assert "13:00  · #1 back to the pool from carol (off shift) by auto\n13:00  · #1 assigned to dan by auto" in text


def test_the_scenario_may_give_staff_their_shifts_and_capacity_itself(tmp_path):
    """The same desk with the staff in the scenario's own [staff] tables (calendar and capacity there), the config
    giving only the calendars and the tier: the same moves."""
    policy = (EXAMPLE.parent / "policies" / "l2-shifts.toml").read_text()
    (tmp_path / "tier.toml").write_text(policy[:policy.index("[staff.")])
    staff = "".join(f'\n[staff.{name}]\nid = {user}\ntiers = ["L2"]\ncalendar = "{calendar}"\n{extra}'
                    for name, user, calendar, extra in (("carol", 5002, "l2-morning", ""),
                                                        ("dan", 5003, "l2-afternoon", "capacity = 1\n"),
                                                        ("erin", 5004, "l2-afternoon", "")))
    scenario = EXAMPLE.read_text().replace('config = "policies/l2-shifts.toml"', 'config = "tier.toml"')
    (tmp_path / "own-staff.toml").write_text(scenario.replace("\n[[steps]]", staff + "\n[[steps]]", 1))
    own = run_scenario(load_scenario(tmp_path / "own-staff.toml"), run_command=run)
    assert [(e["at"][11:16], e["ticket"], e["kind"], e["detail"].get("to") or e["detail"].get("from"))
            for e in own["events"] if e["kind"] in ("assigned", "unassigned")] == [
        ("09:00", 1, "assigned", "carol"), ("09:05", 2, "assigned", "carol"), ("13:00", 1, "unassigned", "carol"),
        ("13:00", 1, "assigned", "dan"), ("13:30", 2, "unassigned", "carol"), ("13:30", 2, "assigned", "erin")]

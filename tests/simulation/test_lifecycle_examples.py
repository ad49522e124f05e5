"""The lifecycle scenarios in examples/ (7 to 12) are tests: each is played once through the real desk and its
outcome checked as the file's header comment states it: the `waiting`, `resumed`, `waiting_reminded`, `resolved`
and `closed` events with their reasons at their exact virtual instants, what the customer was told, and that no
SLA clock or unresolved-for rule acted while the customer was the one to answer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tgesc.cli.main import run
from tgesc.domain.scenario import load_scenario
from tgesc.simulation.runner import run_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LIFECYCLE = ("waiting", "resumed", "waiting_reminded", "resolved", "closed", "reopened", "created", "escalated",
             "sla_breach")

QUIET = ("escalated", "sla_warning", "sla_breach", "rule_fired")  # what must not happen while the customer is to answer
Doc = dict[str, Any]


@pytest.fixture(scope="module")
def play() -> Callable[[str], Doc]:
    played: dict[str, Doc] = {}

    def play(name: str) -> Doc:
        if name not in played:
            played[name] = run_scenario(load_scenario(EXAMPLES / f"{name}.toml"), run_command=run)
        return played[name]

    return play


def timeline(doc: Doc) -> list[tuple]:
    """(at, ticket, kind, reason) of the lifecycle events, in order."""
    return [(e["at"][5:16], e["ticket"], e["kind"], e["detail"].get("reason")) for e in doc["events"]
            if e["kind"] in LIFECYCLE]


def to(doc: Doc, chat: str) -> list[Doc]:
    return [m for m in doc["messages"] if m["direction"] == "out" and m["chat"] == chat]


def statuses(doc: Doc) -> list[str]:
    return [row["status"] for row in doc["tickets"]]


def test_faq_solved_resolves_without_a_survey_and_closes_by_itself(play):
    doc = play("10-faq-solved")
    assert timeline(doc) == [
        ("03-09T10:00", 1, "created", None), ("03-09T10:00", 1, "waiting", "faq"),
        ("03-09T10:03", 1, "resolved", "faq_solved"), ("03-12T10:03", 1, "closed", "auto")]
    answer, notice = to(doc, "grace")
    assert [data.rsplit(":", 1)[1] for _, data in answer["buttons"][0]] == ["solved", "help"]
    assert notice["at"].startswith("2026-03-09T10:03") and "#1 has been resolved" in notice["text"]
    assert "within 3 days" in notice["text"]
    assert [row["survey"] for row in doc["tickets"]] == [None] and statuses(doc) == ["closed"]
    assert not [e for e in doc["events"] if e["kind"] in QUIET]


def test_faq_disputed_returns_to_the_front_line_with_clocks_from_then(play):
    doc = play("11-faq-disputed")
    assert timeline(doc) == [
        ("03-09T10:00", 1, "created", None), ("03-09T10:00", 1, "waiting", "faq"),
        ("03-09T10:30", 1, "resumed", "help"), ("03-09T10:40", 1, "resolved", "staff")]
    told = to(doc, "henry")
    assert told[1]["at"].startswith("2026-03-09T10:30")
    assert told[1]["text"] == ("Understood: a person from our team will answer you (ticket #1) within 5 minutes "
                               "(by 10:35, Mon 9 Mar).")  # the front line's own target
    assert doc["tickets"][0]["tier"] == "L1" and doc["tickets"][0]["survey"]["status"] == "scheduled"


def test_a_late_answer_resumes_the_ticket_after_one_reminder_and_nothing_breached(play):
    doc = play("12-customer-answers-late")
    assert timeline(doc) == [
        ("03-09T10:00", 1, "created", None), ("03-09T10:02", 1, "waiting", "staff"),
        ("03-10T10:02", 1, "waiting_reminded", None),
        ("03-10T12:00", 1, "resumed", "customer"), ("03-10T12:08", 1, "resolved", "staff")]
    reminded = [e for e in doc["events"] if e["kind"] == "waiting_reminded"]
    assert [e["detail"] for e in reminded] == [{"due": "2026-03-10T10:02:00+00:00", "sent": True}]
    told = [m["text"] for m in to(doc, "irene")]
    assert told[0] == "Could you send a screenshot of the error you see?"
    assert told[1].startswith("A reminder about ticket #1: we are waiting for your answer")
    assert not [e for e in doc["events"] if e["kind"] in QUIET]


def test_a_customer_who_never_answers_is_reminded_then_resolved_then_closed(play):
    doc = play("13-customer-never-answers")
    assert timeline(doc) == [
        ("03-09T10:00", 1, "created", None), ("03-09T10:02", 1, "waiting", "staff"),
        ("03-10T10:02", 1, "waiting_reminded", None),
        ("03-12T10:02", 1, "resolved", "no_reply"), ("03-15T10:02", 1, "closed", "auto")]
    told = to(doc, "jack")
    assert told[0]["text"] == "Which order number is it?"
    resolved = [m for m in told if m["at"].startswith("2026-03-12T10:02")]
    assert [m["text"][:32] for m in resolved] == ["Your ticket #1 has been resolved"]
    assert statuses(doc) == ["closed"]


def test_the_resolve_notice_and_a_message_before_and_after_the_closing(play):
    doc = play("14-resolve-notice")
    assert timeline(doc) == [
        ("03-09T10:00", 1, "created", None), ("03-09T10:12", 1, "resolved", "staff"),
        ("03-10T10:00", 1, "reopened", "the customer wrote again before it closed"),
        ("03-10T10:02", 1, "resolved", "staff"),
        ("03-13T10:02", 1, "closed", "auto"), ("03-14T10:00", 2, "created", None)]
    notices = [m for m in to(doc, "kate") if m["text"].startswith("Your ticket #1 has been resolved.")]
    assert [m["at"][:16] for m in notices] == ["2026-03-09T10:12", "2026-03-10T10:02"]
    assert statuses(doc) == ["closed", "open"]


def test_a_customer_closes_with_the_command_and_with_the_status_button(play):
    doc = play("15-customer-closes")
    assert [t for t in timeline(doc) if t[2] == "resolved"] == [
        ("03-09T10:05", 1, "resolved", "customer"), ("03-13T10:06", 2, "resolved", "customer")]
    status = [m for m in to(doc, "liam") if m["text"].startswith("Your open tickets")]
    assert [m["buttons"] for m in status] == [[[["Close #2", "close:2"]]]]
    assert statuses(doc) == ["closed", "resolved"]


def test_the_transcript_says_why_a_ticket_waits_resumes_resolves_and_closes(play):
    from datetime import UTC

    from tgesc.simulation.transcript import event_line

    lines = [event_line(e, UTC) for e in play("13-customer-never-answers")["events"]
             if e["kind"] in ("waiting", "waiting_reminded", "resolved", "closed")]
    assert lines == ["⏸ #1 waiting on the customer (staff) by bob", "· #1 customer reminded",
                     "✔ #1 resolved by lifecycle (no_reply)", "■ #1 closed by lifecycle (auto)"]
    lines = [event_line(e, UTC) for e in play("11-faq-disputed")["events"] if e["kind"] in ("resumed", "resolved")]
    assert lines == ["▶ #1 open again (help) by customer:1008", "✔ #1 resolved by bob"]

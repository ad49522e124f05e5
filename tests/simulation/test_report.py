"""The simulation's report from real situations built through the services (on SQLite and PostgreSQL): the
audit log mapped to the issue's event kinds and escalation triggers, instants in the scenario's zone, the
ticket rows, and the readable transcript."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support import private_message

from tgesc.domain.surveys import SurveyPolicy
from tgesc.domain.telegram import ButtonPress, User
from tgesc.models import Survey
from tgesc.services.config.apply import set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.sweeps.sla import sweep_sla, sweep_unresolved
from tgesc.services.sweeps.surveys import sweep_surveys
from tgesc.services.tickets import actions, surveys
from tgesc.services.tickets.escalation import escalate_ticket
from tgesc.services.tickets.ingest import ingest_message
from tgesc.simulation.report import event_rows, render_text, ticket_rows

MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday: the L2 calendar (09-18 UTC) is open
SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
ALICE, BORIS = 1001, 1002
NAMES = {ALICE: "alice", BORIS: "boris"}
POLICY = SurveyPolicy()


@pytest.fixture
def desk(db):
    initialise(db, now=MON_10, actor="test")
    set_entry(db, "tiers", "L2", {"staff_chat": -1002, "forum": True}, actor="test", now=MON_10)
    return db


def says(db, text: str, at: datetime, *, user_id: int = ALICE, message_id: int | None = None):
    return ingest_message(db, private_message(user_id, message_id or int(at.timestamp()), at, text,
                                              first_name=NAMES[user_id].title(), language_code="en"), now=at)


def of(kind: str, rows: list[dict] | None = None) -> list[dict]:
    return [row for row in (rows if rows is not None else event_rows(UTC)) if row["kind"] == kind]


def escalation(rows: list[dict] | None = None) -> dict:
    [row] = of("escalated", rows)
    return row["detail"]


def test_a_keyword_rule_reports_its_tags_priority_and_escalation_in_the_scenarios_zone(desk):
    says(desk, "I was charged twice, I want a refund", MON_10 + MINUTE)
    rows = event_rows(SHANGHAI)
    assert [row["kind"] for row in rows] == ["created", "rule_fired", "tagged", "priority_changed", "escalated"]
    assert {row["at"] for row in rows} == {"2026-03-02T18:01:00+08:00"}
    assert {row["ticket"] for row in rows} == {1}
    assert rows[0]["detail"] == {"channel": "telegram", "by": f"customer:{ALICE}"}
    assert rows[1]["detail"]["rule"] == "refund" and rows[1]["detail"]["rule_kind"] == "keyword"
    assert rows[2]["detail"] == {"added": ["billing", "refund"], "removed": [], "by": "rule:refund"}
    assert rows[3]["detail"]["from"] == "medium" and rows[3]["detail"]["to"] == "high"
    detail = rows[4]["detail"]
    assert {k: detail[k] for k in ("from", "to", "trigger", "rule", "priority")} == {
        "from": "L1", "to": "L2", "trigger": "keyword", "rule": "refund", "priority": "high"}
    assert "refund" in detail["reason"]
    assert event_rows(UTC)[0]["at"] == "2026-03-02T10:01:00+00:00"  # no config.* events, seconds precision


def test_three_requests_for_a_manager_are_a_repeat_request(desk):
    for minute, text in enumerate(("I want a manager", "manager please", "get me your supervisor"), start=1):
        says(desk, text, MON_10 + minute * MINUTE)
    assert escalation()["trigger"] == "repeat_request" and escalation()["rule"] == "asks-for-manager"


def test_threats_are_an_emotion_escalation(desk):
    says(desk, "THIS IS UNACCEPTABLE!!! I will expose you on every forum", MON_10)  # a lawyer: the legal rule
    assert escalation()["trigger"] == "emotion" and escalation()["rule"] == "angry-customer"
    [changed] = of("emotion_changed")
    assert (changed["detail"]["from"], changed["detail"]["to"]) == ("calm", "threatening")


def test_an_unanswered_ticket_is_an_unresolved_escalation(desk):
    says(desk, "Where is my parcel?", MON_10)
    assert sweep_unresolved(desk, now=MON_10 + 16 * MINUTE)
    assert escalation() | {"reason": ""} == {"from": "L1", "to": "L2", "trigger": "unresolved",
                                             "rule": "unresolved-15m", "priority": "medium", "reason": ""}


def test_sla_warnings_and_a_breach_that_escalates(desk):
    set_entry(desk, "sla", "medium", {"on_breach": "escalate", "escalate_to": "L2"}, actor="test", now=MON_10)
    set_entry(desk, "tiers", "L1", {"first_response": None}, actor="test", now=MON_10)  # the priority's 2 h
    says(desk, "Where is my parcel?", MON_10)
    sweep_sla(desk, now=MON_10 + 90 * MINUTE)  # first response (2 h): 50 % passed at 11:00
    sweep_sla(desk, now=MON_10 + 2 * HOUR)  # 80 % (11:36) and the breach (12:00) at once
    rows = event_rows(SHANGHAI)
    warnings = [(r["at"], r["detail"]["clock"], r["detail"]["percent"], r["detail"]["due"]) for r in of(
        "sla_warning", rows)]
    assert warnings == [("2026-03-02T19:30:00+08:00", "first_response", 50, "2026-03-02T19:00:00+08:00"),
                        ("2026-03-02T20:00:00+08:00", "first_response", 80, "2026-03-02T19:36:00+08:00")]
    [breach] = of("sla_breach", rows)
    assert (breach["at"], breach["detail"]["clock"], breach["detail"]["due"]) == (
        "2026-03-02T20:00:00+08:00", "first_response", "2026-03-02T20:00:00+08:00")
    detail = escalation(rows)
    assert (detail["trigger"], detail["clock"], detail["to"]) == ("sla_breach", "first_response", "L2")
    assert "rule" not in detail and "by" not in detail


def test_manual_and_quick_escalations_say_who(desk):
    says(desk, "My order arrived broken", MON_10)
    actions.add_tried(desk, 1, "Asked for a photo", actor="bob", now=MON_10 + MINUTE)
    actions.set_checklist(desk, 1, first_occurred_at=MON_10 - timedelta(days=1), evidence=True,
                          expected_resolution_by=MON_10 + timedelta(days=1), actor="bob", now=MON_10 + MINUTE)
    escalate_ticket(desk, 1, to="L2", reason="needs a replacement", actor="bob", now=MON_10 + 2 * MINUTE)
    says(desk, "My package is late again", MON_10 + 3 * MINUTE, user_id=BORIS)
    escalate_ticket(desk, 2, to=None, reason="a known courier fault", actor="carol", now=MON_10 + 4 * MINUTE,
                    quick=True)  # no checklist needed; the top tier
    manual, quick = of("escalated")[0], of("escalated")[-1]
    assert manual["ticket"] == 1 and manual["detail"] == {
        "from": "L1", "to": "L2", "trigger": "manual", "by": "bob", "reason": "needs a replacement",
        "priority": "medium"}
    assert quick["ticket"] == 2 and quick["detail"] == {
        "from": "L1", "to": "L3", "trigger": "quick", "by": "carol", "reason": "a known courier fault",
        "priority": "medium"}


def test_a_survey_round_resolved_sent_answered_with_success_invites_a_review(desk):
    says(desk, "How do I change my e-mail address?", MON_10)
    actions.resolve(desk, 1, survey=True, actor="bob", now=MON_10 + HOUR, survey_policy=POLICY)
    survey = Survey.get()
    sweep_surveys(desk, now=survey.due_at, policy=POLICY)
    press = ButtonPress("q1", User(ALICE), ALICE, 77, f"survey:{survey.id}:5")
    assert surveys.on_press(desk, press, survey.due_at + HOUR, policy=POLICY)
    rows = event_rows(UTC)
    assert [r["kind"] for r in rows][-4:] == ["resolved", "survey_sent", "survey_answered", "review_invited"]
    assert rows[-4]["detail"] == {"survey": True, "reason": "staff", "by": "bob"}
    assert rows[-2]["detail"] == {"round": 1, "rating": 5, "outcome": "success"}
    assert rows[-1]["at"] == rows[-2]["at"] == (survey.due_at + HOUR).isoformat()
    assert ticket_rows(NAMES) == [{"number": 1, "customer": "alice", "status": "resolved", "tier": "L1",
                                   "priority": "medium", "emotion": "calm", "tags": [],
                                   "survey": {"rating": 5, "status": "answered"}}]


def test_a_low_score_reopens_and_is_a_survey_escalation(desk):
    says(desk, "How do I change my e-mail address?", MON_10)
    actions.resolve(desk, 1, survey=True, actor="bob", now=MON_10 + HOUR, survey_policy=POLICY)
    survey = Survey.get()
    sweep_surveys(desk, now=survey.due_at, policy=POLICY)
    surveys.on_press(desk, ButtonPress("q1", User(ALICE), ALICE, 77, f"survey:{survey.id}:2"), survey.due_at,
                     policy=POLICY)
    kinds = [r["kind"] for r in event_rows(UTC)]
    assert kinds[-3:] == ["survey_answered", "reopened", "escalated"] and "review_invited" not in kinds
    assert (escalation()["trigger"], escalation()["to"]) == ("survey", "L2")
    assert ticket_rows({})[0]["customer"] == str(ALICE)  # no scenario name: the Telegram id
    assert ticket_rows({})[0]["survey"] == {"rating": 2, "status": "answered"}


def test_tickets_without_a_survey_and_kinds_passed_through(desk):
    says(desk, "Where is my parcel?", MON_10)
    actions.add_note(desk, 1, "customer called too", actor="bob", now=MON_10 + MINUTE)
    actions.set_priority(desk, 1, "low", actor="bob", now=MON_10 + MINUTE, reason="not urgent")
    [row] = ticket_rows(NAMES)
    assert (row["customer"], row["priority"], row["survey"]) == ("alice", "low", None)
    note = of("ticket_note")
    assert note[0]["detail"] == {"text": "customer called too"}
    assert of("priority_changed")[0]["detail"] == {"from": "medium", "to": "low", "reason": "not urgent", "by": "bob"}


def test_the_transcript_shows_messages_events_and_the_ticket_table(desk):
    says(desk, "I was charged twice, I want a refund", MON_10)
    sweep_sla(desk, now=MON_10 + 24 * MINUTE)  # high: first response 30 m, 80 % at 10:24
    at = MON_10.astimezone(SHANGHAI).isoformat()
    messages = [
        {"at": at, "direction": "in", "chat": "alice", "chat_id": ALICE, "thread": None,
         "text": "I was charged twice, I want a refund", "buttons": []},
        {"at": at, "direction": "out", "chat": "alice", "chat_id": ALICE, "thread": None,
         "text": "We're sorry.\nA colleague will answer.",
         "buttons": [[["1 ★", "s:1"], ["2 ★", "s:2"]], [["3 ★", "s:3"]]]},
        {"at": at, "direction": "out", "chat": "L2", "chat_id": -1002, "thread": 7,
         "text": "<b>#1</b> · Alice &amp; co · L2\n<b>Problem</b>: refund", "buttons": []},
        {"at": (MON_10 + timedelta(days=1)).isoformat(), "direction": "out", "chat": "L2", "chat_id": -1002,
         "thread": 7, "text": "still there?", "buttons": []},
        {"at": (MON_10 + timedelta(days=1)).isoformat(), "direction": "in", "chat": "L2", "chat_id": -1002,
         "thread": 9, "from": "bob", "text": "hello", "buttons": []},
    ]
    result = {"scenario": "refund.toml", "messages": messages, "tickets": ticket_rows(NAMES),
              "events": event_rows(SHANGHAI)}
    text = render_text(result, SHANGHAI)
    lines = text.splitlines()
    assert lines[0] == "Scenario: refund.toml"
    assert lines[2] == "── Mon 2 Mar 2026 ──"
    assert lines[3] == "18:00  alice → bot      I was charged twice, I want a refund"
    assert lines[4] == "18:00  bot → alice      We're sorry. …  [1 ★ | 2 ★] / [3 ★]"
    assert lines[5] == "18:00  bot → L2 #1      #1 · Alice & co · L2 …"
    assert lines[6] == "18:00  ● #1 created by customer:1001"  # messages first at the same instant
    assert "18:00  ✎ #1 tags +billing +refund by rule:refund" in lines
    assert "18:00  ▲ #1 priority medium → high by rule:refund" in lines
    assert any(line.startswith("18:00  ⇧ #1 escalated L1 → L2 (keyword: refund) — refund: ") for line in lines)
    assert "18:24  ⚠ #1 SLA warning: first response 50% (due 18:15) — not sent: a later milestone was due too" in lines
    assert "18:24  ⚠ #1 SLA warning: first response 80% (due 18:24)" in lines
    day = lines.index("── Tue 3 Mar 2026 ──")
    assert lines[day + 1:day + 3] == ["18:00  bot → L2 #1      still there?", "18:00  bob → L2 thread 9  hello"]
    table = text[text.index("\nTickets\n"):].splitlines()
    assert table[2].split() == ["number", "customer", "status", "tier", "priority", "emotion", "tags", "survey"]
    assert table[4].split() == ["1", "alice", "open", "L2", "high", ticket_rows(NAMES)[0]["emotion"], "billing,",
                                "refund"]

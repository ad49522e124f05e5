"""The scenarios in examples/ are tests: each is played once through the real desk (embedded Redis, a fresh
temporary database, the virtual clock) and its outcome is checked as the file's header comment states it:
tiers, priorities, tags, escalation triggers, what the customer and the staff chats were told, SLA warnings and
breaches at their exact virtual instants, survey results, and that nothing else happened."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tgesc.cli.main import run
from tgesc.domain.scenario import load_scenario
from tgesc.simulation.runner import run_scenario
from tgesc.simulation.transcript import message_line

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = ("1-refund-to-l2", "2-three-manager-requests", "3-outage-to-l3", "4-low-rating-second-escalation",
         "5-five-star-review", "6-other-timezone-after-hours", "7-l1-five-minute-target", "8-legal-threat-to-l3",
         "9-phone-case-from-the-cli")
LIFECYCLE_NAMES = ("10-faq-solved", "11-faq-disputed", "12-customer-answers-late", "13-customer-never-answers",
                   "14-resolve-notice", "15-customer-closes")  # checked in test_lifecycle_examples.py
WORKSPACE_NAMES = ("16-abusive-customer-banned",)  # checked in test_ban_example.py
ASSIGNMENT_NAMES = ("17-shift-ends-hands-back",)  # checked in test_assignment_example.py
OFFSETS = {**dict.fromkeys(LIFECYCLE_NAMES + WORKSPACE_NAMES + ASSIGNMENT_NAMES, "+00:00"),
           "1-refund-to-l2": "+00:00", "2-three-manager-requests": "+00:00", "3-outage-to-l3": "+00:00",
           "4-low-rating-second-escalation": "+01:00", "5-five-star-review": "+00:00",
           "6-other-timezone-after-hours": "+08:00", "7-l1-five-minute-target": "+00:00",
           "8-legal-threat-to-l3": "+00:00", "9-phone-case-from-the-cli": "+00:00"}

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def play() -> Callable[..., Doc]:
    """Plays an example (by name, optionally with Scenario fields replaced) once per module; the document.
    Called from the tests, so the per-test isolation (no TGESC_* of the developer, cwd in tmp) applies."""
    played: dict[tuple, Doc] = {}

    def play(name: str, **changes: Any) -> Doc:
        key = (name, tuple(sorted(changes.items())))
        if key not in played:
            scenario = load_scenario(EXAMPLES / f"{name}.toml")
            if changes:
                scenario = dataclasses.replace(scenario, **changes)
            played[key] = run_scenario(scenario, run_command=run)
        return played[key]

    return play


# --- helpers --------------------------------------------------------------------------------------------------


def events(doc: Doc, kind: str) -> list[Doc]:
    return [event for event in doc["events"] if event["kind"] == kind]


def only(items: list) -> Any:
    assert len(items) == 1, items
    return items[0]


def to(doc: Doc, chat: str) -> list[Doc]:
    """What the bot sent to `chat` (a customer or staff key, or a tier's staff chat)."""
    return [m for m in doc["messages"] if m["direction"] == "out" and m["chat"] == chat]


def sent_by(doc: Doc, who: str) -> list[Doc]:
    return [m for m in doc["messages"] if m["direction"] == "in" and m["from"] == who]


def containing(messages: list[Doc], *parts: str) -> list[Doc]:
    return [m for m in messages if all(part in m["text"] for part in parts)]


def ticket(doc: Doc, number: int = 1) -> Doc:
    return only([row for row in doc["tickets"] if row["number"] == number])


def escalation(event: Doc) -> tuple:
    detail = event["detail"]
    return event["at"], detail["from"], detail["to"], detail["trigger"], detail.get("rule")


def sla(doc: Doc) -> list[tuple]:
    """The SLA warnings and breaches: (at, kind, clock, percent)."""
    return [(e["at"], e["kind"], e["detail"]["clock"], e["detail"].get("percent"))
            for e in doc["events"] if e["kind"] in ("sla_warning", "sla_breach")]


def is_card(message: Doc, number: int, tier: str) -> bool:
    return message["text"].startswith(f"#{number} · ") and f" · {tier} · priority " in message["text"].split("\n")[0]


# --- the files ------------------------------------------------------------------------------------------------


def test_every_example_starts_with_a_comment_saying_what_it_shows_and_parses():
    files = sorted(EXAMPLES.glob("*.toml"))
    named = sorted(NAMES + LIFECYCLE_NAMES + WORKSPACE_NAMES + ASSIGNMENT_NAMES)
    assert [path.stem for path in files] == named, "a new example needs its checks here"
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        header = []
        for line in lines:
            if not line.startswith("#"):
                break
            header.append(line.lstrip("# ").strip())
        assert len(header) >= 2 and len(" ".join(header)) > 100, f"{path.name}: no header comment"
        scenario = load_scenario(path)
        assert scenario.steps and scenario.start.utcoffset() is not None
        assert scenario.start.isoformat().endswith(OFFSETS[path.stem])


@pytest.mark.parametrize("name", NAMES)
def test_every_instant_carries_the_offset_of_the_scenarios_start(play, name):
    doc = play(name)
    assert doc["scenario"] == f"{name}.toml"
    instants = [m["at"] for m in doc["messages"]] + [e["at"] for e in doc["events"]]
    instants += [e["detail"]["due"] for e in doc["events"] if "due" in e["detail"]]
    assert instants and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d" + re.escape(OFFSETS[name]), at)
                            for at in instants), instants
    assert doc["messages"][0]["at"] == load_scenario(EXAMPLES / f"{name}.toml").start.isoformat()


# --- 1: a refund complaint climbs to L2 -----------------------------------------------------------------------


def test_refund_is_tagged_raised_to_high_and_escalated_to_l2_by_keyword(play):
    doc = play("1-refund-to-l2")
    row = ticket(doc)
    assert (row["tier"], row["priority"], row["tags"], row["status"]) == ("L2", "high", ["billing", "refund"],
                                                                         "resolved")
    assert escalation(only(events(doc, "escalated"))) == ("2026-03-02T10:00:00+00:00", "L1", "L2", "keyword",
                                                          "refund")
    changed = only(events(doc, "priority_changed"))["detail"]
    assert (changed["from"], changed["to"], changed["by"]) == ("medium", "high", "rule:refund")
    assert only(events(doc, "tagged"))["detail"]["added"] == ["billing", "refund"]


def test_alice_gets_the_comfort_message_and_the_escalation_notice_with_the_reply_time_in_her_zone(play):
    doc = play("1-refund-to-l2")
    first_answers = [m for m in to(doc, "alice") if m["at"] == "2026-03-02T10:00:00+00:00"]
    # high priority: the first response within 30 minutes, 10:30 UTC, which is 11:30 in Berlin (CET); the
    # comfort message says the priority the ticket has
    assert [m["text"] for m in first_answers] == [
        "Dear Alice, I'm very sorry for the inconvenience. I have marked your problem as high priority (ticket #1), "
        "and a "
        "dedicated person will contact you within 30 minutes (by 11:30, Mon 2 Mar).",
        "Your issue has been escalated to Second line (ticket #1), and a response is expected within 30 minutes "
        "(by 11:30, Mon 2 Mar). If it is an emergency, please reply “urgent”."]


def test_l2s_forum_gets_a_topic_with_the_card_the_photo_and_carols_answer_reaches_alice(play):
    doc = play("1-refund-to-l2")
    assert to(doc, "L1") == []  # straight to L2: L1 never saw it
    card, photo, resolved = to(doc, "L2")
    assert is_card(card, 1, "L2") and card["ticket"] == 1 and card["thread"] is not None
    assert "priority high" in card["text"] and "billing, refund" in card["text"]
    assert "first response running, due 2026-03-02T10:30:00+00:00" in card["text"]
    assert (photo["attachment"], photo["text"], photo["thread"], photo["at"]) == (
        "photo", "Here is my bank statement", card["thread"], "2026-03-02T10:01:00+00:00")
    answer, command = sent_by(doc, "carol")
    assert {(m["chat"], m["thread"]) for m in (answer, command)} == {("L2", card["thread"])}
    assert command["text"] == "/resolve"
    relayed, notice = to(doc, "alice")[-2:]
    assert (relayed["at"], relayed["text"]) == ("2026-03-02T10:12:00+00:00", answer["text"])
    assert (notice["at"], notice["text"][:33]) == ("2026-03-02T10:20:00+00:00", "Your ticket #1 has been resolved.")
    assert (resolved["at"], resolved["text"]) == ("2026-03-02T10:20:00+00:00", "#1 resolved.")


def test_a_file_the_bot_sends_shows_its_name_in_the_transcript():
    report = {"direction": "out", "chat": "dave", "chat_id": 5003, "thread": None, "from": "bot", "text": "",
              "attachment": "document", "file_name": "tgesc-report-2026-03-02.html", "buttons": []}
    assert message_line(report, {}).split() == ["bot", "→", "dave", "[document", "tgesc-report-2026-03-02.html]"]
    assert message_line({**report, "attachment": "photo", "file_name": None, "text": "the receipt"}, {}).split()[3:] \
        == ["[photo]", "the", "receipt"]


def test_carols_answer_stops_the_first_response_clock_before_any_warning(play):
    doc = play("1-refund-to-l2")
    replied = only(events(doc, "ticket_replied"))
    assert (replied["at"], replied["detail"]["first"]) == ("2026-03-02T10:12:00+00:00", True)
    assert sla(doc) == []  # answered at 10:12, before 50 % of the 30 minutes (10:15)
    resolved = only(events(doc, "resolved"))
    assert (resolved["at"], resolved["detail"]["by"]) == ("2026-03-02T10:20:00+00:00", "carol")
    assert ticket(doc)["survey"] == {"rating": None, "status": "scheduled"}  # due a day later: not yet sent


# --- 2: three requests for a manager --------------------------------------------------------------------------


def test_the_third_request_for_a_manager_in_a_row_escalates_to_l2_and_not_earlier(play):
    doc = play("2-three-manager-requests")
    assert escalation(only(events(doc, "escalated"))) == ("2026-03-03T11:05:00+00:00", "L1", "L2",
                                                          "repeat_request", "asks-for-manager")
    fired = only(events(doc, "rule_fired"))
    assert (fired["at"], fired["detail"]["rule"]) == ("2026-03-03T11:05:00+00:00", "asks-for-manager")
    row = ticket(doc)
    assert (row["tier"], row["priority"], row["status"], row["tags"]) == ("L2", "medium", "open", [])


def test_ben_hears_nothing_from_the_bot_until_the_third_request_then_comfort_and_the_notice(play):
    doc = play("2-three-manager-requests")
    to_ben = to(doc, "ben")
    assert [m["at"] for m in to_ben] == ["2026-03-03T11:02:00+00:00"] + ["2026-03-03T11:05:00+00:00"] * 2
    assert to_ben[0]["text"] == "Hi Ben, let me check with the courier."  # Bob's answer, relayed
    comfort, notice = to_ben[1:]
    assert comfort["text"].startswith("Dear Ben, I'm very sorry for the inconvenience.")
    # medium: Bob answered, so the reply owed is the next response, 2 hours from Ben's first unanswered
    # message (11:03): what he is promised is the deadline the desk is held to
    assert "marked your problem as medium priority (ticket #1)" in comfort["text"]
    assert "within 1 hour 58 minutes (by 13:03, Tue 3 Mar)" in comfort["text"]
    assert notice["text"].startswith("Your issue has been escalated to Second line (ticket #1)")


def test_the_first_requests_stay_in_l1s_topic_and_l2_gets_its_own_card_at_the_third(play):
    doc = play("2-three-manager-requests")
    l1 = to(doc, "L1")
    assert is_card(l1[0], 1, "L1") and l1[0]["at"] == "2026-03-03T11:00:00+00:00"
    assert [m["text"] for m in l1[1:]] == ["Ben (#1): I want to talk to a manager", "Ben (#1): Get me your manager now"]
    assert {m["thread"] for m in l1} == {l1[0]["thread"]} and {m["ticket"] for m in l1} == {1}
    card = only(to(doc, "L2"))
    assert is_card(card, 1, "L2") and card["at"] == "2026-03-03T11:05:00+00:00" and card["ticket"] == 1
    assert sla(doc) == []


# --- 3: an outage goes straight to L3, the admin hears of the breach ------------------------------------------


def test_an_outage_is_urgent_and_goes_from_l1_straight_to_l3(play):
    doc = play("3-outage-to-l3")
    row = ticket(doc)
    assert (row["tier"], row["priority"], row["tags"], row["status"]) == ("L3", "urgent", ["outage"], "open")
    assert escalation(only(events(doc, "escalated"))) == ("2026-03-04T02:00:00+00:00", "L1", "L3", "keyword",
                                                          "outage")
    assert to(doc, "L1") == [] and to(doc, "L2") == []
    card = to(doc, "L3")[0]
    assert is_card(card, 1, "L3") and "priority urgent" in card["text"] and card["ticket"] == 1
    # the outage rule has no comfort reply: Dan gets the escalation notice alone, 15 minutes (urgent)
    assert [m["text"] for m in to(doc, "dan")] == [
        "Your issue has been escalated to Admins and technical lead (ticket #1), and a response is expected "
        "within 15 minutes (by 02:15, Wed 4 Mar). If it is an emergency, please reply “urgent”."]


def test_unanswered_urgent_ticket_warns_at_50_and_80_percent_then_breaches_at_15_minutes(play):
    doc = play("3-outage-to-l3")
    # urgent: first response 15 min from 02:00. 50 % = 7.5 min = 02:07:30, on the 15 s sweep grid from the start;
    # 80 % = 12 min = 02:12:00; the breach when the deadline is reached, 02:15:00. Nothing twice, nothing else.
    assert sla(doc) == [
        ("2026-03-04T02:07:30+00:00", "sla_warning", "first_response", 50),
        ("2026-03-04T02:12:00+00:00", "sla_warning", "first_response", 80),
        ("2026-03-04T02:15:00+00:00", "sla_breach", "first_response", None)]
    breach = only(events(doc, "sla_breach"))["detail"]
    assert (breach["due"], breach["action"]) == ("2026-03-04T02:15:00+00:00", "notify-admins")


def test_the_warnings_go_to_l3s_topic_and_the_breach_to_dave_in_private_too(play):
    doc = play("3-outage-to-l3")
    card, *notices = to(doc, "L3")
    assert [(m["at"], m["thread"], m["ticket"]) for m in notices] == [
        ("2026-03-04T02:07:30+00:00", card["thread"], 1), ("2026-03-04T02:12:00+00:00", card["thread"], 1),
        ("2026-03-04T02:15:00+00:00", card["thread"], 1)]
    assert notices[0]["text"].startswith("⏳ Ticket #1 (urgent, L3): the first response is due in 8 minutes")
    assert notices[1]["text"].startswith("⏳ Ticket #1 (urgent, L3): the first response is due in 3 minutes")
    assert notices[2]["text"].startswith("🚨 Ticket #1 (urgent, L3): the first response deadline passed")
    private = only(to(doc, "dave"))
    assert (private["at"], private["chat_id"], private["thread"]) == ("2026-03-04T02:15:00+00:00", 5003, None)
    assert private["text"].startswith("🚨 Ticket #1 (urgent, L3): the first response deadline passed")
    assert "tgesc ticket show 1" in private["text"]


# --- 4: a 2-star survey sends the case up again ---------------------------------------------------------------


def test_the_survey_arrives_a_day_after_the_resolution_in_evas_daytime_with_five_star_buttons(play):
    doc = play("4-low-rating-second-escalation")
    resolved = only(events(doc, "resolved"))
    assert (resolved["at"], resolved["detail"]["by"]) == ("2026-03-05T14:05:00+01:00", "bob")
    assert only(events(doc, "survey_sent"))["at"] == "2026-03-06T14:05:00+01:00"
    survey = only([m for m in to(doc, "eva") if m["buttons"]])
    assert survey["at"] == "2026-03-06T14:05:00+01:00" and "rate it 1–5 stars" in survey["text"]
    assert [label for row in survey["buttons"] for label, _ in row] == ["1 ★", "2 ★", "3 ★", "4 ★", "5 ★"]


def test_two_stars_reopen_the_ticket_and_escalate_it_to_l2_with_trigger_survey(play):
    doc = play("4-low-rating-second-escalation")
    answered = only(events(doc, "survey_answered"))
    assert (answered["at"], answered["detail"]["rating"], answered["detail"]["outcome"]) == (
        "2026-03-06T15:05:00+01:00", 2, "low-score")
    assert only(events(doc, "reopened"))["at"] == "2026-03-06T15:05:00+01:00"
    assert escalation(only(events(doc, "escalated"))) == ("2026-03-06T15:05:00+01:00", "L1", "L2", "survey", None)
    row = ticket(doc)
    assert (row["tier"], row["status"], row["survey"]) == ("L2", "open", {"rating": 2, "status": "answered"})
    assert events(doc, "review_invited") == [] and sla(doc) == []


def test_eva_is_thanked_asked_what_went_wrong_told_of_l2_and_her_next_message_is_the_comment(play):
    doc = play("4-low-rating-second-escalation")
    after = [m["text"] for m in to(doc, "eva") if m["at"] == "2026-03-06T15:05:00+01:00"]
    assert after[0] == "Thank you for rating ticket #1 2 out of 5 stars. Your feedback helps us improve our service."
    assert after[1].startswith("We are sorry that the handling of ticket #1 did not meet your expectations. "
                               "Could you tell us what went wrong?")
    assert after[2].startswith("Your issue has been escalated to Second line (ticket #1)")
    assert "within 2 hours (by 17:05, Fri 6 Mar)" in after[2]  # Eva's zone, Berlin
    assert len(after) == 3
    comment = only(events(doc, "survey_commented"))
    assert (comment["at"], comment["detail"]["comment"]) == (
        "2026-03-06T15:08:00+01:00", "The confirmation e-mail never arrived, so I still cannot log in.")


def test_l2_gets_the_card_and_the_return_visit_notice_in_its_topic(play):
    doc = play("4-low-rating-second-escalation")
    l2 = to(doc, "L2")
    card, notice, relayed = l2
    assert is_card(card, 1, "L2") and card["at"] == "2026-03-06T15:05:00+01:00"
    assert notice["text"].startswith("⚠ Return visit: Eva rated ticket #1 ★★☆☆☆ (2/5). The ticket is reopened; "
                                     "escalated L1 → L2.")
    assert relayed["text"] == "Eva (#1): The confirmation e-mail never arrived, so I still cannot log in."
    assert {m["thread"] for m in l2} == {card["thread"]} and {m["ticket"] for m in l2} == {1}


# --- 5: a 5-star survey ends with the review invitation -------------------------------------------------------


def test_five_stars_bring_thanks_and_the_review_invitation_and_nothing_goes_up(play):
    doc = play("5-five-star-review")
    answered = only(events(doc, "survey_answered"))
    assert (answered["at"], answered["detail"]["rating"], answered["detail"]["outcome"]) == (
        "2026-03-07T11:30:00+00:00", 5, "success")
    assert only(events(doc, "review_invited"))["at"] == "2026-03-07T11:30:00+00:00"
    thanks, invitation = [m["text"] for m in to(doc, "felix") if m["at"] == "2026-03-07T11:30:00+00:00"]
    assert thanks == "Thank you for rating ticket #1 5 out of 5 stars. Your feedback helps us improve our service."
    assert invitation.startswith("We are glad we could help with ticket #1!") and "left a review" in invitation
    row = ticket(doc)
    assert (row["tier"], row["priority"], row["status"], row["survey"]) == (
        "L1", "medium", "resolved", {"rating": 5, "status": "answered"})
    assert events(doc, "escalated") == events(doc, "reopened") == [] and sla(doc) == []
    assert to(doc, "L2") == []


def test_the_survey_waits_for_felixs_daytime_the_next_morning(play):
    doc = play("5-five-star-review")
    assert only(events(doc, "resolved"))["at"] == "2026-03-06T09:34:00+00:00"
    # due 24 h later, Saturday 09:34 in London: before his daytime (10:00-20:00), so at 10:00
    assert only(events(doc, "survey_sent"))["at"] == "2026-03-07T10:00:00+00:00"
    survey = only([m for m in to(doc, "felix") if m["buttons"]])
    assert survey["at"] == "2026-03-07T10:00:00+00:00"


# --- 6: a Shanghai customer outside L2's hours ----------------------------------------------------------------


def test_the_ban_is_escalated_to_l2_at_night_and_wang_is_told_in_chinese_when_l2_is_back(play):
    doc = play("6-other-timezone-after-hours")
    row = ticket(doc)
    assert (row["tier"], row["priority"], row["tags"], row["status"]) == ("L2", "high", ["account", "ban"],
                                                                         "resolved")
    assert escalation(only(events(doc, "escalated"))) == ("2026-03-10T08:00:00+08:00", "L1", "L2", "keyword",
                                                          "account-ban")
    comfort, notice, off_hours = (m["text"] for m in to(doc, "wang") if m["at"] == "2026-03-10T08:00:00+08:00")
    # L2 opens at 09:00 UTC = 17:00 in Shanghai; the high-priority first response 30 office minutes later
    assert comfort.startswith("Wang,非常抱歉给您带来不便。") and "3月10日 周二 17:30前" in comfort
    assert notice.startswith("您的问题已升级至") and "3月10日 周二 17:30前" in notice
    assert off_hours.startswith("感谢您的留言。我们的团队目前不在工作时间内") and "3月10日 周二 17:00 起" in off_hours
    card = only([m for m in to(doc, "L2") if is_card(m, 1, "L2")])
    assert "first response running, due 2026-03-10T09:30:00+00:00" in card["text"]


def test_with_the_office_hours_policy_carol_answers_in_time_and_nothing_breaches(play):
    doc = play("6-other-timezone-after-hours")
    replied = only(events(doc, "ticket_replied"))
    assert (replied["at"], replied["detail"]["first"]) == ("2026-03-10T17:10:00+08:00", True)
    # no first-response warning (50 % of 30 office minutes is 17:15), no breach of any clock; the resolution
    # clock (4 office hours from 17:00, due 21:00) warns at 50 % (19:00) and 80 % (20:12), resolved at 20:30
    assert sla(doc) == [("2026-03-10T19:00:00+08:00", "sla_warning", "resolution", 50),
                        ("2026-03-10T20:12:00+08:00", "sla_warning", "resolution", 80)]
    assert only(events(doc, "resolved"))["at"] == "2026-03-10T20:30:00+08:00"


def test_the_survey_waits_for_10_00_in_shanghai_the_morning_after_and_not_before(play):
    doc = play("6-other-timezone-after-hours")
    # resolved Tuesday 20:30, due Wednesday 20:30: after Wang's daytime (10:00-20:00), so Thursday 10:00
    assert only(events(doc, "survey_sent"))["at"] == "2026-03-12T10:00:00+08:00"
    survey = only([m for m in to(doc, "wang") if m["buttons"]])
    assert survey["at"] == "2026-03-12T10:00:00+08:00" and survey["text"].startswith("您好!您的工单 #1 已处理完毕。")
    assert ticket(doc)["survey"] == {"rating": None, "status": "sent"}


def test_without_the_policy_the_shipped_clocks_follow_l2s_calendar_with_the_same_deadlines(play):
    without, policy = play("6-other-timezone-after-hours", config=None), play("6-other-timezone-after-hours")
    # the header's claim: the shipped high-priority policy has no calendar, so it follows L2's office hours
    assert sla(without) == sla(policy)
    assert [(m["at"], m["text"]) for m in to(without, "wang")] == [(m["at"], m["text"]) for m in to(policy, "wang")]


# --- 7: the front line's own five minutes ---------------------------------------------------------------------


def test_l1s_own_five_minutes_apply_to_a_medium_ticket_warn_and_breach_in_its_thread(play):
    doc = play("7-l1-five-minute-target")
    assert sla(doc) == [("2026-03-10T10:02:30+00:00", "sla_warning", "first_response", 50),
                        ("2026-03-10T10:04:00+00:00", "sla_warning", "first_response", 80),
                        ("2026-03-10T10:05:00+00:00", "sla_breach", "first_response", None)]
    assert {e["detail"]["action"] for e in doc["events"] if e["kind"].startswith("sla_")} == {"remind-tier"}
    l1 = to(doc, "L1")
    assert is_card(l1[0], 1, "L1")
    assert [m["at"] for m in l1[1:4]] == ["2026-03-10T10:02:30+00:00", "2026-03-10T10:04:00+00:00",
                                          "2026-03-10T10:05:00+00:00"]
    assert l1[3]["text"].startswith("🚨 Ticket #1 (medium, L1): the first response deadline passed")
    row = ticket(doc)
    assert (row["tier"], row["priority"], row["status"]) == ("L1", "medium", "resolved")
    assert events(doc, "escalated") == [] and events(doc, "rule_fired") == []  # resolved before 15 minutes
    assert [m["text"][:32] for m in to(doc, "fiona")] == [
        "Hi Fiona, open Billing → Invoice", "Your ticket #1 has been resolved"]  # the answer, the resolve notice


# --- 8: a legal threat goes straight to L3 --------------------------------------------------------------------


def test_a_legal_threat_is_urgent_tagged_legal_and_goes_from_l1_straight_to_l3(play):
    doc = play("8-legal-threat-to-l3")
    row = ticket(doc)
    assert (row["tier"], row["priority"], row["tags"], row["emotion"]) == ("L3", "urgent", ["legal"], "threatening")
    assert escalation(only(events(doc, "escalated"))) == ("2026-03-11T15:00:00+00:00", "L1", "L3", "keyword",
                                                          "legal")
    assert [e["detail"]["rule"] for e in events(doc, "rule_fired")] == ["angry-customer", "legal"]
    assert to(doc, "L1") == [] and is_card(to(doc, "L3")[0], 1, "L3")


def test_greg_is_promised_l3s_urgent_deadline_in_the_comfort_and_the_notice_and_dave_meets_it(play):
    doc = play("8-legal-threat-to-l3")
    comfort, notice, answer, resolved = [m["text"] for m in to(doc, "greg")]
    assert resolved.startswith("Your ticket #1 has been resolved.")
    assert comfort == ("Dear Greg, I'm very sorry for the inconvenience. I have marked your problem as urgent "
                       "(ticket #1), and a dedicated person will contact you within 15 minutes (by 15:15, Wed 11 Mar).")
    assert notice == ("Your issue has been escalated to Admins and technical lead (ticket #1), and a response is "
                      "expected within 15 minutes (by 15:15, Wed 11 Mar). If it is an emergency, please reply "
                      "“urgent”.")
    assert answer.startswith("Hello Greg, I am the administrator in charge.")
    assert sla(doc) == []  # answered at 15:06, before the first warning (7.5 minutes)

"""Return-visit surveys against real databases (SQLite and PostgreSQL): scheduling in the customer's daytime,
the sweep (send, cancel, remind, expire; dry run; once only), answers (once, only by the customer), the
low-score second escalation with the staff notice and the comment, the review invitation, `send_now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ticket_support import open_ticket

from tgesc.db import write_transaction
from tgesc.domain.errors import DomainError
from tgesc.domain.surveys import SurveyPolicy, parse_button
from tgesc.domain.telegram import ButtonPress, User
from tgesc.models import Customer, Event, Outbox, Survey, Ticket
from tgesc.services.config.apply import set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.sweeps.surveys import sweep_surveys
from tgesc.services.tickets import actions, surveys
from tgesc.services.tickets.escalation import escalate_ticket

MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = SurveyPolicy()
HOUR = timedelta(hours=1)
ALICE = 1001  # zh, Asia/Shanghai (ticket_support's default customer)
L1_CHAT, L2_CHAT, L3_CHAT = -1001, -1002, -1003


@pytest.fixture
def desk(db):
    initialise(db, now=MON_10, actor="test")
    for code, chat in (("L1", L1_CHAT), ("L2", L2_CHAT), ("L3", L3_CHAT)):
        set_entry(db, "tiers", code, {"staff_chat": chat, "forum": code != "L1"}, actor="test", now=MON_10)
    return db


def resolved_at(db, at: datetime, *, telegram_id: int = ALICE, language: str = "zh",
                timezone: str | None = "Asia/Shanghai", policy: SurveyPolicy = POLICY) -> int:
    number = open_ticket(db, at=at - HOUR, telegram_id=telegram_id, language=language, timezone=timezone)
    actions.resolve(db, number, survey=True, actor="bob", now=at, survey_policy=policy)
    return number


def survey_of(number: int = 1) -> Survey:
    return Survey.select().join(Ticket).where(Ticket.number == number).order_by(Survey.round.desc()).get()


def kinds(number: int = 1, prefix: str = "survey.") -> list[str]:
    return [e.kind for e in Event.select().join(Ticket).where((Ticket.number == number)
                                                              & Event.kind.startswith(prefix)).order_by(Event.id)]


def rows(since: int = 0) -> list[tuple[int, str]]:
    """(chat, template or kind) of the outbox rows after row `since`."""
    return [(o.chat_id, o.payload.get("template") or o.kind)
            for o in Outbox.select().where(Outbox.id > since).order_by(Outbox.id)]


def newest_row() -> int:
    return max((o.id for o in Outbox.select(Outbox.id)), default=0)


def press(db, survey: Survey, stars: int, *, user_id: int = ALICE, at: datetime, query: str = "q1") -> Outbox:
    """A press on the survey's `stars` button; the answer-callback row it wrote."""
    handled = surveys.on_press(db, ButtonPress(query, User(user_id), user_id, 77, f"survey:{survey.id}:{stars}"), at,
                               policy=POLICY)
    assert handled
    return Outbox.get(Outbox.dedupe_key == f"press-{query}")


def sent_survey(db, at: datetime = MON_10) -> tuple[int, Survey, datetime]:
    """A ticket resolved at `at` and its survey swept out when due; (number, survey, when it went out)."""
    number = resolved_at(db, at)
    due = survey_of(number).due_at
    assert [d["action"] for d in sweep_surveys(db, now=due, policy=POLICY)] == ["sent"]
    return number, survey_of(number), due


# --- scheduling -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("resolved", "language", "timezone", "due"), [
    # 23:00 in Shanghai: +24 h is 23:00 again, past 20:00, so 10:00 the morning after
    (datetime(2026, 3, 2, 23, 0, tzinfo=SHANGHAI), "zh", "Asia/Shanghai", datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)),
    (datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI), "zh", "Asia/Shanghai", datetime(2026, 3, 3, 15, 0, tzinfo=SHANGHAI)),
    # no zone known: the language's usual zone (ru: Moscow), 06:00 there -> 10:00
    (datetime(2026, 3, 2, 6, 0, tzinfo=ZoneInfo("Europe/Moscow")), "ru", None,
     datetime(2026, 3, 3, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))),
    # the customer's own zone wins over their language's
    (datetime(2026, 3, 2, 21, 0, tzinfo=ZoneInfo("America/New_York")), "zh", "America/New_York",
     datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("America/New_York"))),
])
def test_resolve_schedules_the_survey_after_the_delay_in_the_customers_daytime(desk, resolved, language, timezone,
                                                                              due):
    resolved_at(desk, resolved.astimezone(UTC), language=language, timezone=timezone)
    survey = survey_of()
    assert (survey.round, survey.status, survey.due_at) == (1, "scheduled", due.astimezone(UTC))


def test_the_delay_and_window_come_from_the_policy(desk):
    policy = SurveyPolicy(delay=timedelta(hours=36), daytime=(9 * 60, 12 * 60))
    resolved_at(desk, datetime(2026, 3, 2, 13, 0, tzinfo=SHANGHAI).astimezone(UTC), policy=policy)
    assert survey_of().due_at == datetime(2026, 3, 4, 9, 0, tzinfo=SHANGHAI)  # 01:00 on the 4th -> 09:00


def test_without_a_policy_resolve_reads_the_process_settings(desk, monkeypatch):
    monkeypatch.setenv("TGESC_SURVEY_DELAY", "48h")
    monkeypatch.setenv("TGESC_SURVEY_HOURS", "00:00-24:00")
    number = open_ticket(desk, at=MON_10 - HOUR)
    actions.resolve(desk, number, survey=True, actor="bob", now=MON_10)
    assert survey_of().due_at == MON_10 + timedelta(hours=48)


# --- the sweep ------------------------------------------------------------------------------------------


def test_the_sweep_sends_the_survey_once_with_star_buttons_when_due(desk):
    resolved_at(desk, MON_10)
    due = survey_of().due_at
    assert sweep_surveys(desk, now=due - timedelta(seconds=1), policy=POLICY) == []
    done = sweep_surveys(desk, now=due, policy=POLICY)
    survey = survey_of()
    assert done == [{"survey": survey.id, "ticket": 1, "round": 1, "action": "sent", "due_at": due.isoformat(),
                     "remind_at": (due + timedelta(hours=24)).isoformat()}]
    assert (survey.status, survey.sent_at, survey.remind_at, survey.due_at) == (
        "sent", due, due + timedelta(hours=24), due + timedelta(hours=24))
    row = Outbox.get(Outbox.dedupe_key == f"survey-{survey.id}")
    assert (row.chat_id, row.payload) == (ALICE, {"template": "survey", "survey": survey.id})
    assert row.text.startswith("您好!您的工单 #1 已处理完毕。")  # the template in the customer's language
    assert [parse_button(b["data"]) for b in row.buttons[0]] == [(survey.id, n) for n in range(1, 6)]
    assert sweep_surveys(desk, now=due + HOUR, policy=POLICY) == []  # nothing is sent twice
    assert rows() == [(ALICE, "resolved_notice"), (ALICE, "survey")] and kinds() == ["survey.sent"]


def test_a_dry_run_says_what_would_happen_and_changes_nothing(desk):
    resolved_at(desk, MON_10)
    due = survey_of().due_at
    assert [d["action"] for d in sweep_surveys(desk, now=due, dry_run=True, policy=POLICY)] == ["sent"]
    assert survey_of().status == "scheduled" and rows() == [(ALICE, "resolved_notice")] and kinds() == []


def test_no_survey_when_the_customer_has_another_open_ticket_by_then(desk):
    resolved_at(desk, MON_10)
    open_ticket(desk, at=MON_10 + HOUR, problem="another problem")  # ticket #2, still open when #1's survey is due
    due = survey_of().due_at
    done = sweep_surveys(desk, now=due, policy=POLICY)
    assert done == [{"survey": survey_of().id, "ticket": 1, "round": 1, "action": "cancelled",
                     "due_at": due.isoformat(), "reason": "the customer has another open ticket, #2"}]
    assert survey_of().status == "cancelled" and rows() == [(ALICE, "resolved_notice")]
    assert kinds() == ["survey.cancelled"]
    event = Event.get(Event.kind == "survey.cancelled")
    assert (event.actor, event.details["reason"]) == ("system", "the customer has another open ticket, #2")


def test_no_survey_to_a_customer_telegram_refuses(desk):
    resolved_at(desk, MON_10)
    Customer.update(unreachable_at=MON_10 + HOUR).execute()
    assert [d["action"] for d in sweep_surveys(desk, now=survey_of().due_at, policy=POLICY)] == ["cancelled"]


def test_no_survey_to_a_banned_customer_while_the_ban_lasts(desk):
    from tgesc.services.customers import bans

    resolved_at(desk, MON_10)
    with write_transaction(desk):
        bans.ban(desk, Customer.get(), until=survey_of().due_at + HOUR, reason="spam", actor="dave", now=MON_10)
    [done] = sweep_surveys(desk, now=survey_of().due_at, policy=POLICY)
    assert (done["action"], done["reason"]) == ("cancelled", "the customer is banned (`tgesc customer show` says "
                                                             "until when)")


def test_reopening_cancels_the_scheduled_survey(desk):
    resolved_at(desk, MON_10)
    actions.reopen(desk, 1, actor="bob", now=MON_10 + HOUR)
    assert survey_of().status == "cancelled"
    assert sweep_surveys(desk, now=MON_10 + timedelta(days=3), policy=POLICY) == []


def test_unanswered_one_reminder_then_it_expires(desk):
    _, survey, sent = sent_survey(desk)
    remind = sent + POLICY.remind_after
    assert sweep_surveys(desk, now=remind - timedelta(seconds=1), policy=POLICY) == []
    assert [d["action"] for d in sweep_surveys(desk, now=remind, policy=POLICY)] == ["reminded"]
    reminded = survey_of()
    assert (reminded.status, reminded.expires_at, reminded.due_at) == (
        "reminded", remind + POLICY.expire_after, remind + POLICY.expire_after)
    # the reminder has the buttons again
    assert rows() == [(ALICE, "resolved_notice"), (ALICE, "survey"), (ALICE, "survey_reminder")]
    assert Outbox.select().order_by(Outbox.id.desc()).get().buttons is not None
    assert sweep_surveys(desk, now=remind + HOUR, policy=POLICY) == []
    assert [d["action"] for d in sweep_surveys(desk, now=remind + POLICY.expire_after, policy=POLICY)] == ["expired"]
    assert survey_of().status == "expired" and len(rows()) == 3
    assert kinds() == ["survey.sent", "survey.reminded", "survey.expired"]
    assert sweep_surveys(desk, now=remind + timedelta(days=30), policy=POLICY) == []
    notice = press(desk, survey, 5, at=remind + timedelta(days=30))  # too late: nothing is recorded
    assert notice.text == "这份问卷已关闭。" and survey_of().stars is None


def test_a_survey_reopened_meanwhile_gets_no_reminder(desk):
    number, _, sent = sent_survey(desk)
    actions.reopen(desk, number, actor="bob", now=sent + HOUR)
    done = sweep_surveys(desk, now=sent + POLICY.remind_after, policy=POLICY)
    assert [(d["action"], d["reason"]) for d in done] == [("cancelled", "ticket #1 is open again")]


# --- answers --------------------------------------------------------------------------------------------


def test_five_stars_are_a_success_thanked_with_a_review_invitation(desk):
    number, survey, sent = sent_survey(desk)
    before = newest_row()
    notice = press(desk, survey, 5, at=sent + HOUR)
    answered = survey_of()
    assert (answered.status, answered.stars, answered.answered_at, answered.answered_by) == (
        "answered", 5, sent + HOUR, ALICE)
    assert (notice.kind, notice.chat_id, notice.text) == ("answer-callback", ALICE, "谢谢!★★★★★")
    assert rows(before) == [(ALICE, "survey_thanks"), (ALICE, "review_invitation"), (ALICE, "answer-callback")]
    assert Ticket.get(Ticket.number == number).status == "resolved"
    event = Event.get(Event.kind == "survey.answered")
    assert (event.actor, event.details) == (f"customer:{ALICE}", {"survey": survey.id, "round": 1, "stars": 5,
                                                                   "outcome": "success"})


def test_an_answer_counts_once_and_only_from_the_customer(desk):
    _, survey, sent = sent_survey(desk)
    Customer.create(telegram_id=2002, language="en", created_at=MON_10, updated_at=MON_10)
    stranger = press(desk, survey, 1, user_id=2002, at=sent + HOUR, query="q0")
    assert stranger.text == "This survey is for another customer." and survey_of().status == "sent"
    press(desk, survey, 4, at=sent + 2 * HOUR, query="q1")
    before = newest_row()
    again = press(desk, survey, 1, at=sent + 3 * HOUR, query="q2")
    assert again.text == "您已经评过分了:★★★★☆"
    assert (survey_of().stars, survey_of().answered_at) == (4, sent + 2 * HOUR)
    assert rows(before) == [(ALICE, "answer-callback")] and kinds().count("survey.answered") == 1
    # a replayed press (the same query) writes nothing
    assert surveys.on_press(desk, ButtonPress("q2", User(ALICE), ALICE, 77, f"survey:{survey.id}:2"),
                            sent + 4 * HOUR, policy=POLICY)
    assert rows(before) == [(ALICE, "answer-callback")]


def test_a_press_that_is_no_survey_button_is_left_to_the_caller(desk):
    assert not surveys.on_press(desk, ButtonPress("q", User(ALICE), ALICE, 7, "menu:1"), MON_10, policy=POLICY)
    assert not surveys.on_press(desk, ButtonPress("q", User(ALICE), ALICE, 7, "survey:1:9"), MON_10, policy=POLICY)
    assert rows() == []


def test_a_press_on_an_unknown_survey_changes_nothing(desk):
    handled = surveys.on_press(desk, ButtonPress("q", User(ALICE), ALICE, 7, "survey:999:2"), MON_10, policy=POLICY)
    assert handled and rows() == [(ALICE, "answer-callback")] and Outbox.get().text == "This survey is closed."


def test_two_stars_reopen_escalate_to_l2_notify_the_staff_and_the_next_message_is_the_comment(desk):
    number, survey, sent = sent_survey(desk)
    before, at = newest_row(), sent + HOUR
    press(desk, survey, 2, at=at)
    ticket = Ticket.get(Ticket.number == number)
    assert (ticket.status, ticket.tier.code, ticket.clocks_started_at, ticket.resolved_at) == ("open", "L2", at, None)
    assert ticket.first_response_due is not None  # the clocks run again
    escalated = Event.get(Event.kind == "ticket.escalated")
    assert escalated.details == {"from": "L1", "to": "L2", "trigger": "survey", "quick": True, "priority": "medium",
                                 "down": False, "reason": "return-visit survey: the customer rated 2/5"}
    assert [e.kind for e in Event.select().where(Event.at == at).order_by(Event.id)] == [
        "survey.answered", "ticket.reopened", "ticket.escalated"]
    assert rows(before) == [(ALICE, "survey_thanks"), (ALICE, "low_score_followup"), (ALICE, "escalation_notice"),
                            (L2_CHAT, "card"), (L2_CHAT, "message"), (ALICE, "answer-callback")]
    notice = Outbox.get((Outbox.chat_id == L2_CHAT) & (Outbox.kind == "message"))
    assert notice.payload == {"ticket_thread": True, "survey": survey.id}
    assert notice.text.startswith("⚠ Return visit: Ana rated ticket #1 ★★☆☆☆ (2/5). The ticket is reopened; "
                                  "escalated L1 → L2.")
    # the customer's next message is the comment; the one after is not
    assert surveys.take_comment(ticket, "the refund never arrived", at + HOUR)
    assert not surveys.take_comment(ticket, "hello?", at + 2 * HOUR)
    assert survey_of().comment == "the refund never arrived"
    assert kinds()[-1] == "survey.commented"


def test_a_low_score_on_a_ticket_at_the_tier_already_stays_there_and_tells_its_staff(desk):
    number = open_ticket(desk, at=MON_10)
    escalate_ticket(desk, number, to="L2", reason="needs billing", actor="bob", now=MON_10, quick=True)
    actions.resolve(desk, number, survey=True, actor="carol", now=MON_10 + HOUR, survey_policy=POLICY)
    sweep_surveys(desk, now=survey_of().due_at, policy=POLICY)
    at = survey_of().due_at + HOUR
    press(desk, survey_of(), 3, at=at)
    ticket = Ticket.get(Ticket.number == number)
    assert (ticket.status, ticket.tier.code) == ("open", "L2")
    assert Event.select().where(Event.kind == "ticket.escalated").count() == 1  # only the first one
    notice = Outbox.select().where((Outbox.chat_id == L2_CHAT) & (Outbox.kind == "message")).get()
    assert "The ticket is reopened; it stays at L2." in notice.text


def test_the_low_score_tier_is_configurable(desk):
    _, survey, sent = sent_survey(desk)
    policy = SurveyPolicy(low_score_tier="L3")
    with write_transaction(desk):
        assert surveys.answer(desk, survey.id, 1, user_id=ALICE, now=sent + HOUR, policy=policy) == (
            "recorded", "zh", 1)
    assert Ticket.get().tier.code == "L3"


def test_a_comment_only_after_a_low_score(desk):
    number, survey, sent = sent_survey(desk)
    press(desk, survey, 4, at=sent + HOUR)
    actions.reopen(desk, number, actor="bob", now=sent + 2 * HOUR)
    assert not surveys.take_comment(Ticket.get(), "thanks again", sent + 3 * HOUR)
    assert survey_of().comment is None


# --- send now -------------------------------------------------------------------------------------------


def test_send_now_sends_the_scheduled_survey_at_once(desk):
    resolved_at(desk, MON_10)
    record = surveys.send_now(desk, 1, actor="bob", now=MON_10 + HOUR, policy=POLICY)
    assert (record["status"], record["sent_at"], record["next"], record["next_at"]) == (
        "sent", MON_10 + HOUR, "remind", MON_10 + HOUR + POLICY.remind_after)
    assert rows() == [(ALICE, "resolved_notice"), (ALICE, "survey")] and kinds() == ["survey.sent", "survey.sent_now"]
    with pytest.raises(DomainError, match="ticket #1 has no scheduled survey"):
        surveys.send_now(desk, 1, actor="bob", now=MON_10 + 2 * HOUR, policy=POLICY)


def test_send_now_refuses_when_the_survey_may_not_go_out(desk):
    resolved_at(desk, MON_10)
    open_ticket(desk, at=MON_10 + HOUR, problem="another")
    with pytest.raises(DomainError, match="was not sent: the customer has another open ticket, #2"):
        surveys.send_now(desk, 1, actor="bob", now=MON_10 + 2 * HOUR, policy=POLICY)
    assert survey_of().status == "scheduled" and rows() == [(ALICE, "resolved_notice")]


# --- reading --------------------------------------------------------------------------------------------


def test_list_and_show(desk):
    resolved_at(desk, MON_10)
    resolved_at(desk, MON_10 + HOUR, telegram_id=1002, language="en", timezone=None)
    sweep_surveys(desk, now=survey_of(1).due_at, policy=POLICY)
    assert [(r["ticket"], r["status"]) for r in surveys.list_surveys(desk)] == [(2, "scheduled"), (1, "sent")]
    assert [r["ticket"] for r in surveys.list_surveys(desk, statuses=("sent",))] == [1]
    assert [r["ticket"] for r in surveys.list_surveys(desk, ticket=2)] == [2]
    shown = surveys.show(desk, survey_of(2).id)
    assert (shown["zone"], shown["language"], shown["next"], shown["customer"]) == ("UTC", "en", "send", 1002)

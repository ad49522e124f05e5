"""Ingest and the escalation workflow against real databases: rules in three languages, escalation side
effects (exact events and outbox rows), reopening, waiting, idempotency, transitions and concurrency."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from support import private_message

from tgesc.domain.errors import DomainError
from tgesc.models import Event, Firing, Message, MessageEdit, Outbox, Survey, Ticket
from tgesc.services.config.apply import set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.tickets import actions
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.escalation import escalate_ticket
from tgesc.services.tickets.ingest import ingest_message

MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # Monday: the default L2 calendar (09-18 UTC) is open


@pytest.fixture
def desk(db):
    initialise(db, now=MON_10, actor="test")
    return db


class Customer:
    """Sends messages from one Telegram user, a minute apart."""

    def __init__(self, db, user_id: int = 1001, language: str = "en", name: str = "Alice") -> None:
        self.db, self.user_id, self.language, self.name, self.count = db, user_id, language, name, 0

    def says(self, text: str, minutes: float | None = None, **extra) -> object:
        self.count += 1
        at = MON_10 + timedelta(minutes=self.count if minutes is None else minutes)
        return ingest_message(self.db, private_message(self.user_id, self.count, at, text, first_name=self.name,
                                                       language_code=self.language, **extra), now=at)


def events(number: int = 1) -> list[tuple[str, str]]:
    ticket = Ticket.get(Ticket.number == number)
    return [(e.kind, e.actor) for e in Event.select().where(Event.ticket == ticket).order_by(Event.id)]


def sent() -> list[tuple[int, str]]:
    return [(o.chat_id, o.payload.get("template") or o.kind) for o in Outbox.select().order_by(Outbox.id)]


def test_a_plain_question_opens_one_ticket_and_replays_change_nothing(desk):
    alice = Customer(desk)
    first = alice.says("Hello, how do I change my e-mail address?")
    assert (first.ticket, first.opened) == (1, True)
    replay = ingest_message(desk, private_message(1001, 1, MON_10, "changed?"), now=MON_10 + timedelta(hours=1))
    assert replay.duplicate and replay.ticket == 1
    assert Message.select().count() == 1 and Outbox.select().count() == 0
    ticket = Ticket.get()
    assert (ticket.tier.code, ticket.priority, ticket.emotion, ticket.status) == ("L1", "medium", "calm", "open")
    assert ticket.problem == "Hello, how do I change my e-mail address?"
    assert events() == [("ticket.opened", "customer:1001")]


@pytest.mark.parametrize(("language", "text", "phrase"), [
    ("en", "I was charged twice, I want a REFUND", "refund"),
    ("zh", "我要退款，谢谢", "退款"),
    ("ru", "Списали два раза, верните деньги", "верните деньги"),
])
def test_refund_keywords_in_three_languages_escalate_with_comfort_first(desk, language, text, phrase):
    Customer(desk, language=language).says(text)
    ticket = Ticket.get()
    assert (ticket.tier.code, ticket.priority, ticket.tags) == ("L2", "high", ["billing", "refund"])
    assert sent() == [(1001, "comfort"), (1001, "escalation_notice")]  # L2 is open on Monday 10:00 UTC
    fired = Event.get(Event.kind == "rule.fired")
    assert fired.details["rule"] == "refund" and f'"{phrase}"' in fired.details["why"]
    assert events() == [("ticket.opened", "customer:1001"), ("rule.fired", "rule:refund"),
                        ("ticket.tags", "rule:refund"), ("ticket.priority", "rule:refund"),
                        ("ticket.escalated", "rule:refund")]


def test_one_escalation_writes_exactly_its_event_and_outbox_rows(desk):
    set_entry(desk, "tiers", "L2", {"staff_chat": -100222, "forum": True}, actor="test", now=MON_10)
    Customer(desk).says("My order arrived broken")
    actions.add_tried(desk, 1, "Asked for a photo", actor="bob", now=MON_10 + timedelta(minutes=5))
    actions.set_checklist(desk, 1, first_occurred_at=MON_10 - timedelta(days=1), evidence=True,
                          expected_resolution_by=MON_10 + timedelta(days=1), actor="bob", now=MON_10)
    before = Outbox.select().count()
    escalate_ticket(desk, 1, to="L2", reason="needs a replacement", actor="bob", now=MON_10 + timedelta(minutes=6))
    rows = list(Outbox.select().order_by(Outbox.id))[before:]
    assert [(r.chat_id, r.kind, r.payload.get("template")) for r in rows] == [
        (1001, "message", "escalation_notice"), (-100222, "card", None)]
    assert "Second line (ticket #1)" in rows[0].text and "within 2 hours (by 12:06, Mon 2 Mar)" in rows[0].text
    assert rows[1].payload == {"forum": True, "tier": "L2", "title": "#1 · Alice"}
    assert "My order arrived broken" in rows[1].text and "Asked for a photo (bob)" in rows[1].text
    escalated = Event.get(Event.kind == "ticket.escalated")
    assert (escalated.actor, escalated.details) == ("bob", {
        "from": "L1", "to": "L2", "trigger": "manual", "reason": "needs a replacement", "quick": False,
        "priority": "medium", "down": False})
    assert Event.select().where(Event.kind == "ticket.escalated").count() == 1


def test_three_requests_for_a_manager_in_russian_escalate(desk):
    ivan = Customer(desk, user_id=2002, language="ru", name="Иван")
    ivan.says("Позовите менеджера")
    ivan.says("Мне нужен руководитель")
    assert Ticket.get().tier.code == "L1"
    ivan.says("Хочу пожаловаться, дайте менеджера!")
    ticket = Ticket.get()
    assert ticket.tier.code == "L2" and ticket.manager_requests_in_row == 3
    assert Event.get(Event.kind == "rule.fired").details["rule"] == "asks-for-manager"


def test_a_message_in_between_resets_the_manager_count(desk):
    alice = Customer(desk)
    alice.says("I want a manager")
    alice.says("ok, here is my order number 123")
    alice.says("manager please")
    alice.says("get me your supervisor")
    assert Ticket.get().tier.code == "L1"


def test_threats_raise_priority_escalate_and_staff_can_override_the_emotion(desk):
    Customer(desk).says("THIS IS UNACCEPTABLE!!! I will expose you on every forum")
    ticket = Ticket.get()
    assert (ticket.emotion, ticket.priority, ticket.tier.code) == ("threatening", "high", "L2")
    actions.set_emotion(desk, 1, "dissatisfied", actor="bob", now=MON_10)
    Customer(desk, user_id=1001).says("I AM FURIOUS!!! SCAM", minutes=30)
    assert Ticket.get().emotion == "dissatisfied"


def test_a_legal_threat_goes_straight_to_l3_as_the_article_says(desk):
    Customer(desk).says("THIS IS UNACCEPTABLE!!! My lawyer will hear about this")
    ticket = Ticket.get()
    assert (ticket.emotion, ticket.priority, ticket.tier.code, ticket.tags) == ("threatening", "urgent", "L3",
                                                                                 ["legal"])
    fired = [e.details["rule"] for e in Event.select().where(Event.kind == "rule.fired")]
    assert fired == ["angry-customer", "legal"]


def test_urgent_reply_after_a_notice_raises_priority_once(desk):
    alice = Customer(desk)
    alice.says("refund my money")
    assert Ticket.get().priority == "high"
    alice.says("urgent")
    assert Ticket.get().priority == "urgent"
    fired = [e.details["rule"] for e in Event.select().where(Event.kind == "rule.fired")]
    assert fired == ["refund", "customer-says-urgent"]
    actions.set_priority(desk, 1, "high", actor="bob", now=MON_10 + timedelta(minutes=3))
    alice.says("URGENT!")
    assert Ticket.get().priority == "high"


def test_tickets_escalated_before_notice_firings_get_them_from_the_migration(desk):
    alice = Customer(desk)
    alice.says("refund my money")
    Firing.delete().where(Firing.kind == "notice").execute()  # as escalated before migration 0004
    importlib.import_module("tgesc.migrations.0004_notice_firings").up(None, desk)
    alice.says("urgent")
    assert Ticket.get().priority == "urgent"


def test_urgent_without_a_notice_does_nothing(desk):
    Customer(desk).says("urgent")
    assert Ticket.get().priority == "medium"


def test_faq_answers_front_line_questions_once(desk):
    alice = Customer(desk)
    alice.says("How do I reset two-step verification?")
    alice.says("two-step verification again?")
    assert sent() == [(1001, "faq_reset_2fa")]
    assert "Two-Step Verification" in Outbox.get().text and "#1" in Outbox.get().text


def test_attachments_count_as_evidence_and_the_problem_keeps_the_first_words(desk):
    alice = Customer(desk)
    alice.says("The app crashes on start")
    alice.says("", media_type="photo", file_id="AgADphoto")
    alice.says("It started yesterday")
    ticket = Ticket.get()
    assert ticket.evidence_provided
    assert ticket.problem == "The app crashes on start\nIt started yesterday"
    assert [(m.media_type, m.file_id) for m in Message.select().order_by(Message.id)][1] == ("photo", "AgADphoto")


def test_edits_are_recorded_as_edits(desk):
    Customer(desk).says("my ordr number is 12")
    edited = ingest_message(desk, private_message(1001, 1, MON_10, "my order number is 123",
                                                  edited_at=MON_10 + timedelta(minutes=2)),
                            now=MON_10 + timedelta(minutes=2))
    assert edited.edit and MessageEdit.get().text == "my order number is 123"
    assert Message.get().text == "my ordr number is 12"


def test_reopen_within_the_window_and_a_new_ticket_after_it(desk):
    alice = Customer(desk)
    alice.says("Problem one")
    actions.resolve(desk, 1, survey=True, actor="bob", now=MON_10 + timedelta(hours=1))
    assert Survey.get().status == "scheduled"
    again = alice.says("It is broken again", minutes=120)
    assert again.reopened and again.ticket == 1 and Ticket.get().status == "open"
    assert Survey.get().status == "cancelled"
    actions.resolve(desk, 1, survey=False, actor="bob", now=MON_10 + timedelta(hours=3))
    later = alice.says("A new question", minutes=5 * 24 * 60)
    assert later.opened and later.ticket == 2


def test_a_waiting_ticket_resumes_when_the_customer_writes(desk):
    alice = Customer(desk)
    alice.says("Where is my parcel?")
    ticket = Ticket.get()
    ticket.status, ticket.first_responded_at = "waiting", MON_10 + timedelta(minutes=2)
    from tgesc.services.clocks import sla

    sla.begin_wait(ticket, MON_10 + timedelta(minutes=3))
    tickets.save(ticket, MON_10)
    alice.says("Here is the tracking number", minutes=63)
    ticket = Ticket.get()
    assert ticket.status == "open" and ticket.paused_since is None and len(ticket.sla_paused) == 1
    assert ticket.awaiting_reply_since == MON_10 + timedelta(minutes=63)
    assert ("ticket.resumed", "customer:1001") in events()


def test_transitions_and_refusals(desk):
    Customer(desk).says("hello")
    now = MON_10 + timedelta(hours=1)
    actions.close(desk, 1, actor="bob", now=now)
    with pytest.raises(DomainError, match="ticket #1 is closed; it cannot be resolved"):
        actions.resolve(desk, 1, survey=True, actor="bob", now=now)
    actions.reopen(desk, 1, actor="bob", now=now)
    assert Ticket.get().status == "open" and Ticket.get().clocks_started_at == now
    with pytest.raises(DomainError, match="already at L1"):
        escalate_ticket(desk, 1, to="L1", reason="x", actor="bob", now=now, quick=True)
    escalate_ticket(desk, 1, to=None, reason="outage", actor="bob", now=now, quick=True)
    assert Ticket.get().tier.code == "L3"
    with pytest.raises(DomainError, match="pass --down"):
        escalate_ticket(desk, 1, to="L2", reason="back", actor="bob", now=now, quick=True)
    escalate_ticket(desk, 1, to="L2", reason="back", actor="bob", now=now, quick=True, down=True)
    assert Ticket.get().tier.code == "L2"


def test_a_stale_copy_cannot_overwrite_a_newer_change(desk):
    Customer(desk).says("hello")
    stale = Ticket.get()
    escalate_ticket(desk, 1, to="L2", reason="first", actor="ann", now=MON_10, quick=True)
    stale.priority = "low"
    with pytest.raises(DomainError, match="was changed by someone else meanwhile"):
        tickets.save(stale, MON_10)
    assert (Ticket.get().tier.code, Ticket.get().priority) == ("L2", "medium")


def test_unresolved_for_fifteen_minutes_escalates_when_the_sweep_runs(desk):
    from tgesc.services.tickets.reactions import react_to_time

    Customer(desk).says("Where is my parcel?", minutes=0)
    ticket = Ticket.get()
    assert ticket.escalate_unresolved_at == MON_10 + timedelta(minutes=15)
    assert not react_to_time(desk, ticket, now=MON_10 + timedelta(minutes=14))
    assert react_to_time(desk, ticket, now=MON_10 + timedelta(minutes=15))
    tickets.save(ticket, MON_10 + timedelta(minutes=15))
    ticket = Ticket.get()
    assert ticket.tier.code == "L2" and ticket.escalate_unresolved_at is None
    assert Event.get(Event.kind == "ticket.escalated").details["trigger"] == "rule:unresolved-15m"
    actions.resolve(desk, 1, survey=False, actor="bob", now=MON_10 + timedelta(hours=1))
    assert Ticket.get().escalate_unresolved_at is None


def test_rule_edits_apply_to_the_next_message(desk):
    alice = Customer(desk)
    alice.says("hello")  # the rules are now cached for this database
    set_entry(desk, "rules", "refund", {"enabled": False}, actor="test", now=MON_10)
    alice.says("I want a refund")
    assert Ticket.get().tier.code == "L1"
    set_entry(desk, "rules", "refund", {"enabled": True}, actor="test", now=MON_10)
    alice.says("refund, please")
    assert Ticket.get().tier.code == "L2"

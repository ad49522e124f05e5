"""The timer sweeps against real databases with a virtual `now`: SLA warnings and breaches routed as the
policy says, once per (ticket, clock, threshold) even with two sweeps at once or a re-run after a crash,
quiet hours, the customer's update on a resolution breach, escalation, a new run of a clock, dry runs, and
the unresolved-for rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support import at_once, private_message

from tgesc.db import write_transaction
from tgesc.models import Customer, Event, Firing, Outbox, Ticket
from tgesc.services.clocks import sla
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.outbox import rows as outbox
from tgesc.services.sweeps.sla import due_for_sla, sweep_sla, sweep_unresolved
from tgesc.services.tickets import actions, lifecycle
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.ingest import ingest_message

MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
L1_CHAT, L2_CHAT = -100111, -100222
ANN, LEE, CARL, OLGA = 5001, 5002, 5003, 5004  # admin, L1 lead, L1 agent, inactive L1 lead


def at(hour: int, minute: int = 0, second: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def desk(db):
    initialise(db, now=MON_10, actor="test")
    # these tests pin the priority table: L1 without its own five-minute first-response target
    set_entry(db, "tiers", "L1", {"staff_chat": L1_CHAT, "first_response": None}, actor="test", now=MON_10)
    set_entry(db, "tiers", "L2", {"staff_chat": L2_CHAT, "forum": True}, actor="test", now=MON_10)
    for handle, fields in {"ann": {"id": ANN, "role": "admin", "language": "zh"},
                           "lee": {"id": LEE, "role": "lead", "tiers": ["L1"], "language": "ru"},
                           "carl": {"id": CARL, "tiers": ["L1"]},
                           "olga": {"id": OLGA, "role": "lead", "tiers": ["L1"], "active": False}}.items():
        add_entry(db, "staff", handle, fields, actor="test", now=MON_10)
    return db


def open_ticket(db, priority: str, opened: datetime = MON_10, telegram_id: int = 1001) -> int:
    with write_transaction(db):
        customer = Customer.get_or_none(Customer.telegram_id == telegram_id) or Customer.create(
            telegram_id=telegram_id, first_name="Alice", language="en", created_at=opened, updated_at=opened)
        ticket = lifecycle.create(db, customer, "My order has not arrived", opened, priority)
        tickets.save(ticket, opened)
    return ticket.number


def ticket(number: int = 1) -> Ticket:
    return Ticket.get(Ticket.number == number)


def change(number: int, now: datetime, **values) -> None:
    """What a staff reply or a customer message does to the clocks (relay.staff_reply, ingest)."""
    with write_transaction(Ticket._meta.database):
        row = ticket(number)
        for name, value in values.items():
            setattr(row, name, value)
        sla.refresh(row)
        tickets.save(row, now)


def fired(rows) -> list[tuple]:
    return [(r["ticket"], r["clock"], r["level"], r["action"], tuple(r["recipients"])) for r in rows]


def sent(after: int = 0) -> list[tuple[int, str | None]]:
    rows = Outbox.select().where(Outbox.id > after).order_by(Outbox.id)
    return [(o.chat_id, o.payload.get("template")) for o in rows]


THREAD = f"chat:{L1_CHAT}"
HOUR = timedelta(hours=1)
ROUTES = {  # priority: first response and resolution budgets, the breach action, its recipients, private notices
    "urgent": (HOUR / 4, 2 * HOUR, "notify-admins", ("staff:ann", THREAD), [(ANN, "sla_breach")]),
    "high": (HOUR / 2, 4 * HOUR, "notify-leads", ("staff:lee", THREAD), [(LEE, "sla_breach")]),
    "medium": (2 * HOUR, 24 * HOUR, "remind-tier", (THREAD,), []),
    "low": (4 * HOUR, 48 * HOUR, "none", (), []),
}


@pytest.mark.parametrize("priority", list(ROUTES))
def test_a_first_response_breach_warns_once_per_threshold_and_notifies_as_the_table_says(desk, priority):
    budget, resolution, action, recipients, private = ROUTES[priority]
    open_ticket(desk, priority)
    assert sweep_sla(desk, now=MON_10 + budget * 0.5 - timedelta(seconds=1)) == []
    rows = []
    for share in (0.5, 0.8, 1.0):
        rows += sweep_sla(desk, now=MON_10 + budget * share)
        assert sweep_sla(desk, now=MON_10 + budget * share) == []  # a re-run fires nothing
    assert fired(rows) == [(1, "first_response", "warn-50", "remind-tier", (THREAD,)),
                           (1, "first_response", "warn-80", "remind-tier", (THREAD,)),
                           (1, "first_response", "breach", action, recipients)]
    thread = [(L1_CHAT, "sla_warning"), (L1_CHAT, "sla_warning")]
    assert sent() == thread + private + ([(L1_CHAT, "sla_breach")] if action != "none" else [])
    assert all(o.payload.get("ticket_thread") for o in Outbox.select().where(Outbox.chat_id == L1_CHAT))
    assert ticket().next_check_at == MON_10 + resolution / 2  # first response is done: resolution's warning next
    assert sweep_sla(desk, now=MON_10 + budget + timedelta(minutes=1)) == []
    assert Firing.select().where(Firing.kind == "first_response").count() == 3
    assert [(e.kind, e.details["level"], e.details["action"]) for e in Event.select().where(
        Event.kind.startswith("sla.")).order_by(Event.id)] == [
        ("sla.warning", "warn-50", "remind-tier"), ("sla.warning", "warn-80", "remind-tier"),
        ("sla.breach", "breach", action)]


def test_notices_say_which_clock_how_long_and_what_to_do_in_each_recipients_language(desk):
    open_ticket(desk, "high")
    sweep_sla(desk, now=at(10, 15))
    sweep_sla(desk, now=at(10, 31))
    rows = list(Outbox.select().order_by(Outbox.id))
    assert rows[0].text == ("⏳ Ticket #1 (high, L1): the first response is due in 15 minutes (by 10:30, Mon 2 Mar "
                            "UTC). Reply to the customer in this thread.")
    lead = next(o for o in rows if o.chat_id == LEE)  # Russian, as lee reads
    assert lead.text.startswith("🚨 Заявка №1 (high, L1): срок «первый ответ» пропущен на 1 минута (был до 10:30")
    assert "tgesc ticket show 1" in lead.text
    thread = rows[-1]
    assert thread.chat_id == L1_CHAT and thread.text.startswith(
        "🚨 Ticket #1 (high, L1): the first response deadline passed 1 minute ago")


def test_the_thread_speaks_the_language_most_of_the_tiers_staff_have(desk):
    add_entry(desk, "staff", "rita", {"id": 5005, "tiers": ["L1"], "language": "ru"}, actor="test", now=MON_10)
    open_ticket(desk, "urgent")
    sweep_sla(desk, now=at(10, 8))
    assert Outbox.get().text.startswith("⏳ Заявка №1 (urgent, L1)")  # lee and rita (ru) outnumber carl (en)


def test_notify_leads_falls_back_to_the_admins_when_the_tier_has_no_active_lead(desk):
    set_entry(desk, "staff", "lee", {"active": False}, actor="test", now=MON_10)
    open_ticket(desk, "high")
    rows = sweep_sla(desk, now=at(10, 30))
    assert fired(rows)[-1] == (1, "first_response", "breach", "notify-leads", ("staff:ann", THREAD))
    assert rows[-1]["note"] == "L1 has no active lead: the admins were notified"
    assert Outbox.get(Outbox.chat_id == ANN).text.startswith("🚨 工单 #1(high,L1):首次响应 已超时")


def test_a_late_sweep_sends_the_breach_without_the_warnings_before_it(desk):
    open_ticket(desk, "urgent")
    rows = sweep_sla(desk, now=at(10, 40))
    assert [(r["level"], r["action"]) for r in rows] == [
        ("warn-50", "skipped"), ("warn-80", "skipped"), ("breach", "notify-admins")]
    assert sent() == [(ANN, "sla_breach"), (L1_CHAT, "sla_breach")]
    assert Firing.select().where(Firing.kind == "first_response").count() == 3


def test_two_sweeps_at_once_fire_each_milestone_once(desk):
    for n in range(12):
        open_ticket(desk, "urgent", telegram_id=2000 + n)
    results = at_once(lambda: sweep_sla(desk, now=at(10, 15)), desk, timeout=60)
    rows = results[0] + results[1]
    assert sorted((r["ticket"], r["level"]) for r in rows) == sorted(
        (n, level) for n in range(1, 13) for level in ("warn-50", "warn-80", "breach"))
    assert Firing.select().where(Firing.kind == "first_response").count() == 36
    assert sent().count((ANN, "sla_breach")) == 12 and len(sent()) == 24


def test_a_sweep_that_fails_half_way_leaves_the_ticket_due_and_a_re_run_fires_once(desk, monkeypatch):
    open_ticket(desk, "urgent")
    real, calls = outbox.queue, []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:  # the thread note, after the admin's notice was written
            raise ConnectionError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(outbox, "queue", failing)
    with pytest.raises(ConnectionError):
        sweep_sla(desk, now=at(10, 15))
    assert Firing.select().count() == 0 and Outbox.select().count() == 0 and ticket().next_check_at <= at(10, 15)
    monkeypatch.setattr(outbox, "queue", real)
    assert [r["action"] for r in sweep_sla(desk, now=at(10, 15))] == ["skipped", "skipped", "notify-admins"]
    assert sweep_sla(desk, now=at(10, 15)) == []
    assert sent() == [(ANN, "sla_breach"), (L1_CHAT, "sla_breach")]


def around_the_clock(db, *priorities: str) -> None:
    """Those priorities' clocks run 24/7 on a calendar of their own (a policy without one follows its tier's
    calendar, and then its deadlines never fall in the tier's closed hours)."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    add_entry(db, "calendars", "24-7", {"timezone": "UTC", "hours": {day: ["00:00-24:00"] for day in days}},
              actor="test", now=MON_10)
    for priority in priorities:
        set_entry(db, "sla", priority, {"calendar": "24-7"}, actor="test", now=MON_10)


@pytest.mark.parametrize(("priority", "opened", "warned"), [
    ("medium", at(7, 30), at(8, 30)),  # 2 h: warnings at 08:30 and 09:06, breach at 09:30
    ("low", at(6, 0), at(8, 0)),  # 4 h: warnings at 08:00 and 09:12, breach at 10:00
])
def test_low_and_medium_reminders_wait_for_the_tier_to_open(desk, priority, opened, warned):
    set_entry(desk, "tiers", "L1", {"calendar": "office-hours"}, actor="test", now=MON_10)  # 09:00-18:00 UTC
    around_the_clock(desk, priority)
    open_ticket(desk, priority, opened=opened)
    assert ticket().next_check_at == warned
    rows = sweep_sla(desk, now=warned)
    assert [(r["level"], r["action"]) for r in rows] == [("warn-50", "wait")]
    assert rows[0]["note"] == "quiet hours: L1 opens at 2026-03-02T09:00+00:00"
    assert ticket().next_check_at == at(9, 0) and Outbox.select().count() == 0 and Firing.select().count() == 0
    assert sweep_sla(desk, now=at(8, 59)) == []
    assert fired(sweep_sla(desk, now=at(9, 0))) == [(1, "first_response", "warn-50", "remind-tier", (THREAD,))]
    assert sent() == [(L1_CHAT, "sla_warning")]


def test_urgent_and_high_notices_never_wait(desk):
    set_entry(desk, "tiers", "L1", {"calendar": "office-hours"}, actor="test", now=MON_10)
    around_the_clock(desk, "urgent", "high")
    open_ticket(desk, "urgent", opened=at(8, 0))
    open_ticket(desk, "high", opened=at(8, 0), telegram_id=1002)
    rows = sweep_sla(desk, now=at(8, 15))
    assert [(r["ticket"], r["level"], r["action"]) for r in rows] == [  # the most overdue ticket first
        (1, "warn-50", "skipped"), (1, "warn-80", "skipped"), (1, "breach", "notify-admins"),
        (2, "warn-50", "remind-tier")]


def test_a_resolution_breach_sends_the_customer_one_update_with_a_new_expected_time(desk):
    open_ticket(desk, "urgent")
    change(1, at(10, 5), first_responded_at=at(10, 5))
    assert ticket().next_check_at == at(11, 0)  # resolution: 2 h, warnings at 1 h and 1 h 36 min
    rows = sweep_sla(desk, now=at(11, 0)) + sweep_sla(desk, now=at(11, 36)) + sweep_sla(desk, now=at(12, 0))
    assert fired(rows) == [(1, "resolution", "warn-50", "remind-tier", (THREAD,)),
                           (1, "resolution", "warn-80", "remind-tier", (THREAD,)),
                           (1, "resolution", "breach", "notify-admins", ("staff:ann", THREAD, "customer:1001"))]
    assert sweep_sla(desk, now=at(13, 0)) == [] and ticket().next_check_at is None
    updates = list(Outbox.select().where(Outbox.chat_id == 1001))
    assert len(updates) == 1 and updates[0].payload == {"template": "breach_update"}
    assert "ticket #1" in updates[0].text and "within 2 hours (by 14:00, Mon 2 Mar)" in updates[0].text


def test_a_breach_escalates_when_the_policy_says_so(desk):
    set_entry(desk, "sla", "medium", {"on_breach": "escalate", "escalate_to": "L2"}, actor="test", now=MON_10)
    open_ticket(desk, "medium")
    rows = sweep_sla(desk, now=at(12, 0))
    assert fired(rows)[-1] == (1, "first_response", "breach", "escalate", ("tier:L2", f"chat:{L2_CHAT}"))
    row = ticket()
    assert row.tier.code == "L2" and row.staff_chat_id == L2_CHAT
    escalated = Event.get(Event.kind == "ticket.escalated")
    assert (escalated.actor, escalated.details["trigger"], escalated.details["to"]) == (
        "sla", "sla:first_response", "L2")
    assert sent() == [(1001, "escalation_notice"), (L2_CHAT, None), (L2_CHAT, "sla_breach")]
    note = Outbox.select().order_by(Outbox.id.desc()).get()
    assert note.payload == {"ticket_thread": True, "template": "sla_breach"} and "(medium, L2)" in note.text
    assert "escalated here because the deadline passed" in note.text
    assert sweep_sla(desk, now=at(12, 30)) == []


def test_a_breach_at_or_above_the_escalation_tier_reminds_the_tier_instead(desk):
    set_entry(desk, "sla", "medium", {"on_breach": "escalate", "escalate_to": "L1"}, actor="test", now=MON_10)
    open_ticket(desk, "medium")
    row = sweep_sla(desk, now=at(12, 0))[-1]
    assert (row["action"], row["recipients"], row["note"]) == (
        "escalate", [THREAD], "already at L1, not below L1: the tier was reminded instead")
    assert ticket().tier.code == "L1"


def test_the_next_response_clock_warns_again_in_each_new_run(desk):
    open_ticket(desk, "urgent")
    change(1, at(10, 5), first_responded_at=at(10, 5))
    change(1, at(10, 10), awaiting_reply_since=at(10, 10))  # next response: 15 min
    assert [(r["clock"], r["level"], r["action"]) for r in sweep_sla(desk, now=at(10, 17, 30))] == [
        ("next_response", "warn-50", "remind-tier")]
    change(1, at(10, 20), awaiting_reply_since=None)  # answered
    change(1, at(10, 40), awaiting_reply_since=at(10, 40))  # the customer writes again: a new run
    assert ticket().next_check_at == at(10, 47, 30)
    assert [(r["clock"], r["level"]) for r in sweep_sla(desk, now=at(10, 47, 30))] == [("next_response", "warn-50")]
    assert sweep_sla(desk, now=at(10, 47, 30)) == []
    assert Firing.select().where(Firing.kind == "next_response").count() == 2


def test_a_reopened_ticket_warns_again(desk):
    open_ticket(desk, "urgent")
    sweep_sla(desk, now=at(10, 20))
    actions.resolve(desk, 1, survey=False, actor="bob", now=at(10, 30))
    assert sweep_sla(desk, now=at(11, 0)) == [] and ticket().next_check_at is None
    actions.reopen(desk, 1, actor="bob", now=at(11, 0))
    rows = sweep_sla(desk, now=at(11, 8))
    assert [(r["clock"], r["level"], r["action"]) for r in rows] == [("first_response", "warn-50", "remind-tier")]


def test_a_dry_run_shows_what_would_fire_and_changes_nothing(desk):
    open_ticket(desk, "urgent")
    open_ticket(desk, "medium", telegram_id=1002)
    def state():
        return Event.select().count(), [(t.version, t.next_check_at) for t in Ticket.select().order_by(Ticket.id)]

    before = state()
    would = sweep_sla(desk, now=at(10, 20), dry_run=True)
    assert fired(would) == [(1, "first_response", "warn-50", "skipped", ()),
                            (1, "first_response", "warn-80", "skipped", ()),
                            (1, "first_response", "breach", "notify-admins", ("staff:ann", THREAD))]
    assert Firing.select().count() == 0 and Outbox.select().count() == 0
    assert state() == before
    assert sweep_sla(desk, now=at(10, 20)) == would


def test_the_due_query_finds_only_open_tickets_whose_check_has_come_most_overdue_first(desk):
    for n, opened in enumerate((at(10, 0), at(9, 0), at(10, 30))):
        open_ticket(desk, "urgent", opened=opened, telegram_id=3000 + n)
    actions.resolve(desk, 2, survey=False, actor="bob", now=at(9, 5))
    open_ticket(desk, "urgent", opened=at(8, 0), telegram_id=3009)
    assert due_for_sla(desk, now=at(10, 10)) == [ticket(4).id, ticket(1).id]
    assert due_for_sla(desk, now=at(10, 10), limit=1) == [ticket(4).id]


def test_the_unresolved_sweep_fires_the_unresolved_for_rule_once(desk):
    ingest_message(desk, private_message(1001, 1, MON_10, "Where is my parcel?"), now=MON_10)
    assert ticket().escalate_unresolved_at == at(10, 15)
    assert sweep_unresolved(desk, now=at(10, 14)) == []
    assert sweep_unresolved(desk, now=at(10, 16), dry_run=True) == [
        {"ticket": 1, "rules": ["unresolved-15m"], "escalated_to": "L2", "priority": "medium", "due": at(10, 15)}]
    assert ticket().tier.code == "L1" and Firing.select().count() == 0 and Outbox.select().count() == 0
    rows = sweep_unresolved(desk, now=at(10, 16))
    assert rows == [{"ticket": 1, "rules": ["unresolved-15m"], "escalated_to": "L2", "priority": "medium",
                     "due": at(10, 15)}]
    row = ticket()
    assert row.tier.code == "L2" and row.escalate_unresolved_at is None
    assert Event.get(Event.kind == "ticket.escalated").details["trigger"] == "rule:unresolved-15m"
    assert sweep_unresolved(desk, now=at(11, 0)) == []

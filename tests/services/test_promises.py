"""One clock for promises and deadlines, on the shipped configuration: for every priority and tier, what the
customer is promised (the escalation notice, the comfort reply) is the deadline the desk is held to; an SLA
policy without a calendar runs on the tier's; a tier's own first-response target applies when shorter;
tier names in the customer's language; the resolution-breach update says what really happened; and the
unresolved-for rule does nothing at or above its target tier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tgesc.db import write_transaction
from tgesc.domain.humanize import eta_text
from tgesc.domain.vocabulary import PRIORITIES
from tgesc.models import Customer, Event, Outbox, Ticket
from tgesc.services.clocks import sla
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.sweeps.sla import sweep_sla, sweep_unresolved
from tgesc.services.tickets import lifecycle
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.escalation import escalate
from tgesc.services.tickets.reactions import react

MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday: L2's office hours (09:00-18:00 UTC)
MON_20 = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # L2 closed
TUE_9 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
L2_CHAT = -100222


@pytest.fixture
def desk(db):
    initialise(db, now=MON_10 - timedelta(days=1), actor="test")
    return db


def open_ticket(db, now: datetime, priority: str = "medium", language: str = "en", telegram_id: int = 1001) -> Ticket:
    with write_transaction(db):
        customer = Customer.get_or_none(Customer.telegram_id == telegram_id) or Customer.create(
            telegram_id=telegram_id, first_name="Ana", language=language, created_at=now, updated_at=now)
        ticket = lifecycle.create(db, customer, "It does not work", now, priority)
        tickets.save(ticket, now)
        lifecycle.schedule_unresolved(db, ticket)
        tickets.save(ticket, now)
    return ticket


def customer_texts(template: str) -> list[str]:
    return [o.text for o in Outbox.select().where(Outbox.chat_id == 1001).order_by(Outbox.id)
            if o.payload.get("template") == template]


@pytest.mark.parametrize("now", [MON_10, MON_20], ids=["open", "closed"])
@pytest.mark.parametrize("tier", ["L1", "L2", "L3"])
@pytest.mark.parametrize("priority", PRIORITIES)
def test_the_promise_is_the_deadline_for_every_shipped_priority_and_tier(desk, priority, tier, now):
    ticket = open_ticket(desk, now, priority)
    if tier != "L1":
        with write_transaction(desk):
            ticket = Ticket.get_by_id(ticket.id)
            escalate(desk, ticket, to=tier, reason="test", actor="test", now=now, quick=True)
            tickets.save(ticket, now)
        notice = customer_texts("escalation_notice")[-1]
        assert eta_text(now, ticket.first_response_due, ZoneInfo("UTC"), "en") in notice
    assert sla.promised_response(ticket, now) == ticket.first_response_due
    budget = {"urgent": 15, "high": 30, "medium": 120, "low": 240}[priority]
    if tier == "L1":  # 24/7, its own five minutes are shorter than every priority's
        assert ticket.first_response_due == now + timedelta(minutes=5)
    elif tier == "L2":  # the shipped policies have no calendar: L2's office hours count
        start = now if now == MON_10 else TUE_9
        assert ticket.first_response_due == start + timedelta(minutes=budget)
    else:
        assert ticket.first_response_due == now + timedelta(minutes=budget)


def test_the_comfort_reply_promises_the_deadline_of_the_tier_it_escalates_to(desk):
    ticket = open_ticket(desk, MON_20)
    with write_transaction(desk):
        ticket = Ticket.get_by_id(ticket.id)
        react(desk, ticket, "I want a refund, you charged me twice", now=MON_20, actor="customer")
        tickets.save(ticket, MON_20)
    ticket = Ticket.get_by_id(ticket.id)
    assert (ticket.tier.code, ticket.priority) == ("L2", "high")
    assert ticket.first_response_due == TUE_9 + timedelta(minutes=30)
    promise = eta_text(MON_20, ticket.first_response_due, ZoneInfo("UTC"), "en")
    [comfort], [notice] = customer_texts("comfort"), customer_texts("escalation_notice")
    assert f"marked your problem as high priority (ticket #{ticket.number})" in comfort
    assert f"within {promise}" in comfort and f"within {promise}" in notice
    assert [o.payload.get("template") for o in Outbox.select().where(Outbox.chat_id == 1001).order_by(Outbox.id)] \
        == ["comfort", "escalation_notice", "off_hours"]


@pytest.mark.parametrize(("priority", "words"), [("urgent", "as urgent"), ("high", "as high priority"),
                                                 ("medium", "as medium priority"), ("low", "as low priority")])
def test_comfort_wording_follows_the_priority(desk, priority, words):
    set_entry(desk, "rules", "asks-for-manager", {"count": 1}, actor="test", now=MON_10)
    ticket = open_ticket(desk, MON_10, priority)
    with write_transaction(desk):
        ticket = Ticket.get_by_id(ticket.id)
        react(desk, ticket, "I want to speak to a manager", now=MON_10, actor="customer")
        tickets.save(ticket, MON_10)
    assert f"marked your problem {words} (ticket #1)" in customer_texts("comfort")[0]


def test_a_tier_target_applies_only_when_shorter_and_follows_the_tier(desk):
    set_entry(desk, "tiers", "L2", {"first_response": "1h"}, actor="test", now=MON_10)
    urgent, medium = open_ticket(desk, MON_10, "urgent"), open_ticket(desk, MON_10, "medium", telegram_id=1002)
    with write_transaction(desk):
        for ticket in (urgent, medium):
            row = Ticket.get_by_id(ticket.id)
            escalate(desk, row, to="L2", reason="test", actor="test", now=MON_10 + timedelta(minutes=1), quick=True)
            tickets.save(row, MON_10)
    assert Ticket.get_by_id(urgent.id).first_response_due == MON_10 + timedelta(minutes=15)  # 15 m < 1 h
    assert Ticket.get_by_id(medium.id).first_response_due == MON_10 + timedelta(hours=1)  # 1 h < 2 h


def test_l1s_five_minutes_breach_and_the_deadline_it_passed_stays_after_an_escalation(desk):
    ticket = open_ticket(desk, MON_10, "medium")
    assert ticket.first_response_due == MON_10 + timedelta(minutes=5)
    rows = sweep_sla(desk, now=MON_10 + timedelta(minutes=5))
    assert [(r["clock"], r["level"]) for r in rows] == [("first_response", "warn-50"), ("first_response", "warn-80"),
                                                        ("first_response", "breach")]
    assert sweep_unresolved(desk, now=MON_10 + timedelta(minutes=15))[0]["escalated_to"] == "L2"
    ticket = Ticket.get_by_id(ticket.id)
    assert ticket.first_response_due == MON_10 + timedelta(minutes=5)  # history: the L1 run stays breached
    assert ticket.resolution_due == MON_10 + timedelta(days=2, hours=6)  # 24 h of L2's office hours: Wed 16:00
    # no deadline ahead to promise: the first-response budget again from now, on L2's calendar
    assert "within 2 hours (by 12:15, Mon 2 Mar)" in customer_texts("escalation_notice")[0]


@pytest.mark.parametrize(("language", "name"), [("zh", "二线支持"), ("ru", "Вторая линия"), ("en", "Second line"),
                                                ("de", "Second line")])
def test_customers_read_the_tier_name_in_their_language(desk, language, name):
    ticket = open_ticket(desk, MON_10, language=language)
    with write_transaction(desk):
        ticket = Ticket.get_by_id(ticket.id)
        escalate(desk, ticket, to="L2", reason="test", actor="test", now=MON_10, quick=True)
        tickets.save(ticket, MON_10)
    assert name in customer_texts("escalation_notice")[0]


def test_unresolved_for_does_not_fire_at_or_above_its_target(desk):
    ticket = open_ticket(desk, MON_10)
    with write_transaction(desk):
        ticket = Ticket.get_by_id(ticket.id)
        escalate(desk, ticket, to="L2", reason="test", actor="test", now=MON_10 + timedelta(minutes=1), quick=True)
        tickets.save(ticket, MON_10)
    assert Ticket.get_by_id(ticket.id).escalate_unresolved_at is None
    assert sweep_unresolved(desk, now=MON_10 + timedelta(hours=1)) == []
    assert not Event.select().where(Event.kind == "rule.fired").exists()


def test_the_resolution_breach_update_says_what_really_happened(desk):
    add_entry(desk, "staff", "ann", {"id": 5001, "role": "admin"}, actor="test", now=MON_10)
    set_entry(desk, "tiers", "L3", {"staff_chat": -100333}, actor="test", now=MON_10)
    urgent = open_ticket(desk, MON_10, "urgent")  # notify-admins
    low = open_ticket(desk, MON_10, "low", telegram_id=1002)  # none
    set_entry(desk, "sla", "high", {"on_breach": "escalate", "escalate_to": "L3"}, actor="test", now=MON_10)
    high = open_ticket(desk, MON_10, "high", telegram_id=1003)  # escalates to L3
    for ticket in (urgent, low, high):
        with write_transaction(desk):
            row = Ticket.get_by_id(ticket.id)
            row.first_responded_at = MON_10 + timedelta(minutes=1)
            sla.refresh(row)
            tickets.save(row, MON_10)
    sweep_sla(desk, now=MON_10 + timedelta(days=3))
    updates = {o.chat_id: o.text for o in Outbox.select() if o.payload.get("template") == "breach_update"}
    assert "Our administrators have been alerted." in updates[1001]
    assert "We are still working on it." in updates[1002]
    assert "It has been escalated to Admins and technical lead." in updates[1003]
    assert not any("senior specialist" in text for text in updates.values())

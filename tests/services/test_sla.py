"""Per-ticket SLA clocks against a real database: snapshots, due instants, warnings, pauses, recompute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tgesc.models import Customer, Event, Firing, Ticket, Tier
from tgesc.services import sla
from tgesc.services.configuration import add_entry, set_entry
from tgesc.services.setup import initialise

BERLIN = ZoneInfo("Europe/Berlin")
MON_9 = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)  # Monday, CET (UTC+1)


def at(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def desk(db):
    initialise(db, now=MON_9, actor="test")
    return db


def open_ticket(db, priority: str, opened: datetime = MON_9, number: int = 1) -> Ticket:
    customer, _ = Customer.get_or_create(telegram_id=1001, defaults={"created_at": opened, "updated_at": opened})
    ticket = Ticket(number=number, customer=customer, tier=Tier.get(Tier.code == "L1"), priority=priority,
                    created_at=opened, updated_at=opened)
    sla.take_policy(db, ticket)
    ticket.save()
    return ticket


def reload(ticket: Ticket) -> Ticket:
    return Ticket.get_by_id(ticket.id)


def test_opening_stores_due_instants_and_the_first_warning(desk):
    ticket = reload(open_ticket(desk, "high"))  # 30 min first response, 4 h resolution, 24/7, warnings 50/80 %
    assert ticket.first_response_due == at(9, 30)
    assert ticket.resolution_due == at(13, 0)
    assert ticket.next_response_due is None
    assert ticket.next_check_at == at(9, 15)  # 50 % of 30 min
    assert ticket.sla_policy["priority"] == "high" and ticket.sla_policy["calendar"] is None


def test_fired_milestones_move_the_next_check_on(desk):
    ticket = open_ticket(desk, "high")
    run = int(MON_9.timestamp())  # a firing's level names the run of its clock: its start
    Firing.create(ticket=ticket, kind="first_response", level=f"warn-50@{run}", at=at(9, 15))
    sla.refresh(ticket)
    assert ticket.next_check_at == at(9, 24)  # 80 % of 30 min
    Firing.create(ticket=ticket, kind="first_response", level=f"warn-80@{run}", at=at(9, 24))
    sla.refresh(ticket)
    assert ticket.next_check_at == at(9, 30)  # the breach itself


def test_a_firing_of_an_earlier_run_of_the_clock_does_not_count(desk):
    ticket = open_ticket(desk, "high")
    earlier = int((MON_9 - timedelta(days=1)).timestamp())  # e.g. before the ticket was reopened
    Firing.create(ticket=ticket, kind="first_response", level=f"warn-50@{earlier}", at=at(9, 15, day=1))
    Firing.create(ticket=ticket, kind="first_response", level="warn-50", at=at(9, 15, day=1))  # no run at all
    sla.refresh(ticket)
    assert ticket.next_check_at == at(9, 15)


def test_answers_stop_the_first_clock_and_start_the_next_response_clock(desk):
    ticket = open_ticket(desk, "high")
    ticket.first_responded_at = at(9, 10)
    sla.refresh(ticket)
    assert ticket.next_check_at == at(11, 0)  # only resolution runs: 50 % of 4 h
    ticket.awaiting_reply_since = at(10, 0)  # the customer wrote again
    sla.refresh(ticket)
    assert ticket.next_response_due == at(10, 30)
    assert ticket.next_check_at == at(10, 15)
    ticket.awaiting_reply_since = None  # staff answered
    sla.refresh(ticket)
    assert ticket.next_response_due is None and ticket.next_check_at == at(11, 0)


def test_waiting_on_the_customer_pauses_every_running_clock(desk):
    ticket = open_ticket(desk, "high")
    ticket.first_responded_at = at(9, 10)
    ticket.status = "waiting"
    sla.begin_wait(ticket, at(10, 5))
    assert ticket.resolution_due is None and ticket.next_check_at is None  # stopped: nothing can fire
    assert ticket.first_response_due == at(9, 30)  # a met clock keeps its deadline
    ticket.status = "open"
    sla.end_wait(ticket, at(11, 5))
    ticket.save()
    ticket = reload(ticket)
    assert ticket.sla_paused == [[at(10, 5).astimezone(UTC).isoformat(), at(11, 5).astimezone(UTC).isoformat()]]
    assert ticket.resolution_due == at(14, 0)  # 13:00 plus the hour spent waiting
    assert ticket.next_check_at == at(12, 0)  # 2 h of business time: 09:00-10:05 and 11:05-12:00


def test_policies_without_pausing_keep_running_while_waiting(desk):
    set_entry(desk, "sla", "high", {"pause_when_waiting": False}, actor="test", now=MON_9)
    ticket = open_ticket(desk, "high")
    ticket.status = "waiting"
    sla.begin_wait(ticket, at(9, 5))
    assert ticket.resolution_due == at(13, 0) and ticket.next_check_at == at(9, 15)


def test_business_hours_calendar_carries_deadlines_over_the_weekend(desk):
    add_entry(desk, "calendars", "berlin-office", {
        "timezone": "Europe/Berlin", "hours": {d: ["09:00-12:00", "13:00-17:00"] for d in
                                               ("mon", "tue", "wed", "thu", "fri")}}, actor="test", now=MON_9)
    set_entry(desk, "sla", "medium", {"calendar": "berlin-office"}, actor="test", now=MON_9)
    ticket = open_ticket(desk, "medium", opened=at(16, 0, day=6))  # Friday 16:00; 2 h first response, 1 d
    assert ticket.first_response_due == at(10, 0, day=9)  # Fri 16-17, then Monday 09-10
    # 24 h of business time at 7 h a day: Fri 1 h, Mon-Wed 21 h, Thu 2 h -> Thursday 11:00
    assert ticket.resolution_due == at(11, 0, day=12)
    # 50 % of 2 h is exactly Friday 16-17: under the default deadline_at_close = "close" it falls at 17:00
    assert ticket.next_check_at == at(17, 0, day=6)


def test_priority_change_takes_the_new_priority_policy(desk):
    ticket = open_ticket(desk, "low")
    assert ticket.first_response_due == at(13, 0)
    ticket.priority = "urgent"
    sla.take_policy(desk, ticket)
    assert ticket.first_response_due == at(9, 15) and ticket.resolution_due == at(11, 0)


def test_policy_edits_do_not_move_open_tickets_until_recompute(desk):
    ticket = open_ticket(desk, "high")
    second = open_ticket(desk, "low", number=2)
    set_entry(desk, "sla", "high", {"first_response": "1h", "warn_at": [75]}, actor="test", now=MON_9)
    sla.refresh(ticket)
    assert ticket.first_response_due == at(9, 30)  # still the snapshot
    preview = sla.recompute(desk, now=at(9, 1), actor="test", dry_run=True)
    assert [(c.ticket, c.what, c.old, c.new) for c in preview] == [
        (1, "first_response", at(9, 30), at(10, 0)), (1, "warnings", [50, 80], [75])]
    assert reload(ticket).first_response_due == at(9, 30)
    applied = sla.recompute(desk, now=at(9, 1), actor="test", dry_run=False)
    assert applied == preview
    ticket = reload(ticket)
    assert ticket.first_response_due == at(10, 0) and ticket.next_check_at == at(9, 45)
    assert Event.get(Event.kind == "sla.recompute").details == {
        "changes": ["first_response: 2026-03-02T08:30:00+00:00 -> 2026-03-02T09:00:00+00:00",
                    "warnings: [50, 80] -> [75]"]}
    assert reload(second).sla_policy["priority"] == "low"
    assert sla.recompute(desk, now=at(9, 2), actor="test", dry_run=False) == []


def test_clock_report_states(desk):
    ticket = open_ticket(desk, "high")
    ticket.first_responded_at = at(9, 40)
    sla.refresh(ticket)
    by_clock = {r["clock"]: r for r in sla.clock_report(ticket, at(10, 0))}
    assert by_clock["first_response"]["state"] == "met late"
    assert by_clock["first_response"]["used"] == timedelta(minutes=40)
    assert by_clock["resolution"]["state"] == "running"
    assert by_clock["resolution"]["percent"] == 25.0 and by_clock["resolution"]["left"] == timedelta(hours=3)
    assert {r["clock"]: r["state"] for r in sla.clock_report(ticket, at(13, 0))}["resolution"] == "breached"
    ticket.status = "waiting"
    sla.begin_wait(ticket, at(10, 0))
    paused = {r["clock"]: r for r in sla.clock_report(ticket, at(12, 0))}["resolution"]
    assert paused["state"] == "paused" and paused["used"] == timedelta(hours=1)

"""Per-ticket SLA clocks against a real database: snapshots, due instants, warnings, pauses, recompute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tgesc.models import Customer, Event, Firing, Ticket, Tier
from tgesc.services.clocks import sla
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.tickets import actions

BERLIN = ZoneInfo("Europe/Berlin")
MON_9 = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)  # Monday, CET (UTC+1)


def at(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def desk(db):
    initialise(db, now=MON_9, actor="test")
    # these tests pin the priority table: L1 without its own five-minute first-response target
    set_entry(db, "tiers", "L1", {"first_response": None}, actor="test", now=MON_9)
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


# --- history is append-only: what happened under a policy stays what it was ---------------------------


def states(ticket: Ticket, now: datetime) -> dict[str, tuple[str, datetime | None]]:
    return {r["clock"]: (r["state"], r["due"]) for r in sla.clock_report(ticket, now)}


@pytest.fixture
def breached(desk):
    """#1 (high, opened 09:00): first reply 09:40, late (due 09:30); resolution due 13:00, its breach fired by
    the 13:30 sweep. #2 (high, opened 13:20): both deadlines still to come at 13:30."""
    from tgesc.services.sweeps.sla import sweep_sla

    first = open_ticket(desk, "high")
    first.first_responded_at = at(9, 40)
    sla.refresh(first)
    first.save()
    open_ticket(desk, "high", opened=at(13, 20), number=2)
    assert [(r["ticket"], r["clock"], r["level"]) for r in sweep_sla(desk, now=at(13, 30)) if r["action"] != "skipped"
            ] == [(1, "resolution", "breach")]
    set_entry(desk, "sla", "high", {"first_response": "1h", "resolution": "8h"}, actor="test", now=at(13, 30))
    return desk


def test_recompute_moves_only_deadlines_still_to_come_and_says_what_it_keeps(breached):
    preview = sla.recompute(breached, now=at(13, 30), actor="test", dry_run=True)
    assert [(c.ticket, c.what, c.old, c.new, c.action, c.reason) for c in preview] == [
        (1, "first_response", at(9, 30), at(10, 0), "keep", "already met late"),
        (1, "resolution", at(13, 0), at(17, 0), "keep", "breach already fired"),
        (2, "first_response", at(13, 50), at(14, 20), "change", "deadline still to come"),
        (2, "resolution", at(17, 20), at(21, 20), "change", "deadline still to come")]
    assert sla.recompute(breached, now=at(13, 30), actor="test", dry_run=False) == preview
    first, second = reload(Ticket.get(Ticket.number == 1)), Ticket.get(Ticket.number == 2)
    assert states(first, at(13, 45)) == {"first_response": ("met late", at(9, 30)),
                                         "resolution": ("breached", at(13, 0))}
    assert first.resolution_due == at(13, 0) and first.next_check_at is None  # nothing fires again
    assert (second.first_response_due, second.resolution_due) == (at(14, 20), at(21, 20))
    assert Event.get(Event.kind == "sla.recompute", Event.ticket == first).details == {
        "changes": [], "kept": ["first_response: 2026-03-02T08:30:00+00:00 -> 2026-03-02T09:00:00+00:00 "
                                "(kept: already met late)",
                                "resolution: 2026-03-02T12:00:00+00:00 -> 2026-03-02T16:00:00+00:00 "
                                "(kept: breach already fired)"]}
    assert sla.recompute(breached, now=at(13, 40), actor="test", dry_run=False) == []
    set_entry(breached, "sla", "high", {"resolution": "2h"}, actor="test", now=at(13, 40))
    again = sla.recompute(breached, now=at(13, 40), actor="test", dry_run=False)
    assert [(c.ticket, c.what, c.new, c.action) for c in again] == [
        (1, "first_response", at(10, 0), "keep"), (1, "resolution", at(11, 0), "keep"),
        (2, "resolution", at(15, 20), "change")]
    assert reload(first).resolution_due == at(13, 0)


def test_breaching_tickets_stay_listed_after_a_recompute(breached):
    from tgesc.services.tickets import queue

    sla.recompute(breached, now=at(13, 30), actor="test", dry_run=False)
    found = queue.page(breached, queue.Wanted(breaching=True), now=at(13, 45))
    assert [row["number"] for row in found.rows] == [1]


def test_a_deadline_passed_but_not_swept_yet_is_kept_too(desk):
    open_ticket(desk, "high")  # first response due 09:30, nobody swept
    set_entry(desk, "sla", "high", {"first_response": "2h"}, actor="test", now=at(9, 45))
    done = sla.recompute(desk, now=at(9, 45), actor="test", dry_run=False)
    assert [(c.what, c.action, c.reason) for c in done] == [("first_response", "keep", "deadline already passed")]
    assert Ticket.get(Ticket.number == 1).first_response_due == at(9, 30)


def test_fired_warnings_are_named_and_not_sent_again(desk):
    from tgesc.services.sweeps.sla import sweep_sla

    open_ticket(desk, "high")
    assert [r["level"] for r in sweep_sla(desk, now=at(9, 16))] == ["warn-50"]  # of the 30 min first response
    set_entry(desk, "sla", "high", {"first_response": "1h", "warn_at": [50, 90]}, actor="test", now=at(9, 20))
    done = sla.recompute(desk, now=at(9, 20), actor="test", dry_run=False)
    assert [(c.what, c.action, c.reason) for c in done] == [
        ("first_response", "change", "deadline still to come"),
        ("warnings", "change", "already fired: first_response warn-50")]
    assert [r["level"] for r in sweep_sla(desk, now=at(9, 55))] == ["warn-90"]


def test_a_priority_change_keeps_what_already_happened(desk):
    from tgesc.services.sweeps.sla import sweep_sla
    open_ticket(desk, "high")
    sweep_sla(desk, now=at(13, 30))  # both deadlines breached, notices sent
    actions.set_priority(desk, 1, "low", actor="test", now=at(13, 35))
    ticket = Ticket.get(Ticket.number == 1)
    assert states(ticket, at(13, 40)) == {"first_response": ("breached", at(9, 30)),
                                          "resolution": ("breached", at(13, 0))}
    assert ticket.sla_policy["priority"] == "low" and ticket.next_check_at is None


def test_a_clock_breached_before_the_wait_stays_breached_while_waiting(desk):
    ticket = open_ticket(desk, "high")
    ticket.first_responded_at = at(9, 10)
    ticket.status = "waiting"
    sla.begin_wait(ticket, at(13, 30))  # resolution was due at 13:00
    assert ticket.resolution_due == at(13, 0)
    report = {r["clock"]: r for r in sla.clock_report(ticket, at(15, 0))}["resolution"]
    assert (report["state"], report["used"], report["running"]) == ("breached", timedelta(hours=4, minutes=30),
                                                                     False)


def test_clocks_of_resolved_and_closed_tickets_are_stopped(desk):

    open_ticket(desk, "high")
    actions.resolve(desk, 1, survey=False, actor="test", now=at(9, 20))  # nobody answered: resolved by FAQ
    found = {r["clock"]: r for r in sla.clock_report(Ticket.get(Ticket.number == 1), at(15, 0))}
    assert {name: (r["state"], r["stopped_at"], r["running"]) for name, r in found.items()} == {
        "first_response": ("stopped", at(9, 20), False), "resolution": ("met", at(9, 20), False)}
    assert found["first_response"]["used"] == timedelta(minutes=20)
    open_ticket(desk, "high", number=2)
    actions.close(desk, 2, actor="test", now=at(10, 0))  # closed without an answer, after the first deadline
    closed = sla.clock_report(Ticket.get(Ticket.number == 2), at(15, 0))
    assert [(r["clock"], r["state"], r["stopped_at"]) for r in closed] == [
        ("first_response", "stopped late", at(10, 0)), ("resolution", "stopped", at(10, 0))]


def test_a_wait_ended_by_resolving_or_closing_stays_a_pause(desk):

    for number, end, state in ((1, actions.resolve, "met"), (2, actions.close, "stopped")):
        ticket = open_ticket(desk, "high", number=number)
        ticket.first_responded_at, ticket.status = at(9, 10), "waiting"
        sla.begin_wait(ticket, at(10, 0))
        ticket.save()
        kwargs = {"survey": False} if end is actions.resolve else {}
        end(desk, number, actor="test", now=at(16, 0), **kwargs)  # after six hours of waiting on the customer
        report = {r["clock"]: r for r in sla.clock_report(Ticket.get(Ticket.number == number), at(17, 0))}
        assert (report["resolution"]["state"], report["resolution"]["used"]) == (state, timedelta(hours=1))

"""The assignment sweep on both backends with a virtual `now`: an assignee whose shift ends hands their open tickets
back and someone on shift gets them (round-robin and least-open, within capacities); a ticket that found nobody gets
someone once a shift opens or a place frees up; a ticket waiting on the customer stays with its assignee; one taken
while off shift stays until its taker's shift ends; an inactive assignee or one no longer in the tier hands back at
once; two sweeps at once give every ticket exactly one assignee, once, within capacities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import at_once, private_message

from tgesc.domain.assignment import INACTIVE, NOT_IN_TIER, OFF_SHIFT, Holder, hand_back_reason
from tgesc.models import Event, Outbox, Staff, Ticket, Tier
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.sweeps.assignment import ASSIGNMENT_SWEEP, next_check, sweep_assignments
from tgesc.services.sweeps.store import to_assign
from tgesc.services.tickets import actions, assignment
from tgesc.services.tickets.ingest import ingest_message

MON = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
EARLY, LATE = "early", "late"  # bob works 08:00-12:00, ann and dave 11:00-20:00 (UTC, Monday and Tuesday)


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return MON + timedelta(days=day, hours=hour, minutes=minute)


@pytest.fixture
def desk(db):
    initialise(db, now=at(7), actor="test")
    for name, hours in ((EARLY, ["08:00-12:00"]), (LATE, ["11:00-20:00"])):
        add_entry(db, "calendars", name, {"timezone": "UTC", "hours": {"mon": hours, "tue": hours}}, actor="test",
                  now=at(7))
    for handle, user_id, calendar in (("bob", 5001, EARLY), ("ann", 5002, LATE), ("dave", 5004, LATE)):
        add_entry(db, "staff", handle, {"id": user_id, "tiers": ["L1"], "calendar": calendar}, actor="test",
                  now=at(7))
    add_entry(db, "staff", "carol", {"id": 5003, "tiers": ["L2"]}, actor="test", now=at(7))
    set_entry(db, "tiers", "L1", {"assign": "round-robin"}, actor="test", now=at(7))
    return db


def staff(db, handle: str, **fields) -> None:
    set_entry(db, "staff", handle, fields, actor="test", now=at(7))


def opened(db, customer: int, when: datetime) -> int:
    return ingest_message(db, private_message(customer, 1, when, "Where is my parcel?", first_name="C"),
                          now=when).ticket


def holders() -> dict[int, str | None]:
    return {t.number: t.assignee.handle if t.assignee_id else None for t in Ticket.select().order_by(Ticket.number)}


def actions_of(done: list[dict]) -> list[tuple]:
    return [(d["ticket"], d["action"], d["staff"], d["reason"]) for d in done]


@pytest.mark.parametrize("mode", ["round-robin", "least-open"])
def test_a_shift_that_ends_hands_its_tickets_to_the_staff_on_shift_within_capacity(desk, mode):
    set_entry(desk, "tiers", "L1", {"assign": mode}, actor="test", now=at(7))
    staff(desk, "ann", capacity=2)
    staff(desk, "dave", capacity=1)
    numbers = [opened(desk, 1001 + n, at(10, n)) for n in range(4)]
    assert set(holders().values()) == {"bob"}  # the only one on shift at 10:00
    assert sweep_assignments(desk, now=at(11, 59)) == []  # bob is still on shift; ann and dave have come
    done = sweep_assignments(desk, now=at(12))
    assert [d for d in actions_of(done) if d[1] == "hand-back"] == [(n, "hand-back", "bob", OFF_SHIFT)
                                                                  for n in numbers]
    given = [d[2] for d in actions_of(done) if d[1] == "assign"]
    assert given == ["ann", "dave", "ann"]  # turns (or the fewest open) until dave, then ann, are full
    assert list(holders().values()) == ["ann", "dave", "ann", None]
    unassigned = Event.get(Event.kind == "ticket.unassigned")
    assert (unassigned.actor, unassigned.details) == ("auto", {"from": "bob", "reason": "off_shift"})
    assert Outbox.select().where(Outbox.chat_id == 5001).count() == 4  # bob was told of his 4, not of their loss

    actions.resolve(desk, numbers[1], survey=False, actor="dave", now=at(12, 30))  # a place frees up
    assert actions_of(sweep_assignments(desk, now=at(12, 31))) == [(numbers[3], "assign", "dave", mode)]
    assert sweep_assignments(desk, now=at(12, 32)) == []  # safe to run again


def test_a_ticket_that_found_nobody_gets_someone_once_a_shift_opens(desk):
    for handle in ("bob", "ann", "dave"):
        staff(desk, handle, calendar=LATE)
    number = opened(desk, 1001, at(9))
    assert holders() == {number: None}
    assert next_check(desk, at(9)) == at(11)  # nothing to do before the shift opens
    assert sweep_assignments(desk, now=at(10, 59)) == []
    assert actions_of(sweep_assignments(desk, now=at(11))) == [(number, "assign", "ann", "round-robin")]
    assigned = Event.get(Event.kind == "ticket.assigned")
    assert (assigned.actor, assigned.details["to"]) == ("auto", "ann")
    assert Outbox.get(Outbox.chat_id == 5002).payload["template"] == "assigned_notice"  # told in private


def test_a_ticket_waiting_on_the_customer_stays_until_their_answer_opens_it(desk):
    number = opened(desk, 1001, at(10))
    actions.wait(desk, number, reply="Could you send the order number?", actor="bob", now=at(11))
    assert sweep_assignments(desk, now=at(12)) == []  # bob went off shift, but nothing waits on him
    assert next_check(desk, at(12)) == at(20)  # the next shift change: ann's and dave's end
    ingest_message(desk, private_message(1001, 2, at(13), "It is 4411"), now=at(13))
    assert Ticket.get().status == "open"
    done = actions_of(sweep_assignments(desk, now=at(13, 1)))
    assert done == [(number, "hand-back", "bob", OFF_SHIFT), (number, "assign", "ann", "round-robin")]


def test_a_ticket_taken_off_shift_stays_until_its_takers_shift_ends(desk):
    staff(desk, "ann", calendar=EARLY)
    number = opened(desk, 1001, at(10))
    actions.assign(desk, number, "dave", actor="dave", now=at(10, 30))  # /take, before his shift
    assert sweep_assignments(desk, now=at(10, 45)) == []
    assert sweep_assignments(desk, now=at(20, 1)) == [  # his shift ended: back to the pool, nobody is on shift
        {"ticket": number, "action": "hand-back", "staff": "dave", "reason": OFF_SHIFT}]
    actions.assign(desk, number, "dave", actor="dave", now=at(21))  # /take again, working late
    assert sweep_assignments(desk, now=at(10, day=1)) == []
    assert actions_of(sweep_assignments(desk, now=at(20, day=1))) == [(number, "hand-back", "dave", OFF_SHIFT)]


def test_an_assignee_made_inactive_or_moved_out_of_the_tier_hands_back_at_once(desk):
    for handle in ("bob", "ann", "dave"):
        staff(desk, handle, calendar=None)  # the tier's hours: always open
    first, second = opened(desk, 1001, at(10)), opened(desk, 1002, at(10, 1))
    assert holders() == {first: "ann", second: "bob"}
    staff(desk, "ann", active=False)
    staff(desk, "bob", tiers=["L2"])
    done = actions_of(sweep_assignments(desk, now=at(10, 2)))
    assert done == [(first, "hand-back", "ann", INACTIVE), (first, "assign", "dave", "round-robin"),
                    (second, "hand-back", "bob", NOT_IN_TIER), (second, "assign", "dave", "round-robin")]


def test_an_admin_holding_a_ticket_of_a_tier_keeps_it_and_a_manual_tier_is_left_alone(desk):
    add_entry(desk, "staff", "olga", {"id": 5005, "role": "admin"}, actor="test", now=at(7))
    number = opened(desk, 1001, at(10))
    actions.assign(desk, number, "olga", actor="olga", now=at(10, 1))  # admins may work every tier
    other = opened(desk, 1002, at(10, 2))
    set_entry(desk, "tiers", "L1", {"assign": "manual"}, actor="test", now=at(7))
    actions.assign(desk, other, None, actor="bob", now=at(10, 3))
    assert sweep_assignments(desk, now=at(13)) == []  # bob is off shift, but L1 assigns by hand now
    assert next_check(desk, at(13)) is None
    set_entry(desk, "tiers", "L1", {"assign": "least-open"}, actor="test", now=at(7))
    assert actions_of(sweep_assignments(desk, now=at(13))) == [(other, "assign", "ann", "least-open")]


def test_a_dry_run_says_what_would_happen_and_changes_nothing(desk):
    number = opened(desk, 1001, at(10))
    before = holders()
    done = sweep_assignments(desk, now=at(12), dry_run=True)
    assert actions_of(done) == [(number, "hand-back", "bob", OFF_SHIFT), (number, "assign", "ann", "round-robin")]
    assert holders() == before and Event.select().where(Event.kind == "ticket.unassigned").count() == 0


def test_two_sweeps_at_once_give_every_ticket_one_assignee_once_within_capacities(desk):
    """40 of bob's tickets go back at 12:00 and 40 that found nobody wait in the pool; ann, dave and erin (on shift
    from 11:00) have room for 50 between them. Two sweeps at 12:00, at once, each on its own connection."""
    capacities = {"ann": 20, "dave": 10, "erin": 20}
    add_entry(desk, "staff", "erin", {"id": 5006, "tiers": ["L1"], "calendar": LATE}, actor="test", now=at(7))
    for handle, capacity in capacities.items():
        staff(desk, handle, capacity=capacity)
    backs = [opened(desk, 1001 + n, at(10)) for n in range(40)]  # bob's
    staff(desk, "bob", active=False)  # nobody to take the next ones at 10:00
    pool = [opened(desk, 2001 + n, at(10, 1)) for n in range(40)]
    staff(desk, "bob", active=True)
    assert [holders()[n] for n in pool] == [None] * 40
    results = at_once(lambda: ASSIGNMENT_SWEEP.run(desk, now=at(12), size=8).done, desk)  # batches of 8: interleaved
    done = actions_of(results[0] + results[1])
    assert sorted(n for n, action, _, _ in done if action == "hand-back") == backs  # each once
    given = {n: who for n, action, who, _ in done if action == "assign"}
    assert len(given) == sum(capacities.values()) == len([d for d in done if d[1] == "assign"])  # each once
    assert {n: who for n, who in holders().items() if who} == given
    for handle, capacity in capacities.items():
        assert list(given.values()).count(handle) == capacity
    assigned_at_noon = Event.select().where((Event.kind == "ticket.assigned") & (Event.at == at(12)))
    assert sorted(e.ticket.number for e in assigned_at_noon) == sorted(given)  # one event per assignment
    assert Event.select().where(Event.kind == "ticket.unassigned").count() == 40


# --- the query finds what the rule moves ------------------------------------------------------------------

HOLDERS = (None, "bob", "ann", "dave", "ivy", "carol", "olga")  # ivy: inactive; carol: L2's; olga: an admin
tickets_ = st.lists(st.tuples(st.sampled_from(["open", "waiting"]), st.sampled_from(HOLDERS), st.integers(0, 40)),
                    min_size=1, max_size=8)


@pytest.fixture
def staffed(desk):
    add_entry(desk, "staff", "ivy", {"id": 5007, "tiers": ["L1"], "active": False}, actor="test", now=at(7))
    add_entry(desk, "staff", "olga", {"id": 5005, "role": "admin", "calendar": EARLY}, actor="test", now=at(7))
    staff(desk, "dave", capacity=1)
    ingest_message(desk, private_message(1001, 1, at(7), "Hello", first_name="C"), now=at(7))  # a customer
    return desk


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tickets_, st.integers(0, 40))
def test_the_sweeps_query_finds_exactly_the_tickets_its_rule_would_move(staffed, rows, hour):
    """Whatever the tickets (status, holder, when they were given it) and the hour (Monday 07:00 to Tuesday
    23:00): the tickets the query finds are those that go back by the rule, and the unassigned open ones when
    someone on shift has room."""
    Ticket.delete().where(Ticket.number > 1).execute()
    base, now = Ticket.get(), at(7) + timedelta(hours=hour)
    people = {s.handle: s for s in Staff.select()}
    for n, (status, handle, hours) in enumerate(rows, start=2):
        Ticket.insert(number=n, customer=base.customer_id, status=status, tier=base.tier_id, created_at=at(7),
                      updated_at=at(7), assignee=people[handle].id if handle else None,
                      assigned_at=min(at(7) + timedelta(hours=hours), now) if handle else None).execute()
    [watch] = assignment.watches(staffed, now)
    found = {row_id for _, row_id in to_assign(staffed, [watch], None, None, lock=False)}
    tier, moved = Tier.get(Tier.code == "L1"), set()
    for ticket in Ticket.select():
        if ticket.assignee_id is None:
            if ticket.status == "open" and watch.room:
                moved.add(ticket.id)
        elif hand_back_reason(ticket.status, ticket.assigned_at, assignment.holder(staffed, tier, ticket.assignee,
                                                                                     now)):
            moved.add(ticket.id)
    assert found == moved


# --- the rule, by itself ----------------------------------------------------------------------------------

instants = st.one_of(st.none(), st.integers(0, 48).map(lambda h: MON + timedelta(hours=h)))
holders_ = st.builds(Holder, st.booleans(), st.booleans(), st.booleans(), instants)


@given(st.sampled_from(["open", "waiting", "resolved", "closed"]), instants, holders_)
def test_only_open_work_goes_back_and_only_from_someone_unavailable_since_it_was_given(status, given_at, holder):
    reason = hand_back_reason(status, given_at, holder)
    available = holder.active and holder.in_tier and holder.on_shift
    if status != "open" or available:
        assert reason is None
    elif not holder.active or not holder.in_tier:
        assert reason == (INACTIVE if not holder.active else NOT_IN_TIER)
    else:  # off shift: back only if the shift ended after the ticket was given (a /take off shift holds)
        ended_since = holder.off_since is not None and (given_at is None or given_at < holder.off_since)
        assert (reason == OFF_SHIFT) == ended_since and reason in (None, OFF_SHIFT)


@given(instants, holders_, st.integers(0, 48))
def test_taking_a_ticket_back_off_shift_keeps_it_until_the_shift_ends_again(given_at, holder, later):
    """Whatever the holder's state: retaken (assigned again) at or after their closed time began, a ticket stays."""
    if holder.off_since is None:
        return
    retaken = holder.off_since + timedelta(hours=later)
    if holder.active and holder.in_tier:
        assert hand_back_reason("open", retaken, holder) is None

"""Automatic assignment on both backends: a tier that assigns by itself (round-robin or least-open) gives a ticket
reaching it to one of its active staff on shift and under capacity, at once, tells them in private, and records
`ticket.assigned` by `auto`; a manual tier (the default) leaves it to /take."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import private_message

from tgesc.domain.assignment import Candidate, choose
from tgesc.models import Event, Outbox, Ticket
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.tickets.escalation import escalate_ticket
from tgesc.services.tickets.ingest import ingest_message

MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def desk(db):
    initialise(db, now=MON_10, actor="test")
    for handle, user_id, tiers in (("bob", 5001, ["L1"]), ("ann", 5002, ["L1"]), ("carol", 5003, ["L2"])):
        add_entry(db, "staff", handle, {"id": user_id, "tiers": tiers}, actor="test", now=MON_10)
    return db


def opened(db, customer: int, minutes: int = 0, text: str = "Where is my parcel?") -> Ticket:
    at = MON_10 + timedelta(minutes=minutes)
    number = ingest_message(db, private_message(customer, 1, at, text, first_name="C"), now=at).ticket
    return Ticket.get(Ticket.number == number)


def assignees() -> list[str | None]:
    return [t.assignee.handle if t.assignee_id else None for t in Ticket.select().order_by(Ticket.number)]


def test_a_manual_tier_assigns_nobody(desk):
    opened(desk, 1001)
    assert assignees() == [None]


def test_round_robin_takes_turns_and_tells_the_assignee(desk):
    set_entry(desk, "tiers", "L1", {"assign": "round-robin"}, actor="test", now=MON_10)
    for n in range(4):
        opened(desk, 1001 + n, minutes=n)
    assert assignees() == ["ann", "bob", "ann", "bob"]
    first = Ticket.get(Ticket.number == 1)
    [assigned] = Event.select().where((Event.ticket == first) & (Event.kind == "ticket.assigned"))
    assert (assigned.actor, assigned.details) == ("auto", {"to": "ann", "mode": "round-robin"})
    notice = Outbox.get((Outbox.chat_id == 5002) & (Outbox.ticket == first))
    assert notice.text.startswith("📌 Ticket #1 (L1, medium) is yours now: Where is my parcel?")


def test_round_robin_takes_turns_among_tickets_given_at_one_instant(desk):
    set_entry(desk, "tiers", "L1", {"assign": "round-robin"}, actor="test", now=MON_10)
    for n in range(5):
        opened(desk, 1001 + n)  # all at 10:00, as a sweep gives the pool out
    assert assignees() == ["ann", "bob", "ann", "bob", "ann"]


def test_least_open_respects_capacity_and_shifts(desk):
    set_entry(desk, "tiers", "L1", {"assign": "least-open"}, actor="test", now=MON_10)
    set_entry(desk, "staff", "ann", {"capacity": 1}, actor="test", now=MON_10)
    opened(desk, 1001)
    opened(desk, 1002, minutes=1)
    opened(desk, 1003, minutes=2)
    assert assignees() == ["ann", "bob", "bob"]  # ann is full after one

    add_entry(desk, "calendars", "nights", {"timezone": "UTC", "hours": {"mon": ["22:00-24:00"]}}, actor="test",
              now=MON_10)
    set_entry(desk, "staff", "bob", {"calendar": "nights"}, actor="test", now=MON_10)
    opened(desk, 1004, minutes=3)
    assert assignees()[-1] is None  # ann full, bob off shift: it waits for someone to /take it


def test_an_escalation_is_assigned_at_its_new_tier(desk):
    set_entry(desk, "tiers", "L2", {"assign": "round-robin"}, actor="test", now=MON_10)
    ticket = opened(desk, 1001)
    escalate_ticket(desk, ticket.number, to="L2", reason="needs billing", actor="bob", now=MON_10, quick=True)
    assert assignees() == ["carol"]


def test_escalations_at_once_never_take_anyone_past_their_capacity(desk):
    set_entry(desk, "tiers", "L2", {"assign": "least-open"}, actor="test", now=MON_10)
    set_entry(desk, "staff", "carol", {"capacity": 2}, actor="test", now=MON_10)
    add_entry(desk, "staff", "dave", {"id": 5004, "tiers": ["L2"], "capacity": 2}, actor="test", now=MON_10)
    numbers = [opened(desk, 1001 + n).number for n in range(6)]
    start, failures = threading.Barrier(2), []

    def escalations(mine: list[int]) -> None:
        start.wait()
        try:
            for number in mine:
                escalate_ticket(desk, number, to="L2", reason="billing", actor="bob", now=MON_10, quick=True)
        except Exception as exc:  # noqa: BLE001 - shown by the assertion below
            failures.append(exc)
        finally:
            desk.close()  # this thread's connection

    threads = [threading.Thread(target=escalations, args=(numbers[half::2],)) for half in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    given = assignees()
    assert sorted(h for h in given if h) == ["carol", "carol", "dave", "dave"] and given.count(None) == 2


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 5), st.one_of(st.none(), st.integers(0, 99))),
                unique_by=lambda c: c[0]), st.sampled_from(["round-robin", "least-open"]))
def test_the_choice_is_a_candidate_and_least_open_picks_the_fewest(raw, mode):
    candidates = [Candidate(h, n, None if m is None else MON_10 + timedelta(minutes=m)) for h, n, m in raw]
    chosen = choose(mode, candidates)
    assert (chosen is None) == (not candidates)
    if candidates and mode == "least-open":
        assert next(c for c in candidates if c.handle == chosen).open_tickets == min(c.open_tickets for c in candidates)
    if candidates and mode == "round-robin":  # never assigned first (by handle), else the longest ago
        never = [c.handle for c in candidates if c.last_assigned is None]
        longest_ago = min(candidates, key=lambda c: (c.last_assigned or MON_10, c.handle)).handle
        assert chosen == (min(never) if never else longest_ago)


@given(st.integers(1, 6), st.integers(0, 30), st.sampled_from(["round-robin", "least-open"]))
def test_turns_go_round_when_every_ticket_is_given_at_one_instant(people, tickets, mode):
    """Candidates with the same past, given `tickets` at one instant, one after the other: each gets its share."""
    handles = [f"s{n}" for n in range(people)]
    given = dict.fromkeys(handles, 0)
    for _ in range(tickets):
        chosen = choose(mode, [Candidate(h, given[h], MON_10 if given[h] else None, given[h]) for h in handles])
        given[chosen] += 1
    assert max(given.values()) - min(given.values()) <= 1

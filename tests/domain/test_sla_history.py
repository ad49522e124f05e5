"""History is append-only, as properties over generated policies, ticket times, firings and instants: moving a
ticket onto another policy (`keep_history`) leaves every run of a clock that stopped, passed its deadline or
fired its breach exactly as it was and moves every other one; what it keeps survives the JSON snapshot and a
second move; every clock of a resolved or closed ticket is stopped; a clock breached before a wait on the
customer stays breached during it."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from sla_support import CALENDARS, instants, policies

from tgesc.domain.sla import BREACH, Policy, TicketTimes, clock_cycle, clocks, keep_history, milestone_key, report

SECONDS = st.integers(1, 6 * 24 * 3600).map(lambda s: timedelta(seconds=s))
STOPPED_STATES = {"met", "met late", "stopped", "stopped late"}


@st.composite
def lives(draw) -> TicketTimes:
    """A ticket at any point of its life: answered or not, awaiting a reply, waiting now, resolved, closed."""
    opened = draw(instants)
    answered = draw(st.none() | SECONDS.map(lambda d: opened + d))
    awaiting = answered + draw(SECONDS) if answered is not None and draw(st.booleans()) else None
    ended = draw(st.none() | SECONDS.map(lambda d: opened + d))
    resolved = ended if ended is not None and draw(st.booleans()) else None
    closed = None if ended is None or resolved is not None else ended
    paused = opened + draw(SECONDS) if ended is None and draw(st.booleans()) else None
    return TicketTimes(opened_at=opened, first_responded_at=answered, awaiting_reply_since=awaiting,
                       resolved_at=resolved, closed_at=closed, paused_since=paused)


@st.composite
def moves(draw):
    """(old policy, new policy, times, calendar, firings, now) of a ticket moving onto another policy."""
    old, new, times = draw(policies()), draw(policies()), draw(lives())
    calendar = CALENDARS[draw(st.sampled_from(sorted(CALENDARS)))]
    keys = [(m.clock, m.key) for c in clocks(old, times, calendar) for m in c.milestones]
    fired = set(draw(st.lists(st.sampled_from(keys), unique=True))) if keys else set()
    now = times.opened_at + draw(SECONDS)
    return old, new, times, calendar, fired, now


def facts(clock) -> tuple:
    return clock.started_at, clock.budget, clock.stopped_at, clock.due, clock.milestones, clock.stopped_state


def history(clock, fired, now) -> bool:
    """Whether this run of a clock is something that happened: stopped, deadline passed, breach fired."""
    breach = (clock.name, milestone_key(BREACH, clock_cycle(clock.started_at)))
    return clock.due is not None and (clock.stopped_at is not None or breach in fired or clock.due <= now)


@given(moves())
def test_what_happened_stays_and_only_deadlines_still_to_come_move(move):
    old, new, times, calendar, fired, now = move
    before = {c.name: c for c in clocks(old, times, calendar)}
    snapshot, reasons = keep_history(new, list(before.values()), fired, now)
    after = {c.name: c for c in clocks(snapshot, times, calendar)}
    fresh = {c.name: c for c in clocks(new, times, calendar)}
    happened = {name for name, clock in before.items() if history(clock, fired, now)}
    assert set(reasons) == happened and set(after) == set(fresh) | happened
    for name, clock in after.items():
        assert facts(clock) == facts(before[name]) if name in happened else clock == fresh[name]
    assert snapshot.base == new.base


@given(moves(), policies())
def test_what_is_kept_survives_the_snapshot_and_a_second_move(move, third):
    old, new, times, calendar, fired, now = move
    snapshot, _ = keep_history(new, clocks(old, times, calendar), fired, now)
    assert Policy.from_json(snapshot.as_json()) == snapshot
    kept = {c.name: facts(c) for c in clocks(snapshot, times, calendar) if history(c, fired, now)}
    again, _ = keep_history(third, clocks(snapshot, times, calendar), fired, now)
    later = {c.name: facts(c) for c in clocks(again, times, calendar)}
    assert {name: later[name] for name in kept} == kept


@given(policies(), lives(), st.sampled_from(sorted(CALENDARS)), SECONDS)
def test_every_clock_of_a_resolved_or_closed_ticket_is_stopped(policy, times, name, after):
    ended = times.resolved_at or times.closed_at
    calendar = CALENDARS[name]
    for clock in clocks(policy, times, calendar):
        state = report(clock, times.opened_at + after, calendar, (), None)
        if ended is not None:
            assert clock.stopped_at is not None and clock.stopped_at <= ended and not clock.milestones
            assert state["state"] in STOPPED_STATES and state["running"] is False
        elif clock.stopped_at is None:
            assert state["state"] in ("running", "breached", "paused")


@given(policies(), lives(), st.sampled_from(sorted(CALENDARS)))
def test_a_deadline_passed_before_a_wait_stays_during_it(policy, times, name):
    calendar = CALENDARS[name]
    running = TicketTimes(opened_at=times.opened_at, first_responded_at=times.first_responded_at,
                          awaiting_reply_since=times.awaiting_reply_since)
    waiting = TicketTimes(opened_at=times.opened_at, first_responded_at=times.first_responded_at,
                          awaiting_reply_since=times.awaiting_reply_since, paused_since=times.paused_since)
    for before, during in zip(clocks(policy, running, calendar), clocks(policy, waiting, calendar), strict=True):
        if waiting.paused_since is None or not policy.pause_when_waiting or before.stopped_at is not None:
            assert during == before
        elif before.due <= waiting.paused_since:
            assert (during.due, during.milestones) == (before.due, before.milestones)
        else:
            assert during.due is None and not during.milestones

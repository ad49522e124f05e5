"""The ticket state machine and the lifecycle timers (domain.ticket_rules), as properties: every path from open
ends closed, each reminder and automatic resolution happens once, and no SLA clock runs while a ticket waits on
the customer (domain.sla, with pause_when_waiting)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tgesc.domain.business_time import BusinessCalendar
from tgesc.domain.errors import DomainError
from tgesc.domain.hours import normalize_calendar
from tgesc.domain.sla import ALWAYS_OPEN, Policy, TicketTimes, clocks
from tgesc.domain.ticket_rules import (
    LifecyclePolicy,
    LifeState,
    after_step,
    next_step,
    transition,
)

START = datetime(2026, 3, 9, 10, tzinfo=UTC)
ACTIONS = ("wait", "resume", "resolve", "reopen", "close")
DURATIONS = st.integers(60, 10 * 86400).map(lambda s: timedelta(seconds=s))
POLICIES = st.builds(LifecyclePolicy, DURATIONS, DURATIONS, DURATIONS, DURATIONS)
TWENTY_FOUR_SEVEN = BusinessCalendar(normalize_calendar(ALWAYS_OPEN), "24/7")


def state_after(status: str, action: str, reason: str, at: datetime) -> LifeState:
    """The lifecycle state a staff or customer action leaves (as the services store it)."""
    to = transition(status, action, 1)
    if to == "waiting":
        return LifeState(to, reason, at)
    return LifeState(to, resolved_at=at if to == "resolved" else None)


def run_out(state: LifeState, policy: LifecyclePolicy) -> list:
    """Every automatic step from `state`, with nobody acting any more."""
    steps = []
    while (step := next_step(state, policy)) is not None:
        assert len(steps) < 4, steps  # remind, resolve, close at most
        steps.append(step)
        state = after_step(state, step)
    return [*steps, state]


@given(st.lists(st.tuples(st.sampled_from(ACTIONS), st.sampled_from(("staff", "faq")), DURATIONS), max_size=12),
       POLICIES)
def test_every_path_from_open_ends_closed(actions, policy):
    """Whatever staff and customers do, a ticket they leave alone ends closed; only an open ticket (the desk's
    to answer) waits for staff, and its resolution by staff then ends closed too."""
    state, at = LifeState("open"), START
    for action, reason, after in actions:
        at += after
        try:
            state = state_after(state.status, action, reason, at)
        except DomainError:
            continue  # not allowed from this status: refused, nothing changes
    *steps, final = run_out(state, policy)
    if final.status == "open":
        final = run_out(state_after("open", "resolve", "staff", at), policy)[-1]
    assert final.status == "closed"
    assert [s.at for s in steps] == sorted(s.at for s in steps)  # in time order


@given(POLICIES, st.sampled_from(("staff", "faq")))
def test_each_reminder_and_automatic_resolution_happens_once(policy, reason):
    *steps, final = run_out(LifeState("waiting", reason, START), policy)
    actions = [s.action for s in steps]
    assert actions.count("resolve") == 1 and actions.count("close") == 1 and actions.count("remind") <= 1
    if reason == "faq":
        assert [(s.action, s.reason) for s in steps] == [("resolve", "faq_silence"), ("close", "auto")]
        assert steps[0].at == START + policy.faq_resolve_after
    else:
        resolve = next(s for s in steps if s.action == "resolve")
        assert (resolve.reason, resolve.at) == ("no_reply", START + policy.waiting_resolve_after)
        reminded = policy.waiting_remind_after < policy.waiting_resolve_after
        assert actions.count("remind") == (1 if reminded else 0)
    assert steps[-1].at == steps[-2].at + policy.close_after and final.status == "closed"


def test_the_shipped_timings():
    steps = run_out(LifeState("waiting", "staff", START), LifecyclePolicy())[:-1]
    assert [(s.action, s.at - START) for s in steps] == [
        ("remind", timedelta(days=1)), ("resolve", timedelta(days=3)), ("close", timedelta(days=6))]


def test_an_open_or_closed_ticket_has_no_step_of_its_own():
    assert next_step(LifeState("open"), LifecyclePolicy()) is None
    assert next_step(LifeState("closed", resolved_at=START), LifecyclePolicy()) is None


@pytest.mark.parametrize(("status", "action"), [("closed", "resolve"), ("resolved", "wait"), ("open", "resume"),
                                                ("waiting", "wait"), ("open", "reopen")])
def test_what_a_status_does_not_allow_is_refused_with_the_reason(status, action):
    with pytest.raises(DomainError, match=f"ticket #1 is {status}"):
        transition(status, action, 1)


WAITS = st.lists(st.tuples(st.integers(0, 600), st.integers(1, 600)), max_size=5)


@given(WAITS, st.integers(5, 600), st.booleans())
def test_no_clock_runs_while_waiting(waits, budget_minutes, waiting_now):
    """With pause_when_waiting, a clock's budget is spent only outside the waits on the customer, and during a
    wait still going on a running clock has no deadline at all (nothing can warn or breach)."""
    policy = Policy("medium", first_response=timedelta(minutes=budget_minutes),
                    resolution=timedelta(minutes=budget_minutes * 4), on_breach="none")
    pauses, at = [], START
    for gap, length in waits:
        begin = at + timedelta(minutes=gap)
        pauses.append((begin, begin + timedelta(minutes=length)))
        at = begin + timedelta(minutes=length)
    paused_since = at + timedelta(minutes=1) if waiting_now else None
    times = TicketTimes(opened_at=START, pauses=pauses, paused_since=paused_since)
    for clock in clocks(policy, times, TWENTY_FOUR_SEVEN):
        if clock.due is None:
            assert paused_since is not None and not clock.milestones
            continue
        waited = sum((min(end, clock.due) - begin for begin, end in pauses if begin < clock.due), timedelta())
        assert clock.due - START - waited == clock.budget
        assert paused_since is None or clock.due <= paused_since

"""SLA milestones as the sweep uses them: once per run of a clock, the next check, what is due, quiet hours.

Properties over generated policies (budgets, warning thresholds), ticket times, calendars (24/7 and office
hours) and sweep instants: a milestone's firing level identifies its clock's run; what is due is exactly
the pending milestones at or before the sweep; recording them leaves nothing due and a next check after
the sweep; a new run of a clock (a reopened ticket, a later customer message) warns again.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from sla_support import CALENDARS, MINUTE, instants, policies

from tgesc.domain.sla import (
    BREACH,
    CLOCKS,
    TicketTimes,
    clocks,
    due_milestones,
    milestone_key,
    next_check,
    waits_for_business_hours,
)


@st.composite
def ticket_times(draw) -> TicketTimes:
    opened = draw(instants)
    answered = draw(st.none() | st.integers(1, 5 * 24 * 3600).map(lambda s: opened + timedelta(seconds=s)))
    awaiting = None
    if answered is not None and draw(st.booleans()):
        awaiting = answered + draw(st.integers(1, 24 * 3600).map(lambda s: timedelta(seconds=s)))
    return TicketTimes(opened_at=opened, first_responded_at=answered, awaiting_reply_since=awaiting)


@st.composite
def cases(draw):
    policy, times = draw(policies()), draw(ticket_times())
    calendar = CALENDARS[draw(st.sampled_from(sorted(CALENDARS)))]
    found = clocks(policy, times, calendar)
    milestones = [m for c in found if c.running for m in c.milestones]
    fired = set(draw(st.lists(st.sampled_from([(m.clock, m.key) for m in milestones]), unique=True))
                if milestones else [])
    now = draw(st.sampled_from([m.at for m in milestones]) | instants) if milestones else draw(instants)
    return found, fired | {("rule", "unresolved-15m"), ("notice", "escalation")}, now


@given(st.integers(0, 253402300799), st.sampled_from([f"warn-{pct}" for pct in range(1, 100)] + [BREACH]))
def test_a_firing_level_fits_its_column_for_any_start_and_threshold(cycle, level):
    key = milestone_key(level, cycle)
    assert len(key) <= 32 and key.startswith(level + "@") and key.endswith(str(cycle))


@given(policies(), ticket_times())
def test_a_milestone_key_names_its_level_and_its_clocks_start(policy, times):
    for clock in clocks(policy, times, CALENDARS["24/7"]):
        keys = [m.key for m in clock.milestones]
        assert len(set(keys)) == len(keys)
        for milestone in clock.milestones:
            assert milestone.key == f"{milestone.level}@{int(clock.started_at.timestamp())}"


@given(cases())
def test_what_is_due_is_every_pending_milestone_up_to_now(case):
    found, fired, now = case
    due = due_milestones(found, fired, now)
    expected = {(m.clock, m.key) for c in found if c.running for m in c.milestones
                if m.at <= now and (m.clock, m.key) not in fired}
    assert {(d.milestone.clock, d.milestone.key) for d in due} == expected
    assert [d.milestone.at for d in due] == sorted(d.milestone.at for d in due)


@given(cases())
def test_of_each_clock_only_the_latest_due_milestone_acts(case):
    found, fired, now = case
    due = due_milestones(found, fired, now)
    for name in CLOCKS:
        mine = [d for d in due if d.milestone.clock == name]
        if mine:
            acting = [d for d in mine if d.acts]
            assert len(acting) == 1
            assert acting[0].milestone.at == max(d.milestone.at for d in mine)
            if any(d.milestone.level == BREACH for d in mine):
                assert acting[0].milestone.level == BREACH


@given(cases())
def test_the_next_check_is_due_exactly_when_something_is(case):
    found, fired, now = case
    check = next_check(found, fired)
    assert (check is not None and check <= now) == bool(due_milestones(found, fired, now))


@given(cases())
def test_recording_what_is_due_leaves_nothing_due_and_the_next_check_after_now(case):
    found, fired, now = case
    recorded = fired | {(d.milestone.clock, d.milestone.key) for d in due_milestones(found, fired, now)}
    assert due_milestones(found, recorded, now) == []  # a second sweep, or a re-run after a crash
    check = next_check(found, recorded)
    assert check is None or check > now


@given(policies(), ticket_times(), st.integers(1, 30 * 24 * 3600))
def test_a_new_run_of_the_clocks_warns_again(policy, times, later_s):
    calendar = CALENDARS["24/7"]
    first_run = clocks(policy, times, calendar)
    every_key = {(m.clock, m.key) for c in first_run for m in c.milestones}
    assert next_check(first_run, every_key) is None
    reopened = TicketTimes(opened_at=times.opened_at + timedelta(seconds=later_s))  # every clock starts again
    second_run = clocks(policy, reopened, calendar)
    assert next_check(second_run, every_key) == min(m.at for c in second_run for m in c.milestones)


@given(policies(), ticket_times(), st.integers(1, 24 * 3600))
def test_the_next_response_clock_warns_again_for_a_later_message(policy, times, later_s):
    calendar = CALENDARS["24/7"]
    answered = times.first_responded_at or times.opened_at + MINUTE
    waiting = TicketTimes(opened_at=times.opened_at, first_responded_at=answered,
                          awaiting_reply_since=answered + MINUTE)
    before = {(m.clock, m.key) for c in clocks(policy, waiting, calendar) if c.name == "next_response"
              for m in c.milestones}
    again = TicketTimes(opened_at=times.opened_at, first_responded_at=answered,
                        awaiting_reply_since=answered + MINUTE + timedelta(seconds=later_s))
    next_clock = [c for c in clocks(policy, again, calendar) if c.name == "next_response"]
    assert bool(next_clock) == (policy.next_response is not None)
    for clock in next_clock:
        assert not {(m.clock, m.key) for m in clock.milestones} & before


def test_low_and_medium_wait_for_business_hours_urgent_and_high_never_do():
    assert [p for p in ("urgent", "high", "medium", "low") if waits_for_business_hours(p)] == ["medium", "low"]

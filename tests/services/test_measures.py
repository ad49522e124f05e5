"""Measures: every run of an SLA clock is stored when it ends (`clock_run`), in wall-clock and business time, with its
deadline and whether it held: a first answer, an answer to a customer waiting again, a resolution, a ticket closed
before anyone answered; across a weekend on an office-hours calendar; and the migration's backfill of tickets that
ended before measures existed gives the same rows."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pytest

from tgesc.models import ClockRun
from tgesc.services.config.apply import set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.tickets import actions, channel_messages

MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
FRI_1730 = datetime(2026, 3, 6, 17, 30, tzinfo=UTC)


@pytest.fixture
def desk(db):
    initialise(db, now=MON_10 - timedelta(days=7), actor="test")
    set_entry(db, "tiers", "L1", {"staff_chat": -1001}, actor="test", now=MON_10)
    return db


def runs() -> list[tuple]:
    return [(r.clock, r.started_at, r.stopped_at, r.wall_s, r.business_s, r.budget_s, r.met, r.breached, r.by)
            for r in ClockRun.select().order_by(ClockRun.stopped_at, ClockRun.clock)]


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def test_a_first_answer_a_next_answer_and_the_resolution_are_each_measured(desk):
    channel_messages.open_ticket(desk, 1001, "My order has not arrived", actor="bob", now=MON_10)
    channel_messages.reply(desk, 1, "Checking.", actor="bob", now=MON_10 + minutes(3))
    channel_messages.customer_message(desk, 1, "Any news?", actor="cli", now=MON_10 + minutes(9))
    channel_messages.reply(desk, 1, "It left today.", actor="carol", now=MON_10 + minutes(20))
    actions.resolve(desk, 1, survey=False, actor="bob", now=MON_10 + minutes(30))
    assert runs() == [
        ("first_response", MON_10, MON_10 + minutes(3), 180, 180, 300, True, False, "bob"),  # L1's 5 min, 24/7
        ("next_response", MON_10 + minutes(9), MON_10 + minutes(20), 660, 660, 7200, True, False, "carol"),
        ("resolution", MON_10, MON_10 + minutes(30), 1800, 1800, 86400, True, False, "bob")]
    [row] = ClockRun.select().where(ClockRun.clock == "first_response")
    assert (row.tier.code, row.priority, row.due_at) == ("L1", "medium", MON_10 + minutes(5))


def test_a_late_answer_is_breached_and_an_unanswered_close_is_unmet(desk):
    channel_messages.open_ticket(desk, 1001, "My order has not arrived", actor="bob", now=MON_10)
    channel_messages.reply(desk, 1, "Sorry for the wait.", actor="bob", now=MON_10 + minutes(12))
    channel_messages.open_ticket(desk, 1002, "Hello?", actor="bob", now=MON_10)
    actions.close(desk, 2, actor="bob", now=MON_10 + minutes(2))
    [late] = ClockRun.select().where((ClockRun.ticket == 1) & (ClockRun.clock == "first_response"))
    assert (late.met, late.breached, late.by, late.wall_s) == (True, True, "bob", 720)
    closed = [r for r in ClockRun.select().where(ClockRun.ticket == 2).order_by(ClockRun.clock)]
    assert [(r.clock, r.met, r.breached, r.by, r.wall_s) for r in closed] == [
        ("first_response", False, False, None, 120), ("resolution", False, False, None, 120)]


def test_business_time_leaves_out_the_weekend(desk):
    set_entry(desk, "tiers", "L1", {"calendar": "office-hours"}, actor="test", now=FRI_1730)
    channel_messages.open_ticket(desk, 1001, "Where is my parcel?", actor="bob", now=FRI_1730)
    monday_0930 = FRI_1730 + timedelta(days=2, hours=16)
    channel_messages.reply(desk, 1, "Looking now.", actor="bob", now=monday_0930)
    [(clock, _, _, wall, business, budget, met, breached, _)] = runs()
    assert (clock, wall, business, met, breached) == ("first_response", 64 * 3600, 3600, True, True)
    assert budget == 300  # 5 business minutes: due at 17:35 on Friday


def test_the_migration_backfills_what_ended_before_measures(desk):
    channel_messages.open_ticket(desk, 1001, "My order has not arrived", actor="bob", now=MON_10)
    channel_messages.reply(desk, 1, "Checking.", actor="bob", now=MON_10 + minutes(3))
    actions.resolve(desk, 1, survey=False, actor="bob", now=MON_10 + minutes(30))
    channel_messages.open_ticket(desk, 1002, "Hello?", actor="bob", now=MON_10)  # still open: nothing ended
    recorded = [run[:-1] for run in runs() if run[0] != "next_response"]
    ClockRun.delete().execute()
    importlib.import_module("tgesc.migrations.0016_clock_runs")._backfill(desk)
    assert [run[:-1] for run in runs()] == recorded and {run[-1] for run in runs()} == {None}

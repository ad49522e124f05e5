"""The sweeps' ticks in a simulation: on each sweep's grid from the start, never before the work is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tgesc.simulation.timeline import on_grid

START = datetime(2026, 3, 2, 9, 0, 7, tzinfo=UTC)


@given(offset=st.integers(-10**6, 10**7), every=st.integers(1, 86400))
def test_the_tick_is_the_first_on_the_grid_at_or_after_the_instant(offset, every):
    instant, step = START + timedelta(seconds=offset), timedelta(seconds=every)
    tick = on_grid(instant, START, step)
    assert tick >= instant and tick >= START
    assert (tick - START) % step == timedelta(0)  # on the sweep's own grid
    assert tick - step < max(instant, START)  # and the first such tick


def test_work_due_between_ticks_waits_for_the_next_tick():
    every = timedelta(seconds=15)
    assert on_grid(START + timedelta(seconds=16), START, every) == START + timedelta(seconds=30)
    assert on_grid(START + timedelta(seconds=30), START, every) == START + timedelta(seconds=30)
    assert on_grid(START - timedelta(hours=1), START, every) == START  # overdue at the start: the first run

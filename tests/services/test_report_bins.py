"""Durations cut into the HTML report's histogram bins (`tgesc.services.reports.bins`)."""

from __future__ import annotations

import pytest

from tgesc.services.reports.bins import TARGET_BINS, counts, nice_step, quantile, scale_for


@pytest.mark.parametrize(("budget_s", "unit"), [(900, "min"), (3 * 3600, "min"), (14400, "h"), (172800, "h"),
                                                (7 * 86400, "d")])
def test_the_unit_follows_the_largest_budget(budget_s: int, unit: str) -> None:
    assert scale_for([60, 120], [budget_s]).unit == unit


def test_the_range_reaches_past_the_budget_in_round_bins() -> None:
    scale = scale_for([300] * 50, [1800])  # 30 minutes
    assert scale.unit == "min" and scale.width == 2 and scale.count == 18  # 36 minutes: 20 % past the budget
    assert scale.count <= TARGET_BINS
    assert scale.label(0) == "0–2 min" and scale.label(scale.count) == "36 min or longer"


def test_the_long_tail_falls_in_the_last_bin() -> None:
    scale = scale_for([600] * 99 + [30 * 86400], [1800])  # one ticket left for a month
    found = counts([600] * 99 + [30 * 86400], scale)
    assert scale.unit == "min" and len(found) == scale.count + 1
    assert found[-1] == 1 and found[scale.index(600)] == 99 and sum(found) == 100


def test_a_duration_on_an_edge_opens_the_next_bin() -> None:
    scale = scale_for([], [1500])  # a 25-minute budget: 30 bins of a minute
    for index in range(scale.count):
        edge_s = scale.width * index * scale.unit_s
        assert scale.index(edge_s) == index
    assert scale.index(0) == 0 and scale.index(-5) == 0


def test_without_budgets_the_bulk_of_the_durations_sets_the_range() -> None:
    scale = scale_for([3600 * n for n in range(1, 21)], [])
    assert scale.unit == "h" and scale.end >= quantile([3600 * n for n in range(1, 21)], 0.95) / 3600


def test_nothing_at_all_still_makes_a_scale() -> None:
    scale = scale_for([], [])
    assert scale.count >= 1 and counts([], scale) == [0] * (scale.count + 1)


@pytest.mark.parametrize(("raw", "step"), [(0.033, 0.05), (0.9, 1), (1, 1), (1.2, 2), (2.2, 2.5), (3, 5), (7, 10),
                                           (12, 20), (240, 250)])
def test_steps_are_round(raw: float, step: float) -> None:
    assert nice_step(raw) == step

"""Durations cut into histogram bins for the HTML report, in a unit a lead reads at a glance.

The report's charts get at most ~10,000 durations per clock; binning them here keeps the page small (a few dozen
bars, whatever the count) and lets the last bin gather the long tail ("8 h or longer"), so that one ticket left
open for a month does not squash every other bar against the axis. The range reaches past the largest SLA
budget, so that the budgets' lines fall inside the chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

UNITS = (("min", 60), ("h", 3600), ("d", 86400))
MINUTES_UP_TO_S = 3 * 3600  # a chart reaching 3 h reads in minutes, one reaching 3 days in hours, else days
HOURS_UP_TO_S = 3 * 86400
TARGET_BINS = 30
HEADROOM = 1.2  # the range reaches 20 % past the largest budget (or the 95th percentile)
TAIL_QUANTILE = 0.95


@dataclass(frozen=True)
class Scale:
    """Equal bins from 0 to `width * count` in `unit`, and one more for the durations at or past the end."""

    unit: str
    unit_s: int
    width: float  # in units
    count: int

    @property
    def end(self) -> float:
        return self.width * self.count

    def index(self, seconds: float) -> int:
        """The bin of a duration: 0 .. count - 1, or `count` for the tail."""
        if seconds <= 0:
            return 0
        return min(math.floor(round(seconds / self.unit_s / self.width, 9)), self.count)

    def centre(self, index: int) -> float:
        return self.width * (index + 0.5)

    def label(self, index: int) -> str:
        """`10–20 min`, or `8 h or longer` for the tail."""
        if index >= self.count:
            return f"{_number(self.end)} {self.unit} or longer"
        return f"{_number(self.width * index)}–{_number(self.width * (index + 1))} {self.unit}"


def scale_for(seconds: Sequence[float], budgets_s: Sequence[float]) -> Scale:
    """The bins for these durations and these SLA budgets (both in seconds; either may be empty)."""
    reach = max(max(budgets_s, default=0), quantile(seconds, TAIL_QUANTILE))
    unit, unit_s = _unit(reach)
    span = max(reach * HEADROOM / unit_s, 1.0)
    width = nice_step(span / TARGET_BINS)
    return Scale(unit, unit_s, width, max(math.ceil(round(span / width, 9)), 1))


def counts(seconds: Sequence[float], scale: Scale) -> list[int]:
    """How many durations fall in each bin, the tail last (`scale.count + 1` numbers)."""
    found = [0] * (scale.count + 1)
    for value in seconds:
        found[scale.index(value)] += 1
    return found


def quantile(values: Sequence[float], q: float) -> float:
    """The `q` quantile (nearest rank) of `values`, 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))])


def nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at least `raw` (`raw` > 0)."""
    exponent = math.floor(math.log10(raw))
    for mantissa in (1, 2, 2.5, 5, 10):
        step = round(mantissa * 10.0 ** exponent, 12)
        if step >= raw * (1 - 1e-9):
            return step
    return 10.0 ** (exponent + 1)  # not reached: 10 × 10^k >= raw always


def _unit(reach_s: float) -> tuple[str, int]:
    if reach_s <= MINUTES_UP_TO_S:
        return UNITS[0]
    return UNITS[1] if reach_s <= HOURS_UP_TO_S else UNITS[2]


def _number(value: float) -> str:
    """`20`, `2.5`, `0.25`: no trailing zeros."""
    return f"{value:.6f}".rstrip("0").rstrip(".")

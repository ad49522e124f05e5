"""Report documents for the HTML report's tests: a busy week at a desk (seeded, so always the same), and an empty
desk. The shape is the one `tgesc.services.reports.html.render` takes (see its module docstring)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

PERIOD = {"title": "tgesc report", "since": "2026-03-02T00:00:00+00:00", "until": "2026-03-09T00:00:00+00:00",
          "generated_at": "2026-03-09T06:15:00+00:00", "zone": "Europe/Berlin"}
BUDGETS_S = {"first_response": {"urgent": 900, "high": 1800, "medium": 7200, "low": 14400},
             "resolution": {"urgent": 7200, "high": 14400, "medium": 86400, "low": 172800}}
SHARES = {"urgent": 0.1, "high": 0.25, "medium": 0.45, "low": 0.2}
CLOCK_NAMES = ("first_response", "next_response", "resolution")


def busy_week(clocks: int = 10_000, seed: int = 18) -> dict[str, Any]:
    """A week of a busy desk: `clocks` durations per clock (the most the data side sends), about one in ten
    breaching its SLA budget, four priorities, three tiers, five triggers."""
    rng = random.Random(seed)
    durations = {clock: [_duration(rng, clock) for _ in range(clocks)] for clock in BUDGETS_S}
    tiers = [_tier("L1", [2, 3, 8, 30, 57]), _tier("L2", [4, 6, 10, 25, 20]), _tier("L3", [1, 0, 2, 5, 9])]
    return {**PERIOD, "summary": _summary(durations, tiers), "per_day": _per_day(rng),
            "durations": durations, "sla_by_priority": _sla_by_priority(durations), "ratings_by_tier": tiers,
            "escalations_by_trigger": {"unresolved_for": 41, "keyword": 23, "manual": 17, "sla:first_response": 9,
                                       "complaint": 6}}


def empty_desk() -> dict[str, Any]:
    """The document of a desk that did nothing in the period: every list and count empty or zero."""
    return {**PERIOD, "summary": _summary({"first_response": [], "resolution": []}, []), "per_day": [],
            "durations": {"first_response": [], "resolution": []}, "sla_by_priority": [],
            "ratings_by_tier": [], "escalations_by_trigger": {}}


def _duration(rng: random.Random, clock: str) -> dict[str, Any]:
    priority = rng.choices(list(SHARES), weights=list(SHARES.values()))[0]
    budget = BUDGETS_S[clock][priority]
    seconds = round(budget * rng.lognormvariate(-0.9, 0.65))  # ~ 9 % past the budget
    return {"seconds": seconds, "priority": priority, "budget_s": budget, "breached": seconds > budget}


def _per_day(rng: random.Random) -> list[dict[str, Any]]:
    first = date(2026, 3, 2)
    return [{"day": (first + timedelta(days=n)).isoformat(), "opened": rng.randint(20, 60) // (1 + n // 5),
             "resolved": rng.randint(15, 55) // (1 + n // 5), "escalated": rng.randint(2, 12)} for n in range(7)]


def _sla_by_priority(durations: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    for clock in CLOCK_NAMES:
        entries = durations.get(clock) or durations["first_response"]  # next response: as the first, for the test
        for priority in SHARES:
            mine = [e for e in entries if e["priority"] == priority]
            breached = sum(e["breached"] for e in mine)
            rows.append({"priority": priority, "clock": clock, "met": len(mine) - breached, "breached": breached,
                         "met_pct": round(100 * (len(mine) - breached) / len(mine), 1)})
    return rows


def _tier(name: str, stars: list[int]) -> dict[str, Any]:
    answered = sum(stars)
    average = round(sum(n * count for n, count in enumerate(stars, 1)) / answered, 2)
    return {"tier": name, "answered": answered, "average": average,
            "distribution": {str(n): count for n, count in enumerate(stars, 1)}}


def _summary(durations: dict[str, list[dict[str, Any]]], tiers: list[dict[str, Any]]) -> dict[str, Any]:
    def times(entries: list[dict[str, Any]]) -> dict[str, Any]:
        ordered = sorted(e["seconds"] for e in entries)
        if not ordered:
            return {"count": 0, "median_s": 0, "p90_s": 0, "business_median_s": 0}
        return {"count": len(ordered), "median_s": ordered[len(ordered) // 2], "p90_s": ordered[len(ordered) * 9 // 10],
                "business_median_s": ordered[len(ordered) // 2]}

    def sla(entries: list[dict[str, Any]]) -> dict[str, Any]:
        breached = sum(e["breached"] for e in entries)
        met = len(entries) - breached
        return {"met": met, "breached": breached, "met_pct": round(100 * met / len(entries), 1) if entries else 0.0}

    busy = bool(durations["first_response"])
    return {
        "tickets": {"opened": 231 if busy else 0, "resolved": 204 if busy else 0, "closed": 180 if busy else 0,
                    "reopened": 7 if busy else 0, "open_now": 38 if busy else 0},
        "first_response": times(durations["first_response"]), "resolution": times(durations["resolution"]),
        "sla": {"first_response": sla(durations["first_response"]), "next_response": sla(durations["first_response"]),
                "resolution": sla(durations["resolution"])},
        "escalations": {"total": 96 if busy else 0,
                        "by_trigger": {"unresolved_for": 41, "keyword": 23, "manual": 17, "sla:first_response": 9,
                                       "complaint": 6} if busy else {}},
        "csat": _csat(tiers),
        "follow_up": {"escalated_resolved": 80 if busy else 0, "answered": 52 if busy else 0,
                      "rate_pct": 65.0 if busy else 0.0}}


def _csat(tiers: list[dict[str, Any]]) -> dict[str, Any]:
    answered = sum(t["answered"] for t in tiers)
    stars = {str(n): sum(t["distribution"][str(n)] for t in tiers) for n in range(1, 6)}
    average = round(sum(n * stars[str(n)] for n in range(1, 6)) / answered, 2) if answered else 0.0
    return {"sent": answered * 2, "answered": answered, "average": average, "distribution": stars}

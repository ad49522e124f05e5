"""The document `tgesc report html` draws (services.reports.html renders it): the summary, tickets per day, the
business-time durations of the period's first answers and resolutions against their SLA budgets, the SLA met per
priority, the ratings per tier and the escalations by trigger. Durations are a sample of at most SAMPLE runs per
clock, spread evenly over the period's runs (read in the database by row number), so a million-ticket desk draws
the same page as a small one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, tzinfo
from typing import Any

from peewee import SQL, fn

from tgesc.models import ClockRun, Event, Ticket
from tgesc.services.reports.breakdowns import csat_rows, sla_rows
from tgesc.services.reports.scope import Scope, hour_of
from tgesc.services.reports.summary import events, runs, summary

SAMPLE = 10_000  # the durations a chart draws per clock at most
FIRST = SQL("1")  # group by the first column: PostgreSQL sees a parameter in the select and the group as two
DAY_EVENTS = {"ticket.resolved": "resolved", "ticket.escalated": "escalated"}


def page(scope: Scope, zone: tzinfo, now: datetime, title: str = "tgesc report") -> dict[str, Any]:
    """The whole document for the HTML report of `scope`, days and instants in `zone`."""
    document = summary(scope)
    return {"title": title, "since": document["since"], "until": document["until"],
            "generated_at": now.astimezone(zone).isoformat(timespec="seconds"), "zone": str(zone),
            "summary": {k: v for k, v in document.items() if k not in ("since", "until")},
            "per_day": per_day(scope, zone),
            "durations": {clock: durations(scope, clock) for clock in ("first_response", "resolution")},
            "sla_by_priority": sla_by_priority(scope), "ratings_by_tier": ratings_by_tier(scope),
            "escalations_by_trigger": document["escalations"]["by_trigger"]}


def per_day(scope: Scope, zone: tzinfo) -> list[dict[str, Any]]:
    """Tickets opened, resolved and escalated per day of the period (in `zone`), oldest first."""
    days: dict[str, dict[str, int]] = defaultdict(lambda: {"opened": 0, "resolved": 0, "escalated": 0})
    hourly = hour_of(Ticket.created_at)
    opened = scope.kept(Ticket.select(hourly, fn.COUNT(Ticket.id)).where(scope.period(Ticket.created_at)))
    _add(days, "opened", opened.group_by(FIRST).tuples(), zone)
    for kind, name in DAY_EVENTS.items():
        at = hour_of(Event.at)
        _add(days, name, events(scope, kind, at, fn.COUNT(Event.id)).group_by(FIRST).tuples(), zone)
    return [{"day": day, **counts} for day, counts in sorted(days.items())]


def _add(days: dict[str, dict[str, int]], name: str, hours: Any, zone: tzinfo) -> None:
    """Count hourly groups (UTC hours: every zone's day is whole hours of them but for a few) into `zone`'s days."""
    for hour, count in hours:
        start = hour if isinstance(hour, datetime) else datetime.strptime(hour, "%Y-%m-%d %H")
        day = start.replace(tzinfo=UTC).astimezone(zone).date().isoformat()
        days[day][name] += count


def durations(scope: Scope, clock: str) -> list[dict[str, Any]]:
    """The met runs of `clock` in the period, at most SAMPLE of them spread evenly: business seconds, priority,
    budget, breached."""
    met = runs(scope, clock, ClockRun.business_s, ClockRun.priority, ClockRun.budget_s, ClockRun.breached).where(
        ClockRun.met)
    total = met.select(fn.COUNT(ClockRun.id)).scalar() or 0
    step = max(1, -(-total // SAMPLE))
    if step > 1:
        met = met.where(ClockRun.id % step == 0)
    return [{"seconds": s, "priority": p, "budget_s": b, "breached": bool(late)}
            for s, p, b, late in met.order_by(ClockRun.id).limit(SAMPLE).tuples()]


def sla_by_priority(scope: Scope) -> list[dict[str, Any]]:
    """Met and breached per priority and clock (all tiers together)."""
    merged: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in sla_rows(scope)["rows"]:
        merged[row["priority"], row["clock"]][0] += row["met"]
        merged[row["priority"], row["clock"]][1] += row["breached"]
    return [{"priority": priority, "clock": clock, "met": met, "breached": breached,
             "met_pct": round(100 * met / (met + breached), 1) if met + breached else 0.0}
            for (priority, clock), (met, breached) in sorted(merged.items())]


def ratings_by_tier(scope: Scope) -> list[dict[str, Any]]:
    return [{"tier": row["tier"], "answered": row["answered"], "average": row["average"],
             "distribution": row["distribution"]} for row in csat_rows(scope, "tier")["rows"]]


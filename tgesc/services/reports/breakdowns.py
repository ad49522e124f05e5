"""The reports that break the period down: `report sla` (met per priority, tier and clock, with the tickets that
breached), `report csat --by` (ratings per tier, staff member, tag or priority, with the low scores and their
tickets: "a certain type of issue frequently receives low ratings" is one command) and `report staff` (per staff
member: tickets handled, first-answer median, resolutions, rating). Each is a few grouped queries; only the
period's answered surveys are read row by row (for the tags, and the low scores to show).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from peewee import JOIN, fn

from tgesc.models import ClockRun, Event, Staff, Survey, Ticket, Tier
from tgesc.services.reports.scope import Scope, percent, ranks, seconds
from tgesc.services.reports.summary import STARS, answered_surveys, events, runs

LOW = 2  # a rating at or below this is a low score, shown with its ticket
SHOWN_TICKETS = 50  # the breached tickets a row of `report sla` lists at most
GROUPS = ("tier", "staff", "tag", "priority")


def period(scope: Scope) -> dict[str, str]:
    return {"since": scope.since.isoformat(), "until": scope.until.isoformat()}


def sla_rows(scope: Scope) -> dict[str, Any]:
    """Per priority, tier and clock (as the ticket was when the clock ended): met, breached, met %, and the numbers of
    the tickets that breached (at most SHOWN_TICKETS a row)."""
    rows = []
    for clock in ("first_response", "next_response", "resolution"):
        grouped = runs(scope, clock, ClockRun.priority, Tier.code, fn.COUNT(ClockRun.id),
                       fn.SUM(ClockRun.breached.cast("int"))).join(Tier, on=(ClockRun.tier == Tier.id)).group_by(
            ClockRun.priority, Tier.code).order_by(ClockRun.priority, Tier.code).tuples()
        for priority, tier, total, breached in grouped:
            late = runs(scope, clock, Ticket.number, with_tickets=True).join(Tier, on=(ClockRun.tier == Tier.id)).where(
                ClockRun.breached & (ClockRun.priority == priority) & (Tier.code == tier)).order_by(Ticket.number)
            rows.append({"priority": priority, "tier": tier, "clock": clock, "met": total - (breached or 0),
                         "breached": breached or 0, "met_pct": percent(total - (breached or 0), total),
                         "breached_tickets": [n for (n,) in late.limit(SHOWN_TICKETS).tuples()]})
    return {**period(scope), "rows": rows}


def csat_rows(scope: Scope, by: str) -> dict[str, Any]:
    """Per group (`by`: tier, staff, tag or priority): surveys sent and answered in the period, the answer rate,
    the average rating and its distribution, and the low scores with their tickets."""
    groups: dict[str, dict[str, Any]] = defaultdict(lambda: {"sent": 0, "ratings": [], "low": []})
    sent = scope.kept(_grouped(Survey.select(Ticket.id, Ticket.tags, *_group_columns(by)).join(Ticket))
                      .where(scope.period(Survey.sent_at))).tuples()  # joined: the groups read the ticket
    for _, tags, *key in sent:
        for group in _groups(by, tags, key):
            groups[group]["sent"] += 1
    rated = _grouped(answered_surveys(scope, with_tickets=True).select(
        Survey.stars, Survey.comment, Ticket.number, Ticket.tags, *_group_columns(by))).tuples()
    for stars, comment, number, tags, *key in rated:
        for group in _groups(by, tags, key):
            groups[group]["ratings"].append(stars)
            if stars <= LOW:
                groups[group]["low"].append({"ticket": number, "stars": stars, "comment": comment})
    return {**period(scope), "by": by, "rows": [_csat_row(by, name, data) for name, data in sorted(groups.items())]}


def _grouped(query: Any) -> Any:
    """`query` (surveys joined to their tickets) joined to what a group is read from: the tier and the assignee."""
    return query.switch(Ticket).join(Tier).switch(Ticket).join(Staff, JOIN.LEFT_OUTER, on=(Ticket.assignee == Staff.id))


def _group_columns(by: str) -> tuple:
    return {"tier": (Tier.code,), "staff": (Staff.handle,), "priority": (Ticket.priority,), "tag": ()}[by]


def _groups(by: str, tags: Any, key: list[Any]) -> list[str]:
    """The groups a ticket counts in: its tier, assignee (or "nobody") or priority; each of its tags (or "untagged")."""
    if by == "tag":
        tags = Ticket.tags.python_value(tags) if isinstance(tags, str) else tags
        return list(tags or []) or ["untagged"]
    return [key[0] if key[0] is not None else "nobody"]


def _csat_row(by: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
    ratings = data["ratings"]
    distribution = {stars: sum(1 for r in ratings if str(r) == stars) for stars in STARS}
    return {by: name, "sent": data["sent"], "answered": len(ratings),
            "answer_rate_pct": percent(len(ratings), data["sent"]) if data["sent"] else 0.0,
            "average": round(sum(ratings) / len(ratings), 2) if ratings else 0.0, "distribution": distribution,
            "low": sorted(data["low"], key=lambda low: low["ticket"])}


def staff_rows(scope: Scope) -> dict[str, Any]:
    """Per staff member: tickets they answered in the period, the median of their first answers (wall and business),
    the resolutions they made and the average rating of the surveys answered on tickets they resolved."""
    rows = []
    for (handle,) in Staff.select(Staff.handle).order_by(Staff.handle).tuples():
        if scope.staff and handle not in scope.staff:
            continue
        handled = events(scope, "ticket.replied", fn.COUNT(fn.DISTINCT(Event.ticket))).where(
            Event.actor == handle).scalar()
        firsts = runs(scope, "first_response").where(ClockRun.met & (ClockRun.by == handle))
        median, business = ranks(firsts, [(ClockRun.wall_s, 0.5), (ClockRun.business_s, 0.5)])
        resolved = events(scope, "ticket.resolved", fn.COUNT(Event.id)).where(Event.actor == handle).scalar()
        theirs = ClockRun.select(ClockRun.ticket).where((ClockRun.clock == "resolution") & (ClockRun.by == handle))
        rating = answered_surveys(scope).select(fn.AVG(Survey.stars)).where(Survey.ticket.in_(theirs)).scalar()
        rows.append({"staff": handle, "handled": handled, "first_responses": firsts.count(),
                     "first_response_median_s": seconds(median), "first_response_business_median_s": seconds(business),
                     "resolved": resolved, "average_rating": round(float(rating), 2) if rating is not None else None})
    return {**period(scope), "rows": rows}

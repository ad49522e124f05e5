"""`tgesc report summary`: a period at a glance: the tickets opened, resolved, closed, reopened and open now; how
long first answers and resolutions took (median and 90th percentile, wall-clock and business time); the SLA met and
breached per clock; escalations by trigger; surveys sent and answered with their ratings; and the follow-up rate
(the share of escalated tickets resolved in the period whose customer answered the return visit).

Every number is one aggregate query over an index (clock runs by stop, audit events by kind and time, surveys):
nothing loads the period's tickets. `--json` has exactly the issue's keys (docs/reports.md).
"""

from __future__ import annotations

from typing import Any

import peewee
from peewee import fn

from tgesc.domain.triggers import escalation_trigger
from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import ClockRun, Event, Survey, Ticket, TriggerRule
from tgesc.services.reports.scope import Scope, json_text, percent, ranks, seconds

CLOCKS = ("first_response", "next_response", "resolution")
STARS = ("1", "2", "3", "4", "5")


def summary(scope: Scope) -> dict[str, Any]:
    """The summary document (`report summary --json`)."""
    return {"since": scope.since.isoformat(), "until": scope.until.isoformat(), "tickets": tickets(scope),
            "first_response": durations(scope, "first_response"), "resolution": durations(scope, "resolution"),
            "sla": {clock: sla(scope, clock) for clock in CLOCKS}, "escalations": escalations(scope),
            "csat": csat(scope), "follow_up": follow_up(scope)}


def tickets(scope: Scope) -> dict[str, int]:
    """Opened in the period, resolved, closed and reopened in it (each time it happened), open now."""
    opened = scope.kept(Ticket.select(fn.COUNT(Ticket.id)).where(scope.period(Ticket.created_at))).scalar()
    now_open = scope.kept(Ticket.select(fn.COUNT(Ticket.id)).where(Ticket.status.in_(OPEN_STATUSES))).scalar()
    return {"opened": opened, "resolved": happened(scope, "ticket.resolved"),
            "closed": happened(scope, "ticket.closed"), "reopened": happened(scope, "ticket.reopened"),
            "open_now": now_open}


def happened(scope: Scope, kind: str) -> int:
    """How often the audit log has `kind` in the period, on the tickets in scope."""
    return events(scope, kind, fn.COUNT(Event.id)).scalar()


def events(scope: Scope, kind: str, *columns: Any) -> peewee.ModelSelect:
    """The period's audit events of `kind` on the tickets in scope, selecting `columns`."""
    return scope.kept(Event.select(*columns).where((Event.kind == kind) & scope.period(Event.at)), Event.ticket)


def runs(scope: Scope, clock: str, *columns: Any, with_tickets: bool = False, by_value: bool = False
         ) -> peewee.ModelSelect:
    """The runs of `clock` that ended in the period on the tickets in scope (`with_tickets`: joined to them whatever
    the filters, for a caller that reads them; `by_value`: to be read in the order of a measure, along its index)."""
    ended = ClockRun.select(*columns).where(
        (ClockRun.clock == clock) & scope.period(ClockRun.stopped_at, indexed=not by_value))
    if with_tickets:
        return scope.kept(ended.join(Ticket, on=(ClockRun.ticket == Ticket.id)), None, ClockRun.tier,
                          ClockRun.priority)
    return scope.kept(ended, ClockRun.ticket, ClockRun.tier, ClockRun.priority)


def durations(scope: Scope, clock: str) -> dict[str, Any]:
    """The runs of `clock` met in the period (answered, resolved): count, median and 90th percentile in wall-clock
    seconds, median in business seconds."""
    count = runs(scope, clock, fn.COUNT(peewee.SQL("*"))).where(ClockRun.met).scalar()
    met = runs(scope, clock, by_value=True).where(ClockRun.met)
    median, p90, business = ranks(met, [(ClockRun.wall_s, 0.5), (ClockRun.wall_s, 0.9), (ClockRun.business_s, 0.5)],
                                  count)
    return {"count": count, "median_s": seconds(median), "p90_s": seconds(p90), "business_median_s": seconds(business)}


def sla(scope: Scope, clock: str) -> dict[str, Any]:
    """The runs of `clock` that ended in the period: met (by their deadline) and breached (after it)."""
    total, breached = runs(scope, clock, fn.COUNT(ClockRun.id), fn.SUM(ClockRun.breached.cast("int"))).tuples()[0]
    met = total - (breached or 0)
    return {"met": met, "breached": breached or 0, "met_pct": percent(met, total)}


def escalations(scope: Scope) -> dict[str, Any]:
    """The period's escalations, in all and by trigger (docs/simulate.md's names: keyword, manual, quick, ...)."""
    trigger, quick = json_text(Event.details, "trigger"), json_text(Event.details, "quick")
    counts = events(scope, "ticket.escalated", trigger, quick, fn.COUNT(Event.id)).group_by(
        peewee.SQL("1"), peewee.SQL("2")).tuples()  # by position: PostgreSQL sees a parameter twice as two expressions
    kinds = dict(TriggerRule.select(TriggerRule.name, TriggerRule.kind).tuples())
    by_trigger: dict[str, int] = {}
    for raw, fast, count in counts:
        name = escalation_trigger(raw or "manual", str(fast).lower() in ("1", "true"), kinds)["trigger"]
        by_trigger[name] = by_trigger.get(name, 0) + count
    return {"total": sum(by_trigger.values()), "by_trigger": dict(sorted(by_trigger.items()))}


def csat(scope: Scope) -> dict[str, Any]:
    """Return-visit surveys sent in the period, answered in it, their average rating and the 1-5 distribution."""
    sent = scope.kept(Survey.select(fn.COUNT(Survey.id)).where(scope.period(Survey.sent_at)), Survey.ticket).scalar()
    answered = answered_surveys(scope)
    distribution = dict.fromkeys(STARS, 0)
    for stars, count in answered.select(Survey.stars, fn.COUNT(Survey.id)).group_by(Survey.stars).tuples():
        distribution[str(stars)] = count
    total = sum(distribution.values())
    average = sum(int(stars) * count for stars, count in distribution.items()) / total if total else 0.0
    return {"sent": sent, "answered": total, "average": round(average, 2), "distribution": distribution}


def answered_surveys(scope: Scope, *, with_tickets: bool = False) -> peewee.ModelSelect:
    """The surveys answered (with a rating) in the period, on the tickets in scope (`with_tickets`: joined to them
    whatever the filters, for a caller that reads them)."""
    answered = Survey.select().where(scope.period(Survey.answered_at) & Survey.stars.is_null(False))
    if with_tickets:
        return scope.kept(answered.join(Ticket))
    return scope.kept(answered, Survey.ticket)


def follow_up(scope: Scope) -> dict[str, Any]:
    """Of the tickets resolved in the period that had been escalated, how many customers answered a return visit
    (each ticket's resolution run says whether it had been escalated)."""
    rated = Survey.select(Survey.id).where((Survey.ticket == ClockRun.ticket) & Survey.stars.is_null(False))
    base = runs(scope, "resolution", fn.COUNT(fn.DISTINCT(ClockRun.ticket))).where(ClockRun.met & ClockRun.escalated)
    total, answered = base.scalar(), base.where(fn.EXISTS(rated)).scalar()
    return {"escalated_resolved": total, "answered": answered, "rate_pct": percent(answered, total)}

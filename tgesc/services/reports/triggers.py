"""`tgesc report triggers`: the evidence for "delete unnecessary trigger conditions". Per trigger rule: how often it
fired in the period, the escalations it caused, how many of those tickets were later sent back down or resolved at
the front line anyway (a sign the rule is too eager), and, on those tickets, the median resolution time and the
average rating. `tgesc simulate --replay` then rehearses deleting or disabling a rule on the desk's own history.
"""

from __future__ import annotations

from typing import Any

from peewee import SQL, Case, fn

from tgesc.domain.triggers import RULE_TRIGGERS
from tgesc.models import ClockRun, Event, Survey, Tier, TriggerRule
from tgesc.services.reports.breakdowns import period
from tgesc.services.reports.scope import Scope, json_text, percentiles, seconds
from tgesc.services.reports.summary import events


def trigger_rows(scope: Scope) -> dict[str, Any]:
    """One row per rule of the configuration, and per rule that acted in the period and is gone since."""
    fired = _by_actor(scope, "rule.fired")
    escalated = _by_actor(scope, "ticket.escalated")
    rules = {name: (kind, enabled) for name, kind, enabled in
             TriggerRule.select(TriggerRule.name, TriggerRule.kind, TriggerRule.enabled).tuples()}
    names = sorted(set(rules) | set(fired) | set(escalated))
    return {**period(scope), "rules": [_row(scope, name, rules.get(name), fired.get(name, 0),
                                             escalated.get(name, 0)) for name in names]}


def _by_actor(scope: Scope, kind: str) -> dict[str, int]:
    """How often each rule did `kind` in the period, by rule name (the events' actor is `rule:NAME`)."""
    counts = events(scope, kind, Event.actor, fn.COUNT(Event.id)).where(Event.actor.startswith("rule:")).group_by(
        Event.actor).tuples()
    return {actor.removeprefix("rule:"): count for actor, count in counts}


def _row(scope: Scope, name: str, rule: tuple[str, bool] | None, fired: int, escalations: int) -> dict[str, Any]:
    kind, enabled = rule if rule is not None else (None, None)
    row = {"rule": name, "kind": kind, "trigger": RULE_TRIGGERS.get(kind or "", kind), "enabled": enabled,
           "fired": fired, "escalations": escalations, "sent_back": 0, "resolved_front_line": 0,
           "median_resolution_s": None, "average_rating": None}
    return {**row, **_after(scope, name)} if escalations else row


def _after(scope: Scope, name: str) -> dict[str, Any]:
    """What became of the tickets the rule escalated in the period."""
    tickets = events(scope, "ticket.escalated", Event.ticket).where(Event.actor == f"rule:{name}")
    down = Event.select(fn.COUNT(fn.DISTINCT(Event.ticket))).where(
        Event.ticket.in_(tickets) & (Event.kind == "ticket.escalated")
        & fn.LOWER(json_text(Event.details, "down")).in_(("true", "1"))).scalar()
    front = Tier.select(Tier.id).where(Tier.level == Tier.select(fn.MIN(Tier.level)))
    resolutions = ClockRun.select().where(ClockRun.ticket.in_(tickets) & (ClockRun.clock == "resolution")
                                          & ClockRun.met)
    at_front_line = Case(None, [(ClockRun.tier.in_(front), ClockRun.ticket)])
    count, at_front = resolutions.select(  # one pass: the resolutions, and the tickets resolved at the front line
        fn.COUNT(SQL("*")), fn.COUNT(fn.DISTINCT(at_front_line))).tuples()[0]
    median, = percentiles(resolutions, ClockRun.wall_s, (0.5,), count)
    rating = Survey.select(fn.AVG(Survey.stars)).where(Survey.ticket.in_(tickets) & Survey.stars.is_null(False)
                                                       ).scalar()
    return {"sent_back": down, "resolved_front_line": at_front,
            "median_resolution_s": seconds(median) if median is not None else None,
            "average_rating": round(float(rating), 2) if rating is not None else None}

"""Measures: each run of an SLA clock, stored as a `clock_run` row when it ends, for reports to add up.

A clock ends when it is met (the first staff answer, an answer to a customer waiting for the next one, the resolution)
or when the ticket ends first (resolved or closed before its first answer). The row holds its wall-clock and
business-time length (the SLA's own count: business hours of the policy's calendar, waits on the customer left out
where the policy pauses), its deadline and whether it held, and where the ticket stood: its tier, its priority and
who ended it. Reports then aggregate columns and never recompute calendars over history.

`ended` records the first-response and resolution runs that have ended (call it after the change that ended them;
a run recorded already is left as it is: one row per ticket, clock and start), and `answered` the next-response run
a staff answer ends (before the answer clears it). `ended_runs` is the rows themselves: the migration that
backfills tickets from before measures uses it too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tgesc.domain.sla import Clock, Policy, clocks, report
from tgesc.models import Event, Ticket, database
from tgesc.services.clocks import store
from tgesc.services.clocks.sla import calendar_for, ticket_times

ENDED_BY_STOPS = ("first_response", "resolution")  # the clocks the ticket's own instants stop


def ended(ticket: Ticket, by: str | None) -> None:
    """Record the ticket's first-response and resolution runs that have ended (`by`: who ended them, if anyone)."""
    for row in ended_runs(ticket, by, escalated=_escalated(ticket)):
        store.record_run(database, row)


def answered(ticket: Ticket, now: datetime, by: str | None) -> None:
    """A staff answer at `now` ends the next-response run the customer is waiting on, if one runs (call it before
    the answer clears `awaiting_reply_since`)."""
    if ticket.awaiting_reply_since is None or ticket.first_responded_at is None or not ticket.sla_policy:
        return
    for row in _runs(ticket, by, lambda clock: clock.name == "next_response" and clock.stopped_at is None, now,
                     _escalated(ticket)):
        store.record_run(database, row)


def ended_runs(ticket: Any, by: str | None, *, escalated: bool) -> list[dict[str, Any]]:
    """The rows of the ticket's first-response and resolution runs that have ended (`ticket`: a Ticket or any object
    with its clock columns, `tier_id` and `priority`; `escalated`: whether it had been escalated)."""
    if not ticket.sla_policy:
        return []
    return _runs(ticket, by, lambda clock: clock.name in ENDED_BY_STOPS and clock.stopped_at is not None, None,
                 escalated)


def _runs(ticket: Any, by: str | None, chosen, now: datetime | None, escalated: bool) -> list[dict[str, Any]]:
    """The rows of the ticket's clocks `chosen` picks, each ended at its own stop or else at `now`."""
    policy = Policy.from_json(ticket.sla_policy)
    calendar = calendar_for(policy)
    times = ticket_times(ticket)
    pauses = times.pauses if policy.pause_when_waiting else ()
    paused_since = times.paused_since if policy.pause_when_waiting else None
    rows = []
    for clock in clocks(policy, times, calendar):
        if chosen(clock):
            end = clock.stopped_at or now
            measured = report(clock, end, calendar, pauses, paused_since)
            rows.append(_row(ticket, clock, end, int(measured["used"].total_seconds()), by, escalated))
    return rows


def _row(ticket: Any, clock: Clock, end: datetime, business_s: int, by: str | None,
         escalated: bool) -> dict[str, Any]:
    met = clock.met or clock.stopped_at is None  # a run ended here by an answer is met
    return {"ticket": ticket.id, "clock": clock.name, "started_at": clock.started_at, "stopped_at": end,
            "due_at": clock.due, "budget_s": int(clock.budget.total_seconds()),
            "wall_s": max(0, int((end - clock.started_at).total_seconds())), "business_s": business_s,
            "met": met, "breached": clock.due is not None and end > clock.due, "escalated": escalated,
            "tier": ticket.tier_id,
            "priority": ticket.priority, "by": by if met else None}


def _escalated(ticket: Any) -> bool:
    """Whether the ticket was escalated before (a ticket being measured has its id)."""
    return Event.select(Event.id).where((Event.ticket == ticket.id) & (Event.kind == "ticket.escalated")).exists()

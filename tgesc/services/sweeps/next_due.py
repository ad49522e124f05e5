"""When each periodic sweep next has work: the earliest timer in the one indexed column its due query reads; for the
assignment sweep, which has no timer column, now when it would find tickets, else the next instant a shift opens or
closes.

A sweep run before that instant finds nothing, so whoever drives time (`tgesc simulate`) can skip straight to the
first tick of the sweep's interval at or after it and still see everything fire at the same instant it would have.
"""

from __future__ import annotations

from datetime import datetime

from tgesc.models import Ticket, database
from tgesc.services.sweeps import assignment
from tgesc.services.tickets import store as tickets


def next_sla_check() -> datetime | None:
    """The earliest `next_check_at` of an open ticket (the SLA sweep's due query)."""
    return tickets.earliest_open(database, Ticket.next_check_at)


def next_unresolved_check() -> datetime | None:
    """The earliest `escalate_unresolved_at` of an open ticket (the unresolved-rule sweep's due query)."""
    return tickets.earliest_open(database, Ticket.escalate_unresolved_at)


def next_lifecycle_step() -> datetime | None:
    """The earliest `lifecycle_due_at` of a waiting or resolved ticket (the lifecycle sweep's due query)."""
    return tickets.earliest_lifecycle(database)


def next_survey_step() -> datetime | None:
    """The earliest `due_at` of a survey still to send, remind or expire (the survey sweep's due query)."""
    return tickets.earliest_survey_step(database)


def next_assignment_check(now: datetime) -> datetime | None:
    """`now` when the assignment sweep would hand back or assign a ticket, else the next instant a shift of the
    staff of a tier that assigns by itself opens or closes (None: no tier assigns by itself)."""
    return assignment.next_check(database, now)

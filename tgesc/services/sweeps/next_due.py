"""When each periodic sweep next has work: the earliest timer in the one indexed column its due query reads.

A sweep run before that instant finds nothing, so whoever drives time (`tgesc simulate`) can skip straight to the
first tick of the sweep's interval at or after it and still see everything fire at the same instant it would have.
"""

from __future__ import annotations

from datetime import datetime

import peewee

from tgesc import prepared
from tgesc.domain.surveys import PENDING
from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import Survey, Ticket


def next_sla_check() -> datetime | None:
    """The earliest `next_check_at` of an open ticket (the SLA sweep's due query)."""
    return _earliest(Ticket, Ticket.next_check_at, Ticket.status.in_(OPEN_STATUSES), OPEN_STATUSES)


def next_unresolved_check() -> datetime | None:
    """The earliest `escalate_unresolved_at` of an open ticket (the unresolved-rule sweep's due query)."""
    return _earliest(Ticket, Ticket.escalate_unresolved_at, Ticket.status.in_(OPEN_STATUSES), OPEN_STATUSES)


def next_survey_step() -> datetime | None:
    """The earliest `due_at` of a survey still to send, remind or expire (the survey sweep's due query)."""
    return _earliest(Survey, Survey.due_at, Survey.status.in_(list(PENDING)), PENDING)


def _earliest(model: type[peewee.Model], column: peewee.Field, where: peewee.Expression,
              statuses: tuple[str, ...]) -> datetime | None:
    """The smallest `column` of the rows `where` selects (with `statuses`, its only parameters)."""
    row = prepared.first(model._meta.database, model, f"earliest {model.__name__}.{column.name}",
                         lambda: model.select(column).where(where & column.is_null(False)).order_by(column),
                         list(statuses))
    return getattr(row, column.name) if row is not None else None

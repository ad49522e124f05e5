"""The survey sweep: every return-visit survey due a step by now goes out, is reminded or expires.

When: `tgesc worker cron` enqueues it every `survey_sweep_every` (1 min) for `tgesc worker run`; `tgesc survey
sweep --once` runs it once. Reads: one indexed query (status, due_at) for what is due, at most `limit`, earliest
first. Writes: each survey's step (tickets.surveys.step) in its own write transaction: the survey row, an
outbox row for the customer, the ticket's events. Safe to run twice, or two at once: a step is a conditional
UPDATE on the survey's status, so each survey moves once, and its outbox rows carry a unique dedupe key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee

from tgesc.db import write_transaction
from tgesc.domain.surveys import SurveyPolicy
from tgesc.services.tickets import surveys


def sweep_surveys(db: peewee.Database, *, now: datetime, dry_run: bool = False,
                  policy: SurveyPolicy | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    """Send the surveys due, remind the unanswered ones, expire those past their reminder (at most `limit` per
    call, earliest due first); what was done (with `dry_run`, what would be done, nothing changed). Each item:
    survey, ticket, round, action (sent | reminded | expired | cancelled), due_at, and reason for a
    cancellation."""
    policy = policy or surveys.configured_policy()
    done = []
    for survey_id in surveys.due(now, limit):
        if dry_run:
            result = surveys.step(survey_id, now, policy, dry_run=True)
        else:
            with write_transaction(db):
                result = surveys.step(survey_id, now, policy, dry_run=False)
        if result is not None:
            done.append(result)
    return done

"""The survey sweep: every return-visit survey due a step by now goes out, is reminded or expires.

When: `tgesc worker cron` enqueues it every `survey_sweep_every` (1 min) for `tgesc worker run`; `tgesc survey sweep
--once` runs it once. Reads: one indexed query (status, due_at) for what is due, earliest first, a batch claimed per
job (batches.py). Writes: each survey's step (tickets.surveys.step) in a savepoint of the batch's write transaction:
the survey row, an outbox row for the customer, the ticket's events. Safe to run twice, or two at once: a step is a
conditional UPDATE on the survey's status, so each survey moves once, and its outbox rows carry a unique dedupe key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee

from tgesc.domain.surveys import SurveyPolicy
from tgesc.services.sweeps import store
from tgesc.services.sweeps.batches import Handle, Sweep
from tgesc.services.tickets import surveys


def sweep_surveys(db: peewee.Database, *, now: datetime, dry_run: bool = False,
                  policy: SurveyPolicy | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Send the surveys due, remind the unanswered ones, expire those past their reminder (at most `limit`,
    earliest due first); what was done (with `dry_run`, what would be done, nothing changed). Each item:
    survey, ticket, round, action (sent | reminded | expired | cancelled), due_at, and reason for a
    cancellation. `policy`: the survey settings (None: the configured ones)."""
    return survey_sweep(policy).run(db, now=now, dry_run=dry_run, limit=limit).done


def survey_sweep(policy: SurveyPolicy | None = None) -> Sweep:
    """The survey sweep on `policy` (None: the survey settings as configured when a batch is handled)."""
    def handler(_db: peewee.Database, now: datetime) -> Handle:
        settled = policy or surveys.configured_policy()

        def one(survey_id: int) -> list[dict[str, Any]]:
            result = surveys.step(survey_id, now, settled)
            return [] if result is None else [result]
        return one
    return Sweep(store.SURVEYS, handler)


SURVEY_SWEEP = survey_sweep()

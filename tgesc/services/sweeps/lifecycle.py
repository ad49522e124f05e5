"""The lifecycle sweep: the reminders, automatic resolutions and closings of the everyday ticket lifecycle.

What for: a ticket waiting on the customer must not wait for ever, nor a resolved one stay reopenable for ever.
When: `tgesc worker cron` enqueues it every `lifecycle_sweep_every` (1 min) for `tgesc worker run`; `tgesc simulate`
runs it on its virtual timeline. Reads: one indexed query, `(status, lifecycle_due_at)`, for the waiting and
resolved tickets whose next step (domain.ticket_rules.next_step, on the `[lifecycle]` timings) is due, a batch
claimed per job (batches.py); then each in a savepoint of the batch's transaction, read again and locked. Writes,
per step: a staff wait's reminder (`waiting_reminder` to the customer, event `ticket.waiting_reminded`) after
`waiting_remind_after`; its resolution (`no_reply`, with the resolve notice and the survey) after
`waiting_resolve_after`; an FAQ answer's resolution (`faq_silence`, notice, no survey) after `faq_resolve_after`; a
resolved ticket's closing (`auto`) after `close_after`. Safe to run twice, or two at once: a reminder is a once-only
firing per wait, and a resolution or closing is a status change of the locked ticket, re-checked against its due
instant first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee

from tgesc.domain.ticket_rules import LifeState, next_step
from tgesc.models import Ticket
from tgesc.services.clocks import store as firing_store
from tgesc.services.config.current import current
from tgesc.services.outbox import rows as outbox
from tgesc.services.sweeps import store
from tgesc.services.sweeps.batches import Sweep, on_locked_ticket
from tgesc.services.tickets import lifecycle, surveys
from tgesc.services.tickets import store as tickets

ACTOR = "lifecycle"


def due_for_lifecycle(db: peewee.Database, *, now: datetime, limit: int | None = None) -> list[int]:
    """The ids of the waiting and resolved tickets whose next lifecycle step is due at `now`, most overdue first."""
    return store.due_ids(db, store.LIFECYCLE, now, limit)


def sweep_lifecycle(db: peewee.Database, *, now: datetime, dry_run: bool = False,
                    limit: int | None = None) -> list[dict[str, Any]]:
    """Take every lifecycle step due at `now`; one dict per step: ticket (number), action (remind, resolve,
    close), reason, due. `dry_run`: the same work, rolled back. `limit`: at most that many tickets."""
    return LIFECYCLE_SWEEP.run(db, now=now, dry_run=dry_run, limit=limit).done


def _handle(db: peewee.Database, ticket: Ticket, now: datetime) -> list[dict[str, Any]]:
    done = _steps(db, ticket, now)
    tickets.save(ticket, now)
    return done


def _steps(db: peewee.Database, ticket: Ticket, now: datetime) -> list[dict[str, Any]]:
    """Every step of `ticket` due by `now`, in order (a sweep after an outage may find a reminder and the
    resolution due at once: the reminder is then recorded as passed, not sent)."""
    done = []
    policy = current(db).lifecycle
    while True:
        reminded = (lifecycle.REMINDED, lifecycle.reminder_level(ticket)) in firing_store.pairs_of(db, ticket.id)
        state = LifeState(ticket.status, ticket.waiting_reason, ticket.paused_since, reminded, ticket.resolved_at)
        step = next_step(state, policy)
        if step is None or step.at > now:
            lifecycle.schedule_step(db, ticket, reminded=reminded)
            return done
        _take(db, ticket, step.action, step.reason, step.at, now, late=_later_due(state, step, policy, now))
        done.append({"ticket": ticket.number, "action": step.action, "reason": step.reason, "due": step.at})


def _later_due(state: LifeState, step, policy, now: datetime) -> bool:
    """Whether a reminder is already overtaken by the resolution it announces."""
    if step.action != "remind":
        return False
    following = next_step(LifeState(state.status, state.waiting_reason, state.waiting_since, True,
                                    state.resolved_at), policy)
    return following is not None and following.at <= now


def _take(db: peewee.Database, ticket: Ticket, action: str, reason: str, due: datetime, now: datetime, *,
          late: bool) -> None:
    if action == "remind":
        firing_store.record(db, ticket.id, lifecycle.REMINDED, lifecycle.reminder_level(ticket), now)
        if not late:
            outbox.to_customer(ticket, "waiting_reminder", {}, now=now)
        tickets.event(ticket, "ticket.waiting_reminded", ACTOR, now, due=due.isoformat(), sent=not late)
    elif action == "resolve":
        survey = reason == "no_reply"  # an FAQ answer's ticket gets no survey
        lifecycle.resolve_in_place(db, ticket, reason=reason, actor=ACTOR, now=now, survey=survey)
        if survey:
            surveys.schedule(ticket, now=now)
    else:
        lifecycle.close_in_place(db, ticket, reason=reason, actor=ACTOR, now=now)


LIFECYCLE_SWEEP = Sweep(store.LIFECYCLE, on_locked_ticket(_handle))

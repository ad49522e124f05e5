"""A ticket's life as the desk drives it: opened at the front line with its clocks started, the unresolved-for rule
scheduled; put to wait on the customer (by staff, or by an FAQ answer) and resumed; resolved (the customer is told
how to reopen it) and closed; reopened (by staff, or by its customer writing again) with its clocks restarted and
pending surveys cancelled. Each change stores the ticket's next automatic step (`lifecycle_due_at`: a reminder, a
resolution, a closing; domain.ticket_rules.next_step), which the lifecycle sweep reads. The caller saves the
ticket, in its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import peewee

from tgesc.domain.errors import DomainError
from tgesc.domain.humanize import duration_text
from tgesc.domain.rules import unresolved_check_at
from tgesc.domain.ticket_rules import LifeState, next_step, transition
from tgesc.models import Customer, Ticket, Tier
from tgesc.services.clocks import measures, sla
from tgesc.services.clocks import store as firings
from tgesc.services.config.current import current
from tgesc.services.outbox import rows as outbox
from tgesc.services.tickets.store import cancel_scheduled_surveys, event, next_number, set_changed

if TYPE_CHECKING:
    from tgesc.domain.rules import Rule

DEFAULT_PRIORITY = "medium"


def front_line(db: peewee.Database) -> Tier:
    """The lowest tier, from the configuration in force (config.current) (DomainError when none is configured)."""
    tier = current(db).front_line
    if tier is None:
        raise DomainError("no tier is configured; run `tgesc init` or add one with `tgesc tier add`")
    return tier

def create(db: peewee.Database, customer: Customer, problem: str, now: datetime,
           priority: str = DEFAULT_PRIORITY) -> Ticket:
    """A new ticket at the front line, its clocks started (the caller saves and audits it)."""
    ticket = Ticket(number=next_number(), customer=customer, tier=front_line(db), priority=priority,
                    problem=problem, created_at=now, updated_at=now, clocks_started_at=now)
    sla.take_policy(db, ticket)
    return ticket

def schedule_unresolved(db, ticket: Ticket, fired: Iterable[str] | None = None,
                        rules: tuple[Rule, ...] | None = None) -> None:
    """Store when an unresolved-for rule could next fire at the ticket's tier (the sweep's column), or None.
    `fired` (the names
    of the rules fired on the ticket) and `rules` (the configured rules): when the caller has them already."""
    if ticket.status != "open":  # resolved, closed, or waiting on the customer: no rule fires meanwhile
        set_changed(ticket, escalate_unresolved_at=None)
        return
    if fired is None:
        fired = firings.levels_of(db, ticket.id, "rule")
    set_changed(ticket, escalate_unresolved_at=unresolved_check_at(
        current(db).rules if rules is None else rules, unresolved_since(ticket), fired, reached_tiers(db, ticket)))


def reached_tiers(db: peewee.Database, ticket: Ticket) -> frozenset[str]:
    """The codes of the ticket's tier and the tiers below it: an unresolved-for rule escalating to one of
    them has nothing to do."""
    config = current(db)
    tier = config.tiers.get(ticket.tier_id) or ticket.tier
    return frozenset(code for code, each in config.tier_codes.items() if each.level <= tier.level)


def unresolved_since(ticket: Ticket) -> datetime:
    """Since when the unresolved-for rules count the ticket as unresolved: its clocks' start, moved on by every
    wait on the customer (time the customer had to answer is not time the desk left it unresolved)."""
    waits = ticket.sla_paused or []
    waited = sum((datetime.fromisoformat(end) - datetime.fromisoformat(start) for start, end in waits), timedelta())
    return (ticket.clocks_started_at or ticket.created_at) + waited

def reopen_in_place(db, ticket: Ticket, *, actor: str, now: datetime, reason: str) -> None:
    """Reopen (by staff, or by the customer writing again): clocks restart, pending surveys are cancelled."""
    ticket.status = transition(ticket.status, "reopen", ticket.number)
    set_changed(ticket, waiting_reason=None, lifecycle_due_at=None)
    restart_clocks(db, ticket, now)
    schedule_unresolved(db, ticket)
    cancel_scheduled_surveys(db, ticket.id)
    event(ticket, "ticket.reopened", actor, now, reason=reason)

def restart_clocks(db, ticket: Ticket, now: datetime) -> None:
    ticket.resolved_at = ticket.closed_at = ticket.first_responded_at = ticket.awaiting_reply_since = None
    ticket.paused_since, ticket.sla_paused, ticket.clocks_started_at = None, [], now
    sla.take_policy(db, ticket)


# --- waiting on the customer, resolving, closing -----------------------------------------------------------------

REMINDED = "lifecycle"  # the firing kind of a waiting reminder; its level: reminded@<the wait's start, epoch s>


def reminder_level(ticket: Ticket) -> str:
    """The once-only level of the reminder of the ticket's current wait."""
    return f"reminded@{int(ticket.paused_since.timestamp())}" if ticket.paused_since else "reminded"


def schedule_step(db: peewee.Database, ticket: Ticket, *, reminded: bool = False) -> None:
    """Store when the ticket's next automatic step is due (`lifecycle_due_at`; None: none)."""
    state = LifeState(ticket.status, ticket.waiting_reason, ticket.paused_since, reminded, ticket.resolved_at)
    step = next_step(state, current(db).lifecycle)
    set_changed(ticket, lifecycle_due_at=None if step is None else step.at)


def begin_waiting(db: peewee.Database, ticket: Ticket, reason: str, *, actor: str, now: datetime) -> None:
    """The ticket waits on the customer (`reason`: staff, who asked something, or faq, an answer awaiting the
    customer's verdict): the SLA clocks pause as the policy says (an FAQ wait runs none), no unresolved-for rule
    fires, and the reminder or resolution is scheduled."""
    ticket.status = transition(ticket.status, "wait", ticket.number)
    set_changed(ticket, waiting_reason=reason, escalate_unresolved_at=None)
    sla.begin_wait(ticket, now)
    schedule_step(db, ticket)
    event(ticket, "ticket.waiting", actor, now, reason=reason)


def resume(db: peewee.Database, ticket: Ticket, *, actor: str, now: datetime, why: str) -> None:
    """A waiting ticket is open again (the customer wrote, or asked for a person after an FAQ answer): after a
    staff wait the clocks resume; after an FAQ answer they start from now, at the front line's targets."""
    after_faq = ticket.waiting_reason == "faq"
    ticket.status = transition(ticket.status, "resume", ticket.number)
    set_changed(ticket, waiting_reason=None, lifecycle_due_at=None)
    if after_faq:
        restart_clocks(db, ticket, now)
    else:
        sla.end_wait(ticket, now)
    schedule_unresolved(db, ticket)
    event(ticket, "ticket.resumed", actor, now, reason=why)


def resolve_in_place(db: peewee.Database, ticket: Ticket, *, reason: str, actor: str, now: datetime,
                     survey: bool) -> None:
    """Resolve (`reason`: staff, customer, faq_solved, faq_silence, no_reply) and tell the customer how to reopen
    it (`resolved_notice`); the closing is scheduled. `survey`: whether the caller scheduled one (for the event)."""
    ticket.status = transition(ticket.status, "resolve", ticket.number)
    measures.answered(ticket, now, actor)  # the resolution answers a customer waiting for the next response
    ticket.resolved_at, ticket.escalate_unresolved_at = now, None
    sla.end_wait(ticket, now)  # a wait on the customer ends here: it stays a pause of the clocks
    measures.ended(ticket, actor)
    set_changed(ticket, waiting_reason=None)
    schedule_step(db, ticket)
    customer = ticket.customer
    outbox.to_customer(ticket, "resolved_notice", {
        "reopen_within": duration_text(current(db).lifecycle.close_after, customer.language)}, now=now)
    event(ticket, "ticket.resolved", actor, now, survey=survey, reason=reason)


def close_in_place(db: peewee.Database, ticket: Ticket, *, reason: str, actor: str, now: datetime) -> None:
    """Close (`reason`: staff, auto): a later message from the customer opens a new ticket."""
    ticket.status = transition(ticket.status, "close", ticket.number)
    ticket.closed_at, ticket.escalate_unresolved_at = now, None
    sla.end_wait(ticket, now)
    measures.ended(ticket, actor)
    set_changed(ticket, waiting_reason=None, lifecycle_due_at=None)
    event(ticket, "ticket.closed", actor, now, reason=reason)

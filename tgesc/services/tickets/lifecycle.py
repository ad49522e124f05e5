"""A ticket's life as the desk drives it: opened at the front line with its clocks started, the unresolved-for rule
scheduled, reopened (by staff, or by its customer writing again) with its clocks restarted and pending surveys
cancelled. The caller saves the ticket, in its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import peewee

from tgesc.domain.errors import DomainError
from tgesc.domain.rules import unresolved_check_at
from tgesc.domain.ticket_rules import transition
from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import Customer, Ticket, Tier
from tgesc.services.clocks import sla
from tgesc.services.clocks import store as firings
from tgesc.services.config.current import current
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
    if ticket.status not in OPEN_STATUSES:
        set_changed(ticket, escalate_unresolved_at=None)
        return
    if fired is None:
        fired = firings.levels_of(db, ticket.id, "rule")
    set_changed(ticket, escalate_unresolved_at=unresolved_check_at(
        current(db).rules if rules is None else rules, ticket.clocks_started_at or ticket.created_at, fired,
        reached_tiers(db, ticket)))


def reached_tiers(db: peewee.Database, ticket: Ticket) -> frozenset[str]:
    """The codes of the ticket's tier and the tiers below it: an unresolved-for rule escalating to one of
    them has nothing to do."""
    config = current(db)
    tier = config.tiers.get(ticket.tier_id) or ticket.tier
    return frozenset(code for code, each in config.tier_codes.items() if each.level <= tier.level)

def reopen_in_place(db, ticket: Ticket, *, actor: str, now: datetime, reason: str) -> None:
    """Reopen (by staff, or by the customer writing again): clocks restart, pending surveys are cancelled."""
    ticket.status = transition(ticket.status, "reopen", ticket.number)
    restart_clocks(db, ticket, now)
    schedule_unresolved(db, ticket)
    cancel_scheduled_surveys(db, ticket.id)
    event(ticket, "ticket.reopened", actor, now, reason=reason)

def restart_clocks(db, ticket: Ticket, now: datetime) -> None:
    ticket.resolved_at = ticket.closed_at = ticket.first_responded_at = ticket.awaiting_reply_since = None
    ticket.paused_since, ticket.sla_paused, ticket.clocks_started_at = None, [], now
    sla.take_policy(db, ticket)

"""Escalating a ticket to another tier, by hand or by a rule, in the caller's transaction.

One escalation records the event (from, to, trigger, reason, actor), moves the ticket, moves its SLA clocks
onto the policy of its priority in the target tier (its calendar, its first-response target: deadlines still
to come move, what happened stays), and writes two outbox rows: the escalation notice to the customer (in
their language, the tier's name in it too, with the expected response: the deadline the desk is now held to,
shown in their zone, plus the off-hours notice when that team is closed now) and the context card to the
target tier's staff chat.
"""

from __future__ import annotations

from datetime import UTC, datetime

import peewee

from tgesc.db import write_transaction
from tgesc.domain.errors import DomainError, NotFound, UsageError
from tgesc.domain.humanize import eta_text, instant_text, localized_name, zone_for
from tgesc.domain.vocabulary import OPEN_STATUSES, PRIORITIES
from tgesc.models import Ticket, Tier
from tgesc.services.clocks import once, sla
from tgesc.services.clocks.calendars import tier_calendar
from tgesc.services.config.current import current
from tgesc.services.outbox import rows as outbox
from tgesc.services.tickets.assignment import auto_assign
from tgesc.services.tickets.lifecycle import schedule_unresolved
from tgesc.services.tickets.permissions import unassign_if_elsewhere
from tgesc.services.tickets.store import checklist, event, find, save
from tgesc.services.tickets.threads import copy_attachments
from tgesc.services.tickets.views import card_html, view


def escalate_ticket(db: peewee.Database, number: int, *, to: str | None, reason: str, actor: str, now: datetime,
                    quick: bool = False, priority: str | None = None, down: bool = False) -> Ticket:
    """`tgesc ticket escalate`: the manual escalation, in its own transaction."""
    with write_transaction(db):
        ticket = find(number)
        escalate(db, ticket, to=to, reason=reason, actor=actor, now=now, quick=quick, priority=priority,
                 down=down)
        save(ticket, now)
        return ticket


def escalate(db: peewee.Database, ticket: Ticket, *, to: str | None, reason: str, actor: str, now: datetime,
             trigger: str = "manual", quick: bool = False, priority: str | None = None, down: bool = False,
             notice: bool = True) -> Tier:
    """Move `ticket` to tier `to` (quick: the top tier by default; else the next tier up). The caller saves.
    Up, by hand and not quick, the handover checklist must be complete; back down (`down`) a reason is enough.
    An assignee who does not work in the target tier is taken off the ticket. `notice` False: the caller
    sends the notices (`notify`) itself, after what it sends first."""
    if not reason or not reason.strip():
        raise UsageError("an escalation needs a reason (--reason): the next tier reads it first")
    if ticket.status not in OPEN_STATUSES:
        raise DomainError(f"ticket #{ticket.number} is {ticket.status}; reopen it before escalating")
    if priority is not None and priority not in PRIORITIES:
        raise UsageError(f"unknown priority {priority!r}; use {', '.join(PRIORITIES)}")
    source, target = ticket.tier, _target(db, ticket, to, quick, down)
    if target.level == source.level:
        raise DomainError(f"ticket #{ticket.number} is already at {target.code}")
    if target.level < source.level and not down:
        raise DomainError(f"{target.code} is below {source.code}; pass --down to send ticket #{ticket.number} back")
    if trigger == "manual" and not quick and target.level > source.level:
        missing = checklist(ticket).missing
        if missing:
            raise DomainError(f"ticket #{ticket.number} was not escalated: the handover checklist is incomplete "
                              "(fill it in, or use --quick for an obviously urgent case):", problems=missing)
    ticket.tier = target
    unassign_if_elsewhere(ticket, target, actor, now)
    auto_assign(db, ticket, now)
    if priority:
        ticket.priority = priority
    sla.take_policy(db, ticket, now)
    schedule_unresolved(db, ticket)
    event(ticket, "ticket.escalated", actor, now, **{"from": source.code}, to=target.code, trigger=trigger,
          reason=reason.strip(), quick=quick, priority=ticket.priority, down=target.level < source.level)
    if notice:
        notify(db, ticket, target, now)
    return target


def _target(db: peewee.Database, ticket: Ticket, to: str | None, quick: bool, down: bool = False) -> Tier:
    """The tier to escalate to: `to`, else the next one up (quick: the top one; down: the next one down). From
    the configuration in force (config.current): shared, not to be modified."""
    tiers = current(db).tier_codes
    if to is not None:
        tier = tiers.get(to)
        if tier is None:
            raise NotFound(f"there is no tier {to!r}; `tgesc tier list` shows them")
        return tier
    if down and not quick:
        below = sorted((t for t in tiers.values() if t.level < ticket.tier.level), key=lambda t: t.level)
        if not below:
            raise DomainError(f"ticket #{ticket.number} is already at the front line ({ticket.tier.code})")
        return below[-1]
    above = sorted((t for t in tiers.values() if t.level > ticket.tier.level), key=lambda t: t.level)
    if not above:
        raise DomainError(f"ticket #{ticket.number} is already at the top tier ({ticket.tier.code})")
    return above[-1] if quick else above[0]


def tier_name(tier: Tier, language: str | None) -> str:
    """The tier's name as a customer writing `language` reads it (`names`; else its name)."""
    return localized_name(tier.name, tier.names, language)


def notify(db: peewee.Database, ticket: Ticket, target: Tier, now: datetime) -> None:
    """The customer's escalation notice (and off-hours notice, and its `once.NOTICE` marker), and the
    staff chat's context card. The expected response is `sla.promised_response`: the desk's deadline."""
    customer = ticket.customer
    zone = zone_for(customer.timezone, customer.language)
    calendar = tier_calendar(db, target)
    due = sla.promised_response(ticket, now)
    once.mark(ticket, *once.NOTICE, now)
    outbox.to_customer(ticket, "escalation_notice", {
        "tier": tier_name(target, customer.language), "eta": eta_text(now, due, zone, customer.language)}, now=now)
    if not calendar.is_open(now):
        outbox.to_customer(ticket, "off_hours", {
            "opens_at": instant_text(calendar.next_open(now), zone, customer.language)}, now=now)
    open_thread(ticket, target, now)


def open_thread(ticket: Ticket, tier: Tier, now: datetime) -> None:
    """Queue the ticket's card to `tier`'s staff chat (a topic in a forum), with the customer's attachments:
    the ticket's thread is there from now on (nothing when the tier has no staff chat). What the customer
    writes before the card goes out is mirrored there too, after it (one chat's rows keep their order)."""
    if tier.staff_chat_id is None:
        return
    customer = ticket.customer
    ticket.staff_chat_id, ticket.topic_id, ticket.card_message_id = tier.staff_chat_id, None, None
    card = card_html(view(ticket, now, UTC))
    outbox.queue(ticket, tier.staff_chat_id, card, now=now, kind="card",
                 payload={"forum": tier.is_forum, "tier": tier.code,
                          "title": " · ".join(part for part in (f"#{ticket.number}", customer.first_name
                                                                or customer.username, *ticket.tags[:1]) if part)})
    copy_attachments(ticket, tier.staff_chat_id, now)


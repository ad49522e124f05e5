"""Bans: staff keep an abusive customer away from the desk without losing a word they write.

`ban` (`tgesc customer ban`, `/ban` in a ticket's thread; leads and admins) marks the customer banned from now, for
a while (`until`) or until `unban` lifts it; both are audited (`customer.banned`, `customer.unbanned`, with the
customer's Telegram id, the reason and, for a ban, when it ends). While banned, what the customer writes is still
stored (nothing is lost: on their open ticket, else on no ticket), but it opens, reopens or resumes no ticket, no
rule runs, nothing is mirrored to staff and no command is answered; the customer gets one notice per ban
(`ban_notice` saying until when, or `ban_notice_indefinite`). None of the desk's own messages reaches a banned
customer either (no SLA apology, no survey, no reminder: outbox.rows.to_customer, surveys); a reply a staff member
types in the thread is relayed all the same. A ban that has ended needs nothing lifted: it no longer counts.
"""

from __future__ import annotations

from datetime import datetime

import peewee

from tgesc.domain.errors import DomainError, NotPermitted
from tgesc.domain.humanize import instant_text, zone_for
from tgesc.domain.telegram import IncomingMessage
from tgesc.models import Customer, Staff, Ticket
from tgesc.services.customers.directory import banned
from tgesc.services.outbox import rows as outbox
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.ingest import Sender, message_row, remember_customer

MAX_REASON = 500
BANNING_ROLES = ("lead", "admin")


def ban(db: peewee.Database, customer: Customer, *, until: datetime | None, reason: str, actor: str,
        now: datetime, by: Staff | None = None, ticket: Ticket | None = None) -> Customer:
    """Ban `customer` from `now` until `until` (None: until lifted), in the caller's write transaction; a ban in
    force is replaced (its end and reason). `by`: the staff member acting (a lead or an admin; None: the
    operator of the CLI); `ticket`: the one whose thread the ban was typed in (its audit event goes with it)."""
    _may_ban(by, "ban")
    reason = reason.strip()
    if not reason:
        raise DomainError("a ban needs a reason (--reason): the audit log and the team read it")
    if len(reason) > MAX_REASON:
        raise DomainError(f"the reason is {len(reason)} characters long; at most {MAX_REASON}")
    if until is not None and until <= now:
        raise DomainError("a ban must end in the future; leave the duration out to ban until lifted")
    since = customer.banned_at if banned(customer, now) else now
    Customer.update(banned_at=since, banned_until=until, ban_reason=reason, updated_at=now).where(
        Customer.id == customer.id).execute(db)
    customer.banned_at, customer.banned_until, customer.ban_reason = since, until, reason
    tickets.event(ticket, "customer.banned", actor, now, customer=customer.telegram_id, reason=reason,
                  until=until.isoformat() if until else None)
    return customer


def unban(db: peewee.Database, customer: Customer, *, actor: str, now: datetime, reason: str = "",
          by: Staff | None = None, ticket: Ticket | None = None) -> Customer:
    """Lift the customer's ban (DomainError when they are not banned), in the caller's write transaction; `by` as
    for `ban`."""
    _may_ban(by, "unban")
    if not banned(customer, now):
        raise DomainError(f"customer {customer.telegram_id} is not banned")
    Customer.update(banned_at=None, banned_until=None, ban_reason="", updated_at=now).where(
        Customer.id == customer.id).execute(db)
    customer.banned_at = customer.banned_until = None
    customer.ban_reason = ""
    tickets.event(ticket, "customer.unbanned", actor, now, customer=customer.telegram_id, reason=reason.strip())
    return customer


def _may_ban(by: Staff | None, what: str) -> None:
    if by is not None and by.role not in BANNING_ROLES:
        raise NotPermitted(f"only team leads and admins may {what} customers; {by.handle} is {by.role}")


def is_banned(sender: Sender, now: datetime) -> bool:
    """Whether the sender of a customer's message (as `read_sender` found them) is banned."""
    return sender.customer is not None and banned(sender.customer, now)


def keep(db: peewee.Database, message: IncomingMessage, now: datetime, sender: Sender, *, command: bool) -> None:
    """A banned customer's message, in the caller's write transaction: stored (unless it is a command, an edit or a
    duplicate) on their open ticket or on none, and their one notice of this ban queued."""
    customer = remember_customer(db, sender.customer, message, now)
    if not (command or message.edited_at is not None or sender.stored):
        tickets.add_message(db, message_row(message, sender.ticket, now), once=True)
    until, language = customer.banned_until, customer.language
    key, variables = ("ban_notice_indefinite", {}) if until is None else (
        "ban_notice", {"until": instant_text(until, zone_for(customer.timezone, language), language)})
    outbox.template_to(customer.telegram_id, language, key, variables, now=now,
                       dedupe_key=f"ban-{customer.id}-{customer.banned_at.isoformat()}")

"""The customer's own verdicts on a ticket: the buttons under an FAQ answer, and closing a request themselves.

An FAQ answer leaves its ticket waiting on the customer (reason faq). "That solved it" (`faq:N:solved`) resolves it
(reason `faq_solved`: the resolve notice, no survey); "I still need help" (`faq:N:help`) puts it back to open at the
front line with its SLA clocks running from then, and tells the customer when a person will answer (`faq_help`).
`/close [NUMBER]` and the "close" buttons of /status (`close:N`) resolve the customer's open ticket (reason
`customer`: the resolve notice, then the survey as after any resolution by staff).

Only the ticket's customer may do any of it (anybody else's press changes nothing). A press is answered (an
'answer-callback' row, unique per callback query) in the transaction of its change; a press delivered again, or
on a ticket that has moved on, finds nothing left to do and is answered "no longer open".
"""

from __future__ import annotations

from datetime import datetime

import peewee

from tgesc.db import write_transaction
from tgesc.domain.deflection import notice, parse_close, parse_faq
from tgesc.domain.humanize import eta_text, language_of, zone_for
from tgesc.domain.telegram import ButtonPress
from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import Customer, Ticket
from tgesc.services.outbox import rows as outbox
from tgesc.services.tickets import lifecycle, surveys
from tgesc.services.tickets import store as tickets


def on_press(db: peewee.Database, press: ButtonPress, now: datetime) -> bool:
    """Handle a press on an FAQ answer's or a /status close button, answering it; False when the press is on
    neither (the caller handles it)."""
    verdict, close = parse_faq(press.data), parse_close(press.data)
    if verdict is None and close is None:
        return False
    number = verdict[0] if verdict is not None else close
    with write_transaction(db):
        ticket = tickets.by_number(db, number)
        if ticket is None or ticket.customer.telegram_id != press.sender.id:
            outcome, language = "not_yours", "en" if ticket is None else language_of(ticket.customer.language)
        else:
            language = language_of(ticket.customer.language)
            outcome = _verdict(db, ticket, verdict[1], now) if verdict is not None else _close(db, ticket, now)
        outbox.answer_press(press, notice(outcome, language), now=now)
    return True


def close_mine(db: peewee.Database, customer: Customer, number: int | None, now: datetime) -> str | None:
    """`/close [NUMBER]` from `customer`, in the caller's transaction: the answer to send (None: the resolve
    notice, queued with the resolution, says it all)."""
    language = language_of(customer.language)
    mine = tickets.open_of_customer(db, customer.id)
    if number is not None:
        mine = [ticket for ticket in mine if ticket.number == number]
    if not mine:
        return notice("none", language)
    if len(mine) > 1:
        return notice("which", language, numbers=", ".join(f"#{t.number}" for t in mine))
    _close(db, mine[0], now)
    return None


def _verdict(db: peewee.Database, ticket: Ticket, verdict: str, now: datetime) -> str:
    if ticket.status != "waiting" or ticket.waiting_reason != "faq":
        return "done"
    actor = f"customer:{ticket.customer.telegram_id}"
    if verdict == "solved":
        lifecycle.resolve_in_place(db, ticket, reason="faq_solved", actor=actor, now=now, survey=False)
    else:
        lifecycle.resume(db, ticket, actor=actor, now=now, why="help")
        customer = ticket.customer
        zone = zone_for(customer.timezone, customer.language)
        due = ticket.first_response_due or now
        outbox.to_customer(ticket, "faq_help", {"eta": eta_text(now, due, zone, customer.language)}, now=now)
    tickets.save(ticket, now)
    return verdict


def _close(db: peewee.Database, ticket: Ticket, now: datetime) -> str:
    """The customer resolves their own open ticket (reason customer); the survey follows as after staff's."""
    if ticket.status not in OPEN_STATUSES:
        return "done"
    actor = f"customer:{ticket.customer.telegram_id}"
    lifecycle.resolve_in_place(db, ticket, reason="customer", actor=actor, now=now, survey=True)
    surveys.schedule(ticket, now=now)
    tickets.save(ticket, now)
    return "closed"

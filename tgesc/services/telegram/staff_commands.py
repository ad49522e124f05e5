"""Staff commands typed in a ticket's Telegram thread, carried out by the same services as the CLI.

`run_staff_command` runs one parsed command on the thread's ticket as the staff member who typed it and
returns the confirmation to post in the thread. Errors are the services' own (DomainError, UsageError …),
so Telegram and the CLI refuse the same things with the same words.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import peewee

from tgesc.domain.bot_commands import Command
from tgesc.domain.errors import UsageError
from tgesc.domain.telegram import IncomingMessage
from tgesc.models import Staff, Ticket
from tgesc.services.customers import bans
from tgesc.services.outbox import rows as outbox
from tgesc.services.tickets import actions, escalation
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.views import card_html, view


def run_staff_command(db: peewee.Database, command: Command, ticket: Ticket, staff: Staff,
                      message: IncomingMessage, now: datetime) -> str:
    """Carry out `command` on `ticket` as `staff`; the confirmation for the thread."""
    number, actor, args = ticket.number, staff.handle, command.args
    name = command.name
    if name == "take":
        actions.assign(db, number, staff.handle, actor=actor, now=now)
        return f"#{number} is now assigned to {staff.handle}."
    if name == "tried":
        actions.add_tried(db, number, args["text"], actor=actor, now=now)
        return f"Noted on #{number} as tried: {args['text']}"
    if name == "note":
        actions.add_note(db, number, args["text"], actor=actor, now=now)
        return f"Note added to #{number}."
    if name == "priority":
        actions.set_priority(db, number, args["priority"], actor=actor, now=now)
        return f"#{number} now has priority {args['priority']}; its SLA clocks follow the new policy."
    if name == "tag":
        changed = actions.retag(db, number, args["add"], args["remove"], allow_new=False, actor=actor, now=now)
        return f"#{number} tags: {', '.join(changed.tags) or 'none'}."
    if name in ("escalate", "quick"):
        moved = escalation.escalate_ticket(db, number, to=args.get("tier"), reason=args["reason"], actor=actor,
                                           now=now, quick=name == "quick")
        return f"#{number} escalated to {moved.tier.code}" + (" (quick channel)." if name == "quick" else ".")
    if name == "resolve":
        actions.resolve(db, number, survey=not args.get("no_survey", False), actor=actor, now=now)
        return f"#{number} resolved."
    if name == "reopen":
        actions.reopen(db, number, actor=actor, now=now, reason=args.get("reason", ""))
        return f"#{number} reopened."
    if name == "close":
        if args.get("number", number) != number:
            raise UsageError(f"this is the thread of ticket #{number}; /close here takes no number")
        actions.close(db, number, actor=actor, now=now)
        return f"#{number} closed."
    if name == "wait":
        actions.wait(db, number, reply=args.get("text"), actor=actor, now=now, in_thread=True)
        return f"#{number} now waits on the customer" + (" (your text was sent to them)." if args.get("text") else ".")
    if name in ("ban", "unban"):
        return _ban(db, name, ticket, staff, args, now)
    if name == "card":
        fresh = tickets.find(number)
        outbox.queue(fresh, message.chat_id, card_html(view(fresh, now, UTC)), now=now, kind="message",
                     thread_id=message.thread_id, reply_to=message.message_id)
        return ""
    raise ValueError(f"no action for staff command {name!r}")  # parse_command only lets known ones through


def _ban(db: peewee.Database, name: str, ticket: Ticket, staff: Staff, args: dict, now: datetime) -> str:
    """/ban and /unban: the thread's customer, by a lead or an admin."""
    customer = ticket.customer
    if name == "unban":
        bans.unban(db, customer, actor=staff.handle, now=now, reason=args.get("reason", ""), by=staff,
                    ticket=ticket)
        return f"The customer of #{ticket.number} is no longer banned."
    seconds = args.get("seconds")
    until = now + timedelta(seconds=seconds) if seconds else None
    bans.ban(db, customer, until=until, reason=args["reason"], actor=staff.handle, now=now, by=staff, ticket=ticket)
    return (f"The customer of #{ticket.number} is banned " + (f"until {until:%Y-%m-%d %H:%M} UTC" if until else
            "until /unban") + ": what they write is kept, unanswered; the next time they write they are told, once.")

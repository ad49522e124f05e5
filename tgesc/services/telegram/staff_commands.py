"""Staff commands typed in a ticket's Telegram thread, carried out by the same services as the CLI.

`run_staff_command` runs one parsed command on the thread's ticket as the staff member who typed it and
returns the confirmation to post in the thread. Errors are the services' own (DomainError, UsageError …),
so Telegram and the CLI refuse the same things with the same words.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import peewee

from tgesc.domain.bot_commands import Command, snippet_buttons
from tgesc.domain.errors import UsageError
from tgesc.domain.humanize import zone_for
from tgesc.domain.instants import InstantError, parse_moment
from tgesc.domain.telegram import IncomingMessage
from tgesc.domain.ticket_rules import TRIED_WANTED, Checklist, checklist_buttons, may_create_tags
from tgesc.models import Staff, Ticket, database
from tgesc.services.customers import bans, portrait
from tgesc.services.outbox import rows as outbox
from tgesc.services.tickets import actions, escalation, snippets
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.views import card_html, view


def run_staff_command(db: peewee.Database, command: Command, ticket: Ticket, staff: Staff,
                      message: IncomingMessage, now: datetime, *, new_tags_by: str = "leads") -> str:
    """Carry out `command` on `ticket` as `staff`; the confirmation for the thread. `new_tags_by`: the setting
    saying who may create a tag (/tag with a tag no ticket has yet)."""
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
        allowed = may_create_tags(staff.role, new_tags_by)
        changed = actions.retag(db, number, args["add"], args["remove"], allow_new=allowed, actor=actor, now=now,
                                new_hint="only team leads and admins may create tags (the new_tags_by setting)")
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
    if name in ("first", "expected", "evidence"):
        return _fill(db, name, ticket, actor, args, now)
    if name == "checklist":
        fresh = tickets.find(number)
        items = tickets.checklist(fresh)
        outbox.queue(fresh, message.chat_id, html.escape(checklist_text(fresh, items)), now=now, kind="message",
                     thread_id=message.thread_id, reply_to=message.message_id,
                     buttons=checklist_buttons(number, items) or None)
        return ""
    if name in ("ban", "unban"):
        return _ban(db, name, ticket, staff, args, now)
    if name == "r":
        return _snippet(db, ticket, args.get("key"), actor, message, now)
    if name in ("ctag", "cnote", "tz"):
        return _portrait(db, name, ticket, actor, args, now)
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


MAX_SNIPPET_BUTTONS = 50  # snippets /r offers as buttons (an inline keyboard of 25 rows)
TELEGRAM_FILLS = {"first_occurred": "/first WHEN", "evidence": "/evidence", "tried": "/tried TEXT",
                  "expected_resolution": "/expected WHEN"}  # a missing checklist item -> the command that fills it


def _fill(db: peewee.Database, name: str, ticket: Ticket, actor: str, args: dict, now: datetime) -> str:
    """/first WHEN, /expected WHEN (read in the customer's zone) and /evidence [no]: the checklist item set, and
    what is still missing."""
    if name == "evidence":
        changed = actions.set_checklist(db, ticket.number, evidence=args["provided"], actor=actor, now=now)
        done = "evidence is in" if args["provided"] else "no evidence yet"
    else:
        zone = zone_for(ticket.customer.timezone, ticket.customer.language)
        try:
            when = parse_moment(args["when"], zone)
        except InstantError as error:
            raise UsageError(f"/{name}: {error}") from None
        field = "first_occurred_at" if name == "first" else "expected_resolution_by"
        changed = actions.set_checklist(db, ticket.number, **{field: when}, actor=actor, now=now)
        what = "first occurred" if name == "first" else "expected resolution by"
        done = f"{what} {_local(when, zone)}"
    return f"#{ticket.number}: {done}. {_still_missing(tickets.checklist(changed))}"


def checklist_text(ticket: Ticket, items: Checklist) -> str:
    """The handover checklist as /checklist shows it: each item, filled in or missing (with the command that fills
    it), the tried solutions counted against three; times in the customer's zone."""
    zone = zone_for(ticket.customer.timezone, ticket.customer.language)
    tried = tickets.tried_solutions(database, ticket.id)
    lines = [f"Handover checklist of #{ticket.number} (times in {zone.key}, the customer's zone):",
             _item(items.first_occurred_at is not None, "first occurred",
                   _local(items.first_occurred_at, zone) if items.first_occurred_at else "/first WHEN"),
             _item(items.evidence_provided, "evidence", "in" if items.evidence_provided else "/evidence"),
             _item(len(tried) >= TRIED_WANTED, f"tried ({len(tried)} of {TRIED_WANTED})",
                   "; ".join(t.text for t in tried) or "/tried TEXT"),
             _item(items.expected_resolution_by is not None, "expected resolution by",
                   _local(items.expected_resolution_by, zone) if items.expected_resolution_by else "/expected WHEN")]
    return "\n".join(lines)


def _item(done: bool, what: str, value: str) -> str:
    return f"{'✓' if done else '✗'} {what}: {value}"


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _still_missing(items: Checklist) -> str:
    missing = [TELEGRAM_FILLS[item.split(" ")[0]] for item in items.missing]
    return f"Still missing: {', '.join(missing)}." if missing else "The handover checklist is complete."


def _portrait(db: peewee.Database, name: str, ticket: Ticket, actor: str, args: dict, now: datetime) -> str:
    """/ctag, /cnote and /tz: the ticket's customer's portrait."""
    customer, who = ticket.customer, f"the customer of #{ticket.number}"
    if name == "ctag":
        portrait.retag(db, customer, args["add"], args["remove"], actor=actor, now=now, ticket=ticket)
        return f"Tags of {who}: {', '.join(customer.tags) or 'none'}."
    if name == "cnote":
        portrait.add_note(db, customer, args["text"], actor=actor, now=now, ticket=ticket)
        return f"Noted about {who}: every card of theirs shows it."
    portrait.update(db, customer, timezone=args["zone"], actor=actor, now=now, ticket=ticket)
    zone = ZoneInfo(customer.timezone)
    return f"The time zone of {who} is {zone.key} (it is {now.astimezone(zone):%H:%M} there now)."


def _snippet(db: peewee.Database, ticket: Ticket, key: str | None, actor: str, message: IncomingMessage,
             now: datetime) -> str:
    """/r KEY: the snippet sent to the customer; /r: the snippets offered as buttons."""
    if key is not None:
        sent = snippets.send(db, ticket, key, actor=actor, now=now)
        return f"Sent snippet {key} to the customer of #{ticket.number}: {sent}"
    available = snippets.keys(db)
    if not available:
        return "There are no snippets yet: an admin adds them with `tgesc snippet add KEY --text en:TEXT`."
    outbox.queue(ticket, message.chat_id, f"Canned replies for #{ticket.number}: tap one to send it.", now=now,
                 thread_id=message.thread_id, reply_to=message.message_id,
                 buttons=snippet_buttons(ticket.number, available[:MAX_SNIPPET_BUTTONS]))
    return ""

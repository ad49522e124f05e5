"""Staff in Telegram: working a ticket in its staff thread, and their private chat with the bot.

In a tier's staff chat, a message in a ticket's thread (its forum topic, or a reply to a message the bot
posted for it) is stored first — idempotently, so a catch-up replay does nothing twice — and then is
one of: an internal note (`//...`, never relayed), a staff command (`/take`, `/tried`, `/escalate` … run
through the same services as the CLI), or an answer relayed to the customer (a ticket waiting on the
customer's verdict on an FAQ answer is then open again: a person took over). Only staff of that tier (or
admins) may do any of it; anybody else is refused with the reason, and the attempt is logged.
In a private chat, staff get `/mine` (their tickets) and `/queue` (their tiers' open tickets). The buttons under
/checklist fill in an item by a tap (`on_staff_press`).
"""

from __future__ import annotations

import html
from datetime import datetime, time, timedelta

import peewee

from tgesc.db import write_transaction
from tgesc.domain.bot_commands import (
    STAFF_PRIVATE_COMMANDS,
    STAFF_TOPIC_COMMANDS,
    USAGE,
    Command,
    CommandError,
    is_internal_note,
    note_text,
    parse_command,
    parse_snippet_press,
)
from tgesc.domain.errors import TgescError
from tgesc.domain.humanize import zone_for
from tgesc.domain.telegram import ButtonPress, IncomingMessage
from tgesc.domain.ticket_rules import parse_checklist_press
from tgesc.models import MessageEdit, Staff, StaffTier, Ticket, Tier, database
from tgesc.services.config.current import current
from tgesc.services.outbox import rows as outbox
from tgesc.services.telegram.staff_commands import run_staff_command
from tgesc.services.tickets import actions, lifecycle, queue, snippets, threads
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.permissions import may_work
from tgesc.services.tickets.store import event, save


def staff_member(telegram_id: int) -> Staff | None:
    """The active staff member with this Telegram id, if any (shared: do not modify). Asked for every private
    message, so taken from the configuration in force (config.current): staff are configuration, and a change by
    any process (`tgesc staff add`) moves the generation, which `current` checks (a query a third the cost of
    looking the staff member up; none within a transaction that checked it already)."""
    return current(database).staff.get(telegram_id)


def staff_tier(chat_id: int) -> Tier | None:
    """The tier whose staff chat `chat_id` is (from the configuration in force, like the staff)."""
    tiers = current(database).tiers.values()
    return next((tier for tier in tiers if tier.staff_chat_id == chat_id), None)


def on_staff_chat_message(db: peewee.Database, bot_username: str | None, tier: Tier, message: IncomingMessage,
                          now: datetime, *, new_tags_by: str = "leads") -> None:
    """A message in `tier`'s staff chat (chatter outside ticket threads is ignored); `new_tags_by`: the setting
    saying who may create tags."""
    ticket = threads.ticket_of_thread(message.chat_id, message.thread_id, message.reply_to_message_id)
    if ticket is None:
        return
    staff = staff_member(message.sender.id)
    if message.edited_at is not None:
        if may_work(staff, tier):
            with write_transaction(db):
                _edited(ticket, message, now)
        return
    command_text = message.text if _is_command(message.text) else ""
    allowed = may_work(staff, tier)
    internal = not allowed or bool(command_text) or is_internal_note(message.text)
    with write_transaction(db):
        if not _stored(ticket, staff, message, now, internal=internal):
            return  # seen before: a catch-up replay
        if not allowed:
            _refuse(ticket, staff, tier, message, now)
        elif is_internal_note(message.text):
            event(ticket, "ticket.note", staff.handle, now, text=note_text(message.text), internal=True)
        elif command_text:
            _command(db, bot_username, ticket, staff, message, now, new_tags_by)
        elif ticket.customer.unreachable_at is not None:
            _answer(ticket, message, "Not relayed: the customer has blocked the bot or deleted their account.", now)
        else:
            if ticket.status == "waiting" and ticket.waiting_reason == "faq":  # a person takes over from the FAQ
                lifecycle.resume(db, ticket, actor=staff.handle, now=now, why="staff")
            threads.staff_reply(ticket, staff, message, now)
            save(ticket, now)


def _edited(ticket: Ticket, message: IncomingMessage, now: datetime) -> None:
    """A staff member edited a message in the thread: the edit is kept, and an answer that was relayed to the
    customer is edited in the customer's chat too (a note or a command stays what it was)."""
    stored = tickets.message_in_chat(database, message.chat_id, message.message_id)
    if stored is None:
        return  # not one we kept (sent before the bot joined, or by someone refused)
    MessageEdit.insert(message=stored, edited_at=message.edited_at, text=message.text).on_conflict_ignore().execute()
    if not stored.is_internal and threads.relay_edit(ticket, message, now):
        event(ticket, "ticket.reply_edited", staff_member(message.sender.id).handle, now,
              message_id=message.message_id)


def _is_command(text: str) -> bool:
    """Whether `text` starts with a command, ours or another bot's (`/take`, `/x@OtherBot`): "/etc/hosts is
    wrong" is an answer for the customer."""
    try:
        return parse_command(text, bot_username=None, allowed=frozenset()) is not None
    except CommandError:
        return True


def _stored(ticket: Ticket, staff: Staff | None, message: IncomingMessage, now: datetime, *, internal: bool) -> bool:
    """Store a staff-thread message once per (chat, message id); whether it is new."""
    return tickets.add_message(database, {
        "ticket": ticket, "chat_id": message.chat_id, "message_id": message.message_id, "direction": "out",
        "sender": "staff", "staff": staff, "text": message.text, "media_type": message.media_type,
        "file_id": message.file_id, "is_key": False, "is_internal": internal, "sent_at": message.sent_at,
        "created_at": now}, once=True)


def _refuse(ticket: Ticket, staff: Staff | None, tier: Tier, message: IncomingMessage, now: datetime) -> None:
    who = staff.handle if staff else f"telegram:{message.sender.id}"
    why = (f"{who} is not staff of {tier.code}" if staff else "you are not registered as staff") + \
        f"; only {tier.code} staff and admins can work ticket #{ticket.number} here. Nothing was relayed."
    event(ticket, "staff.refused", who, now, chat_id=message.chat_id, message_id=message.message_id,
          text=message.text[:200])
    _answer(ticket, message, why, now)


def _answer(ticket: Ticket | None, message: IncomingMessage, text: str, now: datetime) -> None:
    """Reply to `message` where it was written (its thread)."""
    outbox.queue(ticket, message.chat_id, html.escape(text), now=now, thread_id=message.thread_id,
                 reply_to=message.message_id, dedupe_key=f"re-{message.chat_id}-{message.message_id}")


def _command(db, bot_username: str | None, ticket: Ticket, staff: Staff, message: IncomingMessage,
             now: datetime, new_tags_by: str) -> None:
    try:
        command = parse_command(message.text, bot_username=bot_username, allowed=STAFF_TOPIC_COMMANDS)
        if command is None:
            return  # a command for another bot
        text = run_staff_command(db, command, ticket, staff, message, now, new_tags_by=new_tags_by)
    except CommandError as error:
        text = str(error)
    except TgescError as error:
        text = "\n".join([str(error), *(f"- {p}" for p in getattr(error, "problems", []) or [])])
    if text:
        _answer(ticket, message, text, now)


def on_staff_press(db: peewee.Database, press: ButtonPress, now: datetime) -> bool:
    """A press on a /checklist or /r button (False: neither): the item is set, or the snippet sent, as the presser,
    who must be allowed to work the ticket there, and the press answered with what was done (or why not)."""
    item, snippet = parse_checklist_press(press.data), parse_snippet_press(press.data)
    if item is None and snippet is None:
        return False
    number = (item or snippet)[0]
    staff = staff_member(press.sender.id)
    with write_transaction(db):
        ticket = tickets.by_number(db, number)
        if ticket is None or ticket.staff_chat_id != press.chat_id or not may_work(staff, ticket.tier):
            what = "fill in its checklist" if item else "answer its customer"
            text = f"Only staff of this ticket's tier (and admins) can {what}."
        elif item:
            text = _tapped(db, ticket, staff, item[1], now)
        else:
            text = _sent(db, ticket, staff, snippet[1], now)
        outbox.answer_press(press, text, now=now)
    return True


def _sent(db: peewee.Database, ticket: Ticket, staff: Staff, key: str, now: datetime) -> str:
    """A /r button's snippet sent to the ticket's customer by `staff`; the answer to the press."""
    try:
        with db.atomic():
            snippets.send(db, ticket, key, actor=staff.handle, now=now)
    except TgescError as error:
        return str(error)[:200]
    return f"Sent {key} to the customer of #{ticket.number}."


def _tapped(db: peewee.Database, ticket: Ticket, staff: Staff, item: str, now: datetime) -> str:
    """A /checklist button's item set on `ticket` by `staff`; the answer to the press."""
    if item == "evidence":
        actions.set_checklist(db, ticket.number, evidence=True, actor=staff.handle, now=now)
        return f"#{ticket.number}: evidence is in."
    zone = zone_for(ticket.customer.timezone, ticket.customer.language)
    day = now.astimezone(zone).date() - timedelta(days=1 if item == "first-yesterday" else 0)
    when = datetime.combine(day, time(), zone)
    actions.set_checklist(db, ticket.number, first_occurred_at=when, actor=staff.handle, now=now)
    return f"#{ticket.number}: first occurred {day.isoformat()} (the customer's zone, {zone.key})."


def on_staff_private_message(db: peewee.Database, bot_username: str | None, staff: Staff,
                             message: IncomingMessage, now: datetime) -> None:
    """`/mine` and `/queue` in a staff member's private chat; anything else gets the list of commands."""
    if message.edited_at is not None:
        return
    try:
        command: Command | None = parse_command(message.text, bot_username=bot_username,
                                                allowed=STAFF_PRIVATE_COMMANDS)
    except CommandError as error:
        command, text = None, str(error)
    else:
        text = "\n".join(USAGE[name] for name in sorted(STAFF_PRIVATE_COMMANDS))
    if command is not None:
        text = _queue_text(db, staff, command.name, now)
    with write_transaction(db):
        _answer(None, message, text, now)


def _queue_text(db: peewee.Database, staff: Staff, which: str, now: datetime) -> str:
    if which == "mine":
        wanted, title = queue.Wanted(assignee=staff.handle), "Your open tickets"
    else:
        tiers = [link.tier.code for link in StaffTier.select().where(StaffTier.staff == staff.id)]
        if staff.role == "admin":
            tiers = []  # every tier
        elif not tiers:
            return "You are in no tier yet; an admin can add you with `tgesc staff set`."
        wanted, title = queue.Wanted(tiers=tiers), "Open tickets in " + (", ".join(tiers) or "every tier")
    found = queue.page(db, wanted, now=now, limit=queue.PAGE)
    if not found.rows:
        return f"{title}: none."
    lines = [f"#{r['number']} · {r['tier']} · {r['priority']} · {r['status']}"
             + (f" · due {r['next_deadline']:%Y-%m-%d %H:%M} UTC" if r["next_deadline"] else "")
             + (" · BREACHING" if r["breaching"] else "") for r in found.rows]
    total = f"{found.total}{'+' if found.more else ''}"
    more = f"\n… and {found.total - len(found.rows)}{'+' if found.more else ''} more" if found.next else ""
    return f"{title} ({total}):\n" + "\n".join(lines) + more

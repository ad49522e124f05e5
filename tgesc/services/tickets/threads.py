"""The two directions between a customer's private chat and their ticket's staff thread.

A customer's message is mirrored into the thread of the tier now handling the ticket (its forum topic,
or replies to its card in a plain group); a staff member's message in a thread is relayed to the
customer and answers them for the SLA (first or next response). Which ticket a staff thread belongs to
is found from the Telegram messages the bot sent there (`sent_message`): the topic it opened, the card,
every mirrored message — so a reply to any of them, even in an older tier's thread, finds its ticket.

Outbox rows here carry `payload["ticket_thread"]`: the delivery resolves the thread when it sends (the
card that opens it may still be waiting in the outbox, ahead in the same chat's queue).
"""

from __future__ import annotations

import html
from datetime import datetime

from tgesc.domain.telegram import TEXT_LIMIT, IncomingMessage
from tgesc.domain.telegram_text import split_text
from tgesc.models import Customer, Outbox, Staff, Ticket, database
from tgesc.services.clocks import measures, sla
from tgesc.services.outbox import rows as outbox
from tgesc.services.outbox import store as outbox_store
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.store import event

TOPIC_PART = -1  # the sent_message part recording the forum topic a card row opened


def ticket_of_thread(chat_id: int, thread_id: int | None, reply_to: int | None) -> Ticket | None:
    """The ticket whose staff thread a message in `chat_id` is in: by its topic, else by the bot message it
    replies to (None: neither is the bot's)."""
    for message_id in (thread_id, reply_to):
        if message_id is None:
            continue
        found = tickets.of_sent_message(database, chat_id, message_id)
        if found is not None:
            return found
    return None


def mirror(ticket: Ticket, message: IncomingMessage, now: datetime) -> None:
    """Show a customer's new message in the ticket's current staff thread (nothing when it has none)."""
    if ticket.staff_chat_id is None or outbox_store.card_queued(database, ticket.id, ticket.staff_chat_id):
        return  # no thread yet; or this very message escalated the ticket, and the card shows it
    who = _who(ticket.customer)
    thread = {"ticket_thread": True, "customer_message": message.message_id}
    if message.media_type:
        outbox.queue(ticket, ticket.staff_chat_id, "", now=now, kind="copy",
                     payload={**thread, "from_chat": message.chat_id, "message_id": message.message_id})
    if message.text and not message.media_type:
        outbox.queue(ticket, ticket.staff_chat_id, _mirrored(who, ticket, message.text), now=now, kind="message",
                     payload=thread)


def _mirrored(who: str, ticket: Ticket, text: str, *, edited: bool = False) -> str:
    """A customer's message as the thread shows it: `<b>Alice</b> (#12): text`."""
    return f"<b>{who}</b> (#{ticket.number}): {html.escape(text)}" + (" <i>(edited)</i>" if edited else "")


def _who(customer: Customer) -> str:
    return html.escape(customer.first_name or (f"@{customer.username}" if customer.username else "customer"))


def mirror_edit(ticket: Ticket, message: IncomingMessage, now: datetime) -> None:
    """A customer edited a message of theirs: its mirror in the ticket's current thread is edited (a message shown
    only in the card gets a new line marked edited); nothing for a ticket with no thread, or media."""
    if ticket.staff_chat_id is None or not message.text or message.media_type:
        return
    text = _mirrored(_who(ticket.customer), ticket, message.text, edited=True)
    mirror = outbox_store.row_of_message(database, ticket.id, ticket.staff_chat_id, "customer_message",
                                         message.message_id)
    once = _edit_key(message)
    if mirror is not None and mirror.kind == "message":
        _edit(ticket, mirror, text, now, once)
    else:
        outbox.queue(ticket, ticket.staff_chat_id, text, now=now, kind="message", dedupe_key=once,
                     payload={"ticket_thread": True, "customer_message": message.message_id})


def relay_edit(ticket: Ticket, message: IncomingMessage, now: datetime) -> bool:
    """A staff member edited an answer relayed to the customer: the customer's copy is edited too (text answers;
    whether there was one to edit)."""
    customer = ticket.customer.telegram_id
    relayed = outbox_store.row_of_message(database, ticket.id, customer, "staff_message",
                                          f"{message.chat_id}:{message.message_id}")
    if relayed is None or relayed.kind != "message" or not message.text:
        return False
    _edit(ticket, relayed, html.escape(message.text), now, _edit_key(message))
    return True


def _edit(ticket: Ticket, original: Outbox, text: str, now: datetime, once: str) -> None:
    """Queue the edit of the message `original` made (its first part: an edit is one message), once per `once`."""
    outbox.queue(ticket, original.chat_id, split_text(text)[0] if len(text) > TEXT_LIMIT else text, now=now,
                 kind="edit", payload={"edits": original.id}, dedupe_key=once)


def _edit_key(message: IncomingMessage) -> str:
    """An edit's outbox rows are written once however often Telegram hands it over (a catch-up)."""
    return f"edit-{message.chat_id}-{message.message_id}-{message.edited_at.isoformat()}"


def copy_attachments(ticket: Ticket, chat_id: int, now: datetime) -> None:
    """Copy every attachment the customer sent on the ticket into its thread in `chat_id` (after the card)."""
    customer_chat = ticket.customer.telegram_id
    for message in tickets.attachments(database, ticket.id):
        outbox.queue(ticket, chat_id, "", now=now, kind="copy", payload={
            "ticket_thread": True, "from_chat": customer_chat, "message_id": message.message_id})


def staff_reply(ticket: Ticket, staff: Staff | None, message: IncomingMessage, now: datetime, *,
                actor: str | None = None) -> None:
    """Relay a staff member's message to the customer; it is the first or next response for the SLA.
    The caller has stored the message and saves the ticket. `actor`: who answered when not `staff` (the CLI's
    operator)."""
    typed = {} if actor else {"staff_message": f"{message.chat_id}:{message.message_id}"}  # in Telegram: editable
    actor = actor or staff.handle
    customer: Customer = ticket.customer
    if message.media_type:
        outbox.queue(ticket, customer.telegram_id, "", now=now, kind="copy",
                     payload={"from_chat": message.chat_id, "message_id": message.message_id})
    elif message.text:
        outbox.queue(ticket, customer.telegram_id, html.escape(message.text), now=now, kind="message",
                     payload={"staff": actor, **typed})
    _responded(ticket, actor, now, chat_id=message.chat_id, message_id=message.message_id)


def relay_reply(ticket: Ticket, text: str, *, actor: str, now: datetime, mirror: bool = True,
                body: str | None = None) -> None:
    """Relay a staff answer given with a command (`/wait TEXT`, `tgesc ticket wait --reply`, `/r KEY`: `body`, its
    Telegram HTML, when `text` is not plain) to the customer, and (`mirror`: when typed elsewhere than the thread)
    show it in the ticket's staff thread; it is the first or next response for the SLA. The caller saves."""
    outbox.queue(ticket, ticket.customer.telegram_id, body if body is not None else html.escape(text), now=now,
                 kind="message", payload={"staff": actor})
    if mirror:
        mirror_reply(ticket, actor, text, now)
    _responded(ticket, actor, now, channel="command")


def _responded(ticket: Ticket, actor: str, now: datetime, **details: object) -> None:
    """A staff answer reached the customer: the first or next response."""
    first = ticket.first_responded_at is None
    measures.answered(ticket, now, actor)
    if first:
        ticket.first_responded_at = now
    ticket.awaiting_reply_since = None
    sla.refresh(ticket)
    if first:
        measures.ended(ticket, actor)
    event(ticket, "ticket.replied", actor, now, first=first, **details)


def mirror_reply(ticket: Ticket, actor: str, text: str, now: datetime) -> None:
    """Show an answer relayed to the customer from outside the thread (`tgesc ticket reply`, `/wait TEXT` in a
    private chat) in the ticket's current staff thread, so its readers see what the customer was told (nothing
    when it has none)."""
    if ticket.staff_chat_id is None:
        return
    outbox.queue(ticket, ticket.staff_chat_id, f"<b>{html.escape(actor)}</b> → customer (#{ticket.number}): "
                 f"{html.escape(text)}", now=now, kind="message", payload={"ticket_thread": True})

"""The living card: a ticket's card in each staff thread it has, kept current as the ticket changes.

The card (`views.card_html`) is posted when a thread opens (`escalation.open_thread`), and pinned in its topic in a
forum. Whenever the ticket changes afterwards, `changed` queues one outbox row of kind `card-edit` to every chat
where it has a card, and the bot edits the card in place with the text rendered as that row goes out: everything
that changed until then. While such a row is still pending, later changes add nothing (they coalesce into it).

What changes a card: the ticket's audit events (`tickets.store.event` calls `changed`), except those that change
nothing it shows (`UNSEEN`), the customer's portrait (their tags, notes, zone and bans: every card of their open
tickets), and a customer message that grows the problem, brings evidence or starts the next-response clock
(`ingest`). The card that a change opens itself (an escalation's new card) is not edited for it.

How often: edits go through the bot's send schedule with every other message to the chat, in order, so they keep
to Telegram's rates (per chat and per group) and never overtake the messages queued before them; a change while an
edit waits costs nothing. The old tier's card is edited too after an escalation: it then shows where the ticket went.
"""

from __future__ import annotations

from datetime import datetime

from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import Customer, Ticket, database
from tgesc.services.outbox import rows as outbox
from tgesc.services.outbox import store as outbox_store

EDIT = "card-edit"  # the outbox kind of a card's edit
SHOWN = ("ticket.", "sla.", "customer.")  # the event kinds that may change a card, by prefix
UNSEEN = frozenset({"ticket.reply_edited", "ticket.waiting_reminded", "ticket.to_faq", "customer.throttled",
                    "customer.unreachable"})  # ... and those of them that change nothing it shows
PORTRAIT = "customer."  # an event on the customer: every card of theirs changes


def changed(ticket: Ticket | None, cause: str, now: datetime, customer_telegram_id: int | None = None) -> None:
    """The ticket (an event of kind `cause`), or for a customer's event every open ticket of theirs, changed: their
    cards are to be edited."""
    if not cause.startswith(SHOWN) or cause in UNSEEN:
        return
    if cause.startswith(PORTRAIT):
        for ticket_id, chat_id in _customer_threads(ticket, customer_telegram_id):
            _touch(ticket_id, chat_id, cause, now)
    elif ticket is not None:
        touch(ticket, cause, now)


def touch(ticket: Ticket, cause: str, now: datetime) -> None:
    """The ticket changed (by `cause`) in a way its card shows: its card in its current thread is to be edited."""
    if ticket.id is not None and ticket.staff_chat_id is not None:
        _touch(ticket.id, ticket.staff_chat_id, cause, now)


def _touch(ticket_id: int, chat_id: int, cause: str, now: datetime) -> None:
    """Queue an edit of the ticket's card in `chat_id`, unless one is pending (its key is taken until the bot takes
    it up: `edit_key`) or this transaction asked for one already or queued the card itself."""
    if outbox_store.card_edit_asked(database, ticket_id, chat_id):
        outbox.queue(ticket_id, chat_id, "", now=now, kind=EDIT, payload={"cause": cause},
                     dedupe_key=edit_key(ticket_id, chat_id), joins=True)


def edit_key(ticket_id: int, chat_id: int) -> str:
    """The dedupe key of the pending edit of a ticket's card in a chat (released when the bot renders it)."""
    return f"card-edit-{ticket_id}-{chat_id}"


def _customer_threads(ticket: Ticket | None, telegram_id: int | None) -> list[tuple[int, int]]:
    """(ticket id, staff chat) of the customer's open tickets that have a thread."""
    if ticket is not None:
        customer = ticket.customer_id
    else:
        customer = Customer.select(Customer.id).where(Customer.telegram_id == telegram_id)
    return list(Ticket.select(Ticket.id, Ticket.staff_chat_id).where(
        (Ticket.customer == customer) & Ticket.status.in_(OPEN_STATUSES) & Ticket.staff_chat_id.is_null(False))
        .tuples().execute(database))

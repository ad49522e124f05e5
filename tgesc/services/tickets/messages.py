"""Staff marking a message of a ticket's conversation as key: it then always appears among the key
messages of the context card and `ticket show`, whatever the customer writes later.
"""

from __future__ import annotations

from datetime import datetime

import peewee

from tgesc.db import write_transaction
from tgesc.domain.errors import DomainError, NotFound
from tgesc.models import Message, Ticket
from tgesc.services.tickets.store import event, find, save


def mark_key(db: peewee.Database, number: int, message_id: int, *, actor: str, now: datetime,
             key: bool = True) -> Ticket:
    """Mark (or with key=False unmark) message `message_id` (its Telegram id) of ticket `number`; the
    customer's chat is preferred if a staff chat has a message of the same id. Records
    `ticket.message_marked` / `ticket.message_unmarked`; NotFound for a message not in this ticket."""
    with write_transaction(db):
        ticket = find(number)
        message = _message(ticket, message_id)
        if message.is_key == key:
            raise DomainError(f"message {message_id} of ticket #{number} is {'already' if key else 'not'} "
                              "marked as key")
        Message.update(is_key=key).where(Message.id == message.id).execute()
        message.is_key = key
        event(ticket, "ticket.message_marked" if key else "ticket.message_unmarked", actor, now,
              message=message_id, sender=message.sender)
        save(ticket, now)
        return ticket


def _message(ticket: Ticket, message_id: int) -> Message:
    found = sorted(Message.select().where((Message.ticket == ticket) & (Message.message_id == message_id)),
                   key=lambda m: (m.chat_id != ticket.customer.telegram_id, m.id))
    if not found:
        raise NotFound(f"ticket #{ticket.number} has no message {message_id}; "
                       f"`tgesc ticket show {ticket.number}` lists its messages with their ids")
    return found[0]

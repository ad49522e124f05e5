"""Helpers of the `tgesc ticket` tests: tickets and messages written straight into the test's database
(as the bot would), and the stored rows the CLI is checked against."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tgesc.db import write_transaction
from tgesc.models import Customer, Event, Message, Outbox, Ticket
from tgesc.services.tickets import lifecycle
from tgesc.services.tickets import store as tickets

OPENED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday, long past: every clock of these tickets is due
SHANGHAI = ZoneInfo("Asia/Shanghai")


def open_ticket(db, *, at: datetime = OPENED, telegram_id: int = 1001, problem: str = "My order has not arrived",
                priority: str = "medium", username: str | None = "ana", first_name: str = "Ana",
                language: str = "zh", timezone: str | None = "Asia/Shanghai") -> int:
    """A ticket opened at `at` the way services open one (front line, clocks started, `ticket.opened`)."""
    with write_transaction(db):
        customer = Customer.get_or_none(Customer.telegram_id == telegram_id) or Customer.create(
            telegram_id=telegram_id, username=username, first_name=first_name, language=language, timezone=timezone,
            created_at=at, updated_at=at)
        ticket = lifecycle.create(db, customer, problem, at, priority)
        tickets.save(ticket, at)
        tickets.event(ticket, "ticket.opened", "test", at, channel="test")
    return ticket.number


def add_message(number: int, message_id: int, at: datetime, text: str = "", *, sender: str = "customer",
                media_type: str | None = None, file_id: str | None = None) -> None:
    ticket = Ticket.get(Ticket.number == number)
    Message.create(ticket=ticket, chat_id=ticket.customer.telegram_id, message_id=message_id,
                   direction="in" if sender == "customer" else "out", sender=sender, text=text,
                   media_type=media_type, file_id=file_id, sent_at=at, created_at=at)


def ticket(number: int = 1) -> Ticket:
    return Ticket.get(Ticket.number == number)


def events(number: int = 1, kind: str | None = None) -> list[Event]:
    query = Event.select().where(Event.ticket == ticket(number))
    if kind is not None:
        query = query.where(Event.kind == kind)
    return list(query.order_by(Event.id))


def kinds(number: int = 1) -> list[tuple[str, str]]:
    return [(e.kind, e.actor) for e in events(number)]


def outbox() -> list[dict[str, Any]]:
    return [{"chat_id": o.chat_id, "kind": o.kind, "thread_id": o.thread_id, "text": o.text, "payload": o.payload}
            for o in Outbox.select().order_by(Outbox.id)]


def shown(instant: datetime, zone: ZoneInfo = SHANGHAI) -> str:
    """An instant as `ticket show` prints it: minutes, or seconds when it has any."""
    local = instant.astimezone(zone)
    return local.isoformat(sep=" ", timespec="minutes" if local.second == 0 else "seconds")


def iso(instant: datetime | None, zone: ZoneInfo = SHANGHAI) -> str | None:
    """An instant as `ticket show --json` gives it."""
    return None if instant is None else instant.astimezone(zone).isoformat(timespec="seconds")

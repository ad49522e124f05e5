"""A customer's private chat with the bot: their messages become ticket messages, their commands answered.

Every message is persisted through ingest before anything reacts (idempotently: a catch-up replay
changes nothing), then mirrored into the ticket's staff thread. `/start` greets, `/status` lists the
customer's own open tickets with the expected reply time (and a "close" button for each), `/language` changes
their language, `/close [NUMBER]` resolves their own open ticket (services.tickets.deflection). A
customer writing faster than the flood limit is throttled: what they send is still stored on the ticket,
but no rule runs and nothing is answered, and they get one notice per throttling period. The first message
after a low return-visit survey score is also stored as that survey's comment. A banned customer's messages are
stored and go no further (services.customers.bans).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import peewee

from tgesc.db import write_transaction
from tgesc.domain.bot_commands import CUSTOMER_COMMANDS, Command, CommandError, parse_command
from tgesc.domain.deflection import close_buttons
from tgesc.domain.humanize import LANGUAGE_NAMES, language_of, ticket_status_line, zone_for
from tgesc.domain.rates import Rate, SlidingWindow
from tgesc.domain.telegram import ButtonPress, IncomingMessage
from tgesc.domain.zones import common_zones, find_zone
from tgesc.models import Customer, Ticket, database
from tgesc.services.customers import bans, portrait
from tgesc.services.outbox import rows as outbox
from tgesc.services.tickets import deflection, threads
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.ingest import Sender, follow_up, ingest, read_sender, remember_customer
from tgesc.services.tickets.store import event


@dataclass
class CustomerDesk:
    """What the customer side of the bot needs between messages: its settings and the flood counters."""

    bot_username: str | None
    flood_limit: Rate
    flood: SlidingWindow = field(init=False)

    def __post_init__(self) -> None:
        self.flood = SlidingWindow(self.flood_limit)


def on_customer_message(db: peewee.Database, desk: CustomerDesk, message: IncomingMessage, now: datetime) -> None:
    """Handle one message of a customer's private chat, in a transaction of its own."""
    with write_transaction(db, pipelined=True):
        customer_message(db, desk, message, now, read_sender(db, message))


def customer_message(db: peewee.Database, desk: CustomerDesk, message: IncomingMessage, now: datetime,
                     sender: Sender) -> None:
    """Handle one message of a customer's private chat in the caller's write transaction, where `sender` was read
    (ingest.read_sender)."""
    command = None
    if message.edited_at is None and not message.media_type:
        try:
            command = parse_command(message.text, bot_username=desk.bot_username, allowed=CUSTOMER_COMMANDS)
        except CommandError:
            command = None  # a customer's "/something" we do not know is just text to the desk
    if bans.is_banned(sender, now):
        bans.keep(db, message, now, sender, command=command is not None)
        return
    if command is not None:
        if not desk.flood.hit(message.chat_id, message.sent_at.timestamp(), message.message_id):
            _answer_command(db, command, message, now, sender)  # a flooding customer's commands go unanswered
        return
    flooding = message.edited_at is None and desk.flood.hit(message.chat_id, message.sent_at.timestamp(),
                                                            message.message_id)
    ingested = ingest(db, message, now=now, reactions=not flooding, sender=sender)
    if ingested.edit and ingested.ticket is not None:
        threads.mirror_edit(tickets.find(ingested.ticket), message, now)
    ticket = ingested.row
    if ticket is not None:  # not a duplicate (a catch-up's replay) or an edit
        _followed_up(ticket, desk, message, now, flooding=flooding)


def _followed_up(ticket: Ticket, desk: CustomerDesk, message: IncomingMessage, now: datetime, *,
                 flooding: bool) -> None:
    """The bot's part after ingest, in its transaction: a flooding customer is throttled, a new ticket's card
    opens its staff thread (else the message is mirrored there), a comment after a low survey score is kept."""
    if flooding:
        _throttle(ticket, desk.flood_limit, message, now)
    follow_up(ticket, message, now)


def _throttle(ticket: Ticket, limit: Rate, message: IncomingMessage, now: datetime) -> None:
    """One notice per throttling period; the customer is marked throttled until it ends."""
    customer = ticket.customer
    if customer.throttled_until is not None and customer.throttled_until > now:
        return
    until = now + timedelta(seconds=limit.window_s)
    Customer.update(throttled_until=until).where(Customer.id == customer.id).execute()
    customer.throttled_until = until
    event(ticket, "customer.throttled", f"customer:{customer.telegram_id}", now, limit=str(limit),
          message_id=message.message_id)
    outbox.to_customer(ticket, "flood_notice", {}, now=now, dedupe_key=f"flood-{customer.id}-{until.isoformat()}")


def _answer_command(db: peewee.Database, command: Command, message: IncomingMessage, now: datetime,
                    sender: Sender) -> None:
    dedupe = f"cmd-{message.chat_id}-{message.message_id}"  # a replayed command is answered once
    customer = remember_customer(db, sender.customer, message, now)
    if command.name == "language":
        _set_language(customer, command.args.get("code"), dedupe, now)
    elif command.name == "close":
        answer = deflection.close_mine(db, customer, command.args.get("number"), now)
        if answer is not None:
            outbox.queue(None, customer.telegram_id, html.escape(answer), now=now, dedupe_key=dedupe)
    elif command.name == "status":
        _status(customer, dedupe, now)
    elif command.name == "timezone":
        _set_timezone(db, customer, command.args.get("zone"), dedupe, now)
    else:
        outbox.template_to(customer.telegram_id, customer.language, "greeting",
                           {"customer_name": customer.first_name or customer.username or ""},
                           now=now, dedupe_key=dedupe)


def _status(customer: Customer, dedupe: str, now: datetime) -> None:
    """The customer's own open tickets (never anybody else's) with the expected reply time."""
    zone = zone_for(customer.timezone, customer.language)
    mine = tickets.open_of_customer(database, customer.id)
    if not mine:
        outbox.template_to(customer.telegram_id, customer.language, "status_none", {}, now=now, dedupe_key=dedupe)
        return
    lines = [ticket_status_line(t.number, t.status, now, _reply_due(t), zone, customer.language) for t in mine]
    text = outbox.render_template("status", customer.language, {"tickets": "\n".join(lines)})
    outbox.queue(None, customer.telegram_id, text, now=now, payload={"template": "status"}, dedupe_key=dedupe,
                 buttons=close_buttons([t.number for t in mine], language_of(customer.language)))


def _reply_due(ticket: Ticket) -> datetime | None:
    """When the customer can expect the next answer on `ticket` (None: nobody owes them one)."""
    if ticket.first_responded_at is None:
        return ticket.first_response_due
    return ticket.next_response_due if ticket.awaiting_reply_since is not None else None


def _set_language(customer: Customer, code: str | None, dedupe: str, now: datetime) -> None:
    wanted = language_of(code) if code else None
    if wanted is None or wanted != (code or "").split("-")[0].lower():
        choices = "\n".join(f"/language {c} — {name}" for c, name in LANGUAGE_NAMES.items())
        outbox.template_to(customer.telegram_id, customer.language, "language_help", {"languages": choices},
                           now=now, dedupe_key=dedupe)
        return
    Customer.update(language=wanted, language_chosen=True, updated_at=now).where(Customer.id == customer.id).execute()
    outbox.template_to(customer.telegram_id, wanted, "language_changed", {"language": LANGUAGE_NAMES[wanted]},
                       now=now, dedupe_key=dedupe)


def _set_timezone(db: peewee.Database, customer: Customer, name: str | None, dedupe: str, now: datetime) -> None:
    """/timezone [CITY]: the zone set and told with its time now; without one (or one no zone has), the question,
    with a button per zone common for the customer's language."""
    zone = find_zone(name) if name else None
    if zone is None:
        key, variables = ("timezone_unknown", {"name": name[:64]}) if name else ("timezone_help", {})
        text = outbox.render_template(key, customer.language, variables)
        outbox.queue(None, customer.telegram_id, text, now=now, payload={"template": key}, dedupe_key=dedupe,
                     buttons=_zone_buttons(customer, now))
        return
    _zone_chosen(db, customer, zone, now, dedupe)


def _zone_buttons(customer: Customer, now: datetime) -> list[list[dict[str, str]]]:
    """One button per common zone of the customer's language: its city and its time now."""
    zones = common_zones(language_of(customer.language))
    return [[{"text": f"{zone.rsplit('/', 1)[-1].replace('_', ' ')} · {now.astimezone(ZoneInfo(zone)):%H:%M}",
              "data": f"tz:{zone}"}] for zone in zones]


def _zone_chosen(db: peewee.Database, customer: Customer, zone: str, now: datetime, dedupe: str) -> None:
    portrait.update(db, customer, timezone=zone, actor=f"customer:{customer.telegram_id}", now=now)
    outbox.template_to(customer.telegram_id, customer.language, "timezone_changed",
                       {"zone": zone, "time": f"{now.astimezone(ZoneInfo(zone)):%H:%M}"}, now=now, dedupe_key=dedupe)


def on_zone_press(db: peewee.Database, press: ButtonPress, now: datetime) -> bool:
    """A tap on a /timezone button (False: not one): the customer's zone set, the press answered."""
    if not press.data.startswith("tz:"):
        return False
    zone = find_zone(press.data[3:])
    with write_transaction(db):
        customer = tickets.customer_by_telegram_id(db, press.sender.id)
        if customer is not None and zone is not None:
            _zone_chosen(db, customer, zone, now, f"press-{press.query_id}-zone")
        outbox.answer_press(press, zone or "", now=now)
    return True

"""Delivering the outbox through Telegram: in order per chat, within Telegram's rates, nothing lost or sent twice.

The bot worker's sender calls `Delivery.pump`: pending rows are loaded into a `SendSchedule` (per-chat
order; global, per-chat and per-group rates; a busy chat never holds up the others) and sent when it says.
Every Telegram message sent is recorded (`sent_message`) as soon as it is sent, so a staff reply to it
finds its ticket, and a card interrupted by a crash after opening its topic does not open another.
(Long texts were split into several rows when queued: `outbox.queue`.) The answer to /bind (a `rights` row,
telegram.binding) is completed here: the bot's rights in the group, asked of Telegram when it is sent; when the bot
may not post there, it goes to the admin who asked, in private. A `document` row's file (the weekly digest's HTML
report, telegram.documents) is built when it is sent, not before. A flood wait postpones the row
(never drops it); a blocked or deleted user makes the row dead, the customer unreachable, and the ticket's
staff thread is told.
"""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import peewee

from tgesc.db import passing_failure, write_transaction
from tgesc.domain.bot_commands import rights_text
from tgesc.domain.send_schedule import Pending, SendSchedule
from tgesc.domain.telegram import BotRights, Button, RetryAfter, TelegramPort, Undeliverable
from tgesc.domain.telegram_text import check_callback_data
from tgesc.models import Customer, Outbox, Ticket
from tgesc.services.outbox import rows as outbox
from tgesc.services.outbox import store as outbox_store
from tgesc.services.telegram.documents import attachment
from tgesc.services.tickets import cards
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.store import event
from tgesc.services.tickets.threads import TOPIC_PART
from tgesc.services.tickets.views import card_html, view

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8  # other failures are retried with a growing delay, then the row is marked failed


class Delivery:
    """Sends pending outbox rows through `port`; `clock` and `sleep` are injected (tests use a virtual clock)."""

    def __init__(self, db: peewee.Database, port: TelegramPort, schedule: SendSchedule,
                 clock: Callable[[], datetime], sleep: Callable[[float], None]) -> None:
        self.db, self.port, self.schedule, self.clock, self.sleep = db, port, schedule, clock, sleep
        self._queued: set[int] = set()
        self._reintroduced_peers: set[int] = set()
        self._answers: list[Pending] = []  # answers to button presses: outside the schedule

    def load(self) -> int:
        """Put pending rows not yet scheduled into the schedule (oldest first); how many were added. Answers
        to button presses are no messages (no chat or group limit applies, and Telegram expects them within
        seconds): they are kept apart and go first."""
        added = 0
        for row_id, chat_id, kind, not_before in outbox_store.pending(self.db):
            if row_id not in self._queued:
                self._queued.add(row_id)
                pending = Pending(row_id, chat_id, chat_id < 0, _seconds(not_before))
                if kind == "answer-callback":
                    self._answers.append(pending)
                else:
                    self.schedule.add(pending)
                added += 1
        return added

    def pump(self, budget_s: float, stop: Callable[[], bool] = lambda: False) -> int:
        """Send what is due now or within `budget_s` seconds (sleeping between sends as the rates say);
        the number of rows handled. Returns early when nothing more can go within the budget, or once
        `stop()` says so (after the current message)."""
        self.load()
        handled, deadline = 0, _seconds(self.clock()) + budget_s
        handled += self._answer_presses(stop)
        while not stop() and (upcoming := self.schedule.next_send(_seconds(self.clock()))) is not None:
            item, at = upcoming
            if at > deadline:
                break
            wait = at - _seconds(self.clock())
            if wait > 0:
                self.sleep(wait)
            self._deliver(item)
            handled += 1
        return handled

    def _answer_presses(self, stop: Callable[[], bool]) -> int:
        """Send the due answers to button presses; how many."""
        now = _seconds(self.clock())
        due = [item for item in self._answers if item.not_before <= now]
        self._answers = [item for item in self._answers if item.not_before > now]
        for number, item in enumerate(due):
            if stop():
                self._answers.extend(due[number:])
                return number
            self._deliver(item)
        return len(due)

    def next_due_in(self) -> float | None:
        """Seconds until the schedule's next send (None: nothing is pending)."""
        now = _seconds(self.clock())
        upcoming = self.schedule.next_send(now)
        return None if upcoming is None else max(0.0, upcoming[1] - now)

    def _deliver(self, item: Pending) -> None:
        row = outbox_store.row(self.db, item.item_id)
        if row is None or row.status != "pending":
            self._forget(item)
            return
        try:
            first_id = self._send(row)
        except RetryAfter as wait:
            self._postpone(item, row, wait)
        except Undeliverable as refusal:
            if "PeerIdInvalid" in str(refusal) and self._reintroduced(row):
                return  # the client had lost the customer's peer; the row stays pending and goes next
            self._forget(item)
            self._unreachable(row, str(refusal) or type(refusal).__name__)
        except Exception as error:  # noqa: BLE001 - any other failure: retried later, never lost
            if passing_failure(error):  # the database's failure, not the row's: loaded again once it is back
                self._forget(item)
                raise
            log.warning("outbox row %s failed: %s", row.id, error)
            self._retry_later(item, row, error)
        else:
            if item.item_id in self.schedule:  # (answers to presses are not in it)
                self.schedule.sent(item.item_id, _seconds(self.clock()))
            self._queued.discard(item.item_id)
            outbox_store.mark_sent(self.db, row.id, first_id, self.clock())

    def _reintroduced(self, row: Outbox) -> bool:
        """Give the client a customer's peer from the database (it lost it, e.g. with its session file) the
        first time it does not know them; whether it was given (then the row is tried again)."""
        customer = Customer.get_or_none(Customer.telegram_id == row.chat_id)
        if customer is None or customer.access_hash is None or row.chat_id in self._reintroduced_peers:
            return False
        self._reintroduced_peers.add(row.chat_id)
        self.port.remember_peer(customer.telegram_id, customer.access_hash)
        return True

    def _forget(self, item: Pending) -> None:
        self.schedule.remove(item.item_id)
        self._queued.discard(item.item_id)

    def _send(self, row: Outbox) -> int | None:
        """Send the row (unless a crash came between sending and recording it); its Telegram message id."""
        if row.kind == "answer-callback":
            self.port.answer_button(row.payload["query_id"], row.text)
            return None
        if row.kind == "edit":
            return self._edit(row)
        if row.kind == cards.EDIT:
            return self._edit_card(row)
        if row.kind == "rights":
            return self._rights(row)
        thread_id, reply_to = self._thread(row)
        if row.kind == "card":
            thread_id = self._topic_for_card(row, thread_id)
        if row.kind == "copy":
            return self._part(row, 0, lambda random_id: self.port.copy_message(
                row.chat_id, row.payload["from_chat"], row.payload["message_id"], thread_id=thread_id,
                reply_to=reply_to, random_id=random_id))
        if row.kind == "document":
            return self._part(row, 0, lambda random_id: self._document(row, thread_id, reply_to, random_id))
        buttons = [[Button(b["text"], check_callback_data(b["data"])) for b in line] for line in row.buttons or []]
        message_id = self._part(row, 0, lambda random_id: self.port.send_message(
            row.chat_id, row.text, thread_id=thread_id, reply_to=reply_to, buttons=buttons or None,
            random_id=random_id))
        if row.kind == "card" and row.ticket_id is not None and thread_id is None:
            self._set_thread(row, None, message_id)
        elif row.kind == "card" and row.payload.get("forum"):
            self.port.pin_message(row.chat_id, message_id)  # at the top of its topic (again, when resumed)
        return message_id

    def _document(self, row: Outbox, thread_id: int | None, reply_to: int | None, random_id: int) -> int:
        """A `document` row: the file it names, built now (telegram.documents), with the row's text as its caption."""
        filename, data = attachment(self.db, row.payload, self.clock())
        return self.port.send_document(row.chat_id, filename, data, caption=row.text, thread_id=thread_id,
                                       reply_to=reply_to, random_id=random_id)

    def _edit(self, row: Outbox) -> None:
        """An edit of the message an earlier row (`payload.edits`, same chat: sent before it) made; nothing when
        that row made none (it failed, or was cancelled)."""
        target = outbox_store.sent_part(self.db, row.payload["edits"], 0)
        if target is None:
            log.warning("outbox row %s: row %s it edits sent nothing; nothing to edit", row.id, row.payload["edits"])
            return None
        self.port.edit_message(row.chat_id, target, row.text)
        return None

    def _edit_card(self, row: Outbox) -> None:
        """An edit of the ticket's card in the row's chat (the latest one there) to show the ticket as it is now,
        audited as `card.updated`; nothing when no card was sent there (it failed, or its ticket is gone)."""
        card = outbox_store.card_parts(self.db, row.ticket_id, row.chat_id).get(0) if row.ticket_id else None
        if card is None:
            log.info("outbox row %s: ticket %s has no card in chat %s to edit", row.id, row.ticket_id, row.chat_id)
            return None
        now = self.clock()
        outbox_store.release_key(self.db, row.id)  # a change from now on queues the next edit
        with self.db.atomic():
            ticket = Ticket.get_by_id(row.ticket_id)
            text = card_html(view(ticket, now, UTC))
        self.port.edit_message(row.chat_id, card, text)
        with write_transaction(self.db):
            event(ticket, "card.updated", "system", now, chat=row.chat_id, message=card,
                  cause=row.payload.get("cause"))
        return None

    def _rights(self, row: Outbox) -> int | None:
        """The answer to /bind: its text and the bot's rights in the chat, asked now (once: a row resumed after it was
        sent is not asked about again). When the bot may not post there, the answer goes to the admin who asked, in
        private, and this row makes no message."""
        if (known := outbox_store.sent_part(self.db, row.id, 0)) is not None:
            return known
        rights = self.port.bot_rights(row.chat_id)
        if not (rights.is_member and rights.can_post):
            self._rights_in_private(row, rights)
            return None
        text = _with_rights(row, rights, "this forum" if row.payload["forum"] else "this group")
        return self._part(row, 0, lambda random_id: self.port.send_message(
            row.chat_id, text, thread_id=row.thread_id, reply_to=row.reply_to, random_id=random_id))

    def _rights_in_private(self, row: Outbox, rights: BotRights) -> None:
        """The answer to /bind, for the admin who asked, in private: a row of its own (written once, whatever happens
        to this one), sent in this pump."""
        group = f"group {row.chat_id}"
        heading = html.escape(f"/bind {row.payload['tier']} in {group}: the bot cannot post there, so it answers here.")
        with write_transaction(self.db):
            outbox.queue(None, row.payload["asked_by"], f"{heading}\n{_with_rights(row, rights, group)}",
                         now=self.clock(), dedupe_key=f"rights-{row.id}")
        self.load()

    def _part(self, row: Outbox, part: int, send: Callable[[int], int]) -> int:
        """Make Telegram call `part` of `row` (0: the message; TOPIC_PART: the topic a card opens) unless it
        was made before an interruption; the id it returned. `send` gets the call's random_id, the same for
        every attempt: a crash after Telegram made the message and before it is recorded here must not make
        the next attempt send it again (Telegram answers a repeated random_id with the first call's message)."""
        known = outbox_store.sent_part(self.db, row.id, part)
        if known is not None:
            return known
        message_id = send(random_id(row, part))
        outbox_store.record_part(self.db, row, part, message_id, self.clock())
        return message_id

    def _thread(self, row: Outbox) -> tuple[int | None, int | None]:
        """Where in the chat the row goes: its own thread and reply, or its ticket's current staff thread."""
        if not row.payload.get("ticket_thread") or row.ticket_id is None:
            return row.thread_id, row.reply_to
        staff_chat_id, topic_id, card_message_id = tickets.staff_thread(self.db, row.ticket_id)
        if staff_chat_id != row.chat_id:
            return _earlier_thread(self.db, row)
        return topic_id, (None if topic_id else card_message_id)

    def _topic_for_card(self, row: Outbox, thread_id: int | None) -> int | None:
        """A card for a forum opens the ticket's topic in that chat (once: a resumed row reuses it)."""
        if not row.payload.get("forum") or row.ticket_id is None:
            return thread_id
        topic = self._part(row, TOPIC_PART, lambda random_id: self.port.create_topic(
            row.chat_id, row.payload.get("title") or f"#{row.ticket_id}", random_id=random_id))
        self._set_thread(row, topic, None)
        return topic

    def _set_thread(self, row: Outbox, topic_id: int | None, card_message_id: int | None) -> None:
        """The ticket's staff thread is now in the row's chat: the topic its card opened, or the card."""
        tickets.set_staff_thread(self.db, row.ticket_id, row.chat_id, topic_id, card_message_id)

    def _postpone(self, item: Pending, row: Outbox, wait: RetryAfter) -> None:
        until = self.clock() + timedelta(seconds=wait.seconds)
        if item.item_id in self.schedule:
            self.schedule.postpone(row.chat_id, _seconds(until))
        else:
            self._queued.discard(item.item_id)  # an answer to a press: loaded again once due
        outbox_store.postpone(self.db, row.id, until, str(wait))
        log.info("outbox row %s postponed %.0f s (%s)", row.id, wait.seconds, wait.reason)

    def _retry_later(self, item: Pending, row: Outbox, error: Exception) -> None:
        self._forget(item)
        attempts = row.attempts + 1
        if row.kind == "answer-callback":  # a press can be answered within seconds only: never retried
            status = "dead"
        else:
            status = "failed" if attempts >= MAX_ATTEMPTS or isinstance(error, ValueError) else "pending"
        outbox_store.failed(self.db, row.id, status=status, attempts=attempts, error=f"{type(error).__name__}: {error}",
                            retry_at=self.clock() + timedelta(seconds=min(300, 2 ** attempts)))

    def _unreachable(self, row: Outbox, reason: str) -> None:
        """Telegram refused for good: the row (and everything else pending for that chat) is dead; when the
        chat is a customer's, they are marked unreachable and the ticket's staff thread is told."""
        now = self.clock()
        with write_transaction(self.db):
            outbox_store.dead_for_chat(self.db, row.chat_id, reason)
            customer = Customer.get_or_none(Customer.telegram_id == row.chat_id)
            if customer is None or customer.unreachable_at is not None:
                return
            Customer.update(unreachable_at=now).where(Customer.id == customer.id).execute()
            ticket = Ticket.get_or_none(Ticket.id == row.ticket_id) if row.ticket_id else None
            event(ticket, "customer.unreachable", "system", now, reason=reason, outbox=row.id)
            if ticket is not None and ticket.staff_chat_id is not None:
                outbox.queue(ticket, ticket.staff_chat_id, f"⚠ The customer of #{ticket.number} cannot be reached "
                             f"any more ({reason}): replies are not delivered.", now=now,
                             payload={"ticket_thread": True})


def _earlier_thread(db: peewee.Database, row: Outbox) -> tuple[int | None, int | None]:
    """The thread the row's ticket had in the row's chat, which it has left since the row was queued (e.g. a
    mirrored message held up by a flood wait while the ticket was escalated on): the topic its card opened
    there, else a reply to that card; the row's own when the ticket never had a card there."""
    sent = outbox_store.card_parts(db, row.ticket_id, row.chat_id)
    if TOPIC_PART in sent:
        return sent[TOPIC_PART], None
    if 0 in sent:
        return None, sent[0]
    return row.thread_id, row.reply_to


def _with_rights(row: Outbox, rights: BotRights, chat: str) -> str:
    """A /bind answer's text (HTML) followed by the check of the bot's rights in `chat` (as the answer names it)."""
    return f"{row.text}\n{html.escape(rights_text(rights, forum=row.payload['forum'], chat=chat))}"


def random_id(row: Outbox, part: int) -> int:
    """Telegram's random_id for call `part` of outbox row `row`: stable across attempts and restarts, distinct
    for every row and part (the row's creation instant keeps a database started afresh from reusing ids)."""
    key = f"tgesc-outbox/{row.id}/{row.created_at.isoformat()}/{part}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big", signed=True) or 1


def _seconds(instant: datetime) -> float:
    return instant.timestamp()

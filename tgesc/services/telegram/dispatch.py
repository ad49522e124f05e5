"""Where each Telegram update goes: the one entry point the bot's connection calls.

/id and /bind (telegram.binding) are answered in any chat. Otherwise a private chat is a customer's, unless the
sender is active staff (then it is their staff console); a group is a tier's staff chat, or not ours (ignored). A
press on a survey's star button records the answer (tickets.surveys); every button press is acknowledged through the
outbox (handlers run on the connection's event loop and must never wait on Telegram themselves). After each update
`wake` is called, so the sender delivers what the update queued at once.

Nothing is acknowledged before it is committed (tgesc.domain.telegram.UpdateHandlers): when the database fails in
a way that passes (tgesc.db.passing_failure), the handler drops its connection and raises, and the connection
hands the same update over again until it goes through; any other failure is a bug met by this one update, which
is kept as a dead letter (telegram.dead_letters) so that the updates behind it are not held up.

A run of messages (a burst, a catch-up after an outage) is handled in one write transaction, so it pays one
COMMIT (and on PostgreSQL one wait for it) instead of one per message. When any of them fails, the run is rolled
back whole and its messages are handled again one at a time, each in its own transaction as above: so the one that
fails is kept as a dead letter alone, and the others are committed.
"""

from __future__ import annotations

import contextlib
import html
import logging
import traceback
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TypeVar

import peewee

from tgesc.db import passing_failure, reconnect, write_transaction
from tgesc.domain.bot_commands import Command, CommandError, any_chat_command, ids_text
from tgesc.domain.errors import DomainError
from tgesc.domain.telegram import ButtonPress, IncomingMessage
from tgesc.services.outbox import rows as outbox
from tgesc.services.outbox import store as outbox_store
from tgesc.services.telegram import binding, dead_letters
from tgesc.services.telegram.customers import CustomerDesk, customer_message, on_zone_press
from tgesc.services.telegram.staff import (
    on_staff_chat_message,
    on_staff_press,
    on_staff_private_message,
    staff_member,
    staff_tier,
)
from tgesc.services.tickets import deflection, surveys
from tgesc.services.tickets.ingest import read_sender

log = logging.getLogger(__name__)
T = TypeVar("T")


class BotDispatcher:
    """Routes updates to the customer and staff services, one at a time (the connection calls it in order)."""

    def __init__(self, db: peewee.Database, desk: CustomerDesk, clock: Callable[[], datetime],
                 wake: Callable[[], None] = lambda: None,
                 on_failure: Callable[[IncomingMessage | ButtonPress, Exception], None] = lambda item, error: None,
                 new_tags_by: str = "leads") -> None:
        """`on_failure(item, error)`: told of each update kept as a dead letter, once it is committed;
        `new_tags_by`: the setting saying who may create tags from a ticket's thread."""
        self.db, self.desk, self.clock, self.wake, self.on_failure = db, desk, clock, wake, on_failure
        self.new_tags_by = new_tags_by

    def on_message(self, message: IncomingMessage, raw: Callable[[], str] = lambda: "") -> None:
        if not message.sender.is_bot:
            self._committed(message, raw)

    def on_messages(self, run: Sequence[tuple[IncomingMessage, Callable[[], str]]]) -> None:
        """Messages queued one behind another: committed in one transaction, or, when one of them fails for good,
        each in its own (see the module's description)."""
        run = [(message, raw) for message, raw in run if not message.sender.is_bot]
        if len(run) > 1:
            try:
                self._unless_passing(lambda: self._run(message for message, _ in run))
                self.wake()
                return
            except Exception as exc:
                if passing_failure(exc):
                    raise
                log.info("a run of %d messages failed (%s: %s); handling them one at a time", len(run),
                         type(exc).__name__, exc)
        for message, raw in run:
            self._committed(message, raw)

    def _run(self, messages: Iterable[IncomingMessage]) -> None:
        with write_transaction(self.db, pipelined=True):
            for message in messages:
                outbox_store.forget_cards(self.db)
                self._message(message, self.clock(), joined=True)

    def on_press(self, press: ButtonPress, raw: Callable[[], str] = lambda: "") -> None:
        self._committed(press, raw)

    def on_unreadable(self, kind: str, raw: str, error: str) -> None:
        """An update the connection could not read: kept whole as a dead letter."""
        letter = self._unless_passing(lambda: dead_letters.record_unreadable(self.db, kind, raw, error, self.clock()))
        log.error("could not read a %s update; kept as dead letter %d (`tgesc dead-letter show %d`)", kind, letter,
                  letter)

    def replay(self, letter_id: int) -> IncomingMessage | ButtonPress:
        """Handle a dead letter's update again; mark it replayed, or DomainError when it fails again (counted)."""
        found = dead_letters.letter(letter_id)
        item = dead_letters.update_of(found)
        if item is None:
            raise DomainError(f"dead letter {letter_id} is an update the bot could not read, so there is nothing to "
                              f"hand over again; its raw form is in `tgesc dead-letter show {letter_id}`")
        failed = self._handled_or_kept(item, lambda: found.raw, self.clock())
        if failed is not None:
            _, exc, _ = failed
            raise DomainError(f"dead letter {letter_id} failed again: {type(exc).__name__}: {exc}; "
                              f"`tgesc dead-letter show {letter_id}` has the traceback")
        dead_letters.mark_replayed(self.db, letter_id, self.clock())
        return item

    def _committed(self, item: IncomingMessage | ButtonPress, raw: Callable[[], str]) -> None:
        """Handle `item`, or keep it as a dead letter when that fails for good; raise on a passing failure."""
        failed = self._handled_or_kept(item, raw, self.clock())
        if failed is not None:
            letter, exc, error = failed
            log.error("handling %s %s of chat %s failed; kept as dead letter %d (`tgesc dead-letter show %d`):\n%s",
                      dead_letters.kind_of(item), getattr(item, "message_id", None), item.chat_id, letter, letter,
                      error)
            self.on_failure(item, exc)
        self.wake()

    def _handled_or_kept(self, item: IncomingMessage | ButtonPress, raw: Callable[[], str],
                         now: datetime) -> tuple[int, Exception, str] | None:
        """Handle `item` (None); when that fails for good, keep it as a dead letter (counted again when it is one
        already): the letter's id, the failure and its traceback. A passing failure is raised."""
        try:
            self._unless_passing(lambda: self._handle(item, now))
            return None
        except Exception as exc:
            if passing_failure(exc):
                raise
            error = traceback.format_exc()
            kept = raw()
            return self._unless_passing(lambda: dead_letters.record(self.db, item, kept, error, now)), exc, error

    def _unless_passing(self, work: Callable[[], T]) -> T:
        """`work()`; after a passing database failure, this thread's connection is dropped (the next try opens a
        new one) and the failure raised."""
        try:
            return work()
        except Exception as exc:
            if passing_failure(exc):
                reconnect(self.db)
            raise

    def _handle(self, item: IncomingMessage | ButtonPress, now: datetime) -> None:
        if isinstance(item, ButtonPress):
            self._press(item, now)
        else:
            self._message(item, now)

    def _message(self, message: IncomingMessage, now: datetime, *, joined: bool = False) -> None:
        """`joined`: in the caller's write transaction (a run's), which a customer's message then shares."""
        if message.edited_at is None and self._any_chat(message, now):
            return
        if message.chat_type == "private":
            self._private(message, now, joined=joined)
        else:
            tier = staff_tier(message.chat_id)
            if tier is None:
                log.debug("ignoring chat %s: not a tier's staff chat", message.chat_id)
                return
            on_staff_chat_message(self.db, self.desk.bot_username, tier, message, now, new_tags_by=self.new_tags_by)

    def _any_chat(self, message: IncomingMessage, now: datetime) -> bool:
        """/id or /bind, in any chat: answered (whether `message` was one of them)."""
        try:
            command: Command | None = any_chat_command(message.text, bot_username=self.desk.bot_username)
        except CommandError as error:  # a /bind that cannot be read
            binding.refuse(self.db, message, str(error), now)
            return True
        if command is None:
            return False
        if command.name == "bind":
            binding.on_bind(self.db, message, command.args["tier"], now)
        else:
            self._ids(message, now)
        return True

    def _ids(self, message: IncomingMessage, now: datetime) -> None:
        """/id, in any chat: the chat's id and the sender's, as a reply (once, however often it is handed over)."""
        text = ids_text(message.chat_id, message.chat_type, message.is_forum, message.sender.id)
        with write_transaction(self.db):
            outbox.queue(None, message.chat_id, html.escape(text), now=now, thread_id=message.thread_id,
                         reply_to=message.message_id, dedupe_key=f"id-{message.chat_id}-{message.message_id}")

    def _private(self, message: IncomingMessage, now: datetime, *, joined: bool = False) -> None:
        """A customer's message, unless the sender is active staff (their console). The question is asked in the
        customer's transaction, after its first read, which checked the configuration in force: so it costs a
        customer's message no round trip of its own (a staff member's costs an empty transaction)."""
        with contextlib.nullcontext() if joined else write_transaction(self.db, pipelined=True):
            sender = read_sender(self.db, message)
            staff = staff_member(message.sender.id)
            if staff is None:
                customer_message(self.db, self.desk, message, now, sender)
                return
        on_staff_private_message(self.db, self.desk.bot_username, staff, message, now)

    def _press(self, press: ButtonPress, now: datetime) -> None:
        if surveys.on_press(self.db, press, now):  # a survey's star buttons record the answer
            return
        if on_staff_press(self.db, press, now):  # a /checklist button in a ticket's thread
            return
        if on_zone_press(self.db, press, now):  # a customer's /timezone button
            return
        if not deflection.on_press(self.db, press, now):  # an FAQ answer's verdict, a /status close button
            with write_transaction(self.db):
                outbox.answer_press(press, "", now=now)

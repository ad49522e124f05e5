"""Where each Telegram update goes: the one entry point the bot's connection calls.

A private chat is a customer's, unless the sender is active staff (then it is their staff console); a
group is a tier's staff chat, or not ours (ignored). A press on a survey's star button records the answer
(services.surveys); every button press is acknowledged through the outbox
(handlers run on the connection's event loop and must never wait on Telegram themselves). After each
update `wake` is called, so the sender delivers what the update queued at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import peewee

from tgesc.db import write_transaction
from tgesc.domain.telegram import ButtonPress, IncomingMessage
from tgesc.services import outbox, surveys
from tgesc.services.bot_customers import CustomerDesk, on_customer_message
from tgesc.services.bot_staff import on_staff_chat_message, on_staff_private_message, staff_member, staff_tier

log = logging.getLogger(__name__)


class BotDispatcher:
    """Routes updates to the customer and staff services, one at a time (the connection calls it in order)."""

    def __init__(self, db: peewee.Database, desk: CustomerDesk, clock: Callable[[], datetime],
                 wake: Callable[[], None] = lambda: None) -> None:
        self.db, self.desk, self.clock, self.wake = db, desk, clock, wake

    def on_message(self, message: IncomingMessage) -> None:
        if message.sender.is_bot:
            return
        now = self.clock()
        if message.chat_type == "private":
            staff = staff_member(message.sender.id)
            if staff is not None:
                on_staff_private_message(self.db, self.desk.bot_username, staff, message, now)
            else:
                on_customer_message(self.db, self.desk, message, now)
        else:
            tier = staff_tier(message.chat_id)
            if tier is None:
                log.debug("ignoring chat %s: not a tier's staff chat", message.chat_id)
                return
            on_staff_chat_message(self.db, self.desk.bot_username, tier, message, now)
        self.wake()

    def on_press(self, press: ButtonPress) -> None:
        now = self.clock()
        if not surveys.on_press(self.db, press, now):  # a survey's star buttons record the answer
            with write_transaction(self.db):
                outbox.queue(None, press.chat_id, "", now=now, kind="answer-callback",
                             payload={"query_id": press.query_id, "data": press.data},
                             dedupe_key=f"press-{press.query_id}")
        self.wake()

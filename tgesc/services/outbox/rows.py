"""Writing outbound Telegram messages as outbox rows, in the transaction of the change that causes them.

A row is sent at most once by the bot worker (a later issue), which records the Telegram message id.
Texts are rendered here from templates in the recipient's language (database overrides first).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tgesc.domain import templates
from tgesc.domain.humanize import language_of
from tgesc.domain.telegram import TEXT_LIMIT, ButtonPress
from tgesc.domain.telegram_text import split_text
from tgesc.models import Ticket, database
from tgesc.services.config.current import current
from tgesc.services.customers.directory import banned
from tgesc.services.outbox import store


def render_template(key: str, language: str | None, variables: Mapping[str, Any]) -> str:
    """A template in `language` (falling back to English) with its variables, HTML-escaped."""
    lang = language_of(language)
    stored = current(database).sections["templates"].get(key, {})
    overrides = {(key, code): body for code, body in stored.items()}
    body, _ = templates.lookup(key, lang, overrides)
    allowed = templates.allowed_variables(key)
    return templates.render(key, body, {k: str(v) for k, v in variables.items() if k in allowed})


def queue(ticket: Ticket | int | None, chat_id: int, text: str, *, now: datetime, kind: str = "message",
          thread_id: int | None = None, reply_to: int | None = None, buttons: Any = None,
          payload: Mapping[str, Any] | None = None, dedupe_key: str | None = None, joins: bool = False) -> bool:
    """One outbound message, to be delivered by the bot worker.
    A text over Telegram's limit becomes several rows, split on paragraph or line boundaries (the delivery
    keeps a chat's order; the first replies to `reply_to`, the last carries the buttons). With a
    `dedupe_key` a second message with the same key is not written (e.g. the answer to a command that a
    catch-up delivers again); whether it was written. `joins`: a row with the same key stands for this one too
    (the answer is True, and nothing waits for it to be read)."""
    parts = split_text(text) if len(text) > TEXT_LIMIT else [text]
    for number, part in enumerate(parts):
        last = number == len(parts) - 1
        row = {"ticket": ticket, "chat_id": chat_id, "thread_id": thread_id,
               "reply_to": reply_to if number == 0 else None, "kind": kind, "text": part,
               "buttons": buttons if last else None, "payload": dict(payload or {}),
               "dedupe_key": dedupe_key if number == 0 or dedupe_key is None else f"{dedupe_key}#{number + 1}",
               "status": "pending", "attempts": 0, "not_before": now, "created_at": now, "sent_at": None,
               "telegram_message_id": None, "error": None}
        if not store.add(database, row, once=dedupe_key is not None, unread=joins):
            return False
    return True


def answer_press(press: ButtonPress, text: str, *, now: datetime) -> bool:
    """The answer to a button press: `text`, a short plain-text notice (or none), sent once however often the press
    is handed over (whether it was written now, see `queue`)."""
    return queue(None, press.chat_id, text, now=now, kind="answer-callback",
                 payload={"query_id": press.query_id, "data": press.data}, dedupe_key=f"press-{press.query_id}")


def to_customer(ticket: Ticket, key: str, variables: Mapping[str, Any], *, now: datetime,
                dedupe_key: str | None = None) -> bool:
    """A template message to the ticket's customer, in their language (whether it was written, see `queue`): the
    desk's own messages, none of which goes to a banned customer (a staff member's reply is relayed all the same)."""
    customer = ticket.customer
    if banned(customer, now):
        return False
    return template_to(customer.telegram_id, customer.language, key, {"ticket": ticket.number, **variables}, now=now,
                ticket=ticket, dedupe_key=dedupe_key)


def template_to(chat_id: int, language: str | None, key: str, variables: Mapping[str, Any], *, now: datetime,
                ticket: Ticket | None = None, dedupe_key: str | None = None) -> bool:
    """A template message to any chat, in `language` (whether it was written, see `queue`)."""
    return queue(ticket, chat_id, render_template(key, language, variables), now=now, payload={"template": key},
          dedupe_key=dedupe_key)

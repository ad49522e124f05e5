"""Knowledge accumulation (the article): a resolved case becomes an FAQ auto-answer.

`to_faq` writes a custom template `faq_<name>` holding the answer and an FAQ entry `[faq.<name>]` whose
phrases trigger it, both through the configuration service (so they are validated like any
configuration edit: template HTML and variables, names, references), and records `ticket.to_faq` on
the ticket, all in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import peewee

from tgesc.db import write_transaction
from tgesc.domain.errors import DomainError, UsageError
from tgesc.domain.templates import primary_language
from tgesc.services.config.apply import add_entry
from tgesc.services.tickets.store import event, find

DONE_STATUSES = ("resolved", "closed")
_NAME = re.compile(r"[a-z0-9_]{1,60}", re.ASCII)


def to_faq(db: peewee.Database, number: int, *, keywords: Sequence[str], answer: str, actor: str, now: datetime,
           name: str | None = None, language: str | None = None) -> dict[str, Any]:
    """Turn resolved or closed ticket `number` into FAQ entry `name` (default `ticket_<number>`) answered
    by template `faq_<name>` in `language` (default: the customer's). Returns what was created."""
    phrases = list(dict.fromkeys(k.strip() for k in keywords if k and k.strip()))
    if not phrases:
        raise UsageError("give the phrases that should trigger the answer with --keywords, e.g. "
                         "--keywords 'reset password,forgot password'")
    if not answer or not answer.strip():
        raise UsageError("the answer must not be empty (--answer)")
    name = name if name is not None else f"ticket_{number}"
    if not _NAME.fullmatch(name):
        raise UsageError(f"{name!r} is not a usable FAQ name; use 1 to 60 lowercase letters, digits and "
                         "underscores (the answer is stored as template faq_<name>)")
    with write_transaction(db):
        ticket = find(number)
        if ticket.status not in DONE_STATUSES:
            raise DomainError(f"ticket #{number} is {ticket.status}; only a resolved or closed case becomes an "
                              f"FAQ answer (resolve it first: tgesc ticket resolve {number})")
        lang = primary_language(language or ticket.customer.language or "en")
        template = f"faq_{name}"
        add_entry(db, "templates", template, {lang: answer.strip()}, actor=actor, now=now)
        add_entry(db, "faq", name, {"phrases": {lang: phrases}, "answer": template}, actor=actor, now=now)
        event(ticket, "ticket.to_faq", actor, now, faq=name, template=template, language=lang, phrases=phrases)
        return {"ticket": number, "faq": name, "template": template, "language": lang, "phrases": phrases,
                "answer": answer.strip()}

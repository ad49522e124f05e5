"""Canned replies: a snippet of the escalation configuration (`[snippets.KEY]`, `tgesc snippet`) sent to a ticket's
customer as a staff member's answer (`/r KEY` in the thread), in the customer's language (English when the snippet
has none in theirs), with its variables filled: $customer_name, $ticket, $tier (its name in their language) and
$eta (when the next answer is due, else the resolution, in their zone; empty when nothing is due)."""

from __future__ import annotations

import html
import re
from datetime import datetime

import peewee

from tgesc.domain import templates
from tgesc.domain.errors import NotFound
from tgesc.domain.humanize import eta_text, language_of, zone_for
from tgesc.models import Ticket
from tgesc.services.config import store as config_store
from tgesc.services.tickets import threads
from tgesc.services.tickets.escalation import tier_name
from tgesc.services.tickets.store import event, save


def keys(db: peewee.Database) -> list[str]:
    """The snippets' keys, in order."""
    return sorted(config_store.load_section("snippets"))


def send(db: peewee.Database, ticket: Ticket, key: str, *, actor: str, now: datetime) -> str:
    """Relay snippet `key` to the ticket's customer as `actor`'s answer (the first or next response), audited
    (`snippet.sent`: key, language); the text sent, as plain text."""
    found = config_store.load_section("snippets").get(key)
    if found is None:
        known = ", ".join(keys(db)) or "none yet (`tgesc snippet add`)"
        raise NotFound(f"there is no snippet {key!r}; the snippets: {known}")
    customer = ticket.customer
    texts, wanted = found["text"], language_of(customer.language)
    language = wanted if wanted in texts else ("en" if "en" in texts else sorted(texts)[0])
    due = ticket.next_response_due or ticket.first_response_due or ticket.resolution_due
    zone = zone_for(customer.timezone, customer.language)
    variables = {"customer_name": customer.first_name or customer.username or "", "ticket": ticket.number,
                 "tier": tier_name(ticket.tier, language), "eta": eta_text(now, due, zone, language) if due else ""}
    body = templates.render(templates.SNIPPET + key, texts[language], variables)
    plain = html.unescape(re.sub(r"<[^>]+>", "", body))
    threads.relay_reply(ticket, plain, actor=actor, now=now, mirror=False, body=body)
    event(ticket, "snippet.sent", actor, now, key=key, language=language)
    save(ticket, now)
    return plain

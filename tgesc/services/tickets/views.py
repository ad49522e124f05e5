"""Reading one ticket for people: its document (`ticket show`: the article's six core items, the handover
checklist, the SLA clocks and the timeline; `--json` emits it, and the staff context card sent on escalation is
rendered from it), and the short record a changing command prints. The work queue (`ticket list`) is
tickets.queue.
"""

from __future__ import annotations

import html
from datetime import datetime, tzinfo
from typing import Any

import peewee

from tgesc.domain.durations import format_duration
from tgesc.domain.humanize import zone_for
from tgesc.domain.ticket_rules import TRIED_WANTED
from tgesc.models import Message, Survey, Ticket, database
from tgesc.services.clocks import sla
from tgesc.services.clocks.calendars import tier_calendar
from tgesc.services.customers import portrait
from tgesc.services.customers.portrait import SHOWN_NOTES
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.store import checklist, find

KEY_MESSAGES = 5
BREACHED_STATES = ("breached", "met late", "stopped late")  # a clock past its deadline, running or stopped


def _at(value: datetime | None, zone: tzinfo) -> str | None:
    return None if value is None else value.astimezone(zone).isoformat(timespec="seconds")


def view(ticket: Ticket, now: datetime, zone: tzinfo) -> dict[str, Any]:
    """The ticket as one JSON-ready document, instants in `zone`."""
    customer = ticket.customer
    clocks = sla.clock_report(ticket, now) if ticket.sla_policy else []
    tried = tickets.tried_solutions(database, ticket.id)
    events = tickets.events(database, ticket.id)
    items = checklist(ticket, tried=len(tried))
    return {
        "number": ticket.number, "status": ticket.status, "tier": ticket.tier.code, "priority": ticket.priority,
        "emotion": ticket.emotion, "emotion_set_by_staff": ticket.emotion_set_by_staff, "tags": ticket.tags,
        "assignee": ticket.assignee.handle if ticket.assignee_id else None,
        "customer": {"id": customer.telegram_id, "username": customer.username,
                     "name": " ".join(p for p in (customer.first_name, customer.last_name) if p),
                     "language": customer.language, "timezone": customer.timezone,
                     "zone": zone_for(customer.timezone, customer.language).key,
                     "local_time": now.astimezone(zone_for(customer.timezone, customer.language)).isoformat(
                         timespec="minutes"),
                     "tags": list(customer.tags or []),
                     "notes": [{"text": n.text, "by": n.actor, "at": _at(n.at, zone)}
                               for n in portrait.notes(database, customer.id, SHOWN_NOTES)],
                     "earlier": _earlier(ticket)},
        "escalation": next(({"from": e.details.get("from"), "to": e.details.get("to"),
                             "trigger": e.details.get("trigger"), "reason": e.details.get("reason") or ""}
                            for e in reversed(events) if e.kind == "ticket.escalated"), None),
        "tier_hours": _tier_hours(ticket, now, zone_for(customer.timezone, customer.language)),
        "problem": ticket.problem,
        "tried": [{"text": t.text, "by": t.actor, "at": _at(t.at, zone)} for t in tried],
        "key_messages": [_message(m, zone) for m in key_messages(ticket)],
        "checklist": {"first_occurred_at": _at(items.first_occurred_at, zone),
                      "evidence_provided": items.evidence_provided,
                      "expected_resolution_by": _at(items.expected_resolution_by, zone), "missing": items.missing},
        "sla": {"first_response_due": _at(ticket.first_response_due, zone),
                "next_response_due": _at(ticket.next_response_due, zone),
                "resolution_due": _at(ticket.resolution_due, zone),
                "breached": [c["clock"] for c in clocks if c["state"] in BREACHED_STATES],
                "clocks": [_clock(c, zone) for c in clocks]},
        "created_at": _at(ticket.created_at, zone), "updated_at": _at(ticket.updated_at, zone),
        "events": [{"at": _at(e.at, zone), "kind": e.kind, "actor": e.actor, "detail": e.details} for e in events],
    }


def key_messages(ticket: Ticket) -> list[Message]:
    """The last few customer messages, plus any staff marked as key, oldest first."""
    last = tickets.last_customer_messages(database, ticket.id, KEY_MESSAGES)
    marked = tickets.key_messages(database, ticket.id)
    chosen = {m.id: m for m in [*last, *marked]}
    return sorted(chosen.values(), key=lambda m: (m.sent_at, m.id))


def _message(message: Message, zone: tzinfo) -> dict[str, Any]:
    return {"id": message.message_id, "at": _at(message.sent_at, zone), "from": message.sender,
            "text": message.text, "media_type": message.media_type, "file_id": message.file_id,
            "marked": message.is_key}


def _clock(report: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    return {"clock": report["clock"], "state": report["state"], "due": _at(report["due"], zone),
            "running": report["running"], "stopped_at": _at(report["stopped_at"], zone),
            "budget": format_duration(int(report["budget"].total_seconds())),
            "used": format_duration(int(report["used"].total_seconds())),
            "left": format_duration(int(report["left"].total_seconds())), "percent": report["percent"]}


def _short(iso: str | None) -> str:
    """An instant of the view as the card shows it: `2026-03-01 14:30` (its offset dropped), or ✗ when unset."""
    return iso[:16].replace("T", " ") if iso else "✗"


def _earlier(ticket: Ticket) -> list[dict[str, Any]]:
    """The customer's last three other tickets: number, status (the outcome) and the latest survey's stars."""
    others = list(Ticket.select(Ticket.id, Ticket.number, Ticket.status).where(
        (Ticket.customer == ticket.customer_id) & (Ticket.id != ticket.id)).order_by(Ticket.number.desc()).limit(3))
    stars = {s.ticket_id: s.stars for s in Survey.select(Survey.ticket, Survey.stars).where(
        Survey.ticket.in_([t.id for t in others]) & Survey.stars.is_null(False)).order_by(Survey.round)}
    return [{"number": t.number, "status": t.status, "rating": stars.get(t.id)} for t in others]


def _tier_hours(ticket: Ticket, now: datetime, zone: tzinfo) -> dict[str, Any]:
    """Whether the ticket's tier works now and, when not, when it opens, in the customer's zone."""
    hours = tier_calendar(database, ticket.tier)
    if hours.is_open(now):
        return {"open": True, "opens_at": None}
    return {"open": False, "opens_at": hours.next_open(now).astimezone(zone).isoformat(timespec="minutes")}


def card_html(doc: dict[str, Any]) -> str:
    """The staff context card (Telegram HTML): the six core items, who has it and why it is here, the customer's
    portrait and history, the checklist, the clocks, the last messages."""
    e = html.escape
    customer = doc["customer"]
    who = f"@{customer['username']}" if customer["username"] else customer["name"] or "customer"
    lines = [f"<b>#{doc['number']}</b> · {e(who)} (id {customer['id']}) · {doc['tier']} · "
             f"priority <b>{doc['priority']}</b> · {doc['emotion']}" + (f" · {e(', '.join(doc['tags']))}"
                                                                          if doc["tags"] else ""),
             f"<b>Problem</b> (customer's words): {e(doc['problem'][:1500])}",
             *_card_people(doc)]
    tried = "; ".join(f"{e(t['text'])} ({e(t['by'])})" for t in doc["tried"])
    lines.append(f"<b>Tried</b> ({len(doc['tried'])} of {TRIED_WANTED}): {tried or 'nothing yet'}")
    items = doc["checklist"]
    lines.append("<b>Checklist</b>: " + " · ".join((
        f"first occurred {_short(items['first_occurred_at'])}",
        "evidence " + ("✓" if items["evidence_provided"] else "✗"),
        f"expected by {_short(items['expected_resolution_by'])}")))
    lines.append("<b>SLA</b>: " + "; ".join(f"{c['clock'].replace('_', ' ')} {c['state']}, due {c['due'] or '-'}"
                                             for c in doc["sla"]["clocks"]))
    for message in doc["key_messages"]:
        attachment = f" [{message['media_type']}]" if message["media_type"] else ""
        lines.append(f"› {e((message['text'] or '')[:300])}{attachment}")
    return "\n".join(lines)[:4000]


def _card_people(doc: dict[str, Any]) -> list[str]:
    """The card's lines on who: the assignee and the escalation that brought it here, the customer (zone, time
    there, the tier's hours in it, tags), their notes and earlier tickets."""
    e, customer, lines = html.escape, doc["customer"], []
    escalation = doc["escalation"]
    moved = (f" · <b>Escalated</b> {escalation['from']} → {escalation['to']} ({e(escalation['trigger'] or '')})"
             + (f": {e(escalation['reason'][:300])}" if escalation["reason"] else "")) if escalation else ""
    lines.append(f"<b>Assignee</b>: {e(doc['assignee'] or 'nobody yet (/take)')}{moved}")
    local = datetime.fromisoformat(customer["local_time"])
    about = [f"zone {customer['zone']}{'' if customer['timezone'] else ' (by language)'}, {local:%H:%M} there now"]
    hours = doc["tier_hours"]
    opens = "works now" if hours["open"] else f"opens {_short(hours['opens_at'])} their time"
    about.append(f"{doc['tier']} {opens}")
    if customer["tags"]:
        about.append("tags " + ", ".join(customer["tags"]))
    lines.append(f"<b>Customer</b>: {e(' · '.join(about))}")
    if customer["notes"]:
        lines.append("<b>Notes</b>: " + "; ".join(f"{e(n['text'][:300])} ({e(n['by'])})" for n in customer["notes"]))
    if customer["earlier"]:
        lines.append("<b>Earlier tickets</b>: " + "; ".join(
            f"#{t['number']} {t['status']}" + (f" ★{t['rating']}" if t["rating"] else "") for t in customer["earlier"]))
    return lines

def document(db: peewee.Database, number: int, *, now: datetime, zone: tzinfo,
             messages: bool = False) -> dict[str, Any]:
    """`ticket show`: the ticket's view (`view`), instants in `zone`; with `messages`,
    also every message of the conversation (key `messages`, oldest first) for the timeline."""
    with db.atomic():
        ticket = find(number)
        doc = view(ticket, now, zone)
        if messages:
            doc["messages"] = [
                {"id": m.message_id, "at": m.sent_at.astimezone(zone).isoformat(timespec="seconds"),
                 "from": m.sender, "staff": m.staff.handle if m.staff_id else None, "text": m.text,
                 "media_type": m.media_type, "file_id": m.file_id, "marked": m.is_key,
                 "internal": m.is_internal}
                for m in Message.select().where(Message.ticket == ticket).order_by(Message.sent_at, Message.id)]
        return doc


def summary(db: peewee.Database, ticket: Ticket) -> dict[str, Any]:
    """The short record a changing command prints: where the ticket stands now."""
    with db.atomic():
        return {"number": ticket.number, "status": ticket.status, "tier": ticket.tier.code,
                "priority": ticket.priority, "emotion": ticket.emotion, "tags": ticket.tags,
                "assignee": ticket.assignee.handle if ticket.assignee_id else None, "version": ticket.version}

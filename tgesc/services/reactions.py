"""How the desk reacts to a customer's message on a ticket: emotion, trigger rules, FAQ answers.

Runs inside the ingest transaction. Each rule fires at most once per ticket (a `firing` row per rule,
unique per ticket) and its event says which rule fired and why. A fired rule's actions: tags added,
priority raised (never lowered), an escalation to a higher tier, a template reply to the customer. At the
front line an FAQ entry whose phrases match answers the question, once per ticket and entry.
"""

from __future__ import annotations

from datetime import datetime

import peewee

from tgesc.domain.emotion import assess, more_intense
from tgesc.domain.humanize import eta_text, zone_for
from tgesc.domain.rules import MessageContext, combine, evaluate, faq_from, faq_match, rules_from, unresolved_hits
from tgesc.domain.sla import Policy
from tgesc.domain.vocabulary import rank
from tgesc.models import Firing, Ticket, Tier
from tgesc.services import outbox, sla
from tgesc.services.configuration import cached_entries
from tgesc.services.escalation import escalate, escalation_notice_sent, tier_calendar
from tgesc.services.tickets import event, schedule_unresolved


def fired(ticket: Ticket, kind: str) -> frozenset[str]:
    return frozenset(f.level for f in Firing.select(Firing.level).where((Firing.ticket == ticket)
                                                                          & (Firing.kind == kind)))


def react(db: peewee.Database, ticket: Ticket, text: str, *, now: datetime, actor: str, reply: bool = True) -> None:
    """Assess, evaluate the rules and carry out what fired; `reply=False` sends nothing to the customer."""
    assessment = assess(text, ticket.customer.language)
    if not ticket.emotion_set_by_staff and ticket.emotion != more_intense(ticket.emotion, assessment.level):
        event(ticket, "ticket.emotion", actor, now, old=ticket.emotion, new=assessment.level,
              signals=list(assessment.signals))
        ticket.emotion = assessment.level
    evaluation = evaluate(rules_from(cached_entries(db, "rules")), MessageContext(
        text=text, emotion=assessment, manager_requests_in_row=ticket.manager_requests_in_row,
        escalation_notice_sent=escalation_notice_sent(ticket), urgent_used=ticket.urgent_reply_used,
        fired=fired(ticket, "rule"), tier_level=ticket.tier.level))
    ticket.manager_requests_in_row = evaluation.manager_requests_in_row
    ticket.urgent_reply_used = evaluation.urgent_used
    _record(ticket, evaluation.hits, now)
    outcome = combine(evaluation.hits)
    why = "; ".join(f"{h.rule}: {h.why}" for h in evaluation.hits)
    _raise(db, ticket, outcome, why=why, now=now, hits=evaluation.hits)
    target = _highest(outcome.escalations, ticket.tier.level)
    if reply:
        _reply(db, ticket, outcome.replies, target or ticket.tier, now)
    if target is not None:
        rule = next(h.rule for h in evaluation.hits if h.escalate_to == target.code)
        escalate(db, ticket, to=target.code, reason=why, actor=f"rule:{rule}", now=now, trigger=f"rule:{rule}")
    elif reply:
        _answer_faq(db, ticket, text, now)
    schedule_unresolved(db, ticket)


def react_to_time(db: peewee.Database, ticket: Ticket, *, now: datetime) -> bool:
    """Fire the unresolved-for rules due at `now` (the sweep calls this for tickets whose
    `escalate_unresolved_at` has passed); the caller saves. Returns whether anything fired."""
    rules = rules_from(cached_entries(db, "rules"))
    hits = unresolved_hits(rules, ticket.clocks_started_at or ticket.created_at, now, fired(ticket, "rule"))
    _record(ticket, hits, now)
    outcome = combine(hits)
    why = "; ".join(f"{h.rule}: {h.why}" for h in hits)
    _raise(db, ticket, outcome, why=why, now=now, hits=hits)
    target = _highest(outcome.escalations, ticket.tier.level)
    if target is not None:
        rule = next(h.rule for h in hits if h.escalate_to == target.code)
        escalate(db, ticket, to=target.code, reason=why, actor=f"rule:{rule}", now=now, trigger=f"rule:{rule}")
    schedule_unresolved(db, ticket)
    return bool(hits)


def _record(ticket: Ticket, hits, now: datetime) -> None:
    for hit in hits:
        Firing.create(ticket=ticket, kind="rule", level=hit.rule, at=now)
        event(ticket, "rule.fired", f"rule:{hit.rule}", now, rule=hit.rule, rule_kind=hit.kind, why=hit.why)


def _raise(db, ticket: Ticket, outcome, *, why: str, now: datetime, hits) -> None:
    """Tags added and the priority raised (never lowered) by what fired."""
    if outcome.tags and set(outcome.tags) - set(ticket.tags):
        ticket.tags = sorted(set(ticket.tags) | set(outcome.tags))
    if outcome.priority and rank(outcome.priority) < rank(ticket.priority):
        rule = next(h.rule for h in hits if h.priority == outcome.priority)
        event(ticket, "ticket.priority", f"rule:{rule}", now, old=ticket.priority, new=outcome.priority, reason=why)
        ticket.priority = outcome.priority
        sla.take_policy(db, ticket)


def _highest(codes, level: int) -> Tier | None:
    tiers = [t for t in Tier.select().where(Tier.code.in_(list(codes))) if t.level > level]
    return max(tiers, key=lambda t: t.level, default=None)


def _reply(db, ticket: Ticket, keys, tier: Tier, now: datetime) -> None:
    """Template replies, each at most once per ticket; `$eta` is the first response on `tier`'s calendar."""
    customer = ticket.customer
    zone = zone_for(customer.timezone, customer.language)
    sent = fired(ticket, "reply")
    for key in keys:
        if key in sent:
            continue
        Firing.create(ticket=ticket, kind="reply", level=key, at=now)
        variables = {"customer_name": customer.first_name or customer.username or ""}
        if key == "comfort":
            due = tier_calendar(db, tier).due(now, Policy.from_json(ticket.sla_policy).first_response)
            variables["eta"] = eta_text(now, due, zone, customer.language)
        outbox.to_customer(ticket, key, variables, now=now)


def _answer_faq(db, ticket: Ticket, text: str, now: datetime) -> None:
    lowest = Tier.select(Tier.level).order_by(Tier.level).first()
    if lowest is None or ticket.tier.level != lowest.level:
        return
    found = faq_match([e for e in faq_from(cached_entries(db, "faq")) if e.name not in fired(ticket, "faq")], text)
    if found is None:
        return
    entry, phrase = found
    Firing.create(ticket=ticket, kind="faq", level=entry.name, at=now)
    customer = ticket.customer
    outbox.to_customer(ticket, entry.answer, {"customer_name": customer.first_name or customer.username or ""},
                       now=now)
    event(ticket, "faq.answered", "faq:" + entry.name, now, faq=entry.name, matched=phrase)

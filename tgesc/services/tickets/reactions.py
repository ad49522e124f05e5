"""How the desk reacts to a customer's message on a ticket: emotion, trigger rules, FAQ answers.

Runs inside the ingest transaction. Each rule fires at most once per ticket (a `firing` row per rule,
unique per ticket) and its event says which rule fired and why. A fired rule's actions: tags added,
priority raised (never lowered), an escalation to a higher tier, a template reply to the customer. At the
front line an FAQ entry whose phrases match answers the question, once per ticket and entry, with two buttons
("that solved it", "I still need help"): the ticket waits on the customer's verdict (services.tickets.deflection).
"""

from __future__ import annotations

from datetime import datetime

import peewee

from tgesc.domain.deflection import faq_buttons
from tgesc.domain.emotion import assess, more_intense
from tgesc.domain.humanize import eta_text, language_of, priority_text, zone_for
from tgesc.domain.rules import MessageContext, combine, evaluate, faq_match, unresolved_hits
from tgesc.domain.vocabulary import rank
from tgesc.models import Ticket, Tier
from tgesc.services.clocks import sla
from tgesc.services.clocks.once import Firings
from tgesc.services.config.current import Configuration, current
from tgesc.services.outbox import rows as outbox
from tgesc.services.tickets.escalation import escalate, notify
from tgesc.services.tickets.lifecycle import begin_waiting, reached_tiers, schedule_unresolved, unresolved_since
from tgesc.services.tickets.store import attach, event, set_changed


def react(db: peewee.Database, ticket: Ticket, text: str, *, now: datetime, actor: str, reply: bool = True,
          firings: Firings | None = None) -> None:
    """Assess, evaluate the rules and carry out what fired; `reply=False` sends nothing to the customer.
    `firings`: the ticket's firings when the caller has them (kept current here; else they are read)."""
    config = current(db)
    firings = firings if firings is not None else Firings.load(ticket)
    tier = ticket_tier(config, ticket)
    assessment = assess(text, ticket.customer.language)
    if not ticket.emotion_set_by_staff and ticket.emotion != more_intense(ticket.emotion, assessment.level):
        event(ticket, "ticket.emotion", actor, now, old=ticket.emotion, new=assessment.level,
              signals=list(assessment.signals))
        ticket.emotion = assessment.level
    fired_rules = firings.of("rule")
    evaluation = evaluate(config.rules, MessageContext(
        text=text, emotion=assessment, manager_requests_in_row=ticket.manager_requests_in_row,
        escalation_notice_sent=firings.notice_sent, urgent_used=ticket.urgent_reply_used,
        fired=fired_rules, tier_level=tier.level))
    set_changed(ticket, manager_requests_in_row=evaluation.manager_requests_in_row,
                urgent_reply_used=evaluation.urgent_used)
    _record(ticket, firings, evaluation.hits, now)
    outcome = combine(evaluation.hits)
    why = "; ".join(f"{h.rule}: {h.why}" for h in evaluation.hits)
    _raise(db, ticket, outcome, why=why, now=now, hits=evaluation.hits)
    target = _highest(config, outcome.escalations, tier.level)
    if target is not None:
        rule = next(h.rule for h in evaluation.hits if h.escalate_to == target.code)
        escalate(db, ticket, to=target.code, reason=why, actor=f"rule:{rule}", now=now, trigger=f"rule:{rule}",
                 notice=False)
    if reply:
        _reply(ticket, firings, outcome.replies, now)
    if target is not None:
        notify(db, ticket, target, now)
    elif reply:
        _answer_faq(db, config, ticket, firings, text, now)
    schedule_unresolved(db, ticket, firings.of("rule"), config.rules)


def react_to_time(db: peewee.Database, ticket: Ticket, *, now: datetime) -> bool:
    """Fire the unresolved-for rules due at `now` (the sweep calls this for tickets whose
    `escalate_unresolved_at` has passed), those only whose target tier is above the ticket's; the caller
    saves. Returns whether anything fired."""
    config = current(db)
    firings = Firings.load(ticket)
    hits = unresolved_hits(config.rules, unresolved_since(ticket), now, firings.of("rule"),
                           reached_tiers(db, ticket))
    _record(ticket, firings, hits, now)
    outcome = combine(hits)
    why = "; ".join(f"{h.rule}: {h.why}" for h in hits)
    _raise(db, ticket, outcome, why=why, now=now, hits=hits)
    target = _highest(config, outcome.escalations, ticket_tier(config, ticket).level)
    if target is not None:
        rule = next(h.rule for h in hits if h.escalate_to == target.code)
        escalate(db, ticket, to=target.code, reason=why, actor=f"rule:{rule}", now=now, trigger=f"rule:{rule}")
    schedule_unresolved(db, ticket, firings.of("rule"), config.rules)
    return bool(hits)


def ticket_tier(config: Configuration, ticket: Ticket) -> Tier:
    """The ticket's tier, from the configuration in force when it is there (no query), attached to the ticket."""
    tier = config.tiers.get(ticket.tier_id)
    if tier is None:
        return ticket.tier
    attach(ticket, "tier", tier)
    return tier


def _record(ticket: Ticket, firings: Firings, hits, now: datetime) -> None:
    for hit in hits:
        firings.record("rule", hit.rule, now)
        event(ticket, "rule.fired", f"rule:{hit.rule}", now, rule=hit.rule, rule_kind=hit.kind, why=hit.why)


def _raise(db, ticket: Ticket, outcome, *, why: str, now: datetime, hits) -> None:
    """Tags added and the priority raised (never lowered) by what fired."""
    added = sorted(set(outcome.tags) - set(ticket.tags))
    if added:
        rule = next(h.rule for h in hits if set(h.tags) & set(added))
        event(ticket, "ticket.tags", f"rule:{rule}", now, added=added, removed=[])
        ticket.tags = sorted(set(ticket.tags) | set(outcome.tags))
    if outcome.priority and rank(outcome.priority) < rank(ticket.priority):
        rule = next(h.rule for h in hits if h.priority == outcome.priority)
        event(ticket, "ticket.priority", f"rule:{rule}", now, old=ticket.priority, new=outcome.priority, reason=why)
        ticket.priority = outcome.priority
        sla.take_policy(db, ticket, now)


def _highest(config: Configuration, codes, level: int) -> Tier | None:
    tiers = [config.tier_codes[code] for code in codes if code in config.tier_codes]
    return max((t for t in tiers if t.level > level), key=lambda t: t.level, default=None)


def _reply(ticket: Ticket, firings: Firings, keys, now: datetime) -> None:
    """Template replies, each at most once per ticket. The comfort reply's `$eta` is the response the desk
    owes (`sla.promised_response`, in the tier the ticket is in now) and `$priority` its priority."""
    if not keys:
        return
    customer = ticket.customer
    zone = zone_for(customer.timezone, customer.language)
    for key in keys:
        if ("reply", key) in firings.pairs:
            continue
        firings.record("reply", key, now)
        variables = {"customer_name": customer.first_name or customer.username or ""}
        if key == "comfort":
            due = sla.promised_response(ticket, now)
            variables["eta"] = eta_text(now, due, zone, customer.language)
            variables["priority"] = priority_text(ticket.priority, customer.language)
        outbox.to_customer(ticket, key, variables, now=now)


def _answer_faq(db: peewee.Database, config: Configuration, ticket: Ticket, firings: Firings, text: str,
                now: datetime) -> None:
    """The first FAQ entry matching, answered with its two buttons ("that solved it", "I still need help"): the
    ticket then waits on the customer's verdict (reason faq), with no SLA clock and no unresolved-for rule."""
    if config.lowest_level is None or ticket_tier(config, ticket).level != config.lowest_level:
        return
    answered = firings.of("faq")
    found = faq_match([e for e in config.faq if e.name not in answered], text)
    if found is None:
        return
    entry, phrase = found
    firings.record("faq", entry.name, now)
    customer = ticket.customer
    body = outbox.render_template(entry.answer, customer.language, {
        "ticket": ticket.number, "customer_name": customer.first_name or customer.username or ""})
    outbox.queue(ticket, customer.telegram_id, body, now=now, payload={"template": entry.answer},
                 buttons=faq_buttons(ticket.number, language_of(customer.language)))
    event(ticket, "faq.answered", "faq:" + entry.name, now, faq=entry.name, matched=phrase)
    if ticket.status == "open":
        begin_waiting(db, ticket, "faq", actor="faq:" + entry.name, now=now)

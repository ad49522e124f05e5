"""The report of a simulation: its database's tickets and audit events as the documents of `--json`.

`ticket_rows` lists every ticket (customer by scenario name, status, tier, priority, emotion, tags, the
latest survey round); `event_rows` turns the audit log (`Event`) into the issue's event kinds: `created`,
`escalated` (with the trigger: manual, quick, keyword, repeat_request, unresolved, emotion, urgent_reply,
sla_breach, survey), `priority_changed`, `tagged`, `sla_warning`, `sla_breach`, `waiting` (reason: staff or faq),
`resumed`, `waiting_reminded`, `resolved` and `closed` (reason: staff, customer, faq_solved, faq_silence,
no_reply; auto), `reopened`, `survey_sent`, `survey_reminded`, `survey_answered` (+ `review_invited` for a success),
`survey_expired`, and a few more (`rule_fired`, `faq_answered`, `emotion_changed`, `customer_banned`,
`customer_unbanned`, `card_updated`: the card in a tier's thread was edited, with the kind of the change that caused
it first, `cause`, and the `tier`). Assignment: `assigned` ({to, by}: a staff member's handle, or `auto` for a tier
that assigns by itself) and `unassigned` ({from, reason, by}: the assignment sweep handing a ticket back to the pool,
by `auto`, because its assignee went off shift, `off_shift`, is `inactive` or is no longer in the tier,
`not_in_tier`). Any other
kind passes through with its dots made underscores, details unchanged: nothing is hidden. Configuration
events (`config.*`) are left out. The models must be bound to the simulation's database by the caller.

`render_text` (from `tgesc.simulation.transcript`) renders the whole result as a readable transcript.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

import peewee

from tgesc.domain.triggers import RULE_TRIGGERS, escalation_trigger
from tgesc.models import Customer, Event, Survey, Ticket, Tier, TriggerRule
from tgesc.simulation.transcript import render_text

__all__ = ["RULE_TRIGGERS", "event_rows", "render_text", "ticket_rows"]


_RENAMED = {"ticket.opened": "created", "ticket.escalated": "escalated", "ticket.priority": "priority_changed",
            "ticket.tags": "tagged", "sla.warning": "sla_warning", "sla.breach": "sla_breach",
            "ticket.resolved": "resolved", "ticket.reopened": "reopened", "ticket.closed": "closed",
            "survey.sent": "survey_sent", "survey.reminded": "survey_reminded", "survey.expired": "survey_expired",
            "survey.answered": "survey_answered", "rule.fired": "rule_fired", "faq.answered": "faq_answered",
            "ticket.emotion": "emotion_changed", "ticket.assigned": "assigned", "ticket.unassigned": "unassigned"}


# --- tickets ------------------------------------------------------------------------------------------------


def ticket_rows(customer_names: Mapping[int, str]) -> list[dict[str, Any]]:
    """Every ticket by number: number, customer (the scenario's name for the Telegram id, else the id), status,
    tier (code), priority, emotion, tags and survey ({rating, status} of the latest round, or None)."""
    latest: dict[int, Survey] = {}
    for survey in Survey.select().order_by(Survey.ticket, Survey.round):
        latest[survey.ticket_id] = survey
    query = (Ticket.select(Ticket, Customer, Tier).join(Customer).switch(Ticket).join(Tier)
             .order_by(Ticket.number))
    rows = []
    for ticket in query:
        survey = latest.get(ticket.id)
        telegram_id = ticket.customer.telegram_id
        rows.append({
            "number": ticket.number, "customer": customer_names.get(telegram_id, str(telegram_id)),
            "status": ticket.status, "tier": ticket.tier.code, "priority": ticket.priority,
            "emotion": ticket.emotion, "tags": list(ticket.tags or []),
            "survey": None if survey is None else {"rating": survey.stars, "status": survey.status}})
    return rows


# --- events -------------------------------------------------------------------------------------------------


def event_rows(zone: tzinfo) -> list[dict[str, Any]]:
    """The audit log in the order it happened (at, then id), each as {at, ticket, kind, detail}: `at` in ISO 8601
    with `zone`'s offset (seconds), `ticket` the number (None for an event of no ticket)."""
    query = (Event.select(Event, Ticket.number.alias("number")).join(Ticket, peewee.JOIN.LEFT_OUTER)
             .order_by(Event.at, Event.id).objects())
    mapper = _Mapper(zone)
    rows = []
    for event in query:
        if event.kind.startswith("config."):
            continue
        at = _iso(event.at, zone)
        for kind, detail in mapper.map(event):
            rows.append({"at": at, "ticket": event.number, "kind": kind, "detail": detail})
    return rows


def _iso(instant: datetime, zone: tzinfo) -> str:
    return instant.astimezone(zone).isoformat(timespec="seconds")


def _percent(level: str) -> int | None:
    """50 for the level `warn-50`."""
    _, _, digits = level.partition("-")
    return int(digits) if digits.isdigit() else None


class _Mapper:
    """Maps one audit event to the report's events (usually one); remembers the rules that fired on each ticket
    (an escalation by a rule is reported with the rule's kind)."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self.fired: dict[tuple[int | None, str], str] = {}  # (ticket id, rule name) -> rule kind
        self._rule_table: dict[str, str] | None = None

    def map(self, event: Event) -> list[tuple[str, dict[str, Any]]]:
        d: dict[str, Any] = dict(event.details or {})
        kind, by = event.kind, event.actor
        if kind == "rule.fired":
            self.fired[(event.ticket_id, d.get("rule", ""))] = d.get("rule_kind", "")
        handler = getattr(self, "_" + kind.replace(".", "_"), None)
        if handler is not None:
            return handler(event.ticket_id, d, by)
        if kind in _RENAMED:
            return [(_RENAMED[kind], d)]
        return [(kind.replace(".", "_"), d)]

    def _ticket_opened(self, _ticket, d, by):
        return [("created", _some(channel=d.get("channel"), by=by))]

    def _ticket_escalated(self, ticket, d, by):
        detail = {"from": d.get("from"), "to": d.get("to")}
        detail.update(self.trigger(ticket, d.get("trigger") or "manual", bool(d.get("quick"))))
        if detail["trigger"] in ("manual", "quick"):
            detail["by"] = by
        detail.update(_some(reason=d.get("reason"), priority=d.get("priority")))
        return [("escalated", detail)]

    def trigger(self, ticket: int | None, raw: str, quick: bool) -> dict[str, Any]:
        """{trigger, and the rule or clock behind it} for an escalation's stored trigger (a rule fired on the
        ticket is known by the kind it fired as)."""
        _, _, name = raw.partition(":")
        fired = self.fired.get((ticket, name))
        return escalation_trigger(raw, quick, {name: fired} if fired else self.rule_table())

    def rule_table(self) -> dict[str, str]:
        if self._rule_table is None:
            self._rule_table = {rule.name: rule.kind for rule in TriggerRule.select(TriggerRule.name, TriggerRule.kind)}
        return self._rule_table

    def _ticket_priority(self, _ticket, d, by):
        return [("priority_changed", {"from": d.get("old"), "to": d.get("new"), **_some(reason=d.get("reason")),
                                      "by": by})]

    def _ticket_tags(self, _ticket, d, by):
        return [("tagged", {"added": list(d.get("added") or []), "removed": list(d.get("removed") or []), "by": by})]

    def _sla_warning(self, _ticket, d, _by):
        return [("sla_warning", {"clock": d.get("clock"), "percent": _percent(d.get("level", "")), **self.due(d),
                                 **_some(action=d.get("action"))})]

    def _sla_breach(self, _ticket, d, _by):
        return [("sla_breach", {"clock": d.get("clock"), **self.due(d), **_some(action=d.get("action"))})]

    def due(self, d: Mapping[str, Any]) -> dict[str, str]:
        if not d.get("due"):
            return {}
        return {"due": _iso(datetime.fromisoformat(d["due"]), self.zone)}

    def _ticket_resolved(self, _ticket, d, by):
        return [("resolved", {"survey": bool(d.get("survey")), "reason": d.get("reason") or "staff", "by": by})]

    def _ticket_waiting(self, _ticket, d, by):
        return [("waiting", {"reason": d.get("reason"), "by": by})]

    def _ticket_resumed(self, _ticket, d, by):
        return [("resumed", {**_some(reason=d.get("reason")), "by": by})]

    def _ticket_waiting_reminded(self, _ticket, d, _by):
        return [("waiting_reminded", {**self.due(d), "sent": bool(d.get("sent", True))})]

    def _ticket_reopened(self, _ticket, d, by):
        return [("reopened", {**_some(reason=d.get("reason")), "by": by})]

    def _ticket_closed(self, _ticket, d, by):
        return [("closed", {"reason": d.get("reason") or "staff", "by": by})]

    def _ticket_assigned(self, _ticket, d, by):
        return [("assigned", {"to": d.get("to"), "by": by})]

    def _ticket_unassigned(self, _ticket, d, by):
        return [("unassigned", {"from": d.get("from"), "reason": d.get("reason"), "by": by})]

    def _card_updated(self, _ticket, d, _by):
        cause = d.get("cause") or ""
        tier = Tier.get_or_none(Tier.staff_chat_id == d.get("chat"))
        return [("card_updated", {"cause": _RENAMED.get(cause, cause.replace(".", "_")),
                                  "tier": tier.code if tier else d.get("chat")})]

    def _customer_banned(self, _ticket, d, by):
        until = d.get("until")
        until = _iso(datetime.fromisoformat(until), self.zone) if until else None
        return [("customer_banned", {"customer": d.get("customer"), "until": until, "reason": d.get("reason"),
                                     "by": by})]

    def _customer_unbanned(self, _ticket, d, by):
        return [("customer_unbanned", {"customer": d.get("customer"), "reason": d.get("reason"), "by": by})]

    def _ticket_emotion(self, _ticket, d, by):
        return [("emotion_changed", {"from": d.get("old"), "to": d.get("new"), "by": by,
                                     **_some(signals=d.get("signals"))})]

    def _rule_fired(self, _ticket, d, _by):
        return [("rule_fired", {"rule": d.get("rule"), "rule_kind": d.get("rule_kind"), "why": d.get("why")})]

    def _faq_answered(self, _ticket, d, _by):
        return [("faq_answered", {"faq": d.get("faq"), "matched": d.get("matched")})]

    def _survey(self, kind, d, **more):
        return (kind, {"round": d.get("round"), **more})

    def _survey_sent(self, _ticket, d, _by):
        return [self._survey("survey_sent", d)]

    def _survey_reminded(self, _ticket, d, _by):
        return [self._survey("survey_reminded", d)]

    def _survey_expired(self, _ticket, d, _by):
        return [self._survey("survey_expired", d)]

    def _survey_answered(self, _ticket, d, _by):
        answered = self._survey("survey_answered", d, rating=d.get("stars"), outcome=d.get("outcome"))
        if d.get("outcome") == "success":  # the service sends the review invitation with the thanks
            return [answered, self._survey("review_invited", d)]
        return [answered]


def _some(**values: Any) -> dict[str, Any]:
    """The values that are set (not None, not empty)."""
    return {key: value for key, value in values.items() if value not in (None, "", [], {})}

"""What set off an escalation, by the names reports and `simulate --json` give it: an escalation's stored trigger
(`manual`, `survey`, `rule:NAME`, `sla:CLOCK`) and the kind of the rule behind it become `manual` or `quick`,
`keyword`, `repeat_request`, `unresolved`, `emotion`, `urgent_reply`, `sla_breach` or `survey`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RULE_TRIGGERS = {"keyword": "keyword", "repeated-request": "repeat_request", "unresolved-for": "unresolved",
                 "emotion": "emotion", "urgent-reply": "urgent_reply"}
"""A trigger rule's kind -> the escalation trigger it is reported as."""


def escalation_trigger(raw: str, quick: bool, rule_kinds: Mapping[str, str]) -> dict[str, Any]:
    """{trigger, and the rule or clock behind it} for an escalation's stored trigger `raw` (`rule_kinds`: each rule's
    kind by name)."""
    source, _, name = raw.partition(":")
    if raw == "manual":
        return {"trigger": "quick" if quick else "manual"}
    if source == "rule":
        rule_kind = rule_kinds.get(name, "")
        return {"trigger": RULE_TRIGGERS.get(rule_kind, rule_kind.replace("-", "_") or "rule"), "rule": name}
    if source == "sla":
        return {"trigger": "sla_breach", "clock": name}
    return {"trigger": raw}

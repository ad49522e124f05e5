"""The ticket's own rules: which status changes are allowed, and what the handover checklist still lacks.

Statuses: open, waiting (on the customer), resolved, closed. A resolved or closed ticket may be
reopened; a closed one cannot be resolved again. The checklist is the article's handover list: when
the problem first occurred, whether evidence was provided, what was tried, when the customer expects
a resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tgesc.domain.errors import DomainError

TRANSITIONS: dict[str, dict[str, str]] = {
    # action: {from status: to status}
    "wait": {"open": "waiting"},
    "resume": {"waiting": "open"},
    "resolve": {"open": "resolved", "waiting": "resolved"},
    "reopen": {"resolved": "open", "closed": "open"},
    "close": {"open": "closed", "waiting": "closed", "resolved": "closed"},
}


def transition(status: str, action: str, number: int) -> str:
    """The status after `action`, or a DomainError saying why the ticket cannot do that now."""
    allowed = TRANSITIONS[action]
    if status not in allowed:
        can = ", ".join(sorted(allowed))
        raise DomainError(f"ticket #{number} is {status}; it cannot be {_past(action)} (only when {can})")
    return allowed[status]


def _past(action: str) -> str:
    return {"wait": "set to wait", "resume": "resumed", "resolve": "resolved", "reopen": "reopened",
            "close": "closed"}[action]


@dataclass(frozen=True)
class Checklist:
    first_occurred_at: datetime | None
    evidence_provided: bool
    tried: int  # solutions recorded
    expected_resolution_by: datetime | None

    @property
    def missing(self) -> list[str]:
        """The items still to fill in, in the article's order, as the CLI option that fills each."""
        items = []
        if self.first_occurred_at is None:
            items.append("first_occurred (when the problem first occurred: ticket checklist --first-occurred)")
        if not self.evidence_provided:
            items.append("evidence (screenshots or logs: sent by the customer, or ticket checklist --evidence)")
        if self.tried == 0:
            items.append("tried (what the front line tried: ticket tried N TEXT)")
        if self.expected_resolution_by is None:
            items.append("expected_resolution (when the customer expects it solved: ticket checklist --expected-by)")
        return items

"""The ticket's own rules: which status changes are allowed, and what the handover checklist still lacks.

Statuses: open, waiting (on the customer), resolved, closed. Staff put an open ticket to wait on the customer (or an
FAQ answer does); the customer's next message resumes it. A waiting ticket nobody answers is reminded once and then
resolved; a resolved ticket closes by itself after a while (`next_step`, the `[lifecycle]` timings). A resolved or
closed ticket may be reopened; a closed one cannot be resolved again. The checklist is the article's handover list:
when the problem first occurred, whether evidence was provided, what was tried, when the customer expects a
resolution."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

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
        """The items still to fill in, in the article's order: the item's key, what it is, and how to fill it in
        the ticket's Telegram thread and on the command line."""
        items = []
        if self.first_occurred_at is None:
            items.append("first_occurred (when the problem first occurred: /first WHEN in the thread, or ticket "
                         "checklist --first-occurred)")
        if not self.evidence_provided:
            items.append("evidence (screenshots or logs: sent by the customer, /evidence in the thread, or ticket "
                         "checklist --evidence)")
        if self.tried == 0:
            items.append("tried (what the front line tried: /tried TEXT in the thread, or ticket tried N TEXT)")
        if self.expected_resolution_by is None:
            items.append("expected_resolution (when the customer expects it solved: /expected WHEN in the thread, or "
                         "ticket checklist --expected-by)")
        return items


NEW_TAGS_BY = ("leads", "staff")  # the `new_tags_by` setting: who may create a tag no ticket has yet


def may_create_tags(role: str, new_tags_by: str) -> bool:
    """Whether a staff member of `role` may create a new tag under the `new_tags_by` setting."""
    return new_tags_by == "staff" or role in ("lead", "admin")


TRIED_WANTED = 3  # the article: the front line tries three solutions before it escalates
_CHECKLIST_PRESS = re.compile(r"checklist:(?P<number>[0-9]{1,9}):(?P<item>evidence|first-today|first-yesterday)",
                              re.ASCII)


def checklist_buttons(number: int, items: Checklist) -> list[list[dict[str, str]]]:
    """The inline keyboard under /checklist: a button for each missing item a tap can fill in (evidence, and when
    the problem first occurred: today or yesterday), one row each."""
    rows = []
    if not items.evidence_provided:
        rows.append([{"text": "📎 Evidence is in", "data": f"checklist:{number}:evidence"}])
    if items.first_occurred_at is None:
        rows.append([{"text": "First occurred today", "data": f"checklist:{number}:first-today"},
                     {"text": "…yesterday", "data": f"checklist:{number}:first-yesterday"}])
    return rows


def parse_checklist_press(data: str) -> tuple[int, str] | None:
    """(ticket number, item) of a /checklist button; None when `data` is not one."""
    match = _CHECKLIST_PRESS.fullmatch(data or "")
    return (int(match["number"]), match["item"]) if match else None


# --- the lifecycle timers: waiting on the customer, then resolved, then closed ------------------------------

WAIT_REASONS: tuple[str, ...] = ("staff", "faq")  # who put the ticket to wait: staff (/wait), an FAQ answer
RESOLVE_REASONS: tuple[str, ...] = ("staff", "customer", "faq_solved", "faq_silence", "no_reply")
CLOSE_REASONS: tuple[str, ...] = ("staff", "auto")
LIFECYCLE_KEYS: tuple[str, ...] = ("waiting_remind_after", "waiting_resolve_after", "faq_resolve_after", "close_after")


@dataclass(frozen=True)
class LifecyclePolicy:
    """The `[lifecycle]` timings of the escalation configuration."""

    waiting_remind_after: timedelta = timedelta(hours=24)
    waiting_resolve_after: timedelta = timedelta(hours=72)
    faq_resolve_after: timedelta = timedelta(hours=24)
    close_after: timedelta = timedelta(days=3)

    @classmethod
    def from_seconds(cls, seconds: dict[str, int]) -> LifecyclePolicy:
        """The policy of `{key: seconds}` (absent keys: the defaults)."""
        return cls(**{key: timedelta(seconds=value) for key, value in seconds.items() if key in LIFECYCLE_KEYS})


@dataclass(frozen=True)
class LifeState:
    """What the lifecycle timers read of a ticket: its status, why and since when it waits, whether the customer
    was reminded in this wait, when it was resolved."""

    status: str
    waiting_reason: str | None = None
    waiting_since: datetime | None = None
    reminded: bool = False
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class Step:
    """The next automatic step of a ticket: `action` (remind, resolve, close), `reason` (the event's), `at`."""

    action: str
    reason: str
    at: datetime


def next_step(state: LifeState, policy: LifecyclePolicy) -> Step | None:
    """The ticket's next automatic step (None: nothing happens to it by itself; an open ticket waits for staff).

    Waiting on the customer after staff asked: a reminder `waiting_remind_after` the wait began (once), then
    resolution (`no_reply`) `waiting_resolve_after` it began. Waiting on an FAQ answer: resolution
    (`faq_silence`) `faq_resolve_after` it was sent. Resolved: closed (`auto`) `close_after` the resolution."""
    if state.status == "waiting" and state.waiting_since is not None:
        since = state.waiting_since
        if state.waiting_reason == "faq":
            return Step("resolve", "faq_silence", since + policy.faq_resolve_after)
        remind = since + policy.waiting_remind_after
        resolve = since + policy.waiting_resolve_after
        if not state.reminded and remind < resolve:
            return Step("remind", "no_reply", remind)
        return Step("resolve", "no_reply", resolve)
    if state.status == "resolved" and state.resolved_at is not None:
        return Step("close", "auto", state.resolved_at + policy.close_after)
    return None


def after_step(state: LifeState, step: Step) -> LifeState:
    """The state once `step` has happened (the sweep's effect, as a pure function)."""
    if step.action == "remind":
        return LifeState(state.status, state.waiting_reason, state.waiting_since, True, state.resolved_at)
    if step.action == "resolve":
        return LifeState(transition(state.status, "resolve", 0), resolved_at=step.at)
    return LifeState(transition(state.status, "close", 0), resolved_at=state.resolved_at)

"""The fixed words of the desk (priorities, roles, rule kinds, emotions, weekdays ...), in one light module.

Everything that needs them, the configuration schema as well as the CLI's option parsers (built on
every command run), imports them from here, so there is one list of each and nothing slow to load.
"""

from __future__ import annotations

PRIORITIES: tuple[str, ...] = ("urgent", "high", "medium", "low")  # most urgent first
ROLES: tuple[str, ...] = ("agent", "lead", "admin")
BREACH_ACTIONS: tuple[str, ...] = ("notify-admins", "notify-leads", "remind-tier", "none", "escalate")
RULE_KINDS: tuple[str, ...] = ("keyword", "repeated-request", "unresolved-for", "emotion", "urgent-reply")
EMOTIONS: tuple[str, ...] = ("calm", "dissatisfied", "angry", "threatening")  # mildest first
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEADLINE_AT_CLOSE: tuple[str, ...] = ("close", "next-open")
TICKET_STATUSES: tuple[str, ...] = ("open", "waiting", "resolved", "closed")  # waiting: on the customer
OPEN_STATUSES: tuple[str, ...] = ("open", "waiting")


def rank(priority: str) -> int:
    """0 for urgent ... 3 for low; unknown priorities sort last."""
    return PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES)


def higher(a: str, b: str) -> str:
    """The more urgent of two priorities (a priority is raised, never lowered, by rules)."""
    return a if rank(a) <= rank(b) else b
ASSIGN_MODES: tuple[str, ...] = ("manual", "round-robin", "least-open")  # how a tier assigns the tickets reaching it

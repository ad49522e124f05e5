"""Ticket priorities, most urgent first, and how they compare."""

from __future__ import annotations

PRIORITIES: tuple[str, ...] = ("urgent", "high", "medium", "low")


def rank(priority: str) -> int:
    """0 for urgent ... 3 for low; unknown priorities sort last."""
    return PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES)


def higher(a: str, b: str) -> str:
    """The more urgent of two priorities (a priority is raised, never lowered, by rules)."""
    return a if rank(a) <= rank(b) else b

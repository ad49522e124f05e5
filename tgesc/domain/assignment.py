"""Who gets a ticket when its tier assigns by itself: the choice among the staff who may take it now.

`choose` picks among the staff who may take a ticket now. `round-robin` takes turns: the candidate whose last
assignment is the oldest (never: first; of those given tickets at the same instant, as one sweep gives several, the
one given fewer then); `least-open` takes the candidate with the fewest open tickets, turns breaking ties.
Candidates are the tier's active staff on shift and under their capacity (the service decides that); ties end in
handle order, so the choice is the same in every process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    """A staff member who may take the ticket: their open tickets, when they were last assigned one and how many
    they were given at that instant."""

    handle: str
    open_tickets: int
    last_assigned: datetime | None
    last_count: int = 0


def choose(mode: str, candidates: list[Candidate]) -> str | None:
    """The handle `mode` (round-robin, least-open) picks among `candidates`; None when there is none."""
    if not candidates:
        return None

    def turn(c: Candidate) -> tuple:
        return (c.last_assigned or NEVER, c.last_count if c.last_assigned else 0, c.handle)

    if mode == "least-open":
        return min(candidates, key=lambda c: (c.open_tickets, *turn(c))).handle
    return min(candidates, key=turn).handle


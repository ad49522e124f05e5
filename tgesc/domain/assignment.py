"""Who gets a ticket when its tier assigns by itself, and when an assignee gives a ticket back: pure rules.

`choose` picks among the staff who may take a ticket now. `round-robin` takes turns: the candidate whose last
assignment is the oldest (never: first; of those given tickets at the same instant, as one sweep gives several, the
one given fewer then); `least-open` takes the candidate with the fewest open tickets, turns breaking ties.
Candidates are the tier's active staff on shift and under their capacity (the service decides that); ties end in
handle order, so the choice is the same in every process.

`hand_back_reason` says why a ticket of such a tier goes back to the pool at the assignment sweep: its work waits on
staff (WAITING_WORK) and its assignee is inactive, may no longer work the tier, or went off shift after they were
given it. A ticket someone took while off shift stays theirs until a shift of theirs ends: `/take` overrides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tgesc.domain.vocabulary import ASSIGN_MODES

NEVER = datetime.min.replace(tzinfo=UTC)
AUTOMATIC = tuple(mode for mode in ASSIGN_MODES if mode != "manual")  # the modes in which a tier assigns by itself
WAITING_WORK = ("open",)  # the statuses in which a ticket's work waits on staff: not `waiting` (on the customer,
# or on their verdict on an FAQ answer), where the clocks pause and the assignee keeps it
INACTIVE, NOT_IN_TIER, OFF_SHIFT = "inactive", "not_in_tier", "off_shift"  # why a ticket goes back


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


@dataclass(frozen=True)
class Holder:
    """An assignee as the assignment sweep sees them at one instant: active, allowed to work the ticket's tier (its
    staff, or an admin), on shift (their calendar, else the tier's), and when their closed time began (None: on
    shift)."""

    active: bool
    in_tier: bool
    on_shift: bool
    off_since: datetime | None = None


def hand_back_reason(status: str, assigned_at: datetime | None, holder: Holder) -> str | None:
    """Why a ticket of a tier that assigns by itself goes back to the pool (INACTIVE, NOT_IN_TIER, OFF_SHIFT), or
    None: it stays with its assignee. `assigned_at`: when they were given it (None: not known, long ago)."""
    if status not in WAITING_WORK:
        return None
    if not holder.active:
        return INACTIVE
    if not holder.in_tier:
        return NOT_IN_TIER
    if holder.on_shift or holder.off_since is None:
        return None
    if assigned_at is not None and assigned_at >= holder.off_since:
        return None  # taken while off shift: theirs until a shift of theirs ends
    return OFF_SHIFT

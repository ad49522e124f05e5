"""The clocks' store: the once-only markers (`firing` rows) of rules, SLA milestones and notices on a ticket, and the
measured runs of its clocks (`clock_run` rows, `measures`).

A firing's unique index (ticket, kind, level) is what makes every reaction happen exactly once, whichever
sweep or worker gets there first.
"""

from __future__ import annotations

from datetime import datetime

import peewee

from tgesc.models import ClockRun, Firing
from tgesc.store import statements
from tgesc.store.statements import P

_BETWEEN, _AFTER = "\x1f", "\x1e"  # control characters no kind or level contains: kind BETWEEN level AFTER ...


def record(db: peewee.Database, ticket_id: int, kind: str, level: str, now: datetime) -> None:
    """Store a firing (the unique index refuses a second one: an error)."""
    statements.insert(db, Firing, {"ticket": ticket_id, "kind": kind, "level": level, "at": now})


def record_once(db: peewee.Database, ticket_id: int, kind: str, level: str, now: datetime) -> bool:
    """Store a firing unless it is stored already; whether this call stored it."""
    return statements.insert_new(db, Firing, {"ticket": ticket_id, "kind": kind, "level": level, "at": now})


def pairs_of(db: peewee.Database, ticket_id: int) -> set[tuple[str, str]]:
    """The (kind, level) pairs that have fired on a ticket."""
    return set(statements.tuples(db, lambda: Firing.select(Firing.kind, Firing.level).where(
        Firing.ticket == P.ticket), ticket=ticket_id))  # text columns: nothing to convert


def levels_of(db: peewee.Database, ticket_id: int, kind: str) -> set[str]:
    """The levels of `kind` that have fired on a ticket (for rules: the rule names)."""
    return {level for (level,) in statements.tuples(db, lambda: Firing.select(Firing.level).where(
        (Firing.ticket == P.ticket) & (Firing.kind == P.kind)), ticket=ticket_id, kind=kind)}


def aggregated(postgres: bool, ticket_id: peewee.Node) -> peewee.Node:
    """A subquery for a select whose rows have a ticket id (`ticket_id`): that ticket's firings as one text
    (read with `from_aggregate`), so the ticket and its firings come in one round trip."""
    concat = peewee.fn.STRING_AGG if postgres else peewee.fn.GROUP_CONCAT
    return Firing.select(concat(Firing.kind.concat(_BETWEEN).concat(Firing.level), _AFTER)).where(
        Firing.ticket == ticket_id)


def from_aggregate(text: str | None) -> set[tuple[str, str]]:
    """The pairs `aggregated` read (None: none)."""
    return {tuple(pair.split(_BETWEEN, 1)) for pair in text.split(_AFTER)} if text else set()


def record_run(db: peewee.Database, row: dict) -> None:
    """Store an ended run of a clock (`measures`), unless it is stored already (one per ticket, clock and start)."""
    statements.insert_unless_taken(db, ClockRun, row)

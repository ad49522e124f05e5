"""A ticket's once-only markers (`firing` rows), read once per use case and kept current as rows are added.

Ingest asks "has this rule / reply / FAQ answer / SLA milestone fired?" several times per message; one
`Firings` answers all of them from a single query, and `record` adds the row and the pair together.
"""

from __future__ import annotations

from datetime import datetime

import peewee

from tgesc import prepared
from tgesc.models import Firing, Ticket

NOTICE = ("notice", "escalation")  # the customer was told of an escalation (and may reply "urgent")
_BETWEEN, _AFTER = "\x1f", "\x1e"  # control characters no kind or level contains: kind BETWEEN level AFTER ...
AGGREGATED_PARAMS = (_BETWEEN, _AFTER)  # the parameters of `Firings.aggregated`, in order


def mark(ticket: Ticket, kind: str, level: str, now: datetime) -> None:
    """Store a firing unless the ticket has it already (for use cases without a loaded `Firings`)."""
    prepared.insert_new(Firing._meta.database, Firing, "firing, once",
                        {"ticket": ticket.id, "kind": kind, "level": level, "at": now})


class Firings:
    """The (kind, level) pairs that have fired on one ticket, as of loading plus what was recorded since."""

    def __init__(self, ticket: Ticket, pairs: set[tuple[str, str]]) -> None:
        self.ticket = ticket
        self.pairs = pairs

    @classmethod
    def load(cls, ticket: Ticket) -> Firings:
        """The ticket's firings from the database (none for a ticket not saved yet)."""
        if ticket.id is None:
            return cls(ticket, set())
        found = prepared.tuples(Firing._meta.database, "firings of a ticket",
                                lambda: Firing.select(Firing.kind, Firing.level).where(Firing.ticket == ticket.id),
                                [ticket.id])
        return cls(ticket, {(kind, level) for kind, level in found})  # text columns: nothing to convert

    @staticmethod
    def aggregated(db: peewee.Database, ticket_id: peewee.Node) -> peewee.Node:
        """A subquery for a select whose rows have a ticket id (`ticket_id`): that ticket's firings as one text
        (read with `from_aggregate`), so the ticket and its firings come in one round trip."""
        real = getattr(db, "obj", None) or db
        concat = peewee.fn.STRING_AGG if isinstance(real, peewee.PostgresqlDatabase) else peewee.fn.GROUP_CONCAT
        return Firing.select(concat(Firing.kind.concat(_BETWEEN).concat(Firing.level), _AFTER)).where(
            Firing.ticket == ticket_id)

    @classmethod
    def from_aggregate(cls, ticket: Ticket, text: str | None) -> Firings:
        """The firings `aggregated` read for `ticket` (None: it has none)."""
        return cls(ticket, {tuple(pair.split(_BETWEEN, 1)) for pair in text.split(_AFTER)} if text else set())

    def of(self, kind: str) -> frozenset[str]:
        """The levels of `kind` that have fired (for rules: the rule names)."""
        return frozenset(level for k, level in self.pairs if k == kind)

    @property
    def notice_sent(self) -> bool:
        """Whether the customer had an escalation notice on this ticket (see `NOTICE`)."""
        return NOTICE in self.pairs

    def record(self, kind: str, level: str, now: datetime) -> None:
        """Store a new firing (the unique index refuses a second one) and remember it."""
        prepared.insert(Firing._meta.database, Firing, "firing",
                        {"ticket": self.ticket.id, "kind": kind, "level": level, "at": now})
        self.pairs.add((kind, level))

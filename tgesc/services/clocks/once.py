"""A ticket's once-only markers (`firing` rows), read once per use case and kept current as rows are added.

Ingest asks "has this rule / reply / FAQ answer / SLA milestone fired?" several times per message; one
`Firings` answers all of them from a single query, and `record` adds the row and the pair together.
"""

from __future__ import annotations

from datetime import datetime

from tgesc.models import Ticket, database
from tgesc.services.clocks import store

NOTICE = ("notice", "escalation")  # the customer was told of an escalation (and may reply "urgent")


def mark(ticket: Ticket, kind: str, level: str, now: datetime) -> None:
    """Store a firing unless the ticket has it already (for use cases without a loaded `Firings`)."""
    store.record_once(database, ticket.id, kind, level, now)


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
        return cls(ticket, store.pairs_of(database, ticket.id))

    @classmethod
    def from_aggregate(cls, ticket: Ticket, text: str | None) -> Firings:
        """The firings `store.aggregated` read for `ticket` (None: it has none)."""
        return cls(ticket, store.from_aggregate(text))

    def of(self, kind: str) -> frozenset[str]:
        """The levels of `kind` that have fired (for rules: the rule names)."""
        return frozenset(level for k, level in self.pairs if k == kind)

    @property
    def notice_sent(self) -> bool:
        """Whether the customer had an escalation notice on this ticket (see `NOTICE`)."""
        return NOTICE in self.pairs

    def record(self, kind: str, level: str, now: datetime) -> None:
        """Store a new firing (the unique index refuses a second one) and remember it."""
        store.record(database, self.ticket.id, kind, level, now)
        self.pairs.add((kind, level))

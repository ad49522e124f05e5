"""The scope of a report: its period and its filters (tier, priority, tag, staff member), applied to the queries of
the report's modules, and the aggregates they share (counts and percentiles computed in the database).

The period is half-open, [since, until). A ticket filter keeps the tickets of a tier, a priority, with a tag, or
assigned to a staff member now; a clock run is kept by the tier and priority the ticket had when the clock ended.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import peewee
from peewee import fn

from tgesc.models import Staff, Ticket, Tier, database
from tgesc.services.tickets.store import has_tag


@dataclass(frozen=True)
class Scope:
    since: datetime
    until: datetime
    tiers: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    staff: tuple[str, ...] = ()

    def period(self, column: peewee.Field, *, indexed: bool = True) -> peewee.Expression:
        """`column` falls in the period. `indexed` False: not to be read from an index on `column` (COALESCE(x, x)
        is x, but no index serves it), so that a query ordered by another column walks that column's index instead
        of sorting what this one's index found."""
        since, until = (peewee.Value(moment, converter=column.db_value) for moment in (self.since, self.until))
        value = column if indexed else fn.COALESCE(column, column)
        return (value >= since) & (value < until)

    def kept(self, query: peewee.ModelSelect, ticket: peewee.Field | None = None, tier: peewee.Field = Ticket.tier,
             priority: peewee.Field = Ticket.priority) -> peewee.ModelSelect:
        """`query` narrowed to the filters; `tier` and `priority` are the columns the tier and priority filters look
        at (a clock run's own, or the ticket's). `ticket`: the column of `query` naming its ticket, joined to the
        ticket only when a filter reads the ticket (None: `query` is of tickets, or has them joined already)."""
        if ticket is not None and self.reads_tickets(tier, priority):
            query = query.join(Ticket, on=(ticket == Ticket.id))
        if self.tiers:
            query = query.where(tier.in_(Tier.select(Tier.id).where(Tier.code.in_(self.tiers))))
        if self.priorities:
            query = query.where(priority.in_(self.priorities))
        for tag in self.tags:
            query = query.where(has_tag(database, tag))
        if self.staff:
            query = query.where(Ticket.assignee.in_(Staff.select(Staff.id).where(Staff.handle.in_(self.staff))))
        return query


    def reads_tickets(self, tier: peewee.Field, priority: peewee.Field) -> bool:
        """Whether a filter reads the ticket's own columns (its tags, assignee, and tier or priority unless those
        are the query's own)."""
        return bool(self.tags or self.staff or (self.tiers and tier is Ticket.tier)
                    or (self.priorities and priority is Ticket.priority))


def postgres() -> bool:
    """Whether the desk's database is PostgreSQL (else SQLite): the few SQL functions that differ."""
    return isinstance(getattr(database, "obj", None) or database, peewee.PostgresqlDatabase)


def json_text(column: peewee.Field, key: str) -> peewee.Node:
    """SQL: the text of `key` in a JSON object stored as text in `column`."""
    if postgres():
        return fn.json_extract_path_text(peewee.Cast(column, "json"), key)
    return fn.json_extract(column, f"$.{key}")


def hour_of(column: peewee.Field) -> peewee.Node:
    """SQL: the UTC hour an instant column falls in (SQLite: its text `YYYY-MM-DD HH`; PostgreSQL: a timestamp)."""
    return fn.date_trunc("hour", column) if postgres() else fn.strftime("%Y-%m-%d %H", column)


def percentiles(query: peewee.ModelSelect, column: peewee.Field, fractions: Sequence[float],
                count: int | None = None) -> list[float | None]:
    """The percentiles `fractions` (0.5: the median) of `column` over `query`'s rows (`ranks`)."""
    return ranks(query, [(column, fraction) for fraction in fractions], count)


def ranks(query: peewee.ModelSelect, wanted: Sequence[tuple[peewee.Field, float]],
          count: int | None = None) -> list[float | None]:
    """Each (column, fraction)'s percentile over `query`'s rows, interpolated between the two nearest ranks as
    PostgreSQL's percentile_cont does (None for no rows). PostgreSQL: percentile_cont, all of them in one query.
    SQLite: the count (unless given), then per percentile the two rows at its rank: an offset along an index in the
    column's order where the query lets one be used (clock runs have one per measure: `runs(..., by_value=True)`),
    never a sort. The columns are NOT NULL ones."""
    if postgres():
        found = query.select(*(peewee.NodeList((peewee.SQL("percentile_cont(%s) WITHIN GROUP (ORDER BY", [f]),
                                                column, peewee.SQL(")"))) for column, f in wanted)).tuples()
        return [None if value is None else float(value) for value in found[0]]
    if count is None:
        count = query.select(fn.COUNT(peewee.SQL("*"))).scalar() or 0
    found: list[float | None] = []
    for column, fraction in wanted:
        if not count:
            found.append(None)
            continue
        position = fraction * (count - 1)
        low = math.floor(position)
        values = [v for (v,) in query.select(column).order_by(column).offset(low).limit(2).tuples()]
        high = values[1] if len(values) > 1 else values[0]
        found.append(values[0] + (high - values[0]) * (position - low))
    return found


def seconds(value: float | None) -> float | int:
    """A duration for a report: whole seconds as an integer, else to a tenth (0 when there is none)."""
    if value is None:
        return 0
    rounded = round(float(value), 1)
    return int(rounded) if rounded.is_integer() else rounded


def percent(part: int, whole: int) -> float:
    """`part` of `whole` in percent, to a tenth (0.0 of nothing)."""
    return round(100 * part / whole, 1) if whole else 0.0

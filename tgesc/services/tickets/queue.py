"""The ticket queue, most urgent deadline first: `tgesc ticket list` and the staff's /mine and /queue in Telegram.

The order is each ticket's stored next breach (`next_breach_at`: the earliest deadline of a running SLA clock,
tgesc.domain.sla.next_breach), earliest first, then the tickets without one; ties by number. It is read a page
at a time from a keyset position (`Position`: the last row's next breach and number), never by an offset, so a
page costs the same with a million open tickets as with ten: for each status asked for, one range of the
(status, next_breach_at, number) index (or of the partial (status, number) one for the tickets without a
deadline), the statuses merged in order. `--breaching` is the part of that range up to now. A customer
(`--customer`) and a window of when tickets were opened (`--since`, `--until`) have indexes of their own,
(customer, status) and (status, created_at): when they keep at most SORTED_UP_TO tickets (the page counts them
anyway), the page reads only those by that index and sorts them, else it walks the queue's range, where that
many matches come soon (tickets.store.queue_rows). Rows are read as
tuples of the columns shown (and each chunk's customers by one query), never as model objects. The total a page
shows is counted up to COUNTED_UP_TO ("more than 100,000"), which bounds its cost too.

`stream` reads the whole queue in chunks of the same ranges inside one read snapshot: memory stays flat, no
server-side cursor is held, and a ticket changed meanwhile is seen once, as it was when the stream began.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import peewee

from tgesc.db import COUNTED_UP_TO, snapshot
from tgesc.domain.errors import NotFound, UsageError
from tgesc.domain.limits import TICKET_NUMBER, instant_problem
from tgesc.domain.vocabulary import OPEN_STATUSES, TICKET_STATUSES
from tgesc.services.customers import directory
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.store import QueueFilter

PAGE = 50  # rows of a page unless asked otherwise
SORTED_UP_TO = COUNTED_UP_TO  # a customer's or window's tickets up to this many: a page reads and sorts only them
INSTANTS = ("opened_at", "first_response_at", "resolved_at", "closed_at")  # a row's lifecycle instants (None: not yet)
CHUNK = 1000  # rows a stream reads at a time (per status)


@dataclass(frozen=True)
class Position:
    """Where a page ended: the last row's next breach (None: among the tickets without one) and number. As
    text (`--after`): `1042@2026-03-02T10:05:00Z`, or `1042@none`."""

    deadline: datetime | None
    number: int

    def __str__(self) -> str:
        return f"{self.number}@{'none' if self.deadline is None else utc_text(self.deadline)}"

    @classmethod
    def parse(cls, text: str) -> Position:
        """The position written as `str` writes it (UsageError otherwise)."""
        number, sep, deadline = text.strip().partition("@")
        try:
            moment = None if deadline == "none" else datetime.fromisoformat(deadline)
            found = cls(moment, TICKET_NUMBER.parse(number))
        except ValueError:
            moment = found = None
        if not sep or found is None or (moment is not None and (moment.tzinfo is None or instant_problem(moment))):
            raise UsageError(f"--after {text[:80]!r} is not a place in the queue: give the one the last page "
                             "printed (NUMBER@INSTANT, the instant in UTC with its Z, or NUMBER@none)")
        return cls(moment.astimezone(UTC) if moment else None, found.number)


def utc_text(moment: datetime) -> str:
    """`moment` in UTC as `2026-03-02T10:05:00Z` (with microseconds when it has some): how a page's command line
    writes an instant, the same whatever the viewer's zone."""
    moment = moment.astimezone(UTC).replace(tzinfo=None)
    return f"{moment.isoformat(timespec='microseconds' if moment.microsecond else 'seconds')}Z"


@dataclass(frozen=True)
class Wanted:
    """Which tickets: each list keeps any of its values (tags: all of them); `breaching`: only tickets with a
    running clock past its deadline; `customer`: a Telegram user id or @username; `since` / `until`: opened at
    or after, before that instant."""

    statuses: Sequence[str] = OPEN_STATUSES
    tiers: Sequence[str] = ()
    priorities: Sequence[str] = ()
    tags: Sequence[str] = ()
    assignee: str | None = None
    breaching: bool = False
    customer: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Page:
    """One page of the queue: its rows, how many tickets match in all (when more than COUNTED_UP_TO: that
    number, `more` True), and where the next page starts (None: this is the last)."""

    rows: list[dict[str, Any]]
    total: int
    next: Position | None
    more: bool = False


@dataclass(frozen=True)
class _Query:
    statuses: tuple[str, ...]
    where: QueueFilter
    tiers: dict[int, str]
    staff: dict[int, str]
    now: datetime


def page(db: peewee.Database, wanted: Wanted = Wanted(), *, now: datetime, after: Position | None = None,
         limit: int = PAGE) -> Page:
    """Up to `limit` tickets after `after`, the total that match, and the next page's position.
    NotFound for an unknown tier, staff handle or customer, UsageError for an unknown status."""
    with db.atomic():
        query = _query(db, wanted, now)
        total = tickets.queue_count(db, query.statuses, query.where, COUNTED_UP_TO)
        first = query.where.indexed and total <= SORTED_UP_TO
        rows = list(_take(_merged(db, query, after, limit + 1, matches_first=first), limit + 1))
    following = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, min(total, COUNTED_UP_TO), _position(rows[-1]) if following else None,
                more=total > COUNTED_UP_TO)


def stream(db: peewee.Database, wanted: Wanted = Wanted(), *, now: datetime, after: Position | None = None,
           chunk: int = CHUNK) -> Iterator[dict[str, Any]]:
    """Every ticket after `after` in the queue's order, read `chunk` rows at a time in one read snapshot."""
    with snapshot(db):
        yield from _merged(db, _query(db, wanted, now), after, chunk)


def _take(rows: Iterator[dict[str, Any]], count: int) -> Iterator[dict[str, Any]]:
    for _, row in zip(range(count), rows, strict=False):
        yield row


def _query(db: peewee.Database, wanted: Wanted, now: datetime) -> _Query:
    unknown = [s for s in wanted.statuses if s not in TICKET_STATUSES]
    if unknown:
        raise UsageError(f"unknown status {unknown[0]!r}; use {', '.join(TICKET_STATUSES)} or all")
    tiers = tickets.tier_codes(db)
    ids = {code: tier_id for tier_id, code in tiers.items()}
    for code in wanted.tiers:
        if code not in ids:
            raise NotFound(f"there is no tier {code!r}; `tgesc tier list` shows them")
    person = tickets.staff_member(wanted.assignee) if wanted.assignee else None
    customer = directory.find(db, wanted.customer) if wanted.customer else None
    where = QueueFilter(tier_ids=tuple(ids[code] for code in wanted.tiers), priorities=tuple(wanted.priorities),
                        tags=tuple(wanted.tags), assignee_id=person.id if person else None,
                        customer_id=customer.id if customer else None, breaching_at=now if wanted.breaching else None,
                        opened_from=wanted.since, opened_before=wanted.until)
    return _Query(tuple(dict.fromkeys(wanted.statuses)), where, tiers, tickets.staff_handles(db), now)


def _merged(db: peewee.Database, query: _Query, after: Position | None, chunk: int, *,
            matches_first: bool = False) -> Iterator[dict[str, Any]]:
    """The queue after `after`: each status's rows in order, merged (`matches_first`: see tickets.queue_rows)."""
    return heapq.merge(*(_of_status(db, query, status, after, chunk, matches_first)
                         for status in query.statuses), key=_order)


def _of_status(db: peewee.Database, query: _Query, status: str, after: Position | None, chunk: int,
               matches_first: bool) -> Iterator[dict[str, Any]]:
    """The tickets of one status after `after`, in order, read `chunk` at a time."""
    position = (after.deadline, after.number) if after else None
    while True:
        found = tickets.queue_rows(db, status, query.where, position, chunk, matches_first=matches_first)
        customers = tickets.queue_names(db, (row[5] for row in found))
        yield from (_row(values, customers, query) for values in found)
        if len(found) < chunk:
            return
        position = (found[-1][8], found[-1][0])


def _order(row: dict[str, Any]) -> tuple[bool, datetime, int]:
    deadline = row["next_deadline"]
    return deadline is None, deadline or datetime.min.replace(tzinfo=UTC), row["number"]


def _position(row: dict[str, Any]) -> Position:
    return Position(row["next_deadline"], row["number"])


def _row(values: tuple, customers: dict[int, tuple[int, str | None]], query: _Query) -> dict[str, Any]:
    number, status, tier, priority, emotion, customer, assignee, tags, deadline, created_at, *instants = values
    telegram_id, username = customers[customer]
    return {"number": number, "status": status, "tier": query.tiers[tier], "priority": priority, "emotion": emotion,
            "customer": {"id": telegram_id, "username": username},
            "assignee": query.staff.get(assignee) if assignee is not None else None, "tags": tags,
            "next_deadline": deadline, "breaching": deadline is not None and deadline <= query.now,
            "created_at": created_at, "age": query.now - created_at,
            **dict(zip(INSTANTS, (created_at, *instants), strict=True))}

"""The ticket queue (tickets.queue) on both backends: keyset pages put together are the whole ordered queue, with
any page size, ties in the sort key, filters (read by their own index or along the queue's) and tickets changing
between pages; --breaching agrees with the
definition it replaces; the stored next breach is kept current by every service that moves a clock, and the
migration that added it fills it for the tickets already there."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ticket_support import open_ticket

from tgesc import db as tgesc_db
from tgesc.domain.errors import UsageError
from tgesc.domain.sla import next_breach
from tgesc.domain.vocabulary import OPEN_STATUSES, TICKET_STATUSES
from tgesc.models import Customer, Staff, Ticket, Tier
from tgesc.services.config.apply import add_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.tickets import actions, channel_messages, escalation, queue

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
FIXTURES = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def desk(db):
    initialise(db, now=NOW - timedelta(days=1), actor="test")
    add_entry(db, "staff", "bob", {"id": 5002, "tiers": ["L1", "L2"]}, actor="test", now=NOW)
    return db


# --- tickets written straight into the table: any next breach, ties included -------------------------

# a few deadlines (so that many tickets share one), some past NOW, some to come; None: no running clock
DEADLINES = st.none() | st.sampled_from([NOW - HOUR, NOW - MINUTE, NOW, NOW + MINUTE, NOW + 3 * HOUR])
# when a ticket was opened: a few instants, so that many share one and a window's ends fall on some
OPENED = [NOW - 3 * HOUR, NOW - 2 * HOUR, NOW - HOUR, NOW - MINUTE]
CUSTOMERS = {"@ana": 1001, "@bea": 1002, "1002": 1002}  # who --customer names -> their Telegram id
ROWS = st.lists(st.tuples(DEADLINES, st.sampled_from(TICKET_STATUSES), st.sampled_from(["L1", "L2"]),
                          st.sampled_from(["urgent", "low"]), st.sets(st.sampled_from(["refund", "vip", "a b"])),
                          st.booleans(), st.sampled_from([1001, 1002]), st.sampled_from(OPENED)), max_size=30)
WANTED = st.builds(queue.Wanted,
                   statuses=st.lists(st.sampled_from(TICKET_STATUSES), min_size=1, max_size=3, unique=True)
                   | st.just(OPEN_STATUSES),
                   tiers=st.lists(st.sampled_from(["L1", "L2"]), max_size=1), priorities=st.lists(
                       st.sampled_from(["urgent", "low"]), max_size=1),
                   tags=st.lists(st.sampled_from(["refund", "a b"]), max_size=2, unique=True),
                   assignee=st.none() | st.just("bob"), breaching=st.booleans(),
                   customer=st.none() | st.sampled_from(sorted(CUSTOMERS)),
                   since=st.none() | st.sampled_from(OPENED), until=st.none() | st.sampled_from(OPENED))


def put(rows) -> list[dict]:
    """The desk's tickets are `rows` (deadline, status, tier, priority, tags, assigned to bob, the customer's
    Telegram id, opened when) numbered from 1 in a shuffled order (a resolved or closed ticket has no running
    clock); what was written, as the queue's rows would tell it."""
    Ticket.delete().execute()
    customers = {telegram_id: Customer.get_or_none(Customer.telegram_id == telegram_id) or Customer.create(
        telegram_id=telegram_id, username=name, created_at=NOW, updated_at=NOW)
        for telegram_id, name in ((1001, "ana"), (1002, "bea"))}
    tiers, bob = {t.code: t.id for t in Tier.select()}, Staff.get(Staff.handle == "bob").id
    written = []
    for index, (deadline, status, tier, priority, tags, assigned, customer, opened) in enumerate(rows):
        number = (index * 7) % 31 + 1 + 31 * (index // 31)
        deadline = deadline if status in OPEN_STATUSES else None
        Ticket.create(number=number, customer=customers[customer], status=status, tier=tiers[tier],
                      priority=priority, tags=sorted(tags), assignee=bob if assigned else None,
                      next_breach_at=deadline, created_at=opened, updated_at=opened)
        written.append({"number": number, "status": status, "tier": tier, "priority": priority, "tags": tags,
                        "assignee": "bob" if assigned else None, "deadline": deadline, "customer": customer,
                        "opened": opened})
    return written


def expected(written: list[dict], wanted: queue.Wanted) -> list[int]:
    """The numbers the queue must give for `wanted`, in order, computed plainly."""
    kept = [row for row in written if row["status"] in wanted.statuses
            and (not wanted.tiers or row["tier"] in wanted.tiers)
            and (not wanted.priorities or row["priority"] in wanted.priorities)
            and set(wanted.tags) <= row["tags"] and (wanted.assignee is None or row["assignee"] == wanted.assignee)
            and (not wanted.breaching or (row["deadline"] is not None and row["deadline"] <= NOW))
            and (wanted.customer is None or row["customer"] == CUSTOMERS[wanted.customer])
            and (wanted.since is None or row["opened"] >= wanted.since)
            and (wanted.until is None or row["opened"] < wanted.until)]
    kept.sort(key=lambda row: (row["deadline"] is None, row["deadline"] or NOW, row["number"]))
    return [row["number"] for row in kept]


def all_pages(db, wanted: queue.Wanted, size: int, between=lambda page: None) -> list[queue.Page]:
    pages, after = [], None
    while len(pages) <= Ticket.select().count():  # more pages than tickets: the place does not move on
        found = queue.page(db, wanted, now=NOW, after=after, limit=size)
        pages.append(found)
        if found.next is None:
            return pages
        assert len(found.rows) == size
        after = queue.Position.parse(str(found.next))  # through its text, as the next command gets it
        between(found)
    raise AssertionError(f"the pages do not end: {[[r['number'] for r in p.rows] for p in pages[:5]]}")


@FIXTURES
@given(rows=ROWS, wanted=WANTED, size=st.integers(1, 12), sorted_up_to=st.sampled_from([0, 3, 100_000]))
def test_pages_put_together_are_the_whole_ordered_queue(desk, rows, wanted, size, sorted_up_to, monkeypatch):
    """`sorted_up_to`: how many tickets a customer or window may keep for a page to read only them by their index
    (0: never, the queue's order is walked; 3: either, as the page finds)."""
    monkeypatch.setattr(queue, "SORTED_UP_TO", sorted_up_to)
    written = put(rows)
    want = expected(written, wanted)
    pages = all_pages(desk, wanted, size)
    assert [row["number"] for page in pages for row in page.rows] == want
    assert {page.total for page in pages} == {len(want)}
    streamed = itertools.islice(queue.stream(desk, wanted, now=NOW, chunk=size), len(want) + 1)
    assert [row["number"] for row in streamed] == want


@FIXTURES
@given(rows=ROWS, size=st.integers(1, 6), moves=st.lists(st.tuples(st.integers(0, 29), DEADLINES), max_size=6),
       data=st.data())
def test_tickets_changing_between_pages_never_break_the_order(desk, rows, size, moves, data):
    """Between pages, some tickets' deadlines move (or their clocks stop), and a new ticket may come: every
    ticket left alone is listed exactly once, and the rows come in the queue's order as they were read, so a
    ticket is listed again only when its own deadline moved behind the page."""
    written = put(rows)
    touched, pending = set(), list(moves)

    def change(page: queue.Page) -> None:
        if pending:
            index, deadline = pending.pop()
            if index < len(written):
                number = written[index]["number"]
                Ticket.update(next_breach_at=deadline).where(Ticket.number == number).execute()
                touched.add(number)
        if data.draw(st.booleans(), label="a new ticket"):
            number = 1000 + len(touched)
            Ticket.create(number=number, customer=Customer.get(), tier=Tier.get(Tier.code == "L1"),
                          next_breach_at=data.draw(DEADLINES), created_at=NOW, updated_at=NOW)
            touched.add(number)

    read = [row for page in all_pages(desk, queue.Wanted(), size, change) for row in page.rows]
    keys = [(row["next_deadline"] is None, row["next_deadline"] or NOW, row["number"]) for row in read]
    assert keys == sorted(set(keys))
    alone = [n for n in expected(written, queue.Wanted()) if n not in touched]
    assert [row["number"] for row in read if row["number"] not in touched] == alone


def test_a_stream_reads_one_snapshot_while_tickets_change(desk, db_url):
    """`--all` reads in chunks, in one snapshot: tickets changed after it began are seen as they were."""
    written = put([(NOW + i * MINUTE, "open", "L1", "low", set(), False, 1001, NOW) for i in range(7)])
    stream = queue.stream(desk, now=NOW, chunk=2)
    first = next(stream)
    other = tgesc_db._make_database(db_url, create=False)
    with other.atomic():
        other.execute_sql(f"UPDATE ticket SET next_breach_at = NULL WHERE number = {other.param}",
                          (written[-1]["number"],))
    other.close()
    assert [first["number"], *(row["number"] for row in stream)] == [row["number"] for row in written]
    assert queue.page(desk, now=NOW, limit=10).rows[-1]["next_deadline"] is None  # the change was committed


def plans(db, run) -> list[str]:
    """The SQLite query plan of each statement on the ticket table that `run()` makes, as one line each."""
    found, execute = [], db.execute_sql

    def explained(sql, params=(), *args, **kwargs):
        if sql.startswith("SELECT") and '"ticket"' in sql and "ORDER BY" in sql:
            found.append(" | ".join(row[-1] for row in execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()))
        return execute(sql, params, *args, **kwargs)

    db.execute_sql = explained
    try:
        run()
    finally:
        del db.execute_sql
    return found


@pytest.mark.parametrize(("wanted", "index"), [
    (queue.Wanted(customer="@bea"), "ticket_customer_id_status"),
    (queue.Wanted(since=NOW - MINUTE), "ticket_status_created_at"),
    (queue.Wanted(until=NOW - 2 * HOUR, statuses=TICKET_STATUSES), "ticket_status_created_at"),
    (queue.Wanted(customer="@ana"), "ticket_status_next_breach_at_number"),  # more than SORTED_UP_TO: walked
    (queue.Wanted(since=NOW - 3 * HOUR), "ticket_status_next_breach_at_number"),
])
def test_a_customer_or_a_window_is_read_by_its_index_when_it_keeps_few(sqlite_url, wanted, index, monkeypatch):
    """SQLite, without statistics, would take either index for either: each statement names the one it means."""
    db = tgesc_db.open_database(sqlite_url, create=True)
    initialise(db, now=NOW - timedelta(days=1), actor="test")
    add_entry(db, "staff", "bob", {"id": 5002, "tiers": ["L1"]}, actor="test", now=NOW)
    put([(NOW + i * MINUTE, "open", "L1", "low", set(), False, 1001 if i % 10 else 1002, OPENED[i % 4])
         for i in range(40)])
    monkeypatch.setattr(queue, "SORTED_UP_TO", 10)
    found = plans(db, lambda: queue.page(db, wanted, now=NOW, limit=3))
    assert found and all(f"INDEX {index} " in plan for plan in found), found
    assert all("TEMP B-TREE" in plan for plan in found) == (index != "ticket_status_next_breach_at_number")


@pytest.mark.parametrize("text", ["", "12", "x@none", "0@none", "12@2026-03-02T10:05:00", "12@yesterday",
                                  "12@9999-12-31T23:59:59Z", "12 @none"])
def test_a_place_that_is_not_one_is_refused(text):
    with pytest.raises(UsageError, match="is not a place in the queue"):
        queue.Position.parse(text)


@given(st.none() | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)),
       st.integers(1, 2**31 - 1))
def test_a_place_reads_back_from_its_text(deadline, number):
    place = queue.Position(deadline, number)
    assert queue.Position.parse(str(place)) == place


# --- tickets worked through the services: the stored next breach -----------------------------------

ACTIONS = ("reply", "customer", "escalate", "wait", "resume", "resolve", "reopen", "priority")


def act(db, action: str, now: datetime) -> None:
    """One staff or customer action on ticket #1, whatever state it is in (a refused one changes nothing)."""
    calls = {
        "reply": lambda: channel_messages.reply(db, 1, "On it.", actor="bob", now=now),
        "customer": lambda: channel_messages.customer_message(db, 1, "Any news?", actor="cli", now=now),
        "escalate": lambda: escalation.escalate_ticket(db, 1, to=None, reason="needs L2", actor="bob", now=now,
                                                       quick=True),
        "wait": lambda: actions.wait(db, 1, reply="Could you send a screenshot?", actor="bob", now=now),
        "resume": lambda: channel_messages.customer_message(db, 1, "Here it is.", actor="cli", now=now),
        "resolve": lambda: actions.resolve(db, 1, survey=False, actor="bob", now=now),
        "reopen": lambda: actions.reopen(db, 1, actor="bob", now=now),
        "priority": lambda: actions.set_priority(db, 1, "urgent", actor="bob", now=now),
    }
    try:
        calls[action]()
    except Exception as error:  # noqa: BLE001 - a refusal (wrong state): the domain's errors only
        assert type(error).__module__.startswith("tgesc.domain"), error


def old_breaching(ticket: Ticket, now: datetime) -> bool:
    """`ticket list --breaching` before the stored next breach: an open or waiting ticket with a clock past
    its due instant and not met."""
    return ticket.status in OPEN_STATUSES and (
        (ticket.first_response_due is not None and ticket.first_response_due <= now
         and ticket.first_responded_at is None)
        or any(due is not None and due <= now for due in (ticket.next_response_due, ticket.resolution_due)))


@FIXTURES
@given(steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(1, 90)), min_size=1, max_size=8),
       looks=st.lists(st.integers(0, 3 * 24 * 60), min_size=1, max_size=4))
def test_the_next_breach_follows_every_action_and_breaching_agrees_with_the_clocks(desk, steps, looks):
    Ticket.delete().execute()
    open_ticket(desk, at=NOW, priority="high")
    now = NOW
    for action, minutes in steps:
        now += minutes * MINUTE
        act(desk, action, now)
        for ticket in Ticket.select():  # a customer writing after the resolution may open #2
            assert ticket.next_breach_at == next_breach(ticket), (action, ticket.number, ticket.status)
    for minutes in looks:
        moment = NOW + minutes * MINUTE
        listed = [row["number"] for row in queue.page(desk, queue.Wanted(breaching=True), now=moment).rows]
        assert listed == [t.number for t in Ticket.select().order_by(Ticket.next_breach_at, Ticket.number)
                          if old_breaching(t, moment)]


def test_the_migration_fills_the_next_breach_of_tickets_already_there(db_url):
    """0009 on a desk with open, answered, waiting, escalated and resolved tickets: each gets what the services
    would have stored."""
    db = tgesc_db.open_database(db_url, create=True)
    initialise(db, now=NOW - timedelta(days=1), actor="test")
    for number, customer in enumerate((1001, 1002, 1003, 1004, 1005), start=1):
        open_ticket(db, at=NOW, telegram_id=customer, priority="high")
        assert number == Ticket.select().count()
    channel_messages.reply(db, 2, "On it.", actor="cli", now=NOW + MINUTE)
    actions.wait(db, 3, reply="A screenshot, please?", actor="cli", now=NOW + MINUTE)
    escalation.escalate_ticket(db, 4, to=None, reason="needs L2", actor="cli", now=NOW + MINUTE, quick=True)
    actions.resolve(db, 5, survey=False, actor="cli", now=NOW + MINUTE)
    stored = {t.number: t.next_breach_at for t in Ticket.select()}
    assert stored[5] is None and all(stored[n] is not None for n in (1, 2, 4))
    tgesc_db._runner(db).down("0009_ticket_next_breach")
    assert "next_breach_at" not in {c.name for c in db.get_columns("ticket")}
    assert tgesc_db.upgrade(db)[0] == "0009_ticket_next_breach"
    assert {t.number: t.next_breach_at for t in Ticket.select()} == stored
    db.close()

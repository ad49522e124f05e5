"""A customer's message through the bot's dispatcher, as the database sees it: on PostgreSQL two round trips and
five statements for a message continuing an open ticket (so that a change costing more fails here, counted, not
timed); the customer's open ticket locked until the message is committed; and, on both backends, a failure after
every write of the message leaves nothing of it but its dead letter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from support import private_message

from tgesc.db import write_transaction
from tgesc.domain.rates import Rate
from tgesc.models import DeadLetter, Message, Outbox, Ticket
from tgesc.services.config.apply import set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.telegram.customers import CustomerDesk
from tgesc.services.telegram.dispatch import BotDispatcher
from tgesc.services.tickets import threads
from tgesc.services.tickets.ingest import read_sender
from tgesc.store.pipeline import RoundTrips

MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
STAFF_CHAT = -100200


@pytest.fixture
def bot(db):
    """The dispatcher on a desk whose front line has a staff chat (a customer's message is mirrored there); its
    clock is the time of the message being handled."""
    initialise(db, now=MON_10, actor="test")
    set_entry(db, "tiers", "L1", {"staff_chat": STAFF_CHAT}, actor="test", now=MON_10)
    return BotDispatcher(db, CustomerDesk("desk_bot", Rate(100, 60)), clock=lambda: MON_10 + timedelta(minutes=5))


def _says(bot: BotDispatcher, message_id: int, text: str) -> None:
    bot.on_message(private_message(1001, message_id, MON_10 + timedelta(minutes=message_id), text,
                                   first_name="Alice", language_code="en"))


class Statements:
    """Counts the statements peewee sends on `db` (BEGIN and COMMIT, sent apart from them, aside)."""

    def __init__(self, db, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[str] = []
        real = db.execute_sql

        def counted(sql, params=None, *args, **kwargs):
            self.sent.append(sql.split(None, 1)[0])
            return real(sql, params, *args, **kwargs)

        monkeypatch.setattr(db, "execute_sql", counted)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_message_continuing_an_open_ticket_costs_two_round_trips(bot, db, monkeypatch):
    _says(bot, 1, "Hello, my order is late")
    version = Ticket.get().version
    statements = Statements(db, monkeypatch)
    with RoundTrips(db) as trips:
        _says(bot, 2, "Any news?")
    # the open ticket locked, then the customer with it, its firings, the configuration's generation and whether
    # the message is stored; then the message, the card's edit (the problem grew: its row joins one pending, so
    # nothing waits for it), the ticket's UPDATE, the mirror's outbox row and the COMMIT
    assert (trips.count, statements.sent) == (2, ["SELECT", "SELECT", "INSERT", "INSERT", "UPDATE", "INSERT"])
    ticket = Ticket.get()
    assert (ticket.version, ticket.last_customer_message_at) == (version + 1, MON_10 + timedelta(minutes=2))
    assert [m.text for m in Message.select().order_by(Message.id)] == ["Hello, my order is late", "Any news?"]
    assert [o.chat_id for o in Outbox.select().where(Outbox.kind == "message")] == [STAFF_CHAT]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_open_ticket_stays_locked_until_the_message_is_committed(bot, db, db_url):
    _says(bot, 1, "Hello, my order is late")
    ticket = Ticket.get()
    other = psycopg.connect(db_url, autocommit=True)
    locking = "SELECT version FROM ticket WHERE id = %s FOR UPDATE NOWAIT"
    try:
        with write_transaction(db, pipelined=True):
            read_sender(db, private_message(1001, 2, MON_10, "Any news?"))
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(locking, (ticket.id,))
            other.execute("INSERT INTO event (ticket_id, kind, actor, at, details) VALUES (%s, 'x', 'y', now(), "
                          "'{}')", (ticket.id,))  # what only refers to the ticket is not held up
        assert other.execute(locking, (ticket.id,)).fetchone() == (ticket.version,)
    finally:
        other.close()


def test_a_failure_after_every_write_of_a_message_leaves_only_its_dead_letter(bot, monkeypatch):
    _says(bot, 1, "Hello, my order is late")
    before = Ticket.get()

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the mirror")

    monkeypatch.setattr(threads.outbox, "queue", broken)
    _says(bot, 2, "Any news?")
    after = Ticket.get()
    assert [m.text for m in Message.select()] == ["Hello, my order is late"]
    assert (after.version, after.last_customer_message_at) == (before.version, before.last_customer_message_at)
    assert Outbox.select().where(Outbox.kind == "message").count() == 0
    assert [letter.chat_id for letter in DeadLetter.select()] == [1001]

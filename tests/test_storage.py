"""Storage on both backends: migrations, value round-trips, unique indexes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import peewee
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tgesc import db as tgesc_db
from tgesc.models import MODELS, Calendar, Customer, Message, Tier

NOW = datetime(2026, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)


def test_upgrade_applies_every_migration_once(db):
    status = tgesc_db.migration_status(db)
    assert status, "no migrations found"
    assert [s.name for s in status if s.applied_at is None] == []
    assert tgesc_db.upgrade(db) == []
    tgesc_db.require_current(db)


def test_migrations_build_the_schema_the_models_describe(db):
    """Every model's table, columns and indexes exist after the migrations (a model change needs one)."""
    for model in MODELS:
        table = model._meta.table_name
        columns = {c.name for c in db.get_columns(table)}
        assert columns == {f.column_name for f in model._meta.sorted_fields}, table
        indexed = {tuple(i.columns) for i in db.get_indexes(table)}
        for index in model._meta.indexes:
            if isinstance(index, peewee.ModelIndex):  # a partial one, named
                assert index._name in {i.name for i in db.get_indexes(table)}, (table, index._name)
                continue
            wanted = tuple(model._meta.fields[f].column_name for f in index[0])
            assert wanted in indexed, (table, wanted)


def test_config_rows_round_trip(db):
    cal = Calendar.create(
        name="office", timezone="Europe/Berlin",
        hours={"mon": ["09:00-12:00", "13:00-18:00"], "sat": []},
        holidays=["2026-12-25"], overrides={"2026-12-24": ["09:00-12:00"]},
    )
    Tier.create(code="L2", name="Second line — 二线", level=2, staff_chat_id=-1002233445566778,
                is_forum=True, calendar=cal)

    tier = Tier.get(Tier.code == "L2")
    assert (tier.name, tier.level, tier.staff_chat_id, tier.is_forum) == (
        "Second line — 二线", 2, -1002233445566778, True)
    got = tier.calendar
    assert got.hours == {"mon": ["09:00-12:00", "13:00-18:00"], "sat": []}
    assert got.holidays == ["2026-12-25"]
    assert got.overrides == {"2026-12-24": ["09:00-12:00"]}
    assert got.deadline_at_close == "close"


def test_utc_datetimes_round_trip_aware(db):
    berlin_evening = datetime(2026, 3, 14, 21, 0, tzinfo=timezone(timedelta(hours=1)))
    Customer.create(telegram_id=7_000_000_001, access_hash=-(2**62), created_at=NOW,
                    updated_at=berlin_evening, throttled_until=None)

    c = Customer.get(Customer.telegram_id == 7_000_000_001)
    assert c.access_hash == -(2**62)
    assert c.created_at == NOW and c.created_at.tzinfo is UTC
    assert c.updated_at == datetime(2026, 3, 14, 20, 0, tzinfo=UTC) and c.updated_at.tzinfo is UTC
    assert c.throttled_until is None
    assert Customer.select().where(Customer.created_at < NOW + timedelta(seconds=1)).count() == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moment=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)))
def test_any_utc_instant_reads_back_exactly(db, moment):
    """Whole seconds and microseconds alike (SQLite keeps ISO text, read back by a fast path)."""
    Customer.delete().where(Customer.telegram_id == 7_000_000_002).execute()
    Customer.create(telegram_id=7_000_000_002, created_at=moment, updated_at=moment)
    got = Customer.get(Customer.telegram_id == 7_000_000_002)
    assert (got.created_at, got.created_at.tzinfo) == (moment, UTC)


def test_naive_datetime_is_refused(db):
    with pytest.raises(ValueError, match="naive"):
        Customer.create(telegram_id=1, created_at=datetime(2026, 1, 1), updated_at=NOW)


def test_message_is_unique_per_chat_and_message_id(db):
    Message.create(chat_id=42, message_id=1, direction="in", sender="customer", sent_at=NOW, created_at=NOW)
    Message.create(chat_id=43, message_id=1, direction="in", sender="customer", sent_at=NOW, created_at=NOW)
    with pytest.raises(peewee.IntegrityError), db.atomic():
        Message.create(chat_id=42, message_id=1, direction="in", sender="customer", sent_at=NOW,
                       created_at=NOW)
    assert Message.select().count() == 2


def test_the_lifecycle_migration_schedules_the_closing_of_tickets_resolved_before_it(sqlite_url):
    """0008: a ticket resolved before it closes three days (the old reopen window) after its resolution; one
    waiting on the customer waits for staff reasons, reminded a day after the wait began."""
    from ticket_support import open_ticket

    from tgesc.models import Ticket
    from tgesc.services.config.defaults import initialise

    db = tgesc_db.open_database(sqlite_url, create=True)
    initialise(db, now=NOW, actor="test")
    for number in (open_ticket(db, at=NOW), open_ticket(db, at=NOW, telegram_id=1002)):
        Ticket.update(status="resolved" if number == 1 else "waiting", resolved_at=NOW if number == 1 else None,
                      paused_since=None if number == 1 else NOW).where(Ticket.number == number).execute()
    tgesc_db._runner(db).down("0008_ticket_lifecycle")  # back to before 0008 (and the later ones)
    assert "lifecycle_due_at" not in {c.name for c in db.get_columns("ticket")}
    assert tgesc_db.upgrade(db)[0] == "0008_ticket_lifecycle"
    rows = [(t.status, t.waiting_reason, t.lifecycle_due_at) for t in Ticket.select().order_by(Ticket.number)]
    assert rows == [("resolved", None, NOW + timedelta(days=3)), ("waiting", "staff", NOW + timedelta(days=1))]
    db.close()

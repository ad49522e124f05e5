"""Prepared statements (tgesc.prepared): the rows a prepared select gives, and the related rows a foreign key
loads, are the instances peewee's own query gives, on SQLite and PostgreSQL; a misuse is refused rather than
answered wrongly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.ticket_support import OPENED, open_ticket
from tgesc import prepared
from tgesc.models import Customer, Event, Ticket
from tgesc.services.config.defaults import initialise


@pytest.fixture
def desk(db):
    initialise(db, now=OPENED, actor="test")
    for n in range(3):
        open_ticket(db, at=OPENED + timedelta(minutes=n), telegram_id=1001 + n, priority=("low", "high")[n % 2])
    Ticket.update(tags=["refund", "vip"]).where(Ticket.number == 2).execute()
    return db


def test_rows_are_the_instances_a_built_query_gives(desk):
    def build():
        return Ticket.select().where(Ticket.priority == "high").order_by(Ticket.number)

    mine = prepared.rows(desk, Ticket, "test: high tickets", build, ["high"])
    theirs = list(build())
    assert [t.__data__ for t in mine] == [t.__data__ for t in theirs] and len(mine) == 1
    assert mine[0].tags == ["refund", "vip"] and mine[0].created_at.tzinfo is not None
    assert mine[0].customer.telegram_id == 1002  # the foreign key loads its row as peewee's would
    assert not mine[0].dirty_fields  # nothing is marked changed: saving writes nothing it did not change


def test_first_with_chosen_columns_fills_only_those(desk):
    found = prepared.first(desk, Ticket, "test: newest ticket's number and priority", lambda: (
        Ticket.select(Ticket.number, Ticket.priority).where(Ticket.status == "open").order_by(Ticket.number.desc())),
        ["open"])
    assert (found.number, found.priority) == (3, "low") and "problem" not in found.__data__
    assert prepared.first(desk, Customer, "test: customer by id", lambda: Customer.select().where(
        Customer.telegram_id == 42), [42]) is None


def test_a_select_of_other_columns_is_refused_for_rows(desk):
    with pytest.raises(ValueError, match="select only fields of Event"):
        prepared.rows(desk, Event, "test: events with their ticket's number", lambda: Event.select(
            Event.id, Ticket.number).join(Ticket), [])


def test_parameters_that_are_not_the_statements_are_refused(desk):
    with pytest.raises(ValueError, match="parameters"):
        prepared.rows(desk, Ticket, "test: tickets by priority", lambda: Ticket.select().where(
            Ticket.priority == "high"), ["low"])


def test_a_related_row_loads_as_peewees_own_query_loads_it(desk):
    ticket = Ticket.get(Ticket.number == 2)
    assert ticket.customer.__data__ == Customer.get(Customer.telegram_id == 1002).__data__
    assert ticket.customer is ticket.customer  # loaded once per instance
    assert ticket.tier.code == "L1" and ticket.assignee is None

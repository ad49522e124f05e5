"""Statements built once (tgesc.store.statements): the rows a statement gives, and the related rows a foreign
key loads, are the instances peewee's own query gives, on SQLite and PostgreSQL; two different queries never
share a statement; a misuse is refused rather than answered wrongly."""

from __future__ import annotations

from datetime import timedelta

import peewee
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ticket_support import OPENED, open_ticket
from tgesc.models import Customer, Event, Ticket
from tgesc.services.config.defaults import initialise
from tgesc.store import statements
from tgesc.store.statements import P


@pytest.fixture
def desk(db):
    initialise(db, now=OPENED, actor="test")
    for n in range(3):
        open_ticket(db, at=OPENED + timedelta(minutes=n), telegram_id=1001 + n, priority=("low", "high")[n % 2])
    Ticket.update(tags=["refund", "vip"]).where(Ticket.number == 2).execute()
    return db


def test_rows_are_the_instances_a_built_query_gives(desk):
    def build():
        return Ticket.select().where(Ticket.priority == P.priority).order_by(Ticket.number)

    mine = statements.rows(desk, Ticket, build, priority="high")
    theirs = list(Ticket.select().where(Ticket.priority == "high").order_by(Ticket.number))
    assert [t.__data__ for t in mine] == [t.__data__ for t in theirs] and len(mine) == 1
    assert mine[0].tags == ["refund", "vip"] and mine[0].created_at.tzinfo is not None
    assert mine[0].customer.telegram_id == 1002  # the foreign key loads its row as peewee's would
    assert not mine[0].dirty_fields  # nothing is marked changed: saving writes nothing it did not change


def test_first_with_chosen_columns_fills_only_those(desk):
    found = statements.first(desk, Ticket, lambda: Ticket.select(Ticket.number, Ticket.priority).where(
        Ticket.status == P.status).order_by(Ticket.number.desc()), status="open")
    assert (found.number, found.priority) == (3, "low") and "problem" not in found.__data__
    assert statements.first(desk, Customer, lambda: Customer.select().where(
        Customer.telegram_id == P.user), user=42) is None


def test_values_are_converted_as_their_column_converts_them(desk):
    """A parameter compared with, or written to, a column goes through that column's conversion (here a
    foreign key given a model instance, and a JSON column given a list)."""
    ticket = Ticket.get(Ticket.number == 1)
    assert statements.scalar(desk, lambda: Ticket.select(Ticket.number).where(Ticket.customer == P.customer),
                             customer=ticket.customer) == 1
    statements.execute(desk, lambda: Ticket.update(tags=P.tags).where(Ticket.id == P.id), tags=["a", "b"],
                       id=ticket.id)
    assert Ticket.get_by_id(ticket.id).tags == ["a", "b"]


def test_two_different_queries_never_share_a_statement(desk):
    """The same text written twice, with only a constant changed, and one function building two shapes:
    each query runs as itself."""
    high = statements.tuples(desk, lambda: Ticket.select(Ticket.number).where(Ticket.priority == "high"))
    low = statements.tuples(desk, lambda: Ticket.select(Ticket.number).where(Ticket.priority == "low"))
    assert (high, sorted(low)) == ([(2,)], [(1,), (3,)])

    def newest(column: peewee.Field):
        return statements.scalar(desk, lambda: Ticket.select(column).order_by(Ticket.number.desc()))

    assert (newest(Ticket.number), newest(Ticket.priority)) == (3, "low")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["number", "priority", "status", "problem"]),
                          st.sampled_from(["number", "priority", "status"]), st.booleans()), min_size=2, max_size=6))
def test_any_run_of_queries_from_one_builder_gives_what_peewee_gives(desk, shapes):
    """Whatever order the shapes of one building function come in (the column read, the order, its
    direction), every statement answers as peewee's own query of that shape."""
    for read, order, descending in shapes:
        column, by = Ticket._meta.fields[read], Ticket._meta.fields[order]

        def build(column=column, by=by, descending=descending):
            return Ticket.select(column).order_by(by.desc() if descending else by, Ticket.number)

        theirs = [tuple(row) for row in build().tuples()]
        assert statements.tuples(desk, build) == theirs


def test_a_builder_closing_over_a_value_is_refused(desk):
    """A value that should be a parameter would make a statement per value (and hide the parameter)."""
    ticket = Ticket.get(Ticket.number == 1)
    with pytest.raises(TypeError, match="pass values as parameters"):
        statements.first(desk, Ticket, lambda: Ticket.select().where(Ticket.customer == ticket.customer))
    when = OPENED
    with pytest.raises(TypeError, match="pass values as parameters"):
        statements.tuples(desk, lambda: Ticket.select(Ticket.id).where(Ticket.created_at >= when))


def test_a_select_of_other_columns_is_refused_for_rows(desk):
    with pytest.raises(ValueError, match="select only fields of Event"):
        statements.rows(desk, Event, lambda: Event.select(Event.id, Ticket.number).join(Ticket))


@pytest.mark.parametrize("given", [{}, {"priority": "low", "status": "open"}, {"prio": "low"}])
def test_parameters_that_are_not_the_statements_are_refused(desk, given):
    with pytest.raises(ValueError, match=r"takes the parameters \['priority'\]"):
        statements.rows(desk, Ticket, lambda: Ticket.select().where(Ticket.priority == P.priority), **given)


def test_an_insert_writes_only_the_columns_given_and_converts_them(desk):
    ticket = Ticket.get(Ticket.number == 3)
    statements.insert(desk, Event, {"ticket": ticket, "kind": "test", "actor": "me", "at": OPENED,
                                    "details": {"b": 1}})
    assert statements.insert_new(desk, Event, {"ticket": ticket.id, "kind": "test", "actor": "me", "at": OPENED,
                                               "details": {}})
    rows = list(Event.select().where(Event.kind == "test").order_by(Event.id))
    assert [(e.ticket_id, e.details) for e in rows] == [(ticket.id, {"b": 1}), (ticket.id, {})]


def test_saving_writes_only_what_changed_and_checks_the_version(desk):
    ticket = Ticket.get(Ticket.number == 1)
    ticket.priority = "urgent"
    assert [f.name for f in statements.changed_fields(ticket)] == ["priority"]
    assert statements.values_of(ticket, statements.changed_fields(ticket)) == {"priority": "urgent"}
    statements.mark_saved(ticket)
    assert statements.changed_fields(ticket) == ()


def test_a_related_row_loads_as_peewees_own_query_loads_it(desk):
    ticket = Ticket.get(Ticket.number == 2)
    assert ticket.customer.__data__ == Customer.get(Customer.telegram_id == 1002).__data__
    assert ticket.customer is ticket.customer  # loaded once per instance
    assert ticket.tier.code == "L1" and ticket.assignee is None


def test_first_joined_gives_an_instance_per_model_and_none_for_a_missing_outer_row(desk):
    customer, ticket, number = statements.first_joined(
        desk, (Customer, Ticket), lambda: Customer.select().join(
            Ticket, peewee.JOIN.LEFT_OUTER, on=(Ticket.customer == Customer.id) & (Ticket.status == "closed"))
        .where(Customer.telegram_id == P.user), extra=lambda: (peewee.Value(7),), user=1001)
    assert (customer.telegram_id, ticket, number) == (1001, None, 7)
    assert statements.first_joined(desk, (Customer,), lambda: Customer.select().where(
        Customer.telegram_id == P.user), user=5) == [None]

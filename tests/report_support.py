"""A small desk for the report tests, its numbers worked out by hand (tests/services/test_report_*.py): three
tickets on a Monday, one answered late, one escalated by the refund rule to L2 (office hours), each resolved with a
survey answered (5, 2 and 4 stars)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tgesc.models import Survey, Ticket
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.reports.scope import Scope
from tgesc.services.tickets import actions, channel_messages

MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
WEEK = Scope(MON_10 - timedelta(days=1), MON_10 + timedelta(days=6))


def at(minutes: float) -> datetime:
    return MON_10 + timedelta(minutes=minutes)


def answered(number: int, stars: int, minutes: float) -> None:
    ticket = Ticket.get(Ticket.number == number)
    Survey.update(status="answered", stars=stars, sent_at=at(minutes - 1), answered_at=at(minutes)).where(
        Survey.ticket == ticket).execute()


@pytest.fixture
def report_desk(db):
    initialise(db, now=MON_10 - timedelta(days=7), actor="test")
    set_entry(db, "tiers", "L1", {"staff_chat": -1001}, actor="test", now=MON_10)
    add_entry(db, "staff", "bob", {"id": 5001, "tiers": ["L1"]}, actor="test", now=MON_10)
    add_entry(db, "staff", "carol", {"id": 5002, "tiers": ["L2"]}, actor="test", now=MON_10)
    channel_messages.open_ticket(db, 1001, "My order has not arrived", actor="bob", now=at(0))
    channel_messages.open_ticket(db, 1002, "Hello?", actor="bob", now=at(0))
    channel_messages.open_ticket(db, 1003, "I was charged twice, I want a refund", actor="bob", now=at(5))
    channel_messages.reply(db, 1, "Checking.", actor="bob", now=at(3))  # 3 min: met (L1: 5 min)
    channel_messages.customer_message(db, 1, "Any news?", actor="cli", now=at(9))
    channel_messages.reply(db, 2, "Sorry for the wait.", actor="bob", now=at(12))  # 12 min: breached
    channel_messages.reply(db, 1, "It left today.", actor="bob", now=at(20))  # the next response: 11 min
    actions.resolve(db, 1, survey=True, actor="bob", now=at(30))
    channel_messages.reply(db, 3, "Looking into the double charge.", actor="carol", now=at(40))  # L2 high: 30 min
    actions.resolve(db, 2, survey=True, actor="bob", now=at(60))
    actions.resolve(db, 3, survey=True, actor="carol", now=at(120))
    answered(1, 5, 200)
    answered(2, 2, 210)
    answered(3, 4, 220)
    return db

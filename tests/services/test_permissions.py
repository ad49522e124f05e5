"""Who may work a ticket (its tier's staff and admins) and the assignee a tier move takes off: the shared rules
behind Telegram's staff chats and the CLI's `--as`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support import private_message

from tgesc.domain.errors import NotFound, NotPermitted
from tgesc.models import Event, Staff, Ticket
from tgesc.services.config.apply import add_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.tickets import actions, permissions
from tgesc.services.tickets.ingest import ingest_message

MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def desk(db):
    initialise(db, now=MON_10, actor="test")
    for handle, telegram_id, fields in (("bob", 5001, {"tiers": ["L1"]}), ("carol", 5002, {"tiers": ["L2"]}),
                                        ("dora", 5003, {"role": "admin"}),
                                        ("eve", 5004, {"tiers": ["L1"], "active": False})):
        add_entry(db, "staff", handle, {"id": telegram_id, **fields}, actor="test", now=MON_10)
    return db


def tier(code: str):
    from tgesc.models import Tier

    return Tier.get(Tier.code == code)


def test_tier_staff_and_admins_may_work_a_tier_nobody_else(desk):
    bob, carol, dora = (Staff.get(Staff.handle == h) for h in ("bob", "carol", "dora"))
    assert [permissions.may_work(s, tier("L2")) for s in (bob, carol, dora, None)] == [False, True, True, False]
    assert permissions.acting(desk, None, "cli", tier("L2")) == "cli"  # the operator: unchecked
    assert permissions.acting(desk, "carol", "cli", tier("L2")) == "carol"
    with pytest.raises(NotPermitted, match="bob is not staff of L2"):
        permissions.acting(desk, "bob", "cli", tier("L2"))
    with pytest.raises(NotPermitted, match="eve is not an active staff member"):
        permissions.acting(desk, "eve", "cli", tier("L1"))
    with pytest.raises(NotFound, match="no staff member 'mallory'"):
        permissions.acting(desk, "mallory", "cli", None)


def test_a_rule_escalation_takes_the_ticket_off_an_assignee_of_the_tier_below(desk):
    ingest_message(desk, private_message(1001, 1, MON_10, "Hello, my order is late"), now=MON_10)
    actions.assign(desk, 1, "bob", actor="bob", now=MON_10)
    later = MON_10 + timedelta(minutes=1)
    ingest_message(desk, private_message(1001, 2, later, "I want a refund now"), now=later)
    ticket = Ticket.get()
    assert (ticket.tier.code, ticket.assignee) == ("L2", None)
    unassigned = Event.select().where(Event.kind == "ticket.assigned").order_by(Event.id.desc()).first()
    assert (unassigned.actor, unassigned.details) == ("rule:refund", {"to": None, "from": "bob",
                                                                      "reason": "bob does not work in L2"})

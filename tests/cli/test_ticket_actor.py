"""The CLI's actor is checked as Telegram checks staff: `--as` names an active staff member who works in the
ticket's tier (or an admin); without `--as` the operator acts, recorded as `cli`. Moving a ticket to a tier its
assignee does not work in unassigns them; sending it back down needs a reason, not the checklist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from support import ok_json, run
from ticket_support import events, kinds, open_ticket, outbox, ticket


@pytest.fixture
def desk(desk):
    """bob works L1, carol L2, dora is an admin in no tier, eve was in L1 and left."""
    run(desk, "staff", "add", "bob", "--id", "5001", "--tier", "L1")
    run(desk, "staff", "add", "carol", "--id", "5002", "--tier", "L2")
    run(desk, "staff", "add", "dora", "--id", "5003", "--role", "admin")
    run(desk, "staff", "add", "eve", "--id", "5004", "--tier", "L1", "--inactive")
    return desk


@pytest.fixture
def at_l2(desk, db):
    """Ticket #1, quick-escalated to L2 by the operator."""
    open_ticket(db, at=datetime.now(UTC))
    run(desk, "ticket", "escalate", "1", "--quick", "--to", "L2", "--reason", "refund dispute")
    return desk


def test_an_unknown_or_inactive_actor_is_refused_and_nothing_changes(at_l2):
    unknown = at_l2("ticket", "note", "1", "hello", "--as", "mallory")
    assert (unknown.exit_code, unknown.stdout) == (1, "")
    assert unknown.stderr == "Error: --as mallory: there is no staff member 'mallory'; `tgesc staff list` shows them\n"
    inactive = at_l2("ticket", "note", "1", "hello", "--as", "eve")
    assert (inactive.exit_code, inactive.stderr) == (1, (
        "Error: --as eve: eve is not an active staff member; an admin can reactivate them with "
        "`tgesc staff set eve --active`\n"))
    assert [kind for kind, _ in kinds()] == ["ticket.opened", "ticket.escalated"]


def test_an_agent_of_another_tier_may_not_work_the_ticket_as_in_telegram(at_l2):
    version = ticket().version
    for args in (["resolve", "1"], ["note", "1", "x"], ["assign", "1", "bob"], ["priority", "1", "high"],
                 ["escalate", "1", "--to", "L1", "--down", "--reason", "back"]):
        refused = at_l2("ticket", *args, "--as", "bob")
        assert (refused.exit_code, refused.stdout) == (1, ""), args
        assert refused.stderr == ("Error: bob is not staff of L2; only L2 staff and admins can work ticket #1 (an "
                                  "admin can add bob with `tgesc staff set bob --add-tier L2`)\n"), args
    assert (ticket().status, ticket().version, ticket().tier.code) == ("open", version, "L2")
    resolved = ok_json(at_l2("ticket", "resolve", "1", "--as", "carol", "--json"))
    assert resolved["status"] == "resolved"
    run(at_l2, "ticket", "reopen", "1", "--as", "dora")  # an admin works every tier
    assert kinds()[-2:] == [("ticket.resolved", "carol"), ("ticket.reopened", "dora")]


def test_without_as_the_operator_acts_as_today(at_l2):
    run(at_l2, "ticket", "note", "1", "from the operator")
    assert kinds()[-1] == ("ticket.note", "cli")
    at_l2.env["TGESC_ACTOR"] = "ops"
    run(at_l2, "ticket", "note", "1", "from ops")
    assert kinds()[-1] == ("ticket.note", "ops")


def test_sending_a_ticket_back_down_needs_a_reason_not_the_checklist(at_l2):
    down = ok_json(at_l2("ticket", "escalate", "1", "--down", "--reason", "answered; L1 follows up", "--as", "carol",
                         "--json"))
    assert down["tier"] == "L1"  # the next tier down, though the checklist is empty
    [_, back] = events(kind="ticket.escalated")
    assert (back.actor, back.details) == ("carol", {"from": "L2", "to": "L1", "trigger": "manual",
                                                    "reason": "answered; L1 follows up", "quick": False,
                                                    "priority": "medium", "down": True})
    unreasoned = at_l2("ticket", "escalate", "1", "--down")
    assert unreasoned.exit_code == 2 and "--reason" in unreasoned.stderr
    bottom = at_l2("ticket", "escalate", "1", "--down", "--reason", "x")
    assert (bottom.exit_code, bottom.stderr) == (1, "Error: ticket #1 is already at the front line (L1)\n")
    up = at_l2("ticket", "escalate", "1", "--reason", "again")
    assert up.exit_code == 1 and "the handover checklist is incomplete" in up.stderr  # up still needs it


def test_a_move_to_a_tier_the_assignee_does_not_work_in_unassigns_them(desk, db):
    open_ticket(db, at=datetime.now(UTC))
    run(desk, "ticket", "assign", "1", "bob", "--as", "bob")
    up = ok_json(desk("ticket", "escalate", "1", "--quick", "--to", "L2", "--reason", "refund", "--as", "bob",
                      "--json"))
    assert (up["tier"], up["assignee"]) == ("L2", None)
    unassigned = events(kind="ticket.assigned")[-1]
    assert (unassigned.actor, unassigned.details) == ("bob", {"to": None, "from": "bob",
                                                              "reason": "bob does not work in L2"})
    run(desk, "ticket", "assign", "1", "dora", "--as", "carol")  # an admin works everywhere: stays assigned
    run(desk, "ticket", "escalate", "1", "--quick", "--reason", "legal", "--as", "carol")
    assert (ticket().tier.code, ticket().assignee.handle) == ("L3", "dora")
    run(desk, "ticket", "assign", "1", "carol", "--as", "dora")
    run(desk, "ticket", "escalate", "1", "--down", "--to", "L1", "--reason", "answered", "--as", "dora")
    assert (ticket().tier.code, ticket().assignee) == ("L1", None)
    assert events(kind="ticket.assigned")[-1].details == {"to": None, "from": "carol",
                                                          "reason": "carol does not work in L1"}
    assert len(outbox()) >= 4  # each move still tells the customer

"""The CLI as a full channel: `ticket open` (one or more messages), `ticket message N --from-customer` and
`ticket reply N` store messages and react as the bot path does; their ids never collide, even from two processes
at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from support import ok_json, run
from ticket_support import events, kinds, outbox, ticket

from tgesc.domain.telegram import OWN_MESSAGE_IDS
from tgesc.models import Message


@pytest.fixture
def desk(desk):
    """The front line has a staff chat; bob works there."""
    run(desk, "tier", "set", "L1", "--chat", "-1001")
    run(desk, "staff", "add", "bob", "--id", "5001", "--tier", "L1")
    return desk


def test_open_stores_each_message_and_answers_as_the_bot_would(desk, db):
    opened = desk("ticket", "open", "--customer", "2001", "--text", "how do I reset 2fa?", "--text",
                  "I lost my phone", "--as", "bob", "--json")
    assert ok_json(opened)["number"] == 1 and opened.stderr == "Opened ticket #1.\n"
    assert [(m.chat_id, m.message_id, m.sender, m.text) for m in Message.select().order_by(Message.id)] == [
        (2001, OWN_MESSAGE_IDS + 1, "customer", "how do I reset 2fa?"),
        (2001, OWN_MESSAGE_IDS + 2, "customer", "I lost my phone")]
    assert [(r["chat_id"], r["kind"], (r["payload"] or {}).get("template")) for r in outbox()][:2] == [
        (2001, "message", "faq_reset_2fa"), (-1001, "card", None)]  # the FAQ answers; the card opens the thread
    assert ("faq.answered", "faq:reset-2fa") in kinds()
    assert ticket().problem == "how do I reset 2fa?\nI lost my phone"
    marked = desk("ticket", "mark", "1", str(OWN_MESSAGE_IDS + 2), "--as", "bob")
    assert marked.exit_code == 0, marked
    shown = ok_json(desk("ticket", "show", "1", "--json"))
    assert OWN_MESSAGE_IDS + 2 in [m["id"] for m in shown["key_messages"]]
    assert Message.get(Message.message_id == OWN_MESSAGE_IDS + 2).is_key


def test_message_from_customer_continues_the_ticket_and_is_mirrored(desk, db):
    run(desk, "ticket", "open", "--customer", "2001", "--text", "My order has not arrived")
    added = desk("ticket", "message", "1", "--from-customer", "I called: it is order A-1001", "--json")
    assert (ok_json(added)["number"], added.stderr) == (1, "Added the customer's message to ticket #1.\n")
    [card, edit, mirrored] = [r for r in outbox() if r["chat_id"] == -1001]
    assert (card["kind"], edit["kind"]) == ("card", "card-edit")  # the problem on the card grew
    assert mirrored["text"] == "<b>customer</b> (#1): I called: it is order A-1001"
    run(desk, "ticket", "resolve", "1", "--no-survey")
    later = desk("ticket", "message", "1", "--from-customer", "it still has not come")
    assert (later.exit_code, later.stderr) == (0, "Added the customer's message to ticket #1.\n")  # reopened
    assert ticket().status == "open" and ("ticket.reopened", "customer:2001") in kinds()


def test_message_needs_from_customer_and_text(desk, db):
    run(desk, "ticket", "open", "--customer", "2001", "--text", "My order has not arrived")
    unsaid = desk("ticket", "message", "1", "hello")
    assert unsaid.exit_code == 2 and "--from-customer" in unsaid.stderr
    empty = desk("ticket", "message", "1", "--from-customer", "  ")
    assert (empty.exit_code, empty.stderr) == (2, "Error: the customer's message must not be empty (TEXT)\n")
    missing = desk("ticket", "message", "7", "--from-customer", "hi")
    assert missing.exit_code == 1 and "there is no ticket #7" in missing.stderr
    assert Message.select().count() == 1


def test_reply_relays_the_answer_and_stops_the_first_response_clock(desk, db):
    run(desk, "ticket", "open", "--customer", "2001", "--text", "My order has not arrived")
    replied = desk("ticket", "reply", "1", "It left the warehouse today.", "--as", "bob", "--json")
    assert (ok_json(replied)["number"], replied.stderr) == (1, "Relayed the answer to the customer of ticket #1.\n")
    assert ticket().first_responded_at is not None
    [event] = events(kind="ticket.replied")
    assert (event.actor, event.details["first"], event.details["message_id"]) == ("bob", True, OWN_MESSAGE_IDS + 2)
    assert [(r["chat_id"], r["kind"], r["text"]) for r in outbox()][-3:] == [
        (2001, "message", "It left the warehouse today."), (-1001, "card-edit", ""),
        (-1001, "message", "<b>bob</b> → customer (#1): It left the warehouse today.")]
    stored = Message.get(Message.sender == "staff")
    assert (stored.staff.handle, stored.direction, stored.text) == ("bob", "out", "It left the warehouse today.")
    run(desk, "staff", "add", "carol", "--id", "5002", "--tier", "L2")
    refused = desk("ticket", "reply", "1", "hi", "--as", "carol")
    assert refused.exit_code == 1 and refused.stderr.startswith("Error: carol is not staff of L1;")
    nobody = desk("ticket", "reply", "1", "hi", "--as", "mallory")
    assert nobody.exit_code == 1
    assert len(events(kind="ticket.replied")) == 1


def test_open_as_someone_outside_the_front_line_is_refused(desk, db):
    run(desk, "staff", "add", "carol", "--id", "5002", "--tier", "L2")
    refused = desk("ticket", "open", "--customer", "2001", "--text", "hello", "--as", "carol")
    assert (refused.exit_code, refused.stdout) == (1, "")
    assert refused.stderr.startswith("Error: carol is not staff of L1; only L1 staff and admins can work new tickets")
    assert Message.select().count() == 0


def test_two_processes_adding_messages_at_once_keep_both(desk, db, tgesc_bin):
    run(desk, "ticket", "open", "--customer", "2001", "--text", "My order has not arrived")
    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(lambda n: tgesc_bin(["ticket", "message", "1", "--from-customer", f"call {n}"]),
                             range(4)))
    assert [p.returncode for p in done] == [0, 0, 0, 0], [p.stderr for p in done]
    ids = sorted(m.message_id for m in Message.select())
    assert ids == [OWN_MESSAGE_IDS + n for n in range(1, 6)]

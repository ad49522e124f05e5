"""`tgesc outbox list | show | retry | cancel` through the real CLI entry point, on SQLite and PostgreSQL: the backlog
line, the filters by status and ticket, a row whole, a failed row sent again and a pending one cancelled (both
audited), and what may not be done refused with the reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tgesc.models import Event, Outbox
from tgesc.services.config.apply import set_entry
from tgesc.services.tickets import channel_messages

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def rows_of_two_tickets(db) -> tuple[int, int]:
    """Two tickets' cards to L1's chat; the first failed, the second pending: their row ids."""
    set_entry(db, "tiers", "L1", {"staff_chat": -1001}, actor="test", now=AT)
    channel_messages.open_ticket(db, 1001, "My order has not arrived", actor="bob", now=AT)
    channel_messages.open_ticket(db, 1002, "Where is my parcel?", actor="bob", now=AT)
    first, second = [r.id for r in Outbox.select().where(Outbox.kind == "card").order_by(Outbox.id)]
    Outbox.update(status="failed", attempts=8, error="Traceback...\nRPCError: CHAT_WRITE_FORBIDDEN").where(
        Outbox.id == first).execute()
    return first, second


def test_list_show_retry_and_cancel(desk, db):
    failed, pending = rows_of_two_tickets(db)
    listed = desk("outbox", "list", "--json")
    assert listed.exit_code == 0, listed
    assert listed.stderr.startswith("Pending ") and "failed 1, dead 0, cancelled 0, sent 0." in listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["status"], r["kind"], r["ticket"]) for r in rows if r["kind"] == "card"] == [
        (failed, "failed", "card", 1), (pending, "pending", "card", 2)]
    assert rows[[r["id"] for r in rows].index(failed)]["error"] == "RPCError: CHAT_WRITE_FORBIDDEN"
    only = json.loads(desk("outbox", "list", "--status", "failed", "--json").stdout)
    assert [r["id"] for r in only] == [failed]
    assert {r["ticket"] for r in json.loads(desk("outbox", "list", "--ticket", "2", "--json").stdout)} == {2}
    shown = json.loads(desk("outbox", "show", str(failed), "--json").stdout)
    assert shown["text"].startswith("<b>#1</b>") and shown["error"].startswith("Traceback") and shown["sent"] == []

    retried = desk("outbox", "retry", str(failed))
    assert (retried.exit_code, retried.stderr) == (0, f"Retried 1 outbox row(s): {failed}.\n"), retried
    assert Outbox.get_by_id(failed).status == "pending"
    cancelled = desk("outbox", "cancel", str(pending))
    assert cancelled.exit_code == 0 and Outbox.get_by_id(pending).status == "cancelled"
    audited = [(e.kind, e.ticket.number, e.details["was"]) for e in Event.select().where(
        Event.kind.startswith("outbox.")).order_by(Event.id)]
    assert audited == [("outbox.retried", 1, "failed"), ("outbox.cancelled", 2, "pending")]


def test_what_may_not_be_done_is_refused(desk, db):
    failed, pending = rows_of_two_tickets(db)
    again = desk("outbox", "retry", str(pending))
    assert again.exit_code == 1
    assert f"outbox row {pending} is pending: only a row that is failed or dead" in again.stderr
    assert desk("outbox", "cancel", str(failed)).exit_code == 0
    twice = desk("outbox", "cancel", str(failed))
    assert twice.exit_code == 1
    assert "is cancelled: only a row that is pending or failed can be cancelled" in twice.stderr
    missing = desk("outbox", "show", "999999")
    assert missing.exit_code == 1 and "there is no outbox row 999999" in missing.stderr
    bad = desk("outbox", "list", "--status", "lost")
    assert bad.exit_code == 2 and "'lost' is not one of" in bad.stderr

"""`tgesc sla recompute`: open tickets keep their policy snapshot until it is run; --dry-run and --yes; it
moves only deadlines still to come, and says which it keeps (already met, breached or fired) and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support import cells, ok_json

from tgesc.models import Customer, Event, Ticket, Tier
from tgesc.services.clocks import sla

OPENED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock(cli, tmp_path):
    """Set the CLI's clock (TGESC_CLOCK names a file holding the instant)."""
    path = tmp_path / "clock"
    cli.env["TGESC_CLOCK"] = f"file:{path}"

    def set_to(instant: datetime) -> None:
        path.write_text(instant.isoformat(), encoding="utf-8")

    return set_to


def open_tickets(db, *priorities: str, opened: datetime = OPENED) -> None:
    customer = Customer.get_or_none(Customer.telegram_id == 1001) or Customer.create(
        telegram_id=1001, created_at=opened, updated_at=opened)
    for priority in priorities:
        ticket = Ticket(number=Ticket.select().count() + 1, customer=customer, tier=Tier.get(Tier.code == "L1"),
                        priority=priority, created_at=opened, updated_at=opened)
        sla.take_policy(db, ticket)
        ticket.save()


def test_recompute_lists_then_applies_the_changes(cli, db, db_url, clock):
    clock(OPENED + timedelta(hours=1))
    assert cli("init", "--quiet").exit_code == 0
    assert cli("tier", "set", "L1", "--first-response", "").exit_code == 0  # the priority table only
    open_tickets(db, "high", "medium", "high")
    assert cli("sla", "set", "high", "--resolution", "6h").exit_code == 0
    assert cli("sla", "recompute").exit_code == 2  # bulk: needs --yes off a terminal
    dry = cli("--tz", "UTC", "sla", "recompute", "--dry-run", "--json")
    moved = {"action": "change", "reason": "deadline still to come"}
    assert ok_json(dry) == [
        {"ticket": "#1", "what": "resolution", "old": "2026-03-02T12:00+00:00", "new": "2026-03-02T14:00+00:00",
         **moved},
        {"ticket": "#3", "what": "resolution", "old": "2026-03-02T12:00+00:00", "new": "2026-03-02T14:00+00:00",
         **moved}]
    assert dry.stderr == "2 open ticket(s) would change.\n"
    assert Ticket.get(Ticket.number == 1).resolution_due == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    done = cli("--tz", "Asia/Shanghai", "sla", "recompute", "--yes")
    assert done.exit_code == 0, done
    lines = done.stdout.splitlines()
    assert cells(lines[0]) == ["ticket", "what", "old", "new", "action", "reason"]
    assert cells(lines[2]) == ["#1", "resolution", "2026-03-02T20:00+08:00", "2026-03-02T22:00+08:00", "change",
                               "deadline still to come"]
    assert Ticket.get(Ticket.number == 3).resolution_due == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    again = cli("sla", "recompute", "--yes")
    assert again.stdout.strip() == "(none)"
    assert "Every open ticket already runs on the current policies." in again.stderr


def test_breaches_that_fired_stay_breached_and_listed(cli, db, db_url, clock):
    """#1 (high, 08:00) breached both deadlines and the 13:30 sweep sent the notices; #2 (13:10) has both
    deadlines to come. Longer budgets then move #2 only: #1 stays breached in show, list and --json."""
    clock(OPENED)
    assert cli("init", "--quiet").exit_code == 0
    assert cli("tier", "set", "L1", "--first-response", "").exit_code == 0  # the priority table only
    open_tickets(db, "high")
    open_tickets(db, "high", opened=OPENED.replace(hour=13, minute=10))
    clock(OPENED.replace(hour=13, minute=30))
    swept = ok_json(cli("sla", "sweep", "--once", "--json"))
    assert [(r["ticket"], r["clock"]) for r in swept if r["level"] == "breach"] == [
        (1, "first_response"), (1, "resolution")]
    assert cli("sla", "set", "high", "--first-response", "1h", "--resolution", "8h").exit_code == 0

    dry = cli("--tz", "UTC", "sla", "recompute", "--dry-run", "--json")
    assert [(r["ticket"], r["what"], r["old"], r["new"], r["action"], r["reason"]) for r in ok_json(dry)] == [
        ("#1", "first_response", "2026-03-02T08:30+00:00", "2026-03-02T09:00+00:00", "keep", "breach already fired"),
        ("#1", "resolution", "2026-03-02T12:00+00:00", "2026-03-02T16:00+00:00", "keep", "breach already fired"),
        ("#2", "first_response", "2026-03-02T13:40+00:00", "2026-03-02T14:10+00:00", "change",
         "deadline still to come"),
        ("#2", "resolution", "2026-03-02T17:10+00:00", "2026-03-02T21:10+00:00", "change",
         "deadline still to come")]
    assert dry.stderr.splitlines() == [
        "Warning: #1 first_response: would stay as it was (breach already fired); history is not rewritten.",
        "Warning: #1 resolution: would stay as it was (breach already fired); history is not rewritten.",
        "2 open ticket(s) would change; 2 deadline(s) would be kept."]
    done = cli("sla", "recompute", "--yes")
    assert done.exit_code == 0, done
    assert done.stderr.splitlines()[-1] == "2 open ticket(s) changed; 2 deadline(s) were kept."

    shown = ok_json(cli("--tz", "UTC", "ticket", "show", "1", "--json"))["sla"]
    assert shown["breached"] == ["first_response", "resolution"]
    assert [(c["clock"], c["state"], c["due"]) for c in shown["clocks"]] == [
        ("first_response", "breached", "2026-03-02T08:30:00+00:00"),
        ("resolution", "breached", "2026-03-02T12:00:00+00:00")]
    assert [row["number"] for row in ok_json(cli("ticket", "list", "--breaching", "--json"))] == [1]
    table = cli("ticket", "list", "--breaching").stdout.splitlines()
    assert len(table) == 4 and cells(table[2])[0] == "1" and table[3] == "1 of 1 breaching tickets."
    assert Ticket.get(Ticket.number == 2).resolution_due == datetime(2026, 3, 2, 21, 10, tzinfo=UTC)
    audit = Event.get((Event.kind == "sla.recompute") & (Event.ticket == Ticket.get(Ticket.number == 1)))
    assert audit.details["changes"] == [] and len(audit.details["kept"]) == 2
    assert len(Event.select().where(Event.kind == "sla.breach")) == 2

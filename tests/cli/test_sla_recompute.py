"""`tgesc sla recompute`: open tickets keep their policy snapshot until it is run; --dry-run and --yes."""

from __future__ import annotations

from datetime import UTC, datetime

from support import ok_json

from tgesc.models import Customer, Ticket, Tier
from tgesc.services import sla

OPENED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def open_tickets(db, *priorities: str) -> None:
    customer = Customer.create(telegram_id=1001, created_at=OPENED, updated_at=OPENED)
    for number, priority in enumerate(priorities, start=1):
        ticket = Ticket(number=number, customer=customer, tier=Tier.get(Tier.code == "L1"), priority=priority,
                        created_at=OPENED, updated_at=OPENED)
        sla.take_policy(db, ticket)
        ticket.save()


def test_recompute_lists_then_applies_the_changes(cli, db, db_url):
    assert cli("init", "--quiet").exit_code == 0
    open_tickets(db, "high", "medium", "high")
    assert cli("sla", "set", "high", "--resolution", "6h").exit_code == 0
    assert cli("sla", "recompute").exit_code == 2  # bulk: needs --yes off a terminal
    dry = cli("--tz", "UTC", "sla", "recompute", "--dry-run", "--json")
    assert ok_json(dry) == [
        {"ticket": "#1", "what": "resolution", "old": "2026-03-02T12:00+00:00", "new": "2026-03-02T14:00+00:00"},
        {"ticket": "#3", "what": "resolution", "old": "2026-03-02T12:00+00:00", "new": "2026-03-02T14:00+00:00"}]
    assert "2 open ticket(s) would change." in dry.stderr
    assert Ticket.get(Ticket.number == 1).resolution_due == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    done = cli("--tz", "Asia/Shanghai", "sla", "recompute", "--yes")
    assert done.exit_code == 0, done
    assert done.stdout.splitlines()[2].split() == ["#1", "resolution", "2026-03-02T20:00+08:00",
                                                   "2026-03-02T22:00+08:00"]
    assert Ticket.get(Ticket.number == 3).resolution_due == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    again = cli("sla", "recompute", "--yes")
    assert again.stdout.strip() == "(none)"
    assert "Every open ticket already runs on the current policies." in again.stderr

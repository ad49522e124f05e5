"""`tgesc sla sweep --once` and `tgesc rule sweep --once` through the real CLI, on the real clock: --once is
required, --dry-run changes nothing, the table and --json, a second run fires nothing, and two processes
sweeping the same due tickets at once fire each milestone once."""

from __future__ import annotations

import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from support import cells, ok_json, private_message
from ticket_support import open_ticket

from tgesc.models import Event, Firing, Outbox, Ticket
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.tickets.ingest import ingest_message

L1_CHAT, ANN = -100111, 5001


@pytest.fixture
def staffed(desk, db):
    now = datetime.now(UTC)
    # these tests pin the priority table: L1 without its own five-minute first-response target
    set_entry(db, "tiers", "L1", {"staff_chat": L1_CHAT, "first_response": None}, actor="test", now=now)
    add_entry(db, "staff", "ann", {"id": ANN, "role": "admin"}, actor="test", now=now)
    return desk


def overdue(db, count: int = 1) -> datetime:
    """`count` urgent tickets opened 20 minutes ago: their first response (15 min) is breached."""
    opened = datetime.now(UTC) - timedelta(minutes=20)
    for n in range(count):
        open_ticket(db, at=opened, telegram_id=1001 + n, priority="urgent", language="en", timezone=None)
    return opened


def test_the_sweep_runs_once_only_when_told(staffed):
    result = staffed("sla", "sweep")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("Error: pass --once: this command sweeps once (the periodic sweep runs in "
                             "`tgesc worker cron`)\n")
    assert staffed("rule", "sweep").exit_code == 2


def test_dry_run_then_the_sweep_then_nothing_more(staffed, db):
    opened = overdue(db)
    dry = staffed("--tz", "Asia/Shanghai", "sla", "sweep", "--once", "--dry-run", "--json")
    due = (opened + timedelta(minutes=15)).astimezone().isoformat(timespec="seconds")
    assert [(r["ticket"], r["clock"], r["level"], r["action"], r["recipients"]) for r in ok_json(dry)] == [
        (1, "first_response", "warn-50", "skipped", []), (1, "first_response", "warn-80", "skipped", []),
        (1, "first_response", "breach", "notify-admins", ["staff:ann", f"chat:{L1_CHAT}"])]
    assert ok_json(dry)[-1]["due"].endswith("+08:00") and datetime.fromisoformat(ok_json(dry)[-1]["due"]) == \
        datetime.fromisoformat(due)
    assert dry.stderr == "SLA sweep (dry run): 3 milestone(s) would fire on 1 ticket(s).\n"
    assert (Firing.select().count(), Outbox.select().count(), Event.select().where(
        Event.kind.startswith("sla.")).count()) == (0, 0, 0)

    done = staffed("sla", "sweep", "--once")
    assert done.exit_code == 0, done
    lines = done.stdout.splitlines()
    assert cells(lines[0]) == ["ticket", "priority", "clock", "level", "due", "action", "recipients", "note"]
    assert cells(lines[-1])[:4] == ["#1", "urgent", "first_response", "breach"]
    assert cells(lines[-1])[5:7] == ["notify-admins", f"staff:ann, chat:{L1_CHAT}"]
    assert done.stderr == "SLA sweep: 3 milestone(s) fired on 1 ticket(s).\n"
    assert sorted((o.chat_id, o.payload["template"]) for o in Outbox.select()) == [
        (L1_CHAT, "sla_breach"), (ANN, "sla_breach")]

    again = staffed("sla", "sweep", "--once")
    assert (again.exit_code, again.stdout, again.stderr) == (0, "(none)\n", "SLA sweep: nothing is due.\n")
    assert Outbox.select().count() == 2


def _holding_the_write_lock(db_url: str):
    """A connection holding what a sweep needs first, its claim of a batch of tickets: on SQLite the write lock,
    on PostgreSQL the ticket table against row locks (EXCLUSIVE mode: a claim, `FOR UPDATE SKIP LOCKED`, skips
    rows locked one by one but waits for this). Returns (release, how many sweeps wait: None when unobservable)."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(urlsplit(db_url).path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        connections, waiting = [conn], lambda: None
    else:
        import psycopg

        holder, watcher = psycopg.connect(db_url), psycopg.connect(db_url, autocommit=True)
        holder.execute("LOCK TABLE ticket IN EXCLUSIVE MODE")
        connections = [holder, watcher]

        def waiting() -> int:
            return watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND wait_event_type = 'Lock'").fetchone()[0]

    def release() -> None:
        while connections:
            connection = connections.pop()
            connection.rollback()
            connection.close()

    return release, waiting


def test_two_processes_sweeping_at_once_fire_each_milestone_once(staffed, db, db_url, tgesc_bin):
    overdue(db, count=8)
    release, waiting = _holding_the_write_lock(db_url)
    try:
        with ThreadPoolExecutor(2) as pool:
            running = [pool.submit(tgesc_bin, ["sla", "sweep", "--once", "--json"]) for _ in range(2)]
            deadline = time.monotonic() + 60
            if waiting() is None:
                time.sleep(3)  # SQLite: both processes have found the due tickets and wait for the write lock
            else:
                while waiting() < 2:  # PostgreSQL: both wait to claim
                    assert time.monotonic() < deadline and not any(f.done() for f in running), "both must wait"
                    time.sleep(0.05)
            release()
            done = [f.result() for f in running]
    finally:
        release()
    assert [p.returncode for p in done] == [0, 0], [p.stderr for p in done]
    rows = [row for p in done for row in json.loads(p.stdout)]
    assert sorted((r["ticket"], r["level"]) for r in rows) == sorted(
        (n, level) for n in range(1, 9) for level in ("warn-50", "warn-80", "breach"))
    assert Firing.select().count() == 24
    assert sorted(o.chat_id for o in Outbox.select()) == [L1_CHAT] * 8 + [ANN] * 8


def test_the_rule_sweep_fires_the_unresolved_for_rule(staffed, db):
    opened = datetime.now(UTC) - timedelta(minutes=20)
    ingest_message(db, private_message(1001, 1, opened, "Where is my parcel?"), now=opened)
    dry = ok_json(staffed("rule", "sweep", "--once", "--dry-run", "--json"))
    assert [(r["ticket"], r["rules"], r["escalated_to"]) for r in dry] == [(1, ["unresolved-15m"], "L2")]
    assert Ticket.get().tier.code == "L1"
    done = staffed("rule", "sweep", "--once")
    assert done.exit_code == 0, done
    assert cells(done.stdout.splitlines()[-1])[:4] == ["#1", "medium", "unresolved-15m", "L2"]
    assert done.stderr == "Rule sweep: rules fired on 1 ticket(s).\n"
    assert Ticket.get().tier.code == "L2"
    again = staffed("rule", "sweep", "--once")
    assert (again.stdout, again.stderr) == ("(none)\n", "Rule sweep: nothing fired.\n")

"""How long `tgesc report summary` and `tgesc report triggers` take over 10,000, 100,000 and 1,000,000 tickets.

For each backend (SQLite in WAL mode with tgesc's pragmas, in a temporary directory; PostgreSQL in a throwaway
database) and each size, a fresh database is initialised with the shipped defaults and filled server-side
(bench/desks.py, one statement per 100,000 rows): resolved tickets opened evenly over the last 30 days, each with its
measured first-response and resolution runs (a tenth of the first answers late), its `ticket.resolved` event, and
for one in five the refund rule's firing and the escalation it caused, and for one in two an answered survey.

Each command then runs as a fresh process (`python -m tgesc ...`), --repeats times, the median wall time printed:

- `report summary --since 30d`: every ticket in the period;
- `report summary --since 3d`: a tenth of them, to show the cost follows the tickets in the period, not the desk;
- `report triggers --since 30d`.

Goal (issue 18): at most 2 s at 1,000,000 on both backends, and the 3-day summary cheaper than the 30-day one in
about the ratio of their tickets. A benchmark, not a test: it prints PASS or MISS and exits 0 either way.

    python bench/report.py [--backend sqlite|postgres|both] [--sizes 10000,100000,1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime, timedelta

import peewee
from desks import CHUNK, desk_arguments, each_backend, fill_tickets
from lists import Run, progress, time_commands, verdict

from tgesc.db import open_database, write_transaction
from tgesc.models import Customer, Tier
from tgesc.services.clocks import sla
from tgesc.services.config.defaults import initialise

NOW = datetime.now(UTC).replace(microsecond=0)
DAYS = 30
COMMANDS = {"summary 30d": ["report", "summary", "--since", "30d", "--json"],
            "summary 3d": ["report", "summary", "--since", "3d", "--json"],
            "triggers 30d": ["report", "triggers", "--since", "30d", "--json"]}
GOAL_S = 2.0

# per ticket row `t` (its id, created_at, tier and priority), what the derived rows hold; {later:N} is the instant N
# seconds after it opened (the backend's own date arithmetic), {answer} the first answer's seconds
ANSWER = "((t.id * 37) % 3600)"
DERIVED = [
    "INSERT INTO clock_run (ticket_id, clock, started_at, stopped_at, due_at, budget_s, wall_s, business_s, met, "
    "breached, escalated, tier_id, priority, by) SELECT t.id, 'first_response', t.created_at, {later:" + ANSWER +
    "}, {later:3240}, 3240, " + ANSWER + ", " + ANSWER + " / 2, {true}, " + ANSWER + " > 3240, t.id % 5 = 0, "
    "t.tier_id, t.priority, 'bob' FROM ticket t",
    "INSERT INTO clock_run (ticket_id, clock, started_at, stopped_at, due_at, budget_s, wall_s, business_s, met, "
    "breached, escalated, tier_id, priority, by) SELECT t.id, 'resolution', t.created_at, "
    "{later:((t.id * 91) % 86400)}, {later:86400}, 86400, (t.id * 91) % 86400, (t.id * 91) % 43200, {true}, {false}, "
    "t.id % 5 = 0, t.tier_id, t.priority, 'bob' FROM ticket t",
    "INSERT INTO event (ticket_id, kind, actor, at, details) SELECT t.id, 'ticket.resolved', 'bob', "
    "{later:((t.id * 91) % 86400)}, '{{\"reason\": \"staff\", \"survey\": true}}' FROM ticket t",
    "INSERT INTO event (ticket_id, kind, actor, at, details) SELECT t.id, 'rule.fired', 'rule:refund', t.created_at, "
    "'{{\"rule\": \"refund\", \"rule_kind\": \"keyword\"}}' FROM ticket t WHERE t.id % 5 = 0",
    "INSERT INTO event (ticket_id, kind, actor, at, details) SELECT t.id, 'ticket.escalated', 'rule:refund', "
    "t.created_at, '{{\"from\": \"L1\", \"to\": \"L2\", \"trigger\": \"rule:refund\", \"quick\": false, "
    "\"down\": false}}' FROM ticket t WHERE t.id % 5 = 0",
    "INSERT INTO survey (ticket_id, round, status, due_at, sent_at, stars, answered_at) SELECT t.id, 1, 'answered', "
    "{later:90000}, {later:90000}, (t.id % 5) + 1, {later:93600} FROM ticket t WHERE t.id % 2 = 0",
]


def later(sqlite: bool, seconds: str) -> str:
    if sqlite:
        return f"datetime(t.created_at, '+' || ({seconds}) || ' seconds')"
    return f"t.created_at + ({seconds}) * interval '1 second'"


def derived(statement: str, sqlite: bool) -> str:
    """A DERIVED statement in the backend's dialect, for the tickets of one chunk (ids in (?, ?])."""
    text = statement.replace("{true}", "1" if sqlite else "true").replace("{false}", "0" if sqlite else "false")
    while "{later:" in text:
        start = text.index("{later:")
        depth, end = 0, start
        for end in range(start, len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if text[end] == "}" and depth == 0:
                break
        text = text[:start] + later(sqlite, text[start + 7:end]) + text[end + 1:]
    text = text.replace("{{", "{").replace("}}", "}")
    if not sqlite:
        text = text.replace("%", "%%")  # psycopg's placeholders: a modulo is written %%
    where = " AND " if " WHERE " in text else " WHERE "
    mark = "?" if sqlite else "%s"
    return text + f"{where}t.id > {mark} AND t.id <= {mark}"


def fill(db: peewee.Database, size: int) -> float:
    """`size` resolved tickets over the last DAYS days, with their measures, events and surveys."""
    began = time.perf_counter()
    customer = Customer.create(telegram_id=1001, username="ana", first_name="Ana", created_at=NOW, updated_at=NOW)
    tier = Tier.get(Tier.code == "L1")
    policy = json.dumps(sla.current_policy(db, "high").as_json(), sort_keys=True)
    start = NOW - timedelta(days=DAYS)
    fill_tickets(db, size, first_number=1, progress=progress, spread={"created_at": (start, DAYS * 86_400)}, fixed={
        "customer_id": customer.id, "tier_id": tier.id, "status": "resolved", "priority": "high",
        "updated_at": NOW, "sla_policy": policy})
    sqlite = isinstance(db, peewee.SqliteDatabase)
    first, last = db.execute_sql("SELECT MIN(id), MAX(id) FROM ticket").fetchone()
    for statement in DERIVED:
        text = derived(statement, sqlite)
        for low in range(first - 1, last, CHUNK):
            with write_transaction(db):
                db.execute_sql(text, [low, low + CHUNK])
        progress(f"  {statement[12:40]}…")
    if not sqlite:
        db.execute_sql("VACUUM ANALYZE")
    return time.perf_counter() - began


def measure(url: str, size: int, opts) -> tuple[int, float, dict[str, Run]]:
    db = open_database(url, create=True)
    try:
        initialise(db, now=NOW - timedelta(days=DAYS + 1), actor="bench")
        filled = fill(db, size)
    finally:
        db.close()
    return size, filled, time_commands(url, COMMANDS, opts.repeats, opts.timeout)


def report(backend: str, detail: str, results: list[tuple[int, float, dict[str, Run]]]) -> None:
    print(f"{backend}: {detail}")
    for size, filled, runs in results:
        print(f"  {size:>9,} tickets (filled in {filled:.0f} s):")
        for name, run in runs.items():
            print(f"    {name:<13} {run.shown()}")
    size, _, runs = results[-1]
    if size < 1_000_000:
        return
    for name in ("summary 30d", "triggers 30d"):
        print(f"  goal: {name} at {size:,} <= {GOAL_S:g} s: {runs[name].wall:.3f} s   "
              f"{verdict(runs[name].wall <= GOAL_S)}")
    ratio = runs["summary 3d"].wall / runs["summary 30d"].wall
    print(f"        summary 3d / 30d (a tenth of the tickets): {ratio:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    desk_arguments(parser)
    parser.set_defaults(sizes="10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command per size")
    parser.add_argument("--timeout", type=float, default=120, help="seconds before a command is stopped")
    opts = parser.parse_args(argv)
    sizes = sorted(int(s.replace("_", "")) for s in opts.sizes.split(","))
    print(f"tgesc report, Python {platform.python_version()}, peewee {peewee.__version__}, "
          f"on {platform.machine()} ({os.cpu_count()} CPUs)")
    each_backend(opts.backend, opts.postgres_url, sizes, lambda url, size: measure(url, size, opts), report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

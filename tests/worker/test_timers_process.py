"""The timers end to end in real processes (tests/worker_support.py: `tgesc worker cron` sweeping every second,
forking `tgesc worker run` workers, the virtual clock moved by rewriting the TGESC_CLOCK file), for what
test_sweeps_process.py leaves out: SLA notices routed by priority as the SLA table says (high: the tier's leads'
private chats, medium: the ticket's thread, low: nothing at the breach), low and medium reminders waiting for the
tier's business hours (L1 given the office-hours calendar, 09:00-18:00 UTC Mon-Fri) while a high one does not;
and return-visit surveys with the bot as a process of its own on the fake wire (tests/remote_wire.py): sent in
the customer's daytime with 1-5 ★ buttons, 2 stars reopen and escalate, 5 stars invite a review, a double
press counts once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import redis
from rq.cron import get_cron_job_ids
from rq.job import Job, JobStatus
from worker_support import START, Processes, wait_until

from tgesc.db import open_database, write_transaction
from tgesc.models import Customer, Firing, Outbox, Ticket
from tgesc.services import tickets
from tgesc.services.configuration import add_entry, set_entry
from tgesc.services.setup import initialise

L1_CHAT, ANN, LEE = -100111, 5001, 5002  # ann is an admin, lee L1's lead
TUESDAY = START + timedelta(days=1)  # L1's office hours (09:00-18:00 UTC) open again at 09:00


@pytest.fixture
def desk(tmp_path, sqlite_url, redis_url):
    db = open_database(sqlite_url)
    initialise(db, now=START, actor="test")
    set_entry(db, "tiers", "L1", {"staff_chat": L1_CHAT, "calendar": "office-hours"}, actor="test", now=START)
    add_entry(db, "staff", "ann", {"id": ANN, "role": "admin"}, actor="test", now=START)
    add_entry(db, "staff", "lee", {"id": LEE, "role": "lead", "tiers": ["L1"]}, actor="test", now=START)
    processes = Processes(tmp_path, sqlite_url, redis_url, SLA_SWEEP_EVERY="1s")
    processes.db = db
    yield processes
    processes.stop_all()
    db.close()


def open_ticket(db, priority: str, customer_id: int, now: datetime) -> int:
    with write_transaction(db):
        customer = Customer.create(telegram_id=customer_id, first_name=f"C{customer_id}", language="en",
                                   created_at=now, updated_at=now)
        ticket = tickets.create(db, customer, f"A {priority} question", now, priority)
        tickets.save(ticket, now)
    return ticket.number


def sweeps_done(client: redis.Redis, name: str) -> int:
    jobs = Job.fetch_many(get_cron_job_ids(f"tgesc.worker.jobs.{name}", client), connection=client)
    return sum(1 for job in jobs if job is not None and job.get_status() == JobStatus.FINISHED)


def fired(number: int) -> list[str]:
    """The first response milestones fired for ticket `number` (`<level>` of `<level>@<the clock run's start>`)."""
    ticket = Ticket.get(Ticket.number == number)
    return [f.level.split("@")[0] for f in Firing.select().where((Firing.ticket == ticket.id)
                                                                 & (Firing.kind == "first_response"))
            .order_by(Firing.id)]


def notices(number: int) -> list[tuple[int, str]]:
    ticket = Ticket.get(Ticket.number == number)
    return [(o.chat_id, o.payload.get("template")) for o in Outbox.select().where(Outbox.ticket == ticket.id)
            .order_by(Outbox.id)]


def settle(desk: Processes, client: redis.Redis) -> None:
    """Wait until two more sweeps by the cron finished after now (whatever was due is handled)."""
    done = sweeps_done(client, "sla_sweep")
    wait_until(lambda: sweeps_done(client, "sla_sweep") >= done + 2, 20, "two more SLA sweeps by the cron")


WARN, BREACH = (L1_CHAT, "sla_warning"), (L1_CHAT, "sla_breach")


def test_notices_are_routed_by_priority_and_low_and_medium_ones_wait_for_business_hours(desk, redis_url):
    client = redis.Redis.from_url(redis_url)
    high, medium, low = (open_ticket(desk.db, p, 2000 + n, START) for n, p in enumerate(("high", "medium", "low")))
    workers = [desk.start("run"), desk.start("run")]
    cron = desk.start("cron")
    cron.wait_log("active cron scheduler", 20)
    settle(desk, client)
    assert [fired(n) for n in (high, medium, low)] == [[], [], []]

    # Monday, L1 open: high 30 min (warnings 10:15, 10:24), medium 2 h (11:00, 11:36), low 4 h (12:00, 13:12)
    steps = [(15, high, ["warn-50"]), (24, high, ["warn-50", "warn-80"]), (30, high, ["warn-50", "warn-80", "breach"]),
             (60, medium, ["warn-50"]), (96, medium, ["warn-50", "warn-80"]),
             (120, medium, ["warn-50", "warn-80", "breach"]), (192, low, ["warn-50", "warn-80"]),
             (240, low, ["warn-50", "warn-80", "breach"])]
    for minutes, number, expected in steps:
        desk.move_clock(seconds=(START + timedelta(minutes=minutes) - desk.now).total_seconds())
        wait_until(lambda number=number, expected=expected: fired(number) == expected, 20,
                   f"ticket #{number}'s {expected[-1]} at 10:00 + {minutes} min")
    settle(desk, client)
    assert fired(low) == ["warn-50", "warn-80", "breach"]
    first_response = [WARN, WARN, (LEE, "sla_breach"), BREACH]  # notify-leads: lee, not ann the admin
    # and the high ticket's resolution clock (4 h): warnings at 12:00 and 13:12, at 14:00 the breach (the leads
    # again, and the customer's one update with a new expected time)
    assert notices(high) == [*first_response, WARN, WARN, (LEE, "sla_breach"), BREACH, (2000, "breach_update")]
    assert notices(medium) == [WARN, WARN, BREACH]  # remind-tier: the ticket's thread
    assert notices(low) == [WARN, WARN]  # on_breach = none

    # Tuesday before 09:00, L1 closed: a low ticket from 06:00 (warning at 08:00), a medium one from 07:30 (at
    # 08:30) wait for the opening; a high one from 08:20 (warning at 08:35) does not
    night_low, night_medium, night_high = (open_ticket(desk.db, p, 3000 + n, TUESDAY.replace(hour=h, minute=m))
                                           for n, (p, h, m) in enumerate((("low", 6, 0), ("medium", 7, 30),
                                                                          ("high", 8, 20))))
    desk.move_clock(seconds=(TUESDAY.replace(hour=8, minute=40) - desk.now).total_seconds())
    wait_until(lambda: fired(night_high) == ["warn-50"], 20, "the high ticket's warning at night")
    settle(desk, client)
    assert (fired(night_low), notices(night_low), fired(night_medium), notices(night_medium)) == ([], [], [], [])
    desk.move_clock(seconds=(TUESDAY.replace(hour=8, minute=59) - desk.now).total_seconds())
    settle(desk, client)
    assert (notices(night_low), notices(night_medium)) == ([], [])

    desk.move_clock(minutes=1)  # 09:00: L1 opens
    wait_until(lambda: fired(night_low) == ["warn-50"] and fired(night_medium) == ["warn-50"], 20,
               "the waiting warnings at the opening")
    desk.move_clock(minutes=5)  # 09:05: the next warnings are at 09:06 (medium) and 09:12 (low)
    settle(desk, client)
    assert (notices(night_low), notices(night_medium)) == ([WARN], [WARN])  # exactly one reminder each
    assert notices(night_high)[0] == WARN

    for proc in (*workers, cron):
        assert "Traceback" not in proc.log(), proc.log()[-3000:]
    client.close()

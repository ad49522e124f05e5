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
from zoneinfo import ZoneInfo

import pytest
import redis
from bot_support import last_message_id, to_chat
from pyrogram import raw
from rq.cron import get_cron_job_ids
from rq.job import Job, JobStatus
from worker_support import START, TESTS, Processes, wait_until, wired_processes

from tgesc.db import open_database, write_transaction
from tgesc.models import Customer, Event, Firing, Outbox, Survey, Ticket
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.outbox.rows import render_template
from tgesc.services.tickets import actions, lifecycle
from tgesc.services.tickets import store as tickets

pytestmark = pytest.mark.slow  # real processes: seconds each

L1_CHAT, ANN, LEE = -100111, 5001, 5002  # ann is an admin, lee L1's lead
TUESDAY = START + timedelta(days=1)  # L1's office hours (09:00-18:00 UTC) open again at 09:00


@pytest.fixture
def desk(tmp_path, sqlite_url, redis_url):
    db = open_database(sqlite_url, create=True)
    initialise(db, now=START, actor="test")
    set_entry(db, "tiers", "L1", {"staff_chat": L1_CHAT, "calendar": "office-hours", "first_response": None},
              actor="test", now=START)
    # the SLA clocks run around the clock on a calendar of their own (a policy without one follows its tier's,
    # and then its deadlines never fall in L1's closed hours): quiet hours are what this desk shows
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    add_entry(db, "calendars", "24-7", {"timezone": "UTC", "hours": {day: ["00:00-24:00"] for day in days}},
              actor="test", now=START)
    for priority in ("urgent", "high", "medium", "low"):
        set_entry(db, "sla", priority, {"calendar": "24-7"}, actor="test", now=START)
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
        ticket = lifecycle.create(db, customer, f"A {priority} question", now, priority)
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


# --- return-visit surveys: the bot as a process of its own, the cron and a worker --------------------------------

BOT = str(TESTS / "bot_process.py")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def survey_desk(tmp_path, sqlite_url, redis_url, monkeypatch):
    monkeypatch.chdir(tmp_path)  # kurigram appends unknown errors to ./unknown_errors.txt
    with wired_processes(tmp_path, sqlite_url, redis_url, SURVEY_SWEEP_EVERY="1s", RELAY_EVERY="1s",
                         SEND_RATE="1000/1s", CHAT_RATE="1000/1s", GROUP_RATE="1000/1s", FLOOD_LIMIT="1000/1m",
                         TEST_LOCK_TTL="3") as processes:
        db, wire = processes.db, processes.wire
        chats = {"L1": wire.group("Staff L1"), "L2": wire.supergroup("Staff L2", forum=True)}
        for code, chat in chats.items():
            set_entry(db, "tiers", code, {"staff_chat": chat, "forum": code != "L1"}, actor="test", now=START)
        add_entry(db, "staff", "carol", {"id": 5003, "name": "Carol", "role": "agent", "tiers": ["L2"]},
                  actor="test", now=START)
        processes.chats = chats
        processes.carol = wire.user(5003, first_name="Carol", username="carol")
        yield processes


def moving(desk: Processes, condition, timeout: float, what: str) -> None:
    """Wait for `condition`, the virtual clock moving on a second at each poll (the bot's rates need time)."""
    def check() -> bool:
        if condition():
            return True
        desk.move_clock(seconds=1)
        return False
    wait_until(check, timeout, what)


def undelivered() -> int:
    return Outbox.select().where(Outbox.status == "pending").count()


def texts(desk: Processes, chat_id: int) -> list[str]:
    return [r.message for r in to_chat(desk, chat_id)]


def with_buttons(desk: Processes, chat_id: int) -> list:
    return [r for r in to_chat(desk, chat_id) if r.reply_markup is not None]


def plain(html: str) -> str:
    return html.replace("<b>", "").replace("</b>", "")


def survey_of(number: int) -> Survey:
    return Survey.get(Survey.ticket == Ticket.get(Ticket.number == number).id)


def press(desk: Processes, who, chat_id: int, message_id: int, data: str) -> str:
    """`who` presses the button with `data`; the text the press was answered with."""
    answers = len(desk.wire.sent(raw.functions.messages.SetBotCallbackAnswer))
    desk.server.push(desk.wire.callback(who, chat_id, message_id, data))
    moving(desk, lambda: len(desk.wire.sent(raw.functions.messages.SetBotCallbackAnswer)) > answers
           and not undelivered(), 20, f"the press {data} answered and everything delivered")
    return desk.wire.sent(raw.functions.messages.SetBotCallbackAnswer)[-1].message


def test_surveys_go_out_in_the_customers_daytime_and_their_answers_act_once(survey_desk, redis_url):
    desk, client = survey_desk, redis.Redis.from_url(redis_url)
    bot = desk.start(BOT)
    moving(desk, lambda: desk.server.connected and desk.wire.sent(raw.functions.updates.GetDifference), 30,
           "the bot to connect and catch up")
    for chat in desk.chats.values():  # the bot was added to each staff chat
        desk.server.push(desk.wire.service(chat, desk.carol))
    worker, cron = desk.start("run"), desk.start("cron")
    cron.wait_log("active cron scheduler", 20)

    alice = desk.wire.user(1001, first_name="Alice", username="alice", lang_code="en")  # zone: UTC
    wang = desk.wire.user(1002, first_name="Wang", username="wang", lang_code="zh")  # zone: Asia/Shanghai
    desk.server.push(desk.wire.private_text(alice, "How do I change my e-mail address?"))
    desk.server.push(desk.wire.private_text(wang, "我怎么修改邮箱地址?"))
    moving(desk, lambda: Ticket.select().count() == 2 and not undelivered(), 20, "both tickets opened, answered")
    first, second = (Ticket.get(Ticket.customer == Customer.get(Customer.telegram_id == who.id)).number
                     for who in (alice, wang))

    resolved_at = datetime(2026, 3, 2, 23, 0, tzinfo=SHANGHAI)  # 15:00 UTC: 23:00 for wang, 15:00 for alice
    desk.move_clock(seconds=(resolved_at - desk.now).total_seconds())
    for number in (first, second):
        actions.resolve(desk.db, number, survey=True, actor="test", now=desk.now)
    moving(desk, lambda: not undelivered(), 20, "the resolution notices delivered")
    # alice's survey: 24 h later is 15:00 in her daytime; wang's: 23:00 on the 3rd is past his 20:00, so 10:00
    # on the 4th in Shanghai
    assert survey_of(first).due_at == resolved_at + timedelta(hours=24)
    assert survey_of(second).due_at == datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)

    desk.move_clock(seconds=(survey_of(first).due_at - desk.now).total_seconds() - 60)
    settle_surveys(client)
    assert with_buttons(desk, alice.id) == []
    desk.move_clock(minutes=1)  # alice's survey is due
    moving(desk, lambda: with_buttons(desk, alice.id) and not undelivered(), 20, "alice's survey delivered")
    survey = survey_of(first)
    [request] = with_buttons(desk, alice.id)
    assert request.message == plain(render_template("survey", "en", {"ticket": first}))
    assert [(b.text, b.type.data) for b in request.reply_markup.rows[0].buttons] == [
        (f"{n} ★", f"survey:{survey.id}:{n}".encode()) for n in range(1, 6)]
    assert survey_of(second).status == "scheduled" and with_buttons(desk, wang.id) == []

    message_id = last_message_id(desk, alice.id, outgoing=True)
    before = len(texts(desk, alice.id))
    assert press(desk, alice, alice.id, message_id, f"survey:{survey.id}:5") == "Thank you! ★★★★★"
    assert texts(desk, alice.id)[before:] == [
        plain(render_template("survey_thanks", "en", {"ticket": first, "stars": 5})),
        plain(render_template("review_invitation", "en", {"ticket": first}))]
    assert press(desk, alice, alice.id, message_id, f"survey:{survey.id}:1") == \
        "Your rating is recorded already: ★★★★★"  # the double press counts once: no second thanks
    assert len(texts(desk, alice.id)) == before + 2
    assert (survey_of(first).stars, Ticket.get(Ticket.number == first).status) == (5, "resolved")
    assert Event.select().where(Event.kind == "survey.answered").count() == 1

    wang_due = survey_of(second).due_at
    desk.move_clock(seconds=(wang_due - desk.now).total_seconds() - 60)  # 09:59 in Shanghai
    settle_surveys(client)
    assert with_buttons(desk, wang.id) == []
    desk.move_clock(minutes=1)
    moving(desk, lambda: with_buttons(desk, wang.id) and not undelivered(), 20, "wang's survey delivered")
    survey = survey_of(second)
    message_id = last_message_id(desk, wang.id, outgoing=True)
    before, l2_before = len(texts(desk, wang.id)), len(texts(desk, desk.chats["L2"]))
    press(desk, wang, wang.id, message_id, f"survey:{survey.id}:2")
    ticket = Ticket.get(Ticket.number == second)
    assert (ticket.status, ticket.tier.code, survey_of(second).stars) == ("open", "L2", 2)
    told = texts(desk, wang.id)[before:]
    assert told[:2] == [plain(render_template("survey_thanks", "zh", {"ticket": second, "stars": 2})),
                        plain(render_template("low_score_followup", "zh", {"ticket": second}))]
    l2 = texts(desk, desk.chats["L2"])[l2_before:]
    assert l2[0].startswith(f"#{second} · @wang")  # the card
    assert l2[-1].startswith(f"⚠ Return visit: Wang rated ticket #{second} ★★☆☆☆ (2/5).")

    for proc in (bot, worker, cron):
        assert "Traceback" not in proc.log(), proc.log()[-3000:]
    client.close()


def settle_surveys(client: redis.Redis) -> None:
    done = sweeps_done(client, "survey_sweep")
    wait_until(lambda: sweeps_done(client, "survey_sweep") >= done + 2, 20, "two more survey sweeps by the cron")

"""`tgesc ticket escalate` through the real CLI: the checklist gate, the exact event and outbox rows
(customer notice in their language, staff card, off-hours notice), quick and downward escalation, bad
input, and two escalations of one ticket at once (stale writer, and two real processes)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from support import ok_json, run
from ticket_support import SHANGHAI, events, kinds, open_ticket, outbox, ticket

from tgesc.domain.errors import DomainError
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.views import card_html, view

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
NOTICE_ZH = "您的问题已升级至{tier}(工单号 #{ticket}),预计将在 {eta} 内回复您。如遇紧急情况,请回复“紧急”。"
OFF_HOURS_ZH = "感谢您的留言。我们的团队目前不在工作时间内,您的工单 #{ticket} 将于 {opens_at} 起继续处理,无需重复提交。"
MISSING = [
    "first_occurred (when the problem first occurred: /first WHEN in the"
    " thread, or ticket checklist --first-occurred)",
    "evidence (screenshots or logs: sent by the customer, /evidence in the"
    " thread, or ticket checklist --evidence)",
    "tried (what the front line tried: /tried TEXT in the thread, or"
    " ticket tried N TEXT)",
    "expected_resolution (when the customer expects it solved: /expected"
    " WHEN in the thread, or ticket checklist --expected-by)",
]


def zh_instant(instant: datetime) -> str:
    local = instant.astimezone(SHANGHAI)
    return f"{local.month}月{local.day}日 {WEEKDAYS_ZH[local.weekday()]} {local:%H:%M}"


@pytest.fixture
def desk(desk):
    """L2 always open with a staff chat; bob works L1."""
    run(desk, "tier", "set", "L2", "--calendar", "", "--chat", "-100123")
    run(desk, "staff", "add", "bob", "--id", "5001", "--tier", "L1")
    return desk


def racers(cli) -> None:
    """p1 and p2: two agents of L1 and L2 who will escalate the same ticket at once (`--as` names active staff)."""
    run(cli, "staff", "add", "p1", "--id", "5101", "--tier", "L1", "--tier", "L2")
    run(cli, "staff", "add", "p2", "--id", "5102", "--tier", "L1", "--tier", "L2")


def ready(cli, number: int = 1) -> None:
    """Fill in the whole handover checklist through the CLI."""
    run(cli, "ticket", "tried", str(number), "asked to check the spam folder", "--as", "bob")
    run(cli, "ticket", "checklist", str(number), "--first-occurred", "2026-03-01", "--evidence",
        "--expected-by", "2026-12-31T18:00Z", "--as", "bob")


def test_escalation_is_refused_listing_every_missing_item(desk, db):
    open_ticket(db, at=datetime.now(UTC))
    result = desk("ticket", "escalate", "1", "--to", "L2", "--reason", "billing dispute")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == ("Error: ticket #1 was not escalated: the handover checklist is incomplete (fill it in, "
                             "or use --quick for an obviously urgent case):\n"
                             + "".join(f"  - {item}\n" for item in MISSING))
    assert (ticket().tier.code, ticket().version) == ("L1", 1)
    assert kinds() == [("ticket.opened", "test")] and outbox() == []


def test_escalation_writes_one_event_the_customer_notice_and_the_staff_card(desk, db):
    open_ticket(db, at=datetime.now(UTC))
    ready(desk)
    result = desk("ticket", "escalate", "1", "--to", "L2", "--reason", "billing dispute", "--as", "bob", "--json")
    assert ok_json(result) == {"number": 1, "status": "open", "tier": "L2", "priority": "medium", "emotion": "calm",
                               "tags": [], "assignee": None, "version": 4}
    assert result.stderr == "Escalated ticket #1 to L2.\n"
    [escalated] = events(kind="ticket.escalated")
    at = escalated.at
    assert (escalated.actor, escalated.details) == ("bob", {"from": "L1", "to": "L2", "trigger": "manual",
                                                            "reason": "billing dispute", "quick": False,
                                                            "priority": "medium", "down": False})
    eta = f"2 小时（{zh_instant(at + timedelta(hours=2))}前）"
    rows = outbox()
    assert rows[0] == {"chat_id": 1001, "kind": "message", "thread_id": None,
                       "payload": {"template": "escalation_notice"},
                       "text": NOTICE_ZH.format(tier="二线支持", ticket=1, eta=eta)}
    assert rows[1] == {"chat_id": -100123, "kind": "card", "thread_id": None,
                       "payload": {"forum": False, "tier": "L2", "title": "#1 · Ana"},
                       "text": card_html(view(ticket(), at, UTC))}
    assert rows[1]["text"].startswith("<b>#1</b> · @ana (id 1001) · L2 · priority <b>medium</b> · calm\n"
                                      "<b>Problem</b> (customer's words): My order has not arrived\n"
                                      "<b>Assignee</b>: nobody yet (/take) · <b>Escalated</b> L1 → L2 (manual): "
                                      "billing dispute\n"
                                      f"<b>Customer</b>: zone Asia/Shanghai, {at.astimezone(SHANGHAI):%H:%M} there "
                                      "now · L2 ")  # works now, or opens at a time of theirs: real time decides
    assert ("\n<b>Tried</b> (1 of 3): asked to check the spam folder (bob)\n"
            "<b>Checklist</b>: first occurred 2026-03-01 00:00 · evidence ✓ · expected by ") in rows[1]["text"]
    assert len(rows) == 2
    assert ticket().first_response_due == ticket().created_at + timedelta(hours=2)


def test_off_hours_notice_when_the_target_tier_is_closed(desk, db):
    today = datetime.now(UTC).date()
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(today.weekday() + 3) % 7]  # closed today and tomorrow
    run(desk, "calendar", "add", "far-away", "--timezone", "UTC", "--hours", f"{weekday}=00:00-24:00")
    run(desk, "tier", "set", "L2", "--calendar", "far-away")
    open_ticket(db, at=datetime.now(UTC))
    ready(desk)
    run(desk, "ticket", "escalate", "1", "--to", "L2", "--reason", "billing dispute")
    at = events(kind="ticket.escalated")[0].at
    opens = datetime.combine(at.date(), datetime.min.time(), UTC)
    while opens <= at or opens.strftime("%a").lower() != weekday:
        opens += timedelta(days=1)
    rows = outbox()
    assert [(r["chat_id"], r["kind"], r["payload"].get("template")) for r in rows] == [
        (1001, "message", "escalation_notice"), (1001, "message", "off_hours"), (-100123, "card", None)]
    due = opens + timedelta(hours=2)
    minutes = -(-int((due - at).total_seconds()) // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    span = " ".join(f"{n} {unit}" for n, unit in ((days, "天"), (hours, "小时"), (mins, "分钟")) if n)
    span = " ".join(span.split(" ")[:4])  # two units at most
    assert rows[0]["text"] == NOTICE_ZH.format(tier="二线支持", ticket=1, eta=f"{span}（{zh_instant(due)}前）")
    assert rows[1]["text"] == OFF_HOURS_ZH.format(ticket=1, opens_at=zh_instant(opens))


def test_quick_escalation_goes_to_the_top_tier_without_the_checklist(desk, db):
    open_ticket(db, at=datetime.now(UTC))
    quick = ok_json(desk("ticket", "escalate", "1", "--quick", "--priority", "urgent", "--reason", "data leak",
                         "--json"))
    assert (quick["tier"], quick["priority"]) == ("L3", "urgent")
    assert events(kind="ticket.escalated")[0].details == {"from": "L1", "to": "L3", "trigger": "manual",
                                                          "reason": "data leak", "quick": True, "priority": "urgent",
                                                          "down": False}
    assert ticket().first_response_due == ticket().created_at + timedelta(minutes=15)  # the urgent policy
    assert [(r["chat_id"], r["kind"], r["payload"]) for r in outbox()] == [
        (1001, "message", {"template": "escalation_notice"})]  # L3: no staff chat, no calendar
    open_ticket(db, at=datetime.now(UTC), telegram_id=1002)
    second = ok_json(desk("ticket", "escalate", "2", "--quick", "--to", "L2", "--reason", "vip", "--json"))
    assert second["tier"] == "L2"
    top = desk("ticket", "escalate", "1", "--quick", "--reason", "again")
    assert (top.exit_code, top.stderr) == (1, "Error: ticket #1 is already at the top tier (L3)\n")


def test_down_same_tier_unknown_tier_and_bad_input(desk, db):
    open_ticket(db, at=datetime.now(UTC))
    ready(desk)
    run(desk, "ticket", "escalate", "1", "--reason", "billing dispute")  # the next tier up: L2
    assert ticket().tier.code == "L2"
    cases = [
        (["--to", "L1", "--reason", "back"], 1, "Error: L1 is below L2; pass --down to send ticket #1 back\n"),
        (["--to", "L2", "--reason", "again"], 1, "Error: ticket #1 is already at L2\n"),
        (["--to", "L9", "--reason", "x"], 1, "Error: there is no tier 'L9'; `tgesc tier list` shows them\n"),
        (["--to", "L3", "--reason", "  "], 2, "Error: an escalation needs a reason (--reason): the next tier reads "
                                              "it first\n"),
        (["--to", "L3", "--reason", "x", "--priority", "asap"], 2, None),
        (["--to", "L3"], 2, None),
    ]
    for args, code, stderr in cases:
        result = desk("ticket", "escalate", "1", *args)
        assert (result.exit_code, result.stdout) == (code, ""), (args, result)
        if stderr is not None:
            assert result.stderr == stderr, args
    missing = desk("ticket", "escalate", "9", "--to", "L2", "--reason", "x")
    assert (missing.exit_code, missing.stderr) == (1, "Error: there is no ticket #9; `tgesc ticket list` shows the "
                                                      "tickets\n")
    assert len(events(kind="ticket.escalated")) == 1
    down = ok_json(desk("ticket", "escalate", "1", "--to", "L1", "--down", "--reason", "answered; L1 follows up",
                        "--json"))
    assert down["tier"] == "L1"
    assert [e.details["to"] for e in events(kind="ticket.escalated")] == ["L2", "L1"]
    run(desk, "ticket", "resolve", "1")
    resolved = desk("ticket", "escalate", "1", "--quick", "--reason", "x")
    assert (resolved.exit_code, resolved.stderr) == (1, "Error: ticket #1 is resolved; reopen it before escalating\n")


def test_a_stale_copy_is_refused(desk, db):
    open_ticket(db, at=datetime.now(UTC))
    stale = ticket()
    run(desk, "ticket", "note", "1", "meanwhile")  # someone else changes the ticket
    stale.priority = "urgent"
    with pytest.raises(DomainError) as refused:
        tickets.save(stale, datetime.now(UTC))
    assert str(refused.value) == ("ticket #1 was changed by someone else meanwhile; nothing was done. "
                                  "Look at it again (tgesc ticket show 1) and retry")
    assert (ticket().priority, ticket().version) == ("medium", 2)


def test_two_processes_escalating_one_ticket_exactly_one_wins(desk, db, tgesc_bin):
    open_ticket(db, at=datetime.now(UTC))
    ready(desk)
    racers(desk)
    args = ["ticket", "escalate", "1", "--to", "L2", "--reason", "race"]
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda who: tgesc_bin([*args, "--as", who]), ["p1", "p2"]))
    assert sorted(p.returncode for p in done) == [0, 1], [(p.returncode, p.stderr) for p in done]
    loser = next(p for p in done if p.returncode == 1)
    assert loser.stderr in ("Error: ticket #1 is already at L2\n",
                            "Error: ticket #1 was changed by someone else meanwhile; nothing was done. "
                            "Look at it again (tgesc ticket show 1) and retry\n")
    assert len(events(kind="ticket.escalated")) == 1
    assert [(r["chat_id"], r["kind"]) for r in outbox()] == [(1001, "message"), (-100123, "card")]
    assert ticket().tier.code == "L2"


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_on_postgres_two_processes_that_both_read_the_ticket_the_version_refuses_one(desk, db, db_url, tgesc_bin):
    """Both processes have read version N before either writes (the row is locked until both wait on it):
    the first to write wins, the other's `UPDATE ... WHERE version = N` matches nothing and it is refused."""
    import psycopg

    open_ticket(db, at=datetime.now(UTC))
    ready(desk)
    racers(desk)
    args = ["ticket", "escalate", "1", "--to", "L2", "--reason", "race"]
    with psycopg.connect(db_url) as holder, psycopg.connect(db_url, autocommit=True) as watcher, \
            ThreadPoolExecutor(2) as pool:
        holder.execute("SELECT id FROM ticket WHERE number = 1 FOR UPDATE")
        running = [pool.submit(tgesc_bin, [*args, "--as", who]) for who in ("p1", "p2")]
        deadline = time.monotonic() + 60
        while watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                              "AND wait_event_type = 'Lock'").fetchone()[0] < 2:
            assert time.monotonic() < deadline and not any(f.done() for f in running), "both must wait on the row"
            time.sleep(0.05)
        holder.rollback()
        done = [f.result() for f in running]
    assert sorted(p.returncode for p in done) == [0, 1], [(p.returncode, p.stderr) for p in done]
    assert next(p for p in done if p.returncode == 1).stderr == (
        "Error: ticket #1 was changed by someone else meanwhile; nothing was done. "
        "Look at it again (tgesc ticket show 1) and retry\n")
    [escalated] = events(kind="ticket.escalated")
    assert escalated.actor == next(who for who, p in zip(("p1", "p2"), done, strict=True) if p.returncode == 0)
    assert [(r["chat_id"], r["kind"]) for r in outbox()] == [(1001, "message"), (-100123, "card")]
    assert (ticket().tier.code, ticket().version) == ("L2", 4)


def test_the_queued_messages_wake_the_bot_through_its_telegram_queue(desk, db, redis_url):
    import redis
    from rq import Queue

    from tgesc.models import Outbox

    open_ticket(db, at=datetime.now(UTC))
    ready(desk)
    desk.env["TGESC_REDIS_URL"] = redis_url
    run(desk, "ticket", "escalate", "1", "--to", "L2", "--reason", "billing dispute", "--as", "bob")
    rows = [row.id for row in Outbox.select().order_by(Outbox.id)]
    assert len(rows) == 2  # the customer's notice and the staff card
    queue = Queue("telegram", connection=redis.Redis.from_url(redis_url))
    assert sorted(queue.job_ids) == sorted(f"out-{row}" for row in rows)
    assert queue.fetch_job(f"out-{rows[0]}").func_name == "tgesc.worker.bot.wake_sender"


def test_an_unreachable_redis_is_a_warning_and_the_change_stands(desk, db):
    open_ticket(db, at=datetime.now(UTC))
    ready(desk)
    desk.env["TGESC_REDIS_URL"] = "redis://:secret@127.0.0.1:1/0"
    result = run(desk, "ticket", "escalate", "1", "--to", "L2", "--reason", "billing dispute", "--as", "bob")
    assert "Warning: Redis at redis://:********@127.0.0.1:1/0 does not answer" in result.stderr
    assert ticket().tier.code == "L2"

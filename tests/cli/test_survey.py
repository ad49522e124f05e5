"""`tgesc survey list | show | send | sweep` through the real CLI entry point, on SQLite and PostgreSQL;
two `survey sweep --once` processes at once send each survey once."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support import cells, ok_json
from ticket_support import open_ticket

from tgesc.domain.survey_time import in_daytime
from tgesc.domain.surveys import SurveyPolicy
from tgesc.models import Event, Outbox, Survey
from tgesc.services.tickets import actions

LONG_AGO = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # resolved then, every survey is long due
SHANGHAI = ZoneInfo("Asia/Shanghai")


def resolved(db, *, at: datetime = LONG_AGO, telegram_id: int = 1001) -> int:
    number = open_ticket(db, at=at - timedelta(hours=1), telegram_id=telegram_id)
    actions.resolve(db, number, survey=True, actor="bob", now=at, survey_policy=SurveyPolicy())
    return number


def test_list_and_show(desk, db):
    assert desk("survey", "list").stdout == "(none)\n0 of 0 surveys.\n"
    resolved(db)
    listed = desk("--tz", "Asia/Shanghai", "survey", "list")
    assert listed.exit_code == 0, listed
    header, _, row, footer = listed.stdout.splitlines()
    assert footer == "1 of 1 surveys."
    assert cells(header) == ["id", "ticket", "round", "status", "stars", "next", "next at", "sent", "answered",
                             "comment"]
    assert cells(row) == ["1", "#1", "1", "scheduled", "send", "2026-03-03 16:00"]  # 24 h later: 16:00 Shanghai
    documents = ok_json(desk("--tz", "Asia/Shanghai", "survey", "list", "--json"))
    assert [(d["id"], d["ticket"], d["status"], d["next"], d["next_at"], d["zone"]) for d in documents] == [
        (1, 1, "scheduled", "send", "2026-03-03T16:00:00+08:00", "Asia/Shanghai")]
    assert ok_json(desk("survey", "list", "--status", "sent", "--json")) == []
    assert len(ok_json(desk("survey", "list", "--status", "scheduled", "--status", "sent", "--json"))) == 1
    assert ok_json(desk("survey", "list", "--ticket", "1", "--json"))[0]["id"] == 1
    shown = ok_json(desk("survey", "show", "1", "--json"))
    assert {k: shown[k] for k in ("id", "ticket", "round", "status", "customer", "language", "stars")} == {
        "id": 1, "ticket": 1, "round": 1, "status": "scheduled", "customer": 1001, "language": "zh", "stars": None}
    table = desk("survey", "show", "1")
    assert table.exit_code == 0 and cells(table.stdout.splitlines()[5]) == ["status", "scheduled"]


@pytest.mark.parametrize(("args", "code", "message"), [
    (["show", "9"], 1, "Error: there is no survey 9; `tgesc survey list` shows the surveys\n"),
    (["list", "--ticket", "9"], 1, "Error: there is no ticket #9; `tgesc ticket list` shows the tickets\n"),
    (["send", "1"], 2, "Error: pass --now to send the survey at once (otherwise it goes out by itself when due: "
                       "`tgesc survey list --ticket 1` shows when)\n"),
    (["sweep"], 2, "Error: pass --once: this command sweeps once (the periodic sweep runs in `tgesc worker cron`)\n"),
    (["list", "--status", "lost"], 2, "'lost' is not one of scheduled, sent, reminded, answered, expired, cancelled"),
])
def test_mistakes_are_refused_with_their_exit_code(desk, args, code, message):
    result = desk("survey", *args)
    assert (result.exit_code, result.stdout) == (code, "")
    assert result.stderr == message if message.startswith("Error") else message in " ".join(
        result.stderr.replace("│", " ").split())


def test_send_now(desk, db):
    resolved(db, at=datetime.now(UTC))  # due tomorrow at the earliest
    assert desk("staff", "add", "bob", "--id", "5001", "--tier", "L1").exit_code == 0  # --as: active staff
    result = desk("survey", "send", "1", "--now", "--as", "bob", "--json")
    sent = ok_json(result)
    assert (sent["status"], sent["next"]) == ("sent", "remind")
    # the message is an outbox row the bot sends: queued, not sent yet
    assert result.stderr == f"Queued the survey of ticket #1 (survey {sent['id']}) for the bot to send.\n"
    assert [(o.chat_id, o.payload["template"]) for o in Outbox.select()] == [(1001, "resolved_notice"),
                                                                            (1001, "survey")]
    assert [(e.kind, e.actor) for e in Event.select().where(Event.kind.startswith("survey."))] == [
        ("survey.sent", "system"), ("survey.sent_now", "bob")]
    again = desk("survey", "send", "1", "--now")
    assert (again.exit_code, again.stdout) == (1, "")
    assert again.stderr.startswith("Error: ticket #1 has no scheduled survey")


def test_send_now_is_refused_while_the_customer_has_another_open_ticket(desk, db):
    resolved(db)
    open_ticket(db, at=LONG_AGO + timedelta(hours=1), problem="something else")
    refused = desk("survey", "send", "1", "--now")
    assert (refused.exit_code, refused.stderr) == (
        1, "Error: the survey of ticket #1 was not sent: the customer has another open ticket, #2\n")
    assert Survey.get().status == "scheduled"


def test_sweep_once_dry_run_then_for_real(desk, db):
    resolved(db)
    resolved(db, at=datetime.now(UTC) + timedelta(days=1), telegram_id=1002)  # not due yet
    would = desk("--tz", "Asia/Shanghai", "survey", "sweep", "--once", "--dry-run", "--json")
    assert json.loads(would.stdout) == [{"survey": 1, "ticket": 1, "round": 1, "action": "sent",
                                         "due_at": "2026-03-03T16:00:00+08:00",
                                         "remind_at": json.loads(would.stdout)[0]["remind_at"]}]
    assert would.stderr == "Survey sweep (dry run): would act on 1 survey(s).\n"
    assert Survey.get_by_id(1).status == "scheduled" and Outbox.select().count() == 2  # the resolve notices
    done = desk("survey", "sweep", "--once")
    assert done.exit_code == 0, done
    assert cells(done.stdout.splitlines()[2])[:4] == ["1", "1", "1", "sent"]
    assert done.stderr == "Survey sweep: acted on 1 survey(s).\n"
    assert Survey.get_by_id(1).status == "sent" and Outbox.select().count() == 3
    assert desk("survey", "sweep", "--once").stdout == "(none)\n"


def test_resolve_follows_the_survey_settings(desk, db):
    open_ticket(db, at=datetime.now(UTC))
    result = desk("ticket", "resolve", "1", env={"TGESC_SURVEY_DELAY": "48h", "TGESC_SURVEY_HOURS": "09:00-10:00"})
    assert result.exit_code == 0, result
    event = Event.get(Event.kind == "ticket.resolved")
    due = Survey.get().due_at
    assert event.at + timedelta(hours=48) <= due <= event.at + timedelta(hours=72)
    assert in_daytime(due, SHANGHAI, (9 * 60, 10 * 60))


def test_invalid_survey_settings_are_a_configuration_error(desk):
    result = desk("survey", "list", env={"TGESC_SURVEY_DELAY": "2h", "TGESC_SURVEY_HOURS": "22:00-06:00"})
    assert (result.exit_code, result.stdout) == (78, "")
    assert "TGESC_SURVEY_DELAY=2h (from env): the article asks for the return visit 24-48 hours" in result.stderr
    assert "TGESC_SURVEY_HOURS=22:00-06:00 (from env): \"22:00-06:00\" ends before it starts" in result.stderr


def test_two_sweeps_at_once_send_each_survey_once(desk, db, tgesc_bin):
    for customer in range(30):
        resolved(db, telegram_id=2000 + customer)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: tgesc_bin(["survey", "sweep", "--once", "--json"]), range(2)))
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    acted = [item["survey"] for r in runs for item in json.loads(r.stdout)]
    assert sorted(acted) == list(range(1, 31))  # each survey by one of them
    assert Outbox.select().count() == 60  # a resolve notice and a survey each
    assert Event.select().where(Event.kind == "survey.sent").count() == 30


def test_help_shows_examples(desk):
    for command in ("list", "show", "send", "sweep"):
        text = desk("survey", command, "--help").stdout
        assert "Example" in text and f"tgesc survey {command}" in text

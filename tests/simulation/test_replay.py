"""The what-if replay (`tgesc simulate --replay`) on a real SQLite desk whose history was made by the services
(customer messages ingested, staff replies relayed, tickets resolved, a survey sent and answered): the history
read back as a scenario, replayed under the current configuration and under a candidate, and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import private_message

from tgesc.db import open_database, upgrade, write_transaction
from tgesc.domain.errors import ConfigInvalid, UsageError
from tgesc.domain.surveys import SurveyPolicy
from tgesc.domain.telegram import ButtonPress, IncomingMessage, User
from tgesc.models import Event, Message, Staff, Survey, Ticket
from tgesc.services.config.apply import export_toml, put_entry
from tgesc.services.config.defaults import initialise
from tgesc.services.sweeps.surveys import sweep_surveys
from tgesc.services.tickets import actions, surveys, threads
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.ingest import ingest_message
from tgesc.simulation.replay import history_scenario, replay

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday: L2's office hours are open
SINCE, UNTIL = T0 - timedelta(hours=1), T0 + timedelta(days=3)
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
ALICE, BORIS, BOB, LENA = 1001, 1002, 5001, 5002
STAFF_CHAT = -1002
REFUND_ON = '[rules.refund]\nkind = "keyword"\nenabled = true\n'


@pytest.fixture
def history(sqlite_url):
    """A desk with two days of history: Alice asks for a refund (the `refund` keyword rule escalates to L2) and
    Lena (L2) answers her; Boris asks about his order and Bob (L1, L2) answers; both tickets are resolved, Alice's
    with a survey she answers."""
    db = open_database(sqlite_url, create=True)
    upgrade(db)
    initialise(db, now=T0 - timedelta(days=1), actor="test")
    put_entry(db, "staff", "bob", {"id": BOB, "name": "Bob", "role": "agent", "tiers": ["L1", "L2"],
                                   "language": "en"}, actor="test", now=T0)
    put_entry(db, "staff", "lena", {"id": LENA, "name": "Lena", "role": "agent", "tiers": ["L2"],
                                    "language": "en"}, actor="test", now=T0)
    says(db, ALICE, "Alice", "I was charged twice, I want a refund", T0)
    says(db, BORIS, "Boris", "Hello, where is my order?", T0 + 3 * MINUTE)
    reply(db, 1, "Sorry about that, I am checking the payment log", T0 + 5 * MINUTE, by=(LENA, "lena"))
    reply(db, 2, "It ships tomorrow", T0 + 6 * MINUTE)
    actions.resolve(db, 1, survey=True, actor="bob", now=T0 + HOUR, survey_policy=SurveyPolicy())
    actions.resolve(db, 2, survey=False, actor="bob", now=T0 + HOUR + 2 * MINUTE)
    survey = Survey.get()
    sweep_surveys(db, now=survey.due_at, policy=SurveyPolicy())
    assert surveys.on_press(db, ButtonPress("q1", User(ALICE), ALICE, 77, f"survey:{survey.id}:5"),
                            survey.due_at + HOUR, policy=SurveyPolicy())
    yield db
    db.close()


def says(db, user_id: int, name: str, text: str, at: datetime) -> None:
    ingest_message(db, private_message(user_id, int(at.timestamp()), at, text, first_name=name,
                                       username=name.lower(), language_code="en"), now=at)


def reply(db, number: int, text: str, at: datetime, *, by: tuple[int, str] = (BOB, "bob")) -> None:
    """What the bot does with a staff message in the ticket's staff thread (bot_staff): stored, then relayed."""
    message = IncomingMessage(chat_id=STAFF_CHAT, chat_type="supergroup", message_id=int(at.timestamp()),
                              sender=User(by[0]), sent_at=at, text=text)
    with write_transaction(db):
        ticket, staff = Ticket.get(Ticket.number == number), Staff.get(Staff.handle == by[1])
        Message.create(ticket=ticket, chat_id=STAFF_CHAT, message_id=message.message_id, direction="out",
                       sender="staff", staff=staff, text=text, sent_at=at, created_at=at)
        threads.staff_reply(ticket, staff, message, at)
        tickets.save(ticket, at)


def candidate(db, tmp_path: Path, *, refund: bool) -> Path:
    """The current configuration as exported, with the shipped `refund` keyword rule disabled or not."""
    text = export_toml(db)
    assert REFUND_ON in text
    path = tmp_path / "candidate.toml"
    path.write_text(text if refund else text.replace(REFUND_ON, REFUND_ON.replace("true", "false")), encoding="utf-8")
    return path


def snapshot_of_history() -> tuple[int, int, int]:
    return Message.select().count(), Event.select().count(), Ticket.select().count()


# --- the history as a scenario ------------------------------------------------------------------------------------


def test_the_history_becomes_customer_staff_resolve_and_survey_steps_at_their_instants(history):
    scenario = history_scenario(SINCE, UNTIL)
    assert scenario.start == SINCE
    assert {key: (c.id, c.name) for key, c in scenario.customers.items()} == {
        "@alice": (ALICE, "Alice"), "@boris": (BORIS, "Boris")}
    assert scenario.staff == {}  # staff come from the exported configuration
    survey = Survey.get()
    assert [(s.at, s.kind, s.customer, s.staff, s.text, s.cli, s.press) for s in scenario.steps] == [
        (T0, "customer", "@alice", None, "I was charged twice, I want a refund", None, None),
        (T0 + 3 * MINUTE, "customer", "@boris", None, "Hello, where is my order?", None, None),
        (T0 + 5 * MINUTE, "staff", "@alice", "lena", "Sorry about that, I am checking the payment log", None, None),
        (T0 + 6 * MINUTE, "staff", "@boris", "bob", "It ships tomorrow", None, None),
        (T0 + HOUR, "cli", "@alice", None, None, ("ticket", "resolve"), None),
        (T0 + HOUR + 2 * MINUTE, "cli", "@boris", None, None, ("ticket", "resolve", "--no-survey"), None),
        (survey.answered_at, "press", "@alice", None, None, None, "5"),
        (UNTIL, "wait", None, None, None, None, None)]
    assert [s.number for s in scenario.steps] == list(range(1, 9))
    assert all(s.ticket is None for s in scenario.steps)  # the customer's latest ticket in the replay


def test_a_window_leaves_out_what_happened_before_it(history):
    scenario = history_scenario(T0 + 4 * MINUTE, UNTIL)
    assert list(scenario.customers) == []  # nobody wrote in the window: their replies and resolutions go too
    assert [s.kind for s in scenario.steps] == ["wait"]


# --- the replay -----------------------------------------------------------------------------------------------


def test_disabling_the_refund_rule_removes_its_keyword_escalation(history, tmp_path):
    before = snapshot_of_history()
    result = replay(SINCE, UNTIL, candidate(history, tmp_path, refund=False))
    assert snapshot_of_history() == before  # the user's database was only read
    assert Ticket.select().count() == 2  # and the models are bound to it again
    assert (result["messages"], result["customers"]) == (2, 2)
    assert result["current"]["escalations"].get("keyword") == 1
    assert "keyword" not in result["candidate"]["escalations"]
    removed = [c for c in result["changes"] if c["kind"] == "escalation removed"]
    assert [(c["trigger"], c["customer"], c["ticket"], c["detail"]["rule"], c["detail"]["to"]) for c in removed] == [
        ("keyword", "@alice", 1, "refund", "L2")]
    assert removed[0]["at"] == T0.isoformat()
    assert result["current"]["surveys_sent"] == result["current"]["surveys_answered"] == 1  # the press replayed
    # without the escalation Alice's ticket was still in L1 when Lena (L2) answered: someone of L1 did
    assert result["notes"] == {"current": {}, "candidate": {"staff replies given by another member of the ticket's "
                                                            "tier": 1}}


def test_an_identical_candidate_changes_nothing(history, tmp_path):
    result = replay(SINCE, UNTIL, candidate(history, tmp_path, refund=True))
    assert result["changes"] == []
    assert result["current"] == result["candidate"]
    assert result["current"]["tickets"] == 2 and result["current"]["escalations"]["keyword"] == 1


def test_a_rule_deleted_from_the_candidate_is_gone_with_prune(history, tmp_path):
    blocks = export_toml(history).split("\n\n")
    path = tmp_path / "without-refund.toml"
    path.write_text("\n\n".join(b for b in blocks if not b.startswith("[rules.refund]")), encoding="utf-8")
    result = replay(SINCE, UNTIL, path, prune=True)
    assert [(c["kind"], c["trigger"], c["ticket"]) for c in result["changes"] if c["kind"].startswith("escalation")
            and c["trigger"] == "keyword"] == [("escalation removed", "keyword", 1)]


def test_a_candidate_is_checked_against_the_current_configuration_before_anything_runs(history, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[rules.refund]\nkind = "keyword"\nescalate_to = "L9"\nphrases.en = ["refund"]\n')
    with pytest.raises(ConfigInvalid) as problem:
        replay(SINCE, UNTIL, bad)
    assert "L9" in problem.value.render()
    with pytest.raises(UsageError, match="cannot read"):
        replay(SINCE, UNTIL, tmp_path / "missing.toml")


# --- the command line ------------------------------------------------------------------------------------------


@pytest.fixture
def at_until(tmp_path) -> dict[str, str]:
    """The CLI's clock (TGESC_CLOCK): UNTIL, so `--since 4d` covers the history."""
    clock = tmp_path / "clock"
    clock.write_text(UNTIL.isoformat())
    return {"TGESC_CLOCK": f"file:{clock}"}


def test_the_cli_prints_the_counts_and_the_changes(history, tmp_path, cli, sqlite_url, at_until):
    path = candidate(history, tmp_path, refund=False)
    result = cli("--home", str(tmp_path / "home"), "--database-url", sqlite_url, "--tz", "UTC",
                 "simulate", "--replay", "--since", "4d", "--config", str(path), env=at_until)
    assert result.exit_code == 0, result
    out = result.stdout
    assert out.startswith("Replayed 2 customer message(s) from 2 customer(s), 2026-03-01T10:00:00+00:00 to "
                          "2026-03-05T10:00:00+00:00")
    assert [line.split() for line in out.splitlines() if line.startswith("escalations: keyword")] == [
        ["escalations:", "keyword", "1", "0", "-1"]]
    assert f"{T0.isoformat()}  ticket #1 (@alice): escalation removed: keyword (rule refund, to L2)" in out
    assert "candidate: staff replies given by another member of the ticket's tier: 1" in out


def test_the_cli_says_when_there_is_nothing_to_replay(history, tmp_path, cli, sqlite_url, at_until):
    path = candidate(history, tmp_path, refund=False)
    result = cli("--database-url", sqlite_url, "simulate", "--replay", "--since", "1h", "--config", str(path),
                 env=at_until)
    assert result.exit_code == 0, result
    assert "No customer messages since" in result.stdout and "nothing to replay" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--replay", "scenario.toml", "--config", "c.toml"], "give no SCENARIO files"),
    (["--replay"], "--replay needs --config"),
    (["--replay", "--config", "c.toml", "--since", "30x"], "--since"),
    (["--replay", "--config", "c.toml", "--since", "0m"], "positive duration"),
    (["--since", "7d", "scenario.toml"], "--since goes with --replay only"),
    ([], "give one or more SCENARIO files"),
])
def test_usage_errors_exit_2(cli, sqlite_url, args, message):
    result = cli("--database-url", sqlite_url, "simulate", *args)
    assert result.exit_code == 2, result
    assert message in result.stderr


# --- the lifecycle in the history ------------------------------------------------------------------------------


@pytest.fixture
def faq_history(sqlite_url):
    """Alice's 2FA question is answered by the FAQ entry and she presses "that solved it"; Boris's too, and he
    presses "I still need help"; Bob answers him. Alice's ticket closes by itself three days later."""
    from tgesc.services.sweeps.lifecycle import sweep_lifecycle
    from tgesc.services.tickets import deflection

    db = open_database(sqlite_url, create=True)
    upgrade(db)
    initialise(db, now=T0 - timedelta(days=1), actor="test")
    put_entry(db, "staff", "bob", {"id": BOB, "name": "Bob", "role": "agent", "tiers": ["L1"], "language": "en"},
              actor="test", now=T0)
    says(db, ALICE, "Alice", "how do I reset my 2fa?", T0)
    says(db, BORIS, "Boris", "my 2fa codes do not work", T0 + MINUTE)
    assert deflection.on_press(db, ButtonPress("q1", User(ALICE), ALICE, 7, "faq:1:solved"), T0 + 2 * MINUTE)
    assert deflection.on_press(db, ButtonPress("q2", User(BORIS), BORIS, 8, "faq:2:help"), T0 + 3 * MINUTE)
    reply(db, 2, "I have reset it for you", T0 + 4 * MINUTE)
    sweep_lifecycle(db, now=T0 + 4 * 24 * HOUR)
    yield db
    db.close()


def test_faq_verdicts_replay_as_presses_and_automatic_steps_are_left_to_the_replay(faq_history, tmp_path):
    until = T0 + 5 * 24 * HOUR
    scenario = history_scenario(SINCE, until)
    assert [(s.kind, s.customer, s.press) for s in scenario.steps if s.kind in ("press", "cli")] == [
        ("press", "@alice", "solved"), ("press", "@boris", "help")]
    path = tmp_path / "same.toml"
    path.write_text(export_toml(faq_history), encoding="utf-8")
    result = replay(SINCE, until, path)
    assert result["changes"] == [] and result["notes"] == {"current": {}, "candidate": {}}

"""The generated crowd (simulation.crowd, `tgesc simulate --crowd N --seed S`): the same crowd for the same seed,
within its week, its customers' ids its own; and, played among a story, every step lands where it was meant to:
each staff answer reaches its customer, each /resolve resolves, each press finds its buttons (a run fails on a
press without them), and the everyday paths all happen."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from scenario_support import REFUND
from support import ok_json, unboxed

from tgesc.cli.main import run
from tgesc.domain.scenario import load_scenario
from tgesc.simulation.crowd import DAYS, DEFAULT_START, FIRST_ID, STAFF, crowd, office_hours
from tgesc.simulation.runner import run_scenario
from tgesc.simulation.together import together


def test_the_same_seed_makes_the_same_crowd_and_another_seed_another():
    assert crowd(30, seed=1) == crowd(30, seed=1)
    assert crowd(30, seed=1).steps != crowd(30, seed=2).steps


def test_a_crowd_is_its_customers_and_staff_within_its_week():
    made = crowd(200, seed=7)
    assert [person.id for person in made.customers.values()] == list(range(FIRST_ID, FIRST_ID + 200))
    assert made.staff == STAFF and made.start == DEFAULT_START
    assert all(DEFAULT_START <= step.at < DEFAULT_START + timedelta(days=DAYS) for step in made.steps)
    assert [step.at for step in made.steps] == sorted(step.at for step in made.steps)
    first = {}
    for step in made.steps:
        first.setdefault(step.story, step)
        assert step.story == f"crowd {step.customer or first[step.story].customer}"
        assert step.staff is None or step.staff in STAFF
    assert len(first) == 200 and all(step.kind == "customer" and step.number == 1 for step in first.values())
    assert Counter(person.language for person in made.customers.values()).most_common(1)[0][0] == "en"


@pytest.mark.parametrize(("at", "answered_from"), [
    ("2026-03-02T10:30:00+00:00", "2026-03-02T10:30:00+00:00"),  # Monday morning: at once
    ("2026-03-02T17:30:00+00:00", "2026-03-03T09:00:00+00:00"),  # too late in the day: the next morning
    ("2026-03-03T07:00:00+02:00", "2026-03-03T09:00:00+00:00"),  # before the office opens (05:00 UTC)
    ("2026-03-06T20:00:00+00:00", "2026-03-09T09:00:00+00:00"),  # Friday evening: Monday
    ("2026-03-08T12:00:00+00:00", "2026-03-09T09:00:00+00:00"),  # Sunday
])
def test_the_second_line_answers_in_its_office_hours(at, answered_from):
    assert office_hours(datetime.fromisoformat(at)) == datetime.fromisoformat(answered_from).astimezone(UTC)


def test_a_crowd_played_among_a_story_does_what_each_step_meant():
    story = load_scenario(REFUND)
    made = crowd(60, seed=3, start=story.start)
    result = run_scenario(together([story, made], name="demo"), run_command=run)
    sent = {(message["chat"], message["text"]) for message in result["messages"] if message["from"] == "bot"}
    answers = [(step.story.removeprefix("crowd "), step.text) for step in made.steps
               if step.staff and not step.text.startswith("/")]
    assert answers and [answer for answer in answers if answer not in sent] == []
    resolved = Counter(event["detail"]["by"] for event in result["events"] if event["kind"] == "resolved")
    wanted = Counter(step.staff for step in made.steps if step.text == "/resolve")
    assert {who: resolved[who] for who in wanted} == wanted
    kinds = Counter(event["kind"] for event in result["events"])
    triggers = {event["detail"]["trigger"] for event in result["events"] if event["kind"] == "escalated"}
    assert {"keyword", "unresolved", "survey"} <= triggers
    assert all(kinds[kind] for kind in ("faq_answered", "waiting", "resumed", "survey_answered", "reopened",
                                        "sla_breach", "review_invited"))
    assert [row for row in result["tickets"] if row["customer"] == "alice"][0]["number"] == 1


def test_the_command_line_plays_a_crowd_alone_the_same_for_its_seed(cli):
    first = ok_json(cli("simulate", "--crowd", "6", "--seed", "4", "--json"))
    assert first["scenario"] == "a crowd of 6 (seed 4)" and len(first["tickets"]) == 6
    assert ok_json(cli("simulate", "--crowd", "6", "--seed", "4", "--json"))["tickets"] == first["tickets"]


@pytest.mark.parametrize(("args", "message"), [
    (["--seed", "3", str(REFUND)], "--seed picks a crowd: it goes with --crowd N"),
    (["--crowd", "0"], "0 is out of range for a crowd size: a whole number from 1 to 10000"),
    (["--crowd", "many"], "'many' is not a crowd size"),
    (["--crowd", "5", "--seed", "-1"], "'-1' is not a seed"),
])
def test_a_crowd_that_is_no_crowd_is_a_usage_error(cli, args, message):
    result = cli("simulate", *args)
    assert (result.exit_code, result.stdout) == (2, "") and message in unboxed(result.stderr), result

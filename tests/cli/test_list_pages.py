"""`dead-letter list` and `survey list` a page at a time: the pages, each command taken from the line under the
one before, are the whole list once, in order; the line says how many match in all (counted up to a cap);
`--all` streams the same rows, as a table or as the same JSON array."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime, timedelta

import pytest
from support import ok_json
from ticket_support import open_ticket

import tgesc.db
from tgesc.domain.surveys import SurveyPolicy
from tgesc.models import DeadLetter, Survey
from tgesc.services.tickets import actions

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def pages(cli, first: list[str]) -> list[list[int]]:
    """The ids of each page, following the `next:` command printed with --json on stderr."""
    found, args = [], first
    while len(found) < 20:
        result = cli(*args)
        assert result.exit_code == 0, result
        found.append([row["id"] for row in ok_json(result)])
        if "next: " not in result.stderr:
            return found
        args = shlex.split(result.stderr.split("next: ", 1)[1])[1:]
    raise AssertionError(f"the pages do not end: {found}")


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_dead_letters_page_by_id(cli, db, limit):
    for key in range(7):
        DeadLetter.create(kind="message", chat_id=1, update_key=str(key), raw="x", error="boom",
                          status="failed" if key != 3 else "replayed", failed_at=NOW, last_failed_at=NOW)
    listed = pages(cli, ["dead-letter", "list", "--limit", str(limit), "--json"])
    assert [i for page in listed for i in page] == [1, 2, 3, 5, 6, 7]
    assert all(len(page) == limit for page in listed[:-1])
    table = cli("dead-letter", "list", "--status", "all", "--limit", "6").stdout.splitlines()
    assert table[-1] == "6 of 7 dead letters; next: tgesc dead-letter list --status all --limit 6 --after 6"
    last = cli("dead-letter", "list", "--status", "all", "--after", "6", "--json")
    assert last.stdout.count('"id"') == 1 and last.stderr == "1 of 7 dead letters.\n"


def test_surveys_page_newest_first(desk, db):
    for customer in range(1001, 1006):
        number = open_ticket(db, at=NOW, telegram_id=customer)
        actions.resolve(db, number, survey=True, actor="bob", now=NOW + timedelta(hours=1),
                        survey_policy=SurveyPolicy())
    listed = pages(desk, ["survey", "list", "--limit", "2", "--json"])
    assert listed == [[5, 4], [3, 2], [1]]
    assert pages(desk, ["survey", "list", "--ticket", "3", "--limit", "1", "--json"]) == [[3]]


def documents(cli, first: list[str]) -> list[dict]:
    """Every row of the pages from `first` on (with --json), following the `next:` commands."""
    found, args = [], first
    while True:
        result = cli(*args)
        found += ok_json(result)
        if "next: " not in result.stderr:
            return found
        args = shlex.split(result.stderr.split("next: ", 1)[1])[1:]


def dead_letters(count: int) -> None:
    for key in range(count):
        DeadLetter.create(kind="message", chat_id=1, update_key=str(key), raw="x", error=f"Traceback\nboom {key}",
                          status="failed", failed_at=NOW, last_failed_at=NOW)


def surveys(db, count: int) -> None:
    for customer in range(1001, 1001 + count):
        number = open_ticket(db, at=NOW, telegram_id=customer)
        actions.resolve(db, number, survey=True, actor="bob", now=NOW + timedelta(hours=1),
                        survey_policy=SurveyPolicy())


@pytest.mark.parametrize("command", [["dead-letter", "list", "--status", "all"], ["survey", "list"]])
def test_all_is_the_pages_put_together(desk, db, command):
    """--all (and --limit 0) as a table and as JSON: the rows of every page, once, in order, the JSON one a line
    in one array; the table has the count under it."""
    dead_letters(7)
    surveys(db, 5)
    paged = documents(desk, [*command, "--limit", "3", "--json"])
    streamed = desk(*command, "--all", "--json")
    assert json.loads(streamed.stdout) == paged == ok_json(desk(*command, "--limit", "0", "--json"))
    assert streamed.stdout.splitlines()[1:-1] == [json.dumps(row, ensure_ascii=False) + ","
                                                  for row in paged[:-1]] + [json.dumps(paged[-1], ensure_ascii=False)]
    assert streamed.stderr == ""
    table = desk(*command, "--all").stdout.splitlines()
    noun = "dead letters" if command[0] == "dead-letter" else "surveys"
    assert [line.split()[0] for line in table[2:-1]] == [str(row["id"]) for row in paged]
    assert table[-1] == f"{len(paged)} of {len(paged)} {noun}."
    refused = desk(*command, "--all", "--limit", "3")
    assert refused.exit_code == 2 and "--all lists every" in refused.stderr


def test_the_total_and_its_cap(desk, db, monkeypatch):
    """The line under a page counts the rows that match, filters applied; past the cap it says "more than"."""
    dead_letters(5)
    surveys(db, 4)
    Survey.update(status="answered", stars=5).where(Survey.id <= 3).execute()
    assert desk("dead-letter", "list", "--limit", "2").stdout.splitlines()[-1] == \
        "2 of 5 dead letters; next: tgesc dead-letter list --status failed --limit 2 --after 2"
    assert desk("dead-letter", "list", "--status", "replayed").stdout == "(none)\n0 of 0 dead letters.\n"
    answered = desk("survey", "list", "--status", "answered", "--limit", "2", "--json")
    assert answered.stderr == "2 of 3 surveys; next: tgesc survey list --status answered --limit 2 --json --before 2\n"
    assert desk("survey", "list").stdout.splitlines()[-1] == "4 of 4 surveys."
    monkeypatch.setattr(tgesc.db, "COUNTED_UP_TO", 3)
    assert desk("dead-letter", "list", "--limit", "2").stdout.splitlines()[-1].startswith(
        "2 of more than 3 dead letters; next: ")
    assert desk("survey", "list", "--json").stderr == "4 of more than 3 surveys.\n"
    assert desk("survey", "list", "--status", "answered", "--json").stderr == "3 of 3 surveys.\n"


def test_count_up_to_stops_at_the_cap(db):
    dead_letters(5)
    query = DeadLetter.select(DeadLetter.id)
    assert [tgesc.db.count_up_to(query, cap) for cap in (0, 3, 4, 5, 9)] == [1, 4, 5, 5, 5]
    assert tgesc.db.count_up_to(query.where(DeadLetter.id > 4)) == 1

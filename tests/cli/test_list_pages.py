"""`dead-letter list` and `survey list` a page at a time: the pages, each command taken from the line under the
one before, are the whole list once, in order."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime, timedelta

import pytest
from support import ok_json
from ticket_support import open_ticket

from tgesc.domain.surveys import SurveyPolicy
from tgesc.models import DeadLetter
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
    assert table[-1] == "6 shown; next: tgesc dead-letter list --status all --limit 6 --after 6"
    assert cli("dead-letter", "list", "--status", "all", "--after", "6", "--json").stdout.count('"id"') == 1


def test_surveys_page_newest_first(desk, db):
    for customer in range(1001, 1006):
        number = open_ticket(db, at=NOW, telegram_id=customer)
        actions.resolve(db, number, survey=True, actor="bob", now=NOW + timedelta(hours=1),
                        survey_policy=SurveyPolicy())
    listed = pages(desk, ["survey", "list", "--limit", "2", "--json"])
    assert listed == [[5, 4], [3, 2], [1]]
    assert pages(desk, ["survey", "list", "--ticket", "3", "--limit", "1", "--json"]) == [[3]]

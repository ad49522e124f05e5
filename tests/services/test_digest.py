"""The weekly digest (`[reports] digest`): at its instant each active lead and admin gets the week's numbers in their
language and the week's report as a file; exactly once per week and person, even with two runs at once on
PostgreSQL; nothing when it is not configured, nor for an instant more than a day back; `next_at` for the timeline."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from report_support import report_desk
from support import at_once

from tgesc.models import Event, Outbox
from tgesc.services.config.apply import add_entry, apply_config, parse_toml
from tgesc.services.reports.digest import next_at, send_due

desk = report_desk
BERLIN = ZoneInfo("Europe/Berlin")
NEXT_MON_9 = datetime(2026, 3, 9, 9, 0, tzinfo=BERLIN)  # the Monday after report_support's


def digest_on(db, spec: str = "mon 09:00") -> None:
    apply_config(db, parse_toml(f'[reports]\ndigest = "{spec}"\n', "r.toml"), source="r.toml", prune=False,
                 dry_run=False, actor="test", now=NEXT_MON_9 - timedelta(days=1))
    add_entry(db, "staff", "lena", {"id": 5010, "role": "lead", "language": "ru"}, actor="test",
              now=NEXT_MON_9 - timedelta(days=1))
    add_entry(db, "staff", "dave", {"id": 5003, "role": "admin"}, actor="test", now=NEXT_MON_9 - timedelta(days=1))


def rows(chat_id: int) -> list[Outbox]:
    return list(Outbox.select().where(Outbox.chat_id == chat_id).order_by(Outbox.id))


def test_leads_and_admins_get_the_weeks_numbers_and_the_report_once(desk):
    digest_on(desk)
    assert next_at(desk, NEXT_MON_9 - timedelta(minutes=1), BERLIN) == NEXT_MON_9
    assert send_due(desk, NEXT_MON_9 + timedelta(minutes=1), BERLIN) == ["dave", "lena"]
    text, document = rows(5003)
    assert text.text.startswith("📊 The week 2026-03-02 – 2026-03-09\nTickets: 3 opened, 3 resolved, 0 open now.")
    assert "First answers on time: 33.3 %" in text.text and "3.67 average from 3 answers" in text.text
    assert (document.kind, document.payload["filename"]) == ("document", "tgesc-report-2026-03-02.html")
    assert document.payload["since"] == "2026-03-02T08:00:00+00:00"  # Monday 09:00 in Berlin, a week before
    assert rows(5010)[0].text.startswith("📊 Неделя 2026-03-02 – 2026-03-09")
    assert send_due(desk, NEXT_MON_9 + timedelta(minutes=2), BERLIN) == []  # the same week again: nothing
    assert len(rows(5003)) == 2
    [done] = Event.select().where(Event.kind == "report.digest")
    assert done.details["to"] == ["dave", "lena"]
    assert next_at(desk, NEXT_MON_9 + timedelta(minutes=3), BERLIN) == NEXT_MON_9 + timedelta(days=7)


def test_nothing_unconfigured_or_too_late(desk):
    assert send_due(desk, NEXT_MON_9, BERLIN) == [] and next_at(desk, NEXT_MON_9, BERLIN) is None
    digest_on(desk)
    assert send_due(desk, NEXT_MON_9 + timedelta(days=1, minutes=1), BERLIN) == []  # the desk was down past it
    assert next_at(desk, NEXT_MON_9 + timedelta(days=1, minutes=1), BERLIN) == NEXT_MON_9 + timedelta(days=7)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_schedulers_at_once_send_it_once(desk):
    """Two runs at once, each on its own connection (peewee's are per thread), both after the same week."""
    digest_on(desk)
    results = at_once(lambda: send_due(desk, NEXT_MON_9 + timedelta(minutes=1), BERLIN), desk, timeout=30)
    assert sorted(sum(results, [])) == ["dave", "lena"]
    assert [len(rows(chat)) for chat in (5003, 5010)] == [2, 2]

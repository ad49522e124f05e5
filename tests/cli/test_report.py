"""`tgesc report ...` through the real CLI entry point, on the small desk of report_support (both backends): the
summary as a table, --json with the issue's keys and --csv; the breakdowns; and bad input refused with exit 2."""

from __future__ import annotations

import csv
import io
import json

import pytest
from report_support import report_desk  # noqa: F401 - the fixture, used by name

pytestmark = pytest.mark.usefixtures("report_desk")
WEEK = ("--since", "2026-03-01", "--until", "2026-03-08")


def test_the_summary_as_json_csv_and_a_table(cli):
    document = json.loads(ok(cli("report", "summary", *WEEK, "--json")))
    assert list(document) == ["since", "until", "tickets", "first_response", "resolution", "sla", "escalations",
                              "csat", "follow_up"]
    assert document["since"].startswith("2026-03-01T00:00:00") and document["tickets"]["opened"] == 3
    assert document["escalations"] == {"total": 1, "by_trigger": {"keyword": 1}}
    rows = list(csv.DictReader(io.StringIO(ok(cli("report", "summary", *WEEK, "--csv")))))
    assert {"measure": "sla.first_response.met_pct", "value": "33.3"} in rows
    table = ok(cli("report", "summary", *WEEK))
    assert table.splitlines()[0].startswith("2026-03-01T00:00:00") and "csat.average" in table
    assert json.loads(ok(cli("report", "summary", *WEEK, "--tier", "L2", "--json")))["tickets"]["opened"] == 1


def test_the_breakdowns(cli):
    sla = json.loads(ok(cli("report", "sla", *WEEK, "--json")))
    assert [r["breached_tickets"] for r in sla["rows"] if r["clock"] == "first_response"] == [[3], [2]]
    assert "#3" in ok(cli("report", "sla", *WEEK))
    by_tag = json.loads(ok(cli("report", "csat", "--by", "tag", *WEEK, "--json")))
    assert [r["tag"] for r in by_tag["rows"]] == ["billing", "refund", "untagged"]
    assert "#2 (2★)" in ok(cli("report", "csat", *WEEK, "--csv"))
    assert json.loads(ok(cli("report", "triggers", *WEEK, "--json")))["rules"][0]["rule"]
    assert "carol" in ok(cli("report", "staff", *WEEK))


def test_bad_input_is_a_usage_error(cli):
    for args, message in ((("--since", "yesterdayish"), "--since: 'yesterdayish' is neither a duration"),
                          (("--since", "2026-03-08", "--until", "2026-03-01"), "must come before --until"),
                          (("--json", "--csv"), "--json and --csv: choose one")):
        result = cli("report", "summary", *args)
        assert (result.exit_code, message in result.stderr) == (2, True), result
    bogus = cli("report", "csat", "--by", "weather")
    assert bogus.exit_code == 2 and "'weather' is not one of tier, staff, tag, priority" in bogus.stderr


def ok(result) -> str:
    assert result.exit_code == 0, result
    return result.stdout


def test_the_html_report_is_one_private_page(cli, tmp_path):
    out = tmp_path / "week.html"
    result = cli("report", "html", *WEEK, "--out", str(out))
    assert result.exit_code == 0, result
    assert result.stderr.startswith("Wrote the report of 2026-03-01 00:00 – 2026-03-08 00:00 to ")
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "https://" not in page.split("<script", 1)[0]
    unwritable = cli("report", "html", *WEEK, "--out", str(tmp_path / "missing" / "week.html"))
    assert unwritable.exit_code == 78 and "cannot create" in unwritable.stderr

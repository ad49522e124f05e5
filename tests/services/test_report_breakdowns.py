"""`report sla`, `report csat --by`, `report triggers` and `report staff` on the small desk of report_support, against
numbers worked out by hand (both backends)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from report_support import MON_10, WEEK, report_desk

from tgesc.services.reports.breakdowns import csat_rows, sla_rows, staff_rows
from tgesc.services.reports.page import page
from tgesc.services.reports.triggers import trigger_rows

desk = report_desk


def test_sla_per_priority_tier_and_clock_with_the_tickets_that_breached(desk):
    rows = [(r["clock"], r["priority"], r["tier"], r["met"], r["breached"], r["met_pct"], r["breached_tickets"])
            for r in sla_rows(WEEK)["rows"]]
    assert rows == [("first_response", "high", "L2", 0, 1, 0.0, [3]),
                    ("first_response", "medium", "L1", 1, 1, 50.0, [2]),
                    ("next_response", "medium", "L1", 1, 0, 100.0, []),
                    ("resolution", "high", "L2", 1, 0, 100.0, []),
                    ("resolution", "medium", "L1", 2, 0, 100.0, [])]


def test_ratings_by_tier_and_by_tag_show_the_low_scores(desk):
    by_tier = {r["tier"]: r for r in csat_rows(WEEK, "tier")["rows"]}
    assert (by_tier["L1"]["sent"], by_tier["L1"]["answered"], by_tier["L1"]["average"]) == (2, 2, 3.5)
    assert by_tier["L1"]["low"] == [{"ticket": 2, "stars": 2, "comment": None}]
    assert by_tier["L2"]["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    assert by_tier["L2"]["answer_rate_pct"] == 100.0
    by_tag = {r["tag"]: (r["answered"], r["average"]) for r in csat_rows(WEEK, "tag")["rows"]}
    assert by_tag == {"billing": (1, 4.0), "refund": (1, 4.0), "untagged": (2, 3.5)}
    assert [r["staff"] for r in csat_rows(WEEK, "staff")["rows"]] == ["nobody"]  # nobody took them


def test_triggers_show_what_each_rule_caused(desk):
    rules = {r["rule"]: r for r in trigger_rows(WEEK)["rules"]}
    refund = rules["refund"]
    assert (refund["kind"], refund["trigger"], refund["fired"], refund["escalations"]) == (
        "keyword", "keyword", 1, 1)
    assert (refund["sent_back"], refund["resolved_front_line"], refund["median_resolution_s"],
            refund["average_rating"]) == (0, 0, 6900, 4.0)
    quiet = [r for name, r in rules.items() if name != "refund"]
    assert quiet and all(r["fired"] == r["escalations"] == 0 and r["average_rating"] is None for r in quiet)


def test_staff_handled_answered_resolved_and_rated(desk):
    rows = {r["staff"]: r for r in staff_rows(WEEK)["rows"]}
    assert {k: rows["bob"][k] for k in ("handled", "first_responses", "first_response_median_s", "resolved",
                                        "average_rating")} == {
        "handled": 2, "first_responses": 2, "first_response_median_s": 450, "resolved": 2, "average_rating": 3.5}
    assert (rows["carol"]["handled"], rows["carol"]["first_response_median_s"], rows["carol"]["resolved"],
            rows["carol"]["average_rating"]) == (1, 2100, 1, 4.0)


def test_the_html_reports_document(desk):
    document = page(WEEK, ZoneInfo("Asia/Shanghai"), MON_10)
    assert document["per_day"] == [{"day": "2026-03-02", "opened": 3, "resolved": 3, "escalated": 1}]
    assert sorted(d["seconds"] for d in document["durations"]["first_response"]) == [180, 720, 2100]
    assert {(d["priority"], d["budget_s"], d["breached"]) for d in document["durations"]["first_response"]} == {
        ("medium", 300, False), ("medium", 300, True), ("high", 1800, True)}
    assert document["sla_by_priority"][0] == {"priority": "high", "clock": "first_response", "met": 0,
                                              "breached": 1, "met_pct": 0.0}
    assert [(r["tier"], r["average"]) for r in document["ratings_by_tier"]] == [("L1", 3.5), ("L2", 4.0)]
    assert document["escalations_by_trigger"] == {"keyword": 1} and document["zone"] == "Asia/Shanghai"
    assert document["summary"]["tickets"]["opened"] == 3 and "since" not in document["summary"]

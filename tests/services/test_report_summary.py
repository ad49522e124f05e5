"""`report summary` against numbers worked out by hand on a small desk (both backends): three tickets on a Monday,
one answered late, one escalated by the refund rule to L2 (office hours), each resolved with a survey answered;
medians and 90th percentiles interpolated between ranks; the SLA per clock; escalations by trigger; the follow-up
rate; the period and the filters; and, as a property, met + breached = the runs that ended in the period."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_support import MON_10, WEEK, at, report_desk

from tgesc.models import ClockRun
from tgesc.services.reports.scope import Scope
from tgesc.services.reports.summary import sla, summary

desk = report_desk

def test_the_summary_of_a_small_desk(desk):
    document = summary(WEEK)
    assert document["tickets"] == {"opened": 3, "resolved": 3, "closed": 0, "reopened": 0, "open_now": 0}
    # first answers after 180, 720 and 2100 s: the median is the middle one; the 90th percentile lies 80 % of the way
    # from the second to the third (rank 0.9 * 2 = 1.8)
    assert document["first_response"] == {"count": 3, "median_s": 720, "p90_s": 1824, "business_median_s": 720}
    # resolutions after 1800, 3600 and 6900 s (the third from 10:05 to 12:00, all within L2's office hours)
    assert document["resolution"] == {"count": 3, "median_s": 3600, "p90_s": 6240, "business_median_s": 3600}
    assert document["sla"] == {"first_response": {"met": 1, "breached": 2, "met_pct": 33.3},
                               "next_response": {"met": 1, "breached": 0, "met_pct": 100.0},
                               "resolution": {"met": 3, "breached": 0, "met_pct": 100.0}}
    assert document["escalations"] == {"total": 1, "by_trigger": {"keyword": 1}}
    assert document["csat"] == {"sent": 3, "answered": 3, "average": 3.67,
                                "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}}
    assert document["follow_up"] == {"escalated_resolved": 1, "answered": 1, "rate_pct": 100.0}
    assert (document["since"], document["until"]) == (WEEK.since.isoformat(), WEEK.until.isoformat())


def test_the_period_and_the_filters(desk):
    before = summary(Scope(MON_10 - timedelta(days=7), MON_10))
    assert before["tickets"]["opened"] == 0 and before["first_response"]["count"] == 0
    first_hour = summary(Scope(MON_10, at(59)))
    assert first_hour["tickets"]["resolved"] == 1 and first_hour["resolution"]["count"] == 1
    l2 = summary(Scope(WEEK.since, WEEK.until, tiers=("L2",)))
    assert (l2["tickets"]["opened"], l2["first_response"]["count"], l2["escalations"]["total"]) == (1, 1, 1)
    assert l2["sla"]["first_response"] == {"met": 0, "breached": 1, "met_pct": 0.0}
    refunds = summary(Scope(WEEK.since, WEEK.until, tags=("refund",)))
    assert refunds["csat"]["distribution"]["4"] == 1 and refunds["csat"]["answered"] == 1
    nobody = summary(Scope(WEEK.since, WEEK.until, staff=("erin",)))
    assert nobody["tickets"]["opened"] == 0 and nobody["csat"]["average"] == 0.0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.integers(0, 200), length=st.integers(1, 300))
def test_met_and_breached_add_up_to_the_runs_that_ended_in_the_period(desk, start, length):
    scope = Scope(at(start), at(start + length))
    for clock in ("first_response", "next_response", "resolution"):
        counted = sla(scope, clock)
        ended = ClockRun.select().where((ClockRun.clock == clock) & (ClockRun.stopped_at >= scope.since)
                                        & (ClockRun.stopped_at < scope.until)).count()
        assert counted["met"] + counted["breached"] == ended

"""Hypothesis strategies and calendars of the SLA clock properties (tests/domain/test_sla_*.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from tgesc.domain.business_time import BusinessCalendar
from tgesc.domain.sla import ALWAYS_OPEN, Policy

OFFICE = {"timezone": "Europe/Berlin", "hours": {day: ["09:00-12:00", "13:00-17:00"]
                                                 for day in ("mon", "tue", "wed", "thu", "fri")},
          "holidays": ["2026-04-03"], "overrides": {}, "deadline_at_close": "close"}
CALENDARS = {"24/7": BusinessCalendar(ALWAYS_OPEN, "24/7"), "office": BusinessCalendar(OFFICE, "office")}
BASE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)

minutes = st.integers(1, 3 * 24 * 60).map(lambda n: n * MINUTE)
instants = st.integers(0, 20 * 24 * 3600).map(lambda s: BASE + timedelta(seconds=s, microseconds=s % 7 * 1000))


@st.composite
def policies(draw) -> Policy:
    first = draw(minutes)
    return Policy(priority=draw(st.sampled_from(("urgent", "high", "medium", "low"))), first_response=first,
                  resolution=first + draw(minutes), next_response=draw(st.none() | minutes),
                  warn_at=tuple(sorted(draw(st.sets(st.integers(1, 99), max_size=4)))),
                  pause_when_waiting=draw(st.booleans()))

"""When a survey goes out: examples, then properties over zones with DST changes, windows and instants.

Properties of `first_daytime_instant(earliest, zone, window)` = r:
- r >= earliest, and r is in the window (its wall-clock time in the zone);
- r is the FIRST such instant: no instant in [earliest, r) is in the window (checked minute by minute);
- so it is never more than a day (plus a DST shift) later than earliest, unless the day's whole window falls
  in a DST gap (02:00-03:00 on a spring-forward day): then it is the next day's window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tgesc.domain.hours import HoursError
from tgesc.domain.survey_time import first_daytime_instant, in_daytime, parse_daytime, survey_due
from tgesc.domain.surveys import check_delay, parse_button, press_notice, star_buttons

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
SHANGHAI, BERLIN, NEW_YORK = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tehran", "America/Sao_Paulo", "Australia/Sydney",
         "Australia/Lord_Howe", "Pacific/Apia", "Asia/Shanghai", "Europe/Moscow")
# DST changes to start near (UTC instants): spring forward and fall back in several zones, Apia's skipped day
TRANSITIONS = [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
               datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC),
               datetime(2026, 4, 4, 16, tzinfo=UTC), datetime(2026, 10, 3, 16, tzinfo=UTC),
               datetime(2026, 4, 4, 15, tzinfo=UTC), datetime(2011, 12, 30, 10, tzinfo=UTC),
               datetime(2019, 2, 17, 2, tzinfo=UTC)]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- examples ------------------------------------------------------------------------------------------


def test_resolved_at_23_local_goes_out_at_10_the_day_after_next():
    resolved = datetime(2026, 3, 2, 23, 0, tzinfo=SHANGHAI)  # +24 h is 23:00 on the 3rd: after the window
    assert survey_due(resolved, DAY, SHANGHAI) == datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)


def test_inside_the_window_it_goes_out_exactly_after_the_delay():
    resolved = datetime(2026, 3, 2, 14, 30, 15, tzinfo=BERLIN)
    assert survey_due(resolved, DAY, BERLIN) == resolved + DAY


def test_before_the_window_it_waits_for_the_morning_the_same_day():
    resolved = datetime(2026, 3, 2, 6, 0, tzinfo=NEW_YORK)
    assert survey_due(resolved, DAY, NEW_YORK) == datetime(2026, 3, 3, 10, 0, tzinfo=NEW_YORK)


def test_the_window_end_is_exclusive_and_24_00_ends_the_day():
    at_20 = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    assert not in_daytime(at_20, ZoneInfo("UTC"), (600, 1200))
    assert in_daytime(at_20 - timedelta(seconds=1), ZoneInfo("UTC"), (600, 1200))
    assert first_daytime_instant(at_20, ZoneInfo("UTC"), (0, 1440)) == at_20


def test_a_window_start_in_the_spring_forward_gap_begins_when_the_clock_jumps():
    # Berlin, 29 Mar 2026: 02:00 CET jumps to 03:00 CEST (01:00 UTC); 02:30 does not exist that day
    earliest = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # 01:00 CET
    assert first_daytime_instant(earliest, BERLIN, (150, 600)) == utc("2026-03-29 01:00")  # 03:00 CEST


def test_a_window_end_in_the_repeated_hour_is_entered_again_when_the_clock_falls_back():
    # New York, 1 Nov 2026: 02:00 EDT falls back to 01:00 EST (06:00 UTC); 01:00-01:30 happens twice
    earliest = utc("2026-11-01 05:40")  # 01:40 EDT: past the window 00:00-01:30 ...
    assert first_daytime_instant(earliest, NEW_YORK, (0, 90)) == utc("2026-11-01 06:00")  # ... 01:00 EST is in it


def test_a_day_skipped_by_the_zone_is_skipped():
    apia = ZoneInfo("Pacific/Apia")  # 29 Dec 2011 23:59:59 -10:00 was followed by 31 Dec 00:00 +14:00
    earliest = datetime(2011, 12, 29, 21, 0, tzinfo=apia)
    assert first_daytime_instant(earliest, apia, (600, 1200)) == datetime(2011, 12, 31, 10, 0, tzinfo=apia)


@pytest.mark.parametrize("text", ["20:00-10:00", "10:00-10:00", "9-17", "24:00-24:00"])
def test_a_window_must_be_hh_mm_hh_mm_with_the_earlier_time_first(text):
    with pytest.raises(HoursError):
        parse_daytime(text)


def test_the_delay_is_24_to_48_hours():
    assert check_delay(24 * 3600) is None and check_delay(48 * 3600) is None
    assert "24h to 48h" in check_delay(24 * 3600 - 1) and check_delay(48 * 3600 + 1)


def test_star_buttons_round_trip_and_fit_telegram():
    rows = star_buttons(123456789012)
    assert [b["text"] for b in rows[0]] == ["1 ★", "2 ★", "3 ★", "4 ★", "5 ★"]
    assert all(len(b["data"].encode()) <= 64 for b in rows[0])
    assert [parse_button(b["data"]) for b in rows[0]] == [(123456789012, n) for n in range(1, 6)]
    assert parse_button("survey:1:6") is None and parse_button("other:1:2") is None and parse_button("") is None


def test_press_notices_in_the_customers_language_and_english_otherwise():
    assert press_notice("recorded", "zh", 4) == "谢谢!★★★★☆"
    assert press_notice("already", "de", 2) == "Your rating is recorded already: ★★☆☆☆"


# --- properties ----------------------------------------------------------------------------------------

windows = st.tuples(st.integers(0, 1439), st.integers(1, 1440)).filter(lambda w: w[0] < w[1]) | st.sampled_from(
    [(600, 1200), (0, 1440), (120, 180), (150, 600), (0, 90), (60, 120), (1380, 1440), (540, 1080)])
near_transitions = st.builds(lambda t, m: t + m * MINUTE, st.sampled_from(TRANSITIONS),
                             st.integers(-36 * 60, 36 * 60))
anywhere = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC))
seconds = st.integers(0, 59).map(lambda s: timedelta(seconds=s))


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES).map(ZoneInfo), window=windows, start=near_transitions | anywhere, jitter=seconds)
@example(zone=BERLIN, window=(150, 600), start=utc("2026-03-29 00:00"), jitter=timedelta(0))
@example(zone=NEW_YORK, window=(0, 90), start=utc("2026-11-01 05:40"), jitter=timedelta(0))
@example(zone=BERLIN, window=(120, 180), start=utc("2026-03-28 22:59"), jitter=timedelta(0))  # the gap is the window
@example(zone=ZoneInfo("Australia/Sydney"), window=(150, 600), start=utc("2026-04-04 16:00"),
         jitter=timedelta(0))  # just after falling back to 02:00: 02:30 comes round again half an hour later
def test_first_daytime_instant_is_the_first_in_window_instant_at_or_after_earliest(zone, window, start, jitter):
    earliest = start + jitter
    found = first_daytime_instant(earliest, zone, window)
    assert found.tzinfo is not None and found.utcoffset() == timedelta(0)
    assert found >= earliest
    assert in_daytime(found, zone, window)
    if window[1] - window[0] > 60:  # (a window inside a DST gap does not exist that day: then the next day's)
        assert found - earliest <= DAY + timedelta(hours=1)  # never more than a day later (+ a DST hour)
    step = earliest.replace(second=0, microsecond=0) + (MINUTE if earliest.second or earliest.microsecond else
                                                        timedelta(0))
    while step < found:  # wall clocks change on whole minutes here: checking each minute is exhaustive
        assert not in_daytime(step, zone, window), f"{step} is in the window, before {found}"
        step += MINUTE


@settings(max_examples=200, deadline=None)
@given(zone=st.sampled_from(ZONES).map(ZoneInfo), window=windows, resolved=near_transitions | anywhere,
       hours=st.integers(24, 48))
def test_survey_due_is_at_least_the_delay_after_resolution_and_in_the_daytime(zone, window, resolved, hours):
    delay = timedelta(hours=hours)
    due = survey_due(resolved, delay, zone, window)
    assert due >= resolved + delay
    assert in_daytime(due, zone, window)
    assert due == first_daytime_instant(resolved + delay, zone, window)

"""Instants, pauses and minute budgets from the command line: accepted forms, refusals, and properties
(isoformat round trips, junk only ever raising InstantError, exact Decimal minutes)."""

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tgesc.domain.instants import (
    InstantError,
    format_minutes,
    format_seconds,
    monday_of,
    parse_instant,
    parse_minutes,
    parse_moment_or_ago,
    parse_pause,
)

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONES = [UTC, BERLIN, SHANGHAI, ZoneInfo("America/Los_Angeles"), ZoneInfo("Australia/Lord_Howe")]


@pytest.mark.parametrize(("text", "utc"), [
    ("2026-03-02T10:00Z", datetime(2026, 3, 2, 10, 0, tzinfo=UTC)),
    ("2026-03-02T10:00+01:00", datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
    ("2026-03-02 10:00:15.25-05:00", datetime(2026, 3, 2, 15, 0, 15, 250000, tzinfo=UTC)),
    ("2026-03-02T10:00:00,5+0100", datetime(2026, 3, 2, 9, 0, 0, 500000, tzinfo=UTC)),
    ("20260302T1000Z", datetime(2026, 3, 2, 10, 0, tzinfo=UTC)),
    ("  2026-03-02T10:00Z\n", datetime(2026, 3, 2, 10, 0, tzinfo=UTC)),
    # naive: Berlin wall-clock time (CET in winter, CEST in summer)
    ("2026-03-02T10:00", datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
    ("2026-07-01T10:00", datetime(2026, 7, 1, 8, 0, tzinfo=UTC)),
    # in the spring-forward gap: read with the offset before the jump (02:30 CET = 03:30 CEST)
    ("2026-03-29T02:30", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    # the repeated hour in autumn: its first occurrence (02:30 CEST)
    ("2026-10-25T02:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
])
def test_parse_instant_accepts(text, utc):
    parsed = parse_instant(text, BERLIN)
    assert parsed.tzinfo is not None
    assert parsed == utc


@pytest.mark.parametrize(("text", "reason"), [
    ("", "is empty"),
    ("2026-03-02", "a date without a time of day"),
    ("20260302", "a date without a time of day"),
    ("2026-03-02-10:00", "separated by T or a space, not '-'"),
    ("2026-03-02T10:00z", "capital Z"),
    ("2026-03-02T10:00:00.1234567Z", "more than 6 decimals"),
    ("2026-02-30T10:00", "day is out of range"),
    ("2026-03-02T25:00", "hour must be in 0..23"),
    ("2026-03-02T10:00+24:00", "not an instant"),
    ("next tuesday", "not of the form"),
    ("２０２６-03-02T10:00", "not of the form"),
    ("0001-01-01T00:10+01:00", "outside the instants tgesc accepts, 1970-01-01 up to 9000-01-01 (UTC)"),
    ("9999-12-31T23:30-05:00", "outside the instants tgesc accepts"),  # year 10000 in UTC
    ("1969-12-31T23:59:59Z", "outside the instants tgesc accepts"),
    ("1970-01-01T00:30+01:00", "outside the instants tgesc accepts"),  # 1969 in UTC
    ("8999-12-31T23:30-01:00", "outside the instants tgesc accepts"),  # the year 9000 in UTC
])
def test_parse_instant_refuses(text, reason):
    with pytest.raises(InstantError) as caught:
        parse_instant(text, BERLIN)
    assert reason in str(caught.value)


def test_the_first_and_last_instants_accepted():
    assert parse_instant("1970-01-01T00:00Z", BERLIN) == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_instant("8999-12-31T23:59:59.999999Z", UTC) == datetime(9000, 1, 1, tzinfo=UTC) - timedelta.resolution


def test_parse_pause():
    assert parse_pause("2026-03-02T10:00/2026-03-02T11:30Z", BERLIN) == (
        datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime(2026, 3, 2, 11, 30, tzinfo=UTC))
    start, end = parse_pause("2026-03-02T10:00Z/2026-03-02T10:00Z", BERLIN)
    assert start == end  # an empty pause is allowed (it pauses nothing)
    for text, reason in [("2026-03-02T10:00", "write START/END"),
                         ("2026-03-02T11:00/2026-03-02T10:00", "ends before it starts"),
                         ("2026-03-02T10:00/", "is empty"),
                         ("2026-03-02T10:00/2026-03-02T11:00/2026-03-02T12:00", "not of the form")]:
        with pytest.raises(InstantError) as caught:
            parse_pause(text, BERLIN)
        assert reason in str(caught.value), text


@pytest.mark.parametrize(("text", "duration"), [
    ("90", timedelta(minutes=90)),
    ("0", timedelta(0)),
    ("1.5", timedelta(seconds=90)),
    ("0.1", timedelta(seconds=6)),
    (".25", timedelta(seconds=15)),
    ("5.", timedelta(minutes=5)),
    ("+007.50", timedelta(seconds=450)),
    ("0.00000005", timedelta(microseconds=3)),
    ("525600", timedelta(days=365)),
    (" 2880 ", timedelta(days=2)),
])
def test_parse_minutes_accepts(text, duration):
    assert parse_minutes(text) == duration


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("-5", "cannot be negative"),
    ("-0.5", "cannot be negative"),
    ("NaN", "not a finite number"),
    ("inf", "not a finite number"),
    ("+Infinity", "not a finite number"),
    ("1,5", "decimal separator"),
    ("90m", "without a unit"),
    ("1e3", "digits with an optional decimal point"),
    ("1_000", "digits with an optional decimal point"),
    (".", "digits with an optional decimal point"),
    ("0.00000001", "not a whole number of microseconds"),
    ("0.000000005", "whole number of microseconds"),
    ("99999999999999", "too large"),
    ("1440000000000", "too large"),
    ("525600.000001", "too large a budget: at most 525600 minutes (365d)"),
])
def test_parse_minutes_refuses(text, reason):
    with pytest.raises(InstantError) as caught:
        parse_minutes(text)
    assert reason in str(caught.value)


@pytest.mark.parametrize(("us", "minutes", "seconds"), [
    (5_430_000_000, "90.5", "5430"),
    (5_400_000_000, "90", "5400"),
    (0, "0", "0"),
    (10_000_000, "0.16666667", "10"),
    (1, "0.00000002", "0.000001"),
    (250_000, "0.00416667", "0.25"),
    (3, "0.00000005", "0.000003"),
])
def test_format_minutes_and_seconds(us, minutes, seconds):
    assert format_minutes(timedelta(microseconds=us)) == minutes
    assert format_seconds(timedelta(microseconds=us)) == seconds


MOMENT_NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "utc"), [
    ("30d", MOMENT_NOW - timedelta(days=30)),
    ("1h30m", MOMENT_NOW - timedelta(minutes=90)),
    (" 0s ", MOMENT_NOW),
    ("2026-03-02", datetime(2026, 3, 1, 23, 0, tzinfo=UTC)),  # midnight in Berlin
    ("2026-03-02T10:00", datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
    ("2026-03-02T10:00Z", datetime(2026, 3, 2, 10, 0, tzinfo=UTC)),
])
def test_a_window_end_is_a_duration_back_from_now_or_a_moment(text, utc):
    assert parse_moment_or_ago(text, BERLIN, MOMENT_NOW) == utc


@pytest.mark.parametrize(("text", "reason"), [
    ("400d", "longer than 365d, the longest duration tgesc accepts; or give an instant"),
    ("30", "is not an instant: it is not of the form DATE T TIME [OFFSET]"),
    ("-5d", "or a duration back from now, e.g. 30d, 36h or 1h30m"),
    ("yesterday", "or a duration back from now"),
    ("2026-02-30", "is not a date"),
])
def test_a_window_end_that_is_neither_is_refused(text, reason):
    with pytest.raises(InstantError, match=re.escape(reason)):
        parse_moment_or_ago(text, BERLIN, MOMENT_NOW)


def test_monday_of():
    assert monday_of(date(2026, 12, 24)) == date(2026, 12, 21)
    assert monday_of(date(2026, 12, 21)) == date(2026, 12, 21)
    assert monday_of(date(2026, 12, 27)) == date(2026, 12, 21)


# --- properties ----------------------------------------------------------------------------------

offsets = st.integers(min_value=-(24 * 3600 - 1), max_value=24 * 3600 - 1).map(
    lambda s: timezone(timedelta(seconds=s)))
instants = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(8999, 12, 30), timezones=offsets)
zones = st.sampled_from(ZONES)


@given(instants, zones, st.sampled_from(["T", " "]), st.sampled_from(["auto", "minutes", "seconds",
                                                                      "milliseconds", "microseconds"]))
def test_isoformat_of_an_aware_instant_round_trips(instant, zone, sep, timespec):
    text = instant.isoformat(sep=sep, timespec=timespec)
    expected = datetime.fromisoformat(text)  # timespec may have cut seconds or microseconds
    parsed = parse_instant(text, zone)
    assert parsed == expected
    assert parsed.utcoffset() == instant.utcoffset()


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(8999, 12, 30)), zones)
def test_isoformat_of_a_naive_time_is_read_in_the_zone(naive, zone):
    parsed = parse_instant(naive.isoformat(), zone)
    assert parsed.replace(tzinfo=None) == naive
    assert parsed.utcoffset() == naive.replace(tzinfo=zone, fold=0).utcoffset()


@given(instants)
def test_utc_with_z_round_trips(instant):
    text = instant.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    assert parse_instant(text, SHANGHAI) == instant


@given(instants, instants, zones)
def test_pauses_round_trip_in_order_and_refuse_reversed(a, b, zone):
    assume(a != b)
    early, late = sorted((a, b))
    assert parse_pause(f"{early.isoformat()}/{late.isoformat()}", zone) == (early, late)
    with pytest.raises(InstantError):
        parse_pause(f"{late.isoformat()}/{early.isoformat()}", zone)


junk = st.one_of(
    st.text(),
    st.text(alphabet="0123456789-+:TZz .,/ tW", max_size=40),
    st.builds(lambda d, s: d.isoformat() + s, st.datetimes(), st.text(max_size=5)),
)


@given(junk, zones)
def test_junk_instants_raise_instant_error_only(text, zone):
    try:
        result = parse_instant(text, zone)
    except InstantError:
        return
    assert result.tzinfo is not None


@given(junk, zones)
def test_junk_pauses_raise_instant_error_only(text, zone):
    try:
        start, end = parse_pause(text, zone)
    except InstantError:
        return
    assert start <= end


@given(st.one_of(st.text(), st.text(alphabet="0123456789.+-eEinfaINFA_, ", max_size=30),
                 st.decimals(allow_nan=True, allow_infinity=True).map(str)))
def test_junk_minutes_raise_instant_error_only(text):
    try:
        result = parse_minutes(text)
    except InstantError:
        return
    assert result >= timedelta(0)


@given(st.decimals(min_value=0, max_value=525_600, places=8, allow_nan=False, allow_infinity=False))
def test_decimal_minutes_are_exact(minutes):
    us = minutes * 60_000_000
    text = format(minutes, "f")
    if us == us.to_integral_value():
        assert parse_minutes(text) == timedelta(microseconds=int(us))
    else:
        with pytest.raises(InstantError, match="whole number of microseconds"):
            parse_minutes(text)


@given(st.integers(min_value=0, max_value=365 * 86400 * 10**6))
def test_formatted_minutes_and_seconds_are_exact(us):
    duration = timedelta(microseconds=us)
    assert Decimal(format_seconds(duration)) * 1_000_000 == us
    assert abs(Decimal(format_minutes(duration)) * 60_000_000 - us) < 1  # 8 decimals: within 0.3 µs
    if us % 3 == 0:  # then the exact number of minutes has at most 8 decimals
        assert parse_minutes(format_minutes(duration)) == duration

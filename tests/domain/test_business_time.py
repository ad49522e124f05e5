"""Business-time engine: hand-worked cases.

Every expected value below was worked out by hand from the calendar and the tz database (the DST facts
used are listed next to the cases); none was obtained by running the engine. Dates used:
2026-05-04 is a Monday (so 05-08 Fri, 05-09 Sat, 05-10 Sun, 05-11 Mon).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tgesc.domain.business_time import BusinessCalendar, CalendarError
from tgesc.domain.errors import ConfigInvalid
from tgesc.domain.hours import normalize_calendar

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = timedelta(days=1)
WEEKDAYS5 = ("mon", "tue", "wed", "thu", "fri")


def calendar(hours, tz="UTC", *, holidays=(), overrides=None, rule="close"):
    spec = {"timezone": tz, "hours": hours, "holidays": list(holidays), "overrides": overrides or {},
            "deadline_at_close": rule}
    return BusinessCalendar(normalize_calendar(spec))


def office(tz="UTC", rule="close", **kwargs):
    """Mon-Fri 09:00-17:00 (40 business hours a week)."""
    return calendar({day: ["09:00-17:00"] for day in WEEKDAYS5}, tz, rule=rule, **kwargs)


def lunch(rule="close"):
    """Mon-Fri 09:00-12:00 and 13:00-17:00 (7 hours a day)."""
    return calendar({day: ["09:00-12:00", "13:00-17:00"] for day in WEEKDAYS5}, rule=rule)


def always(tz="UTC", rule="close"):
    return calendar({day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}, tz, rule=rule)


def at(text: str, tz: str = "UTC") -> datetime:
    """The instant of a wall time in a zone (fold=0; for repeated hours use a UTC instant instead), in UTC.

    Instants are compared in UTC: Python compares and subtracts two datetimes of the same zone by wall
    time alone, and never finds a fold=1 time equal to a datetime of another zone (PEP 495)."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- office hours: within a day, overnight, weekends ------------------------------------------------------


@pytest.mark.parametrize(("start", "budget", "due"), [
    ("2026-05-04 10:00", 3 * H, "2026-05-04 13:00"),           # within Monday
    ("2026-05-04 10:00", 7 * H, "2026-05-04 17:00"),           # runs out at the close (rule: close)
    ("2026-05-04 10:17:30", 90 * M, "2026-05-04 11:47:30"),    # seconds survive
    ("2026-05-04 15:00", 4 * H, "2026-05-05 11:00"),           # 2 h Monday + 2 h Tuesday
    ("2026-05-04 09:00", 8 * H + M, "2026-05-05 09:01"),       # one full day and a minute
    ("2026-05-04 09:00", 40 * H, "2026-05-08 17:00"),          # the whole week
    ("2026-05-08 16:00", 2 * H, "2026-05-11 10:00"),           # Friday 1 h, weekend, Monday 1 h
    ("2026-05-09 12:00", H, "2026-05-11 10:00"),               # Saturday start counts from Monday 09:00
    ("2026-05-04 07:00", H, "2026-05-04 10:00"),               # before opening
    ("2026-05-04 18:00", H, "2026-05-05 10:00"),               # after closing
    ("2026-05-10 10:00", H, "2026-05-11 10:00"),               # on a closed day (Sunday)
    ("2026-05-04 09:00", H, "2026-05-04 10:00"),               # exactly at opening
    ("2026-05-04 17:00", H, "2026-05-05 10:00"),               # exactly at closing: [09:00, 17:00) is over
    ("2026-05-08 17:00", 30 * M, "2026-05-11 09:30"),          # Friday's close
])
def test_office_due(start, budget, due):
    assert office().due(utc(start), budget) == utc(due)


@pytest.mark.parametrize(("start", "end", "elapsed"), [
    ("2026-05-04 10:00", "2026-05-04 13:00", 3 * H),
    ("2026-05-04 15:00", "2026-05-05 11:00", 4 * H),
    ("2026-05-04 07:00", "2026-05-04 20:00", 8 * H),           # the whole day, no more
    ("2026-05-08 16:00", "2026-05-11 10:00", 2 * H),           # the weekend counts nothing
    ("2026-05-09 00:00", "2026-05-11 00:00", timedelta(0)),
    ("2026-05-04 00:00", "2026-05-18 00:00", 80 * H),          # two weeks
    ("2026-05-04 13:00", "2026-05-04 10:00", timedelta(0)),    # end before start
    ("2026-05-04 13:00", "2026-05-04 13:00", timedelta(0)),
])
def test_office_elapsed(start, end, elapsed):
    assert office().elapsed(utc(start), utc(end)) == elapsed


def test_due_keeps_the_zone_of_the_start():
    berlin = office("Europe/Berlin")
    start = datetime(2026, 5, 4, 16, tzinfo=ZoneInfo("Europe/Berlin"))          # CEST, +02:00
    due = berlin.due(start, 2 * H)
    assert due.tzinfo is start.tzinfo and (due.hour, due.utcoffset()) == (10, 2 * H)
    assert berlin.due(start.astimezone(UTC), 2 * H) == utc("2026-05-05 08:00")
    # A due instant in a repeated hour comes back as the fold=1 wall time of the zone: the instant is
    # right (Sao Paulo 24/7: 2019-02-16 12:00 -02 = 14:00Z, + 12 h = 02-17 02:00Z, the second 23:00).
    sao_paulo = always("America/Sao_Paulo")
    due = sao_paulo.due(datetime(2019, 2, 16, 12, tzinfo=ZoneInfo("America/Sao_Paulo")), 12 * H)
    assert (due.hour, due.fold, due.utcoffset()) == (23, 1, -3 * H)
    assert due.astimezone(UTC) == utc("2019-02-17 02:00")


def test_local_hours_not_utc_hours():
    # 09:00-17:00 in Berlin (CEST in May) is 07:00Z-15:00Z.
    berlin = office("Europe/Berlin")
    assert berlin.due(utc("2026-05-04 06:00"), H) == utc("2026-05-04 08:00")
    assert berlin.elapsed(utc("2026-05-04 00:00"), utc("2026-05-04 14:00")) == 7 * H


# --- holidays and overrides ---------------------------------------------------------------------------------


def test_holiday_skips_the_day():
    cal = office(holidays=["2026-05-05"])
    assert cal.due(utc("2026-05-04 16:00"), 2 * H) == utc("2026-05-06 10:00")   # Mon 1 h, Tue closed, Wed 1 h
    assert cal.due(utc("2026-05-05 10:00"), H) == utc("2026-05-06 10:00")       # start on the holiday
    assert cal.elapsed(utc("2026-05-04 00:00"), utc("2026-05-11 00:00")) == 32 * H
    assert not cal.is_open(utc("2026-05-05 12:00"))


def test_holiday_on_a_friday_and_the_next_monday():
    cal = office(holidays=["2026-05-08", "2026-05-11"])
    # Thu 16:00 + 2 h: Thu 1 h, Fri/Sat/Sun/Mon closed, Tue 1 h.
    assert cal.due(utc("2026-05-07 16:00"), 2 * H) == utc("2026-05-12 10:00")


def test_override_opens_a_sunday():
    cal = office(overrides={"2026-05-10": ["10:00-14:00"]})
    # Sat 12:00 + 5 h: Sunday 10-14 gives 4 h, Monday 09-10 the last hour.
    assert cal.due(utc("2026-05-09 12:00"), 5 * H) == utc("2026-05-11 10:00")
    assert cal.due(utc("2026-05-08 17:00"), 0 * H) == utc("2026-05-10 10:00")
    assert cal.elapsed(utc("2026-05-04 00:00"), utc("2026-05-11 00:00")) == 44 * H
    assert cal.next_open(utc("2026-05-10 14:00")) == utc("2026-05-11 09:00")


def test_empty_override_closes_a_weekday():
    cal = office(overrides={"2026-05-06": []})
    assert cal.due(utc("2026-05-05 16:00"), 2 * H) == utc("2026-05-07 10:00")   # Tue 1 h, Wed closed, Thu 1 h
    assert cal.elapsed(utc("2026-05-04 00:00"), utc("2026-05-09 00:00")) == 32 * H


def test_override_shortens_a_weekday():
    cal = office(overrides={"2026-05-07": ["09:00-12:00"]})
    assert cal.due(utc("2026-05-07 11:00"), 2 * H) == utc("2026-05-08 10:00")   # Thu 11-12, Fri 09-10
    assert cal.elapsed(utc("2026-05-07 00:00"), utc("2026-05-08 00:00")) == 3 * H


def test_override_with_lunch_and_late_hours():
    cal = office(overrides={"2026-05-07": ["08:00-10:00", "18:00-20:00"]})
    # Thu 09:30 + 2 h: 09:30-10:00 (0.5 h), closed 10-18, 18:00-19:30 (1.5 h).
    assert cal.due(utc("2026-05-07 09:30"), 2 * H) == utc("2026-05-07 19:30")


# --- lunch breaks and deadline_at_close ------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "budget", "due"), [
    ("2026-05-04 11:00", 2 * H, "2026-05-04 14:00"),           # 1 h before lunch, 1 h after
    ("2026-05-04 12:30", H, "2026-05-04 14:00"),               # starts in the lunch break
    ("2026-05-04 12:00", H, "2026-05-04 14:00"),               # exactly at the lunch close
    ("2026-05-04 13:00", H, "2026-05-04 14:00"),               # exactly at the reopening
    ("2026-05-04 09:00", 7 * H + M, "2026-05-05 09:01"),       # a full 7-hour day and a minute
])
def test_lunch_due(start, budget, due):
    assert lunch().due(utc(start), budget) == utc(due)


def test_lunch_elapsed():
    assert lunch().elapsed(utc("2026-05-04 11:00"), utc("2026-05-04 14:00")) == 2 * H
    assert lunch().elapsed(utc("2026-05-04 00:00"), utc("2026-05-05 00:00")) == 7 * H
    assert lunch().elapsed(utc("2026-05-04 12:10"), utc("2026-05-04 12:50")) == timedelta(0)


@pytest.mark.parametrize(("start", "budget", "at_close", "at_next_open"), [
    ("2026-05-04 11:00", H, "2026-05-04 12:00", "2026-05-04 13:00"),        # runs out at lunch
    ("2026-05-04 09:00", 3 * H, "2026-05-04 12:00", "2026-05-04 13:00"),
    ("2026-05-04 16:00", H, "2026-05-04 17:00", "2026-05-05 09:00"),        # runs out at the evening close
    ("2026-05-04 09:00", 7 * H, "2026-05-04 17:00", "2026-05-05 09:00"),    # a whole day
    ("2026-05-08 16:00", H, "2026-05-08 17:00", "2026-05-11 09:00"),        # end of Friday -> Monday
    ("2026-05-04 11:00", 30 * M, "2026-05-04 11:30", "2026-05-04 11:30"),   # inside: no difference
])
def test_deadline_at_close_rules(start, budget, at_close, at_next_open):
    assert lunch("close").due(utc(start), budget) == utc(at_close)
    assert lunch("next-open").due(utc(start), budget) == utc(at_next_open)
    # Both instants are `budget` of business time after the start.
    assert lunch("close").elapsed(utc(start), utc(at_close)) == budget
    assert lunch("next-open").elapsed(utc(start), utc(at_next_open)) == budget


def test_next_open_rule_with_holiday_after_the_close():
    cal = office(rule="next-open", holidays=["2026-05-11"])
    assert cal.due(utc("2026-05-08 16:00"), H) == utc("2026-05-12 09:00")   # Fri close -> Tue (Mon holiday)


def test_touching_intervals_are_continuous_under_both_rules():
    hours = {"mon": ["09:00-12:00", "12:00-17:00"]}
    for rule in ("close", "next-open"):
        assert calendar(hours, rule=rule).due(utc("2026-05-04 11:00"), H) == utc("2026-05-04 12:00")
    # 24:00 on Monday touches 00:00 on Tuesday.
    hours = {"mon": ["18:00-24:00"], "tue": ["00:00-06:00"]}
    for rule in ("close", "next-open"):
        cal = calendar(hours, rule=rule)
        assert cal.due(utc("2026-05-04 23:00"), H) == utc("2026-05-05 00:00")
        assert cal.due(utc("2026-05-04 23:00"), 3 * H) == utc("2026-05-05 02:00")
    assert calendar(hours).elapsed(utc("2026-05-04 00:00"), utc("2026-05-06 00:00")) == 12 * H


def test_next_open_rule_at_a_24_00_close_followed_by_a_closed_morning():
    cal = calendar({"mon": ["18:00-24:00"], "tue": ["09:00-10:00"]}, rule="next-open")
    assert cal.due(utc("2026-05-04 23:00"), H) == utc("2026-05-05 09:00")
    assert calendar({"mon": ["18:00-24:00"], "tue": ["09:00-10:00"]}).due(utc("2026-05-04 23:00"), H) \
        == utc("2026-05-05 00:00")


# --- zero budgets -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["close", "next-open"])
@pytest.mark.parametrize(("start", "due"), [
    ("2026-05-04 10:00", "2026-05-04 10:00"),    # in business time: the start itself
    ("2026-05-04 09:00", "2026-05-04 09:00"),    # the opening instant is open
    ("2026-05-04 07:00", "2026-05-04 09:00"),    # before opening
    ("2026-05-04 12:00", "2026-05-04 13:00"),    # the lunch close is not open
    ("2026-05-04 17:00", "2026-05-05 09:00"),    # the evening close is not open
    ("2026-05-08 17:00", "2026-05-11 09:00"),
    ("2026-05-09 10:00", "2026-05-11 09:00"),    # Saturday
])
def test_zero_budget(rule, start, due):
    cal = lunch(rule)
    assert cal.due(utc(start), timedelta(0)) == utc(due)
    assert cal.next_open(utc(start)) == utc(due)
    assert cal.is_open(utc(start)) == (start == due)


def test_negative_budget_and_naive_instants_are_refused():
    with pytest.raises(ValueError, match="negative"):
        office().due(utc("2026-05-04 10:00"), -M)
    with pytest.raises(ValueError, match="naive"):
        office().due(datetime(2026, 5, 4, 10), H)
    with pytest.raises(ValueError, match="naive"):
        office().elapsed(utc("2026-05-04 10:00"), datetime(2026, 5, 4, 12))


# --- pauses ------------------------------------------------------------------------------------------------


def pause(a: str, b: str) -> tuple[datetime, datetime]:
    return utc(a), utc(b)


def test_pause_inside_an_interval():
    p = [pause("2026-05-04 10:30", "2026-05-04 11:00")]
    assert office().due(utc("2026-05-04 10:00"), 2 * H, p) == utc("2026-05-04 12:30")
    assert office().elapsed(utc("2026-05-04 10:00"), utc("2026-05-04 13:00"), p) == 150 * M


def test_pause_spanning_a_close():
    p = [pause("2026-05-04 16:30", "2026-05-05 09:30")]
    # Mon 16:00-16:30 counts 0.5 h; the remaining 1.5 h from Tue 09:30.
    assert office().due(utc("2026-05-04 16:00"), 2 * H, p) == utc("2026-05-05 11:00")
    assert office().elapsed(utc("2026-05-04 16:00"), utc("2026-05-05 11:00"), p) == 2 * H


def test_overlapping_pauses_count_once():
    p = [pause("2026-05-04 10:30", "2026-05-04 11:30"), pause("2026-05-04 11:00", "2026-05-04 12:00")]
    # Together they pause 10:30-12:00: 0.5 h before, 1.5 h from 12:00.
    assert office().due(utc("2026-05-04 10:00"), 2 * H, p) == utc("2026-05-04 13:30")
    assert office().elapsed(utc("2026-05-04 10:00"), utc("2026-05-04 13:30"), p) == 2 * H
    # Touching pauses merge too (order of the list does not matter).
    p = [pause("2026-05-04 11:00", "2026-05-04 12:00"), pause("2026-05-04 10:00", "2026-05-04 11:00")]
    assert office().due(utc("2026-05-04 09:00"), 2 * H, p) == utc("2026-05-04 13:00")


def test_pause_covering_the_start():
    p = [pause("2026-05-04 09:00", "2026-05-04 11:00")]
    assert office().due(utc("2026-05-04 10:00"), H, p) == utc("2026-05-04 12:00")
    assert office().due(utc("2026-05-04 10:00"), timedelta(0), p) == utc("2026-05-04 11:00")


def test_pause_in_closed_time_changes_nothing():
    p = [pause("2026-05-09 00:00", "2026-05-11 09:00")]
    assert office().due(utc("2026-05-08 16:00"), 2 * H, p) == utc("2026-05-11 10:00")


def test_pause_start_is_a_close_for_the_deadline_rule():
    p = [pause("2026-05-04 11:00", "2026-05-04 11:30")]
    assert office(rule="close").due(utc("2026-05-04 10:00"), H, p) == utc("2026-05-04 11:00")
    assert office(rule="next-open").due(utc("2026-05-04 10:00"), H, p) == utc("2026-05-04 11:30")


def test_empty_pause_is_ignored_and_reversed_pause_refused():
    p = [pause("2026-05-04 10:30", "2026-05-04 10:30")]
    assert office().due(utc("2026-05-04 10:00"), H, p) == utc("2026-05-04 11:00")
    with pytest.raises(ValueError, match="ends before it starts"):
        office().due(utc("2026-05-04 10:00"), H, [pause("2026-05-04 11:00", "2026-05-04 10:00")])
    with pytest.raises(ValueError, match="ends before it starts"):
        reversed_pause = [pause("2026-05-04 11:00", "2026-05-04 10:00")]
        office().elapsed(utc("2026-05-04 10:00"), utc("2026-05-04 12:00"), reversed_pause)


def test_long_pause_over_several_weeks():
    p = [pause("2026-05-04 12:00", "2026-05-25 12:00")]   # three weeks, Monday noon to Monday noon
    assert office().due(utc("2026-05-04 09:00"), 8 * H, p) == utc("2026-05-25 17:00")
    assert office().elapsed(utc("2026-05-04 09:00"), utc("2026-05-25 17:00"), p) == 8 * H


# --- 24/7 ----------------------------------------------------------------------------------------------------


def test_always_open_utc():
    cal = always()
    assert cal.due(utc("2026-05-04 10:00"), 50 * H) == utc("2026-05-06 12:00")
    assert cal.elapsed(utc("2026-05-04 10:00"), utc("2026-05-11 10:00")) == 7 * DAY
    for rule in ("close", "next-open"):           # midnight is not a close: days touch
        assert always(rule=rule).due(utc("2026-05-04 00:00"), DAY) == utc("2026-05-05 00:00")
    assert cal.next_open(utc("2026-05-09 03:00")) == utc("2026-05-09 03:00")


# --- multi-year budgets ----------------------------------------------------------------------------------------


def test_two_years_of_office_hours():
    # 730 days = 17520 h = 438 weeks of 40 h. From Monday 2026-05-04 09:00 the budget runs out at the
    # close of the 438th Friday: 2026-05-04 + 437 weeks + 4 days = 2034-09-22 17:00, and with next-open
    # on the Monday after, 2034-09-25 09:00 (2026-05-04 + 438 weeks).
    start = utc("2026-05-04 09:00")
    assert office().due(start, 730 * DAY) == utc("2034-09-22 17:00")
    assert office(rule="next-open").due(start, 730 * DAY) == utc("2034-09-25 09:00")
    assert office().elapsed(start, utc("2034-09-22 17:00")) == 730 * DAY


def test_two_years_of_local_office_hours_across_dst_and_holidays():
    # Each week from a Wednesday 13:00 to the next holds exactly 40 h, so 438 weeks later: Wednesday
    # 2034-09-27 13:00 Berlin time (CEST), whatever the DST changes in between (hours are local).
    start = at("2026-05-06 13:00", "Europe/Berlin")
    assert office("Europe/Berlin").due(start, 730 * DAY) == at("2034-09-27 13:00", "Europe/Berlin")
    assert at("2034-09-27 13:00", "Europe/Berlin") == utc("2034-09-27 11:00")
    # A weekday holiday (Fri 2027-12-24) costs one day: Thursday; the Saturday one (12-25) costs nothing.
    cal = office("Europe/Berlin", holidays=["2027-12-24", "2027-12-25"])
    assert cal.due(start, 730 * DAY) == at("2034-09-28 13:00", "Europe/Berlin")
    assert cal.elapsed(start, at("2034-09-28 13:00", "Europe/Berlin")) == 730 * DAY


def test_two_years_on_a_24_7_calendar_across_dst():
    # 24/7: every real second counts, so the due instant is start + budget in real (UTC) time.
    # 2026-01-01 00:00 CET = 2025-12-31 23:00Z; + 730 x 24 h (2026, 2027: 365 days each) = 2027-12-31 23:00Z,
    # which is 2028-01-01 00:00 CET.
    cal = always("Europe/Berlin")
    start = at("2026-01-01 00:00", "Europe/Berlin")
    assert cal.due(start, 730 * DAY) == utc("2027-12-31 23:00")
    assert cal.due(start, 730 * DAY) == at("2028-01-01 00:00", "Europe/Berlin")
    # Winter to summer: 2026-01-15 12:00 CET = 11:00Z; + 180 x 24 h = 2026-07-14 11:00Z = 13:00 CEST.
    assert cal.due(at("2026-01-15 12:00", "Europe/Berlin"), 180 * DAY) == at("2026-07-14 13:00", "Europe/Berlin")
    assert cal.elapsed(at("2026-01-01 00:00", "Europe/Berlin"), at("2027-01-01 00:00", "Europe/Berlin")) == 365 * DAY
    # New York: 2026-01-05 09:00 EST = 14:00Z; + 400 days = 2027-02-09 14:00Z = 09:00 EST.
    ny = always("America/New_York")
    assert ny.due(at("2026-01-05 09:00", "America/New_York"), 400 * DAY) == at("2027-02-09 09:00", "America/New_York")


# --- calendars without open time ----------------------------------------------------------------------------


def test_calendar_without_open_time_is_an_error():
    with pytest.raises(CalendarError, match="no open hours"):
        BusinessCalendar({"timezone": "UTC", "hours": {}})
    with pytest.raises(CalendarError):
        BusinessCalendar({"timezone": "UTC", "hours": {"mon": []}, "holidays": ["2026-05-04"],
                          "overrides": {"2026-05-05": []}})
    with pytest.raises(ConfigInvalid):   # the configuration check refuses it before that
        normalize_calendar({"timezone": "UTC", "hours": {}})


def test_override_only_calendar_errors_past_its_last_override():
    cal = BusinessCalendar({"timezone": "UTC", "hours": {},
                            "overrides": {"2026-05-04": ["09:00-17:00"], "2026-05-06": ["10:00-12:00"],
                                          "2026-05-07": []}})
    assert cal.due(utc("2026-05-04 16:00"), 2 * H) == utc("2026-05-06 11:00")   # 1 h on the 4th, 1 h on the 6th
    assert cal.due(utc("2026-05-01 00:00"), timedelta(0)) == utc("2026-05-04 09:00")
    assert cal.due(utc("2026-05-06 11:00"), H) == utc("2026-05-06 12:00")       # exactly the last hour
    assert cal.elapsed(utc("2026-05-01 00:00"), utc("2026-06-01 00:00")) == 10 * H
    with pytest.raises(CalendarError, match="no business time after 2026-05-06"):
        cal.due(utc("2026-05-06 11:00"), 2 * H)
    with pytest.raises(CalendarError):
        cal.due(utc("2026-05-08 00:00"), timedelta(0))
    with pytest.raises(CalendarError):
        cal.due(utc("2026-05-01 00:00"), 400 * DAY)
    nxt = BusinessCalendar({"timezone": "UTC", "overrides": {"2026-05-06": ["10:00-12:00"]},
                            "deadline_at_close": "next-open"})
    with pytest.raises(CalendarError):   # runs out at the last close: there is no next opening
        nxt.due(utc("2026-05-06 11:00"), H)


# --- week() ---------------------------------------------------------------------------------------------------


def test_week_lists_the_open_intervals():
    cal = office(holidays=["2026-05-05"], overrides={"2026-05-10": ["10:00-14:00"]})
    zone = ZoneInfo("UTC")
    week = cal.week(date(2026, 5, 4))
    assert week == [
        (datetime(2026, 5, 4, 9, tzinfo=zone), datetime(2026, 5, 4, 17, tzinfo=zone)),
        (datetime(2026, 5, 6, 9, tzinfo=zone), datetime(2026, 5, 6, 17, tzinfo=zone)),
        (datetime(2026, 5, 7, 9, tzinfo=zone), datetime(2026, 5, 7, 17, tzinfo=zone)),
        (datetime(2026, 5, 8, 9, tzinfo=zone), datetime(2026, 5, 8, 17, tzinfo=zone)),
        (datetime(2026, 5, 10, 10, tzinfo=zone), datetime(2026, 5, 10, 14, tzinfo=zone)),
    ]
    assert len(lunch().week(date(2026, 5, 4))) == 10


def test_week_across_spring_forward():
    # Berlin 24/7, week of Monday 2026-03-23: Sunday 03-29 runs from 00:00 CET (03-28 23:00Z) to
    # Monday 00:00 CEST (03-29 22:00Z), 23 h; the week holds 6 x 24 + 23 = 167 h.
    week = always("Europe/Berlin").week(date(2026, 3, 23))
    assert len(week) == 7
    assert (week[-1][0], week[-1][1]) == (utc("2026-03-28 23:00"), utc("2026-03-29 22:00"))
    assert sum((b.astimezone(UTC) - a.astimezone(UTC) for a, b in week), timedelta(0)) == 167 * H
    assert week[-1][1].utcoffset() == 2 * H


# --- DST: Europe/Berlin (2026-03-29 02:00 CET -> 03:00 CEST at 01:00Z; 2026-10-25 03:00 CEST -> 02:00 CET
#     at 01:00Z) ------------------------------------------------------------------------------------------


def test_berlin_spring_forward_24_7():
    cal = always("Europe/Berlin")
    # 03-29 00:00 CET = 03-28 23:00Z; 03-30 00:00 CEST = 03-29 22:00Z: a 23-hour day.
    assert cal.elapsed(at("2026-03-29 00:00", "Europe/Berlin"), at("2026-03-30 00:00", "Europe/Berlin")) == 23 * H
    assert cal.due(at("2026-03-29 00:00", "Europe/Berlin"), 24 * H) == at("2026-03-30 01:00", "Europe/Berlin")
    assert cal.due(at("2026-03-29 01:30", "Europe/Berlin"), H) == at("2026-03-29 03:30", "Europe/Berlin")


def test_berlin_fall_back_24_7():
    cal = always("Europe/Berlin")
    # 10-25 00:00 CEST = 10-24 22:00Z; 10-26 00:00 CET = 10-25 23:00Z: a 25-hour day.
    assert cal.elapsed(at("2026-10-25 00:00", "Europe/Berlin"), at("2026-10-26 00:00", "Europe/Berlin")) == 25 * H
    assert cal.due(at("2026-10-25 00:00", "Europe/Berlin"), 24 * H) == at("2026-10-25 23:00", "Europe/Berlin")


def test_berlin_office_hours_over_the_transitions():
    spring = calendar({"sun": ["01:00-05:00"]}, "Europe/Berlin")
    # 01:00 CET = 00:00Z, 05:00 CEST = 03:00Z: 3 real hours.
    assert spring.elapsed(utc("2026-03-28 00:00"), utc("2026-03-30 00:00")) == 3 * H
    assert spring.due(utc("2026-03-28 12:00"), 2 * H) == utc("2026-03-29 02:00")        # 04:00 CEST
    assert spring.due(utc("2026-03-28 12:00"), 3 * H) == utc("2026-03-29 03:00")        # the close, 05:00 CEST
    # Autumn: 01:00 CEST = 10-24 23:00Z, 05:00 CET = 04:00Z: 5 real hours.
    assert spring.elapsed(utc("2026-10-24 12:00"), utc("2026-10-26 00:00")) == 5 * H
    # An ordinary Sunday (2026-05-10, CEST throughout): 4 hours.
    assert spring.elapsed(utc("2026-05-09 12:00"), utc("2026-05-11 00:00")) == 4 * H
    # Office hours on a weekday: a Friday-to-Monday deadline over the spring weekend stays at local 10:00.
    cal = office("Europe/Berlin")
    assert cal.due(at("2026-03-27 16:00", "Europe/Berlin"), 2 * H) == utc("2026-03-30 08:00")   # 10:00 CEST


def test_berlin_opening_inside_the_gap():
    cal = calendar({"sun": ["02:30-06:00"]}, "Europe/Berlin")
    # 02:30 does not exist on 03-29; fold=0 maps it to 01:30Z (03:30 CEST). 06:00 CEST = 04:00Z: 2.5 h.
    assert cal.next_open(utc("2026-03-29 00:00")) == utc("2026-03-29 01:30")
    assert cal.due(utc("2026-03-29 00:00"), H) == utc("2026-03-29 02:30")
    assert cal.elapsed(utc("2026-03-28 00:00"), utc("2026-03-30 00:00")) == 150 * M
    assert not cal.is_open(utc("2026-03-29 01:15"))   # 03:15 CEST, wall time past 02:30 but before the opening
    # An ordinary Sunday has 3.5 h.
    assert cal.elapsed(utc("2026-03-21 00:00"), utc("2026-03-23 00:00")) == 210 * M


def test_berlin_close_inside_the_gap_overlapping_the_next_interval():
    # Regression: "01:00-02:30" ends at 01:30Z (02:30 in the gap, fold=0) while "03:00-05:00" starts at
    # 01:00Z (03:00 CEST). The union is 00:00Z-03:00Z, 3 h, and the overlap must count once.
    cal = calendar({"sun": ["01:00-02:30", "03:00-05:00"]}, "Europe/Berlin")
    start = utc("2026-03-29 00:00")
    assert cal.elapsed(start, utc("2026-03-29 05:00")) == 3 * H
    assert cal.due(start, 90 * M) == utc("2026-03-29 01:30")
    assert cal.due(start, 95 * M) == utc("2026-03-29 01:35")
    assert cal.due(start, 3 * H) == utc("2026-03-29 03:00")
    assert cal.week(date(2026, 3, 23)) == [(utc("2026-03-29 00:00"), utc("2026-03-29 03:00"))]


def test_berlin_ambiguous_opening_and_closing():
    # 02:00-03:00 happens twice on 10-25: first in CEST (00:00Z-01:00Z), then in CET (01:00Z-02:00Z).
    # An ambiguous wall time means its first occurrence.
    opening = calendar({"sun": ["02:30-04:00"]}, "Europe/Berlin")
    # 02:30 CEST = 00:30Z; 04:00 CET = 03:00Z: 2.5 h, and the second 02:15 (01:15Z) is open.
    assert opening.next_open(utc("2026-10-25 00:00")) == utc("2026-10-25 00:30")
    assert opening.elapsed(utc("2026-10-24 00:00"), utc("2026-10-26 00:00")) == 150 * M
    assert opening.is_open(utc("2026-10-25 01:15"))
    closing = calendar({"sun": ["00:00-02:30"]}, "Europe/Berlin")
    # 00:00 CEST = 10-24 22:00Z; 02:30 CEST = 00:30Z: 2.5 h, and the second 02:15 is closed.
    assert closing.elapsed(utc("2026-10-24 00:00"), utc("2026-10-26 00:00")) == 150 * M
    assert not closing.is_open(utc("2026-10-25 01:15"))
    assert closing.due(utc("2026-10-24 12:00"), 2 * H) == utc("2026-10-25 00:00")


# --- DST: America/New_York (2026-03-08 02:00 EST -> 03:00 EDT at 07:00Z; 2026-11-01 02:00 EDT -> 01:00 EST
#     at 06:00Z) --------------------------------------------------------------------------------------------


def test_new_york_24_7():
    cal = always("America/New_York")
    # 03-08 00:00 EST = 05:00Z, 03-09 00:00 EDT = 04:00Z: 23 h.
    assert cal.elapsed(at("2026-03-08 00:00", "America/New_York"), at("2026-03-09 00:00", "America/New_York")) \
        == 23 * H
    # 11-01 00:00 EDT = 04:00Z, 11-02 00:00 EST = 05:00Z: 25 h; 24 h after the midnight is 23:00 EST.
    assert cal.elapsed(at("2026-11-01 00:00", "America/New_York"), at("2026-11-02 00:00", "America/New_York")) \
        == 25 * H
    assert cal.due(at("2026-11-01 00:00", "America/New_York"), 24 * H) == utc("2026-11-02 04:00")
    assert cal.due(at("2026-11-01 00:00", "America/New_York"), 24 * H) == at("2026-11-01 23:00", "America/New_York")


def test_new_york_office_hours_over_the_transitions():
    cal = calendar({"sun": ["00:00-06:00"]}, "America/New_York")
    # Spring: 05:00Z to 06:00 EDT = 10:00Z, 5 h. Autumn: 04:00Z to 06:00 EST = 11:00Z, 7 h.
    assert cal.elapsed(utc("2026-03-07 12:00"), utc("2026-03-09 12:00")) == 5 * H
    assert cal.elapsed(utc("2026-10-31 12:00"), utc("2026-11-02 12:00")) == 7 * H
    assert cal.due(utc("2026-03-07 12:00"), 3 * H) == utc("2026-03-08 08:00")   # 04:00 EDT
    assert cal.due(utc("2026-10-31 12:00"), 3 * H) == utc("2026-11-01 07:00")   # 02:00 EST, the second 01:00 went by
    # Weekday office hours over the spring weekend: Fri 16:00 EST + 2 h = Mon 10:00 EDT = 14:00Z.
    assert office("America/New_York").due(at("2026-03-06 16:00", "America/New_York"), 2 * H) \
        == utc("2026-03-09 14:00")


def test_new_york_opening_inside_the_gap():
    cal = calendar({"sun": ["02:30-05:00"]}, "America/New_York")
    # 02:30 -> fold=0 EST offset: 07:30Z (03:30 EDT); 05:00 EDT = 09:00Z: 1.5 h.
    assert cal.next_open(utc("2026-03-08 00:00")) == utc("2026-03-08 07:30")
    assert cal.elapsed(utc("2026-03-08 00:00"), utc("2026-03-09 00:00")) == 90 * M
    assert cal.due(utc("2026-03-08 00:00"), 90 * M) == utc("2026-03-08 09:00")


# --- DST: Asia/Tehran (tz data: 2021-03-21 20:30Z, 03-22 00:00 +0330 -> 01:00 +0430; 2021-09-21 19:30Z,
#     09-22 00:00 +0430 -> 09-21 23:00 +0330, so 23:00-24:00 on Tuesday 09-21 happens twice) -------------------


def test_tehran_24_7():
    cal = always("Asia/Tehran")
    # Monday 03-22: 00:00 (in the gap, +0330) = 03-21 20:30Z; 03-23 00:00 +0430 = 03-22 19:30Z: 23 h.
    assert cal.elapsed(at("2021-03-22 00:00", "Asia/Tehran"), at("2021-03-23 00:00", "Asia/Tehran")) == 23 * H
    assert cal.due(utc("2021-03-21 20:30"), 24 * H) == at("2021-03-23 01:00", "Asia/Tehran")
    # Tuesday 09-21: 00:00 +0430 = 09-20 19:30Z; 09-22 00:00 +0330 = 09-21 20:30Z: 25 h.
    assert cal.elapsed(at("2021-09-21 00:00", "Asia/Tehran"), at("2021-09-22 00:00", "Asia/Tehran")) == 25 * H
    assert cal.due(at("2021-09-21 00:00", "Asia/Tehran"), 24 * H) == utc("2021-09-21 19:30")


def test_tehran_office_hours_over_the_transitions():
    monday = calendar({"mon": ["00:00-06:00"]}, "Asia/Tehran")
    # 03-22 00:00 -> 20:30Z (the jump), 06:00 +0430 = 01:30Z: 5 h.
    assert monday.elapsed(utc("2021-03-21 00:00"), utc("2021-03-23 00:00")) == 5 * H
    assert monday.next_open(utc("2021-03-21 12:00")) == utc("2021-03-21 20:30")
    evening = calendar({"tue": ["20:00-24:00"]}, "Asia/Tehran")
    # 09-21 20:00 +0430 = 15:30Z; 24:00 = 09-22 00:00 +0330 = 20:30Z: 5 h.
    assert evening.elapsed(utc("2021-09-21 00:00"), utc("2021-09-22 00:00")) == 5 * H
    assert evening.due(utc("2021-09-21 00:00"), 4 * H) == utc("2021-09-21 19:30")
    # Sunday 20:00 to Monday 02:00 over the spring gap is continuous: 20:00 +0330 = 16:30Z, the Sunday
    # 24:00 and the Monday 00:00 are both 20:30Z, Monday 02:00 +0430 = 21:30Z.
    # The whole 5 h runs out at Monday 02:00: close 21:30Z; next-open the next Sunday 20:00 +0430 = 03-28 15:30Z.
    for rule, five_hours in (("close", "2021-03-21 21:30"), ("next-open", "2021-03-28 15:30")):
        night = calendar({"sun": ["20:00-24:00"], "mon": ["00:00-02:00"]}, "Asia/Tehran", rule=rule)
        assert night.due(utc("2021-03-21 16:30"), 4 * H) == utc("2021-03-21 20:30")
        assert night.due(utc("2021-03-21 16:30"), 5 * H) == utc(five_hours)
        assert night.elapsed(utc("2021-03-21 00:00"), utc("2021-03-22 12:00")) == 5 * H


def test_tehran_opening_in_the_gap_and_in_the_repeated_hour():
    gap = calendar({"mon": ["00:30-06:00"]}, "Asia/Tehran")
    # 00:30 on 03-22 does not exist; fold=0 (+0330) gives 21:00Z (01:30 +0430). Until 01:30Z: 4.5 h.
    assert gap.next_open(utc("2021-03-21 12:00")) == utc("2021-03-21 21:00")
    assert gap.elapsed(utc("2021-03-21 00:00"), utc("2021-03-23 00:00")) == 270 * M
    repeated = calendar({"tue": ["23:30-24:00"]}, "Asia/Tehran")
    # 23:30 on 09-21 first occurs at +0430 = 19:00Z; the close is 20:30Z: 1.5 h.
    assert repeated.next_open(utc("2021-09-21 12:00")) == utc("2021-09-21 19:00")
    assert repeated.elapsed(utc("2021-09-21 00:00"), utc("2021-09-22 00:00")) == 90 * M
    assert repeated.due(utc("2021-09-21 12:00"), H) == utc("2021-09-21 20:00")   # 23:30 +0330, second time round


# --- DST: America/Sao_Paulo (2018-11-04 00:00 -03 -> 01:00 -02 at 03:00Z; 2019-02-17 00:00 -02 ->
#     02-16 23:00 -03 at 02:00Z, so 23:00-24:00 on Saturday 02-16 happens twice) ---------------------------------


def test_sao_paulo_24_7():
    cal = always("America/Sao_Paulo")
    # Sunday 2018-11-04: 00:00 (in the gap, -03) = 03:00Z; 11-05 00:00 -02 = 02:00Z: 23 h.
    assert cal.elapsed(at("2018-11-04 00:00", "America/Sao_Paulo"), at("2018-11-05 00:00", "America/Sao_Paulo")) \
        == 23 * H
    # Saturday 2019-02-16: 00:00 -02 = 02:00Z; 02-17 00:00 -03 = 03:00Z (next day): 25 h.
    assert cal.elapsed(at("2019-02-16 00:00", "America/Sao_Paulo"), at("2019-02-17 00:00", "America/Sao_Paulo")) \
        == 25 * H
    # 12:00 -02 = 14:00Z; + 12 h = 02-17 02:00Z, the second 23:00 (-03); at(..23:00) would be the first one.
    assert cal.due(at("2019-02-16 12:00", "America/Sao_Paulo"), 12 * H) == utc("2019-02-17 02:00")


def test_sao_paulo_office_hours_over_the_transitions():
    sunday = calendar({"sun": ["00:00-06:00"]}, "America/Sao_Paulo")
    # 00:00 -> 03:00Z, 06:00 -02 = 08:00Z: 5 h.
    assert sunday.elapsed(utc("2018-11-03 00:00"), utc("2018-11-05 00:00")) == 5 * H
    saturday = calendar({"sat": ["18:00-24:00"]}, "America/Sao_Paulo")
    # 18:00 -02 = 20:00Z; 24:00 = 02-17 00:00 -03 = 03:00Z: 7 h.
    assert saturday.elapsed(utc("2019-02-16 00:00"), utc("2019-02-18 00:00")) == 7 * H
    assert saturday.due(utc("2019-02-16 12:00"), 6 * H) == utc("2019-02-17 02:00")   # 23:00 -03, the second one
    late = calendar({"sat": ["23:30-24:00"]}, "America/Sao_Paulo")
    # 23:30 first occurs at -02 = 01:30Z: until 03:00Z, 1.5 h.
    assert late.elapsed(utc("2019-02-16 00:00"), utc("2019-02-18 00:00")) == 90 * M


# --- DST: Australia/Sydney (2026-04-05 03:00 AEDT -> 02:00 AEST at 04-04 16:00Z; 2026-10-04 02:00 AEST ->
#     03:00 AEDT at 10-03 16:00Z) -------------------------------------------------------------------------


def test_sydney_24_7():
    cal = always("Australia/Sydney")
    # 04-05 00:00 +11 = 04-04 13:00Z; 04-06 00:00 +10 = 04-05 14:00Z: 25 h.
    assert cal.elapsed(at("2026-04-05 00:00", "Australia/Sydney"), at("2026-04-06 00:00", "Australia/Sydney")) \
        == 25 * H
    # 10-04 00:00 +10 = 10-03 14:00Z; 10-05 00:00 +11 = 10-04 13:00Z: 23 h.
    assert cal.elapsed(at("2026-10-04 00:00", "Australia/Sydney"), at("2026-10-05 00:00", "Australia/Sydney")) \
        == 23 * H
    assert cal.due(at("2026-10-04 00:00", "Australia/Sydney"), 24 * H) == at("2026-10-05 01:00", "Australia/Sydney")


def test_sydney_office_hours_over_the_transitions():
    cal = calendar({"sun": ["00:00-06:00"]}, "Australia/Sydney")
    # Autumn: 04-04 13:00Z to 06:00 +10 = 20:00Z, 7 h. Spring: 10-03 14:00Z to 06:00 +11 = 19:00Z, 5 h.
    assert cal.elapsed(utc("2026-04-04 00:00"), utc("2026-04-06 00:00")) == 7 * H
    assert cal.elapsed(utc("2026-10-03 00:00"), utc("2026-10-05 00:00")) == 5 * H
    assert cal.due(utc("2026-04-04 00:00"), 4 * H) == utc("2026-04-04 17:00")   # 03:00 AEST after both 02:xx
    assert cal.due(utc("2026-10-03 00:00"), 4 * H) == utc("2026-10-03 18:00")   # 05:00 AEDT
    for rule in ("close", "next-open"):
        due = calendar({"sun": ["00:00-06:00"]}, "Australia/Sydney", rule=rule).due(utc("2026-04-04 00:00"), 7 * H)
        # close: 20:00Z; next-open: the next Sunday 2026-04-12 00:00 AEST = 04-11 14:00Z.
        assert due == (utc("2026-04-04 20:00") if rule == "close" else utc("2026-04-11 14:00"))


def test_sydney_opening_inside_the_gap():
    cal = calendar({"sun": ["02:30-06:00"]}, "Australia/Sydney")
    # 02:30 on 10-04 does not exist; fold=0 (+10) gives 16:30Z (03:30 AEDT); 06:00 AEDT = 19:00Z: 2.5 h.
    assert cal.next_open(utc("2026-10-03 00:00")) == utc("2026-10-03 16:30")
    assert cal.elapsed(utc("2026-10-03 00:00"), utc("2026-10-05 00:00")) == 150 * M
    assert cal.due(utc("2026-10-03 00:00"), 2 * H) == utc("2026-10-03 18:30")

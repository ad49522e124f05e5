"""Business-hours definitions: interval and day parsing, calendar validation, canonical form."""

import datetime as dt
import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tgesc.domain.errors import ConfigInvalid
from tgesc.domain.hours import (
    WEEKDAYS,
    HoursError,
    format_interval,
    normalize_calendar,
    parse_day,
    parse_interval,
    validate_calendar,
)

EU_SUPPORT = """
[calendars.eu-support]
timezone = "Europe/Berlin"
hours.mon = ["13:00-17:00", "09:00-12:00"]
hours.fri = ["00:00-24:00"]
hours.sat = []
holidays = ["2026-12-26", "2026-12-25"]
overrides."2026-12-31" = []
overrides."2026-12-24" = ["09:00-12:00"]
deadline_at_close = "next-open"
"""


def calendar(text: str = EU_SUPPORT) -> dict:
    return tomllib.loads(text)["calendars"]["eu-support"]


@pytest.mark.parametrize(
    ("text", "interval"),
    [("09:00-12:00", (540, 720)), ("00:00-24:00", (0, 1440)), ("23:59-24:00", (1439, 1440)),
     (" 08:30-09:15 ", (510, 555))],
)
def test_parse_interval(text, interval):
    assert parse_interval(text) == interval


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("9:00-12:00", "HH:MM-HH:MM"),
        ("09:00 - 12:00", "HH:MM-HH:MM"),
        ("09:00", "HH:MM-HH:MM"),
        ("", "HH:MM-HH:MM"),
        ("09:60-12:00", "minutes 60"),
        ("25:00-26:00", "hour 25"),
        ("00:00-24:30", "24:00 is the latest"),
        ("24:00-24:00", "only allowed as an end"),
        ("13:00-12:00", "ends before it starts"),
        ("12:00-12:00", "is empty"),
    ],
)
def test_parse_interval_rejects(text, reason):
    with pytest.raises(HoursError) as caught:
        parse_interval(text)
    assert reason in str(caught.value)
    assert f'"{text}"' in str(caught.value)


def test_parse_day_sorts_and_keeps_touching_intervals_apart():
    assert parse_day(["12:00-13:00", "09:00-12:00"]) == [(540, 720), (720, 780)]
    assert parse_day([]) == []


def test_parse_day_rejects_overlap_naming_both():
    with pytest.raises(HoursError) as caught:
        parse_day(["09:00-12:00", "14:00-15:00", "11:00-13:00"])
    message = str(caught.value)
    assert '"09:00-12:00"' in message and '"11:00-13:00"' in message and "overlap" in message


def test_parse_day_rejects_non_list():
    with pytest.raises(HoursError):
        parse_day("09:00-12:00")  # type: ignore[arg-type]


def test_valid_calendar_has_no_problems():
    assert validate_calendar("eu-support", calendar()) == []


def test_normalize_calendar():
    assert normalize_calendar(calendar()) == {
        "timezone": "Europe/Berlin",
        "hours": {"mon": ["09:00-12:00", "13:00-17:00"], "fri": ["00:00-24:00"]},
        "holidays": ["2026-12-25", "2026-12-26"],
        "overrides": {"2026-12-24": ["09:00-12:00"], "2026-12-31": []},
        "deadline_at_close": "next-open",
    }


def test_normalize_defaults_and_toml_dates():
    spec = {"timezone": "UTC", "hours": {"sun": ["10:00-11:00"]}, "holidays": [dt.date(2027, 1, 1)]}
    normal = normalize_calendar(spec)
    assert normal["deadline_at_close"] == "close"
    assert normal["holidays"] == ["2027-01-01"]
    assert normal["overrides"] == {}
    assert normalize_calendar(normal) == normal


def test_normalize_invalid_raises_config_invalid_with_all_problems():
    with pytest.raises(ConfigInvalid) as caught:
        normalize_calendar({"timezone": "Mars/Olympus", "hourz": {}}, name="x")
    assert len(caught.value.problems) == 3
    assert caught.value.exit_code == 78


def problems_of(text: str) -> list[str]:
    return validate_calendar("x", tomllib.loads(text))


def test_reports_every_problem_with_dotted_paths():
    problems = problems_of("""
timezone = "Europe/berlin"
hourz = 1
hours.mon = ["09:00-12:00", "13:00-12:00", 5]
hours.tue = "09:00"
hours.monday = []
holidays = ["2026-12-25", "2026-12-25", "2026-02-30", "20261225", 3]
overrides."2026-12-25" = ["09:00-12:00"]
overrides.xmas = ["09:00-10:00", "09:30-11:00"]
deadline_at_close = "open"
""")
    expected_prefixes = [
        "calendars.x.hourz: unknown key",
        'calendars.x.timezone: "Europe/berlin" is not a known time zone',
        'calendars.x.hours.mon[1]: "13:00-12:00" ends before it starts',
        "calendars.x.hours.mon[2]: 5 is not a text",
        'calendars.x.hours.tue: must be a list of intervals like ["09:00-12:00", "13:00-17:00"], got "09:00"',
        "calendars.x.hours.monday: unknown weekday",
        'calendars.x.holidays[1]: "2026-12-25" is listed twice (also at [0])',
        'calendars.x.holidays[2]: "2026-02-30" is not a date',
        'calendars.x.holidays[3]: "20261225" is not a date',
        "calendars.x.holidays[4]: 3 is not a date",
        'calendars.x.overrides."2026-12-25": this date is also a holiday',
        'calendars.x.overrides."xmas": "xmas" is not a date',
        'calendars.x.overrides."xmas": [0] "09:00-10:00" and [1] "09:30-11:00" overlap',
        'calendars.x.deadline_at_close: "open" is not allowed; use "close" or "next-open"',
    ]
    assert len(problems) == len(expected_prefixes), problems
    for problem, prefix in zip(problems, expected_prefixes, strict=True):
        assert problem.startswith(prefix), (problem, prefix)


@pytest.mark.parametrize(
    "text",
    ['timezone = "UTC"', 'timezone = "UTC"\nhours.sat = []', 'timezone = "UTC"\nhours = {}'],
)
def test_no_open_hours_is_a_problem(text):
    assert problems_of(text) == [
        "calendars.x.hours: the calendar has no open hours in any weekday; "
        'add some, e.g. hours.mon = ["09:00-17:00"]'
    ]


@pytest.mark.parametrize("zone", ["", "Europe", "../etc/passwd", "/etc/localtime", 3])
def test_bad_timezones(zone):
    problems = validate_calendar("x", {"timezone": zone, "hours": {"mon": ["09:00-10:00"]}})
    assert len(problems) == 1 and problems[0].startswith("calendars.x.timezone: ")


def test_missing_timezone_and_wrong_shapes():
    assert problems_of('hours.mon = ["09:00-10:00"]') == [
        'calendars.x.timezone: missing; set an IANA time zone such as "Europe/Berlin" or "UTC"'
    ]
    assert validate_calendar("x", ["not", "a", "table"])[0].startswith("calendars.x: must be a table")
    shapes = problems_of('timezone = "UTC"\nhours = 1\nholidays = "2026-12-25"\noverrides = []')
    paths = [p.split(":")[0] for p in shapes]
    assert paths == ["calendars.x.hours", "calendars.x.holidays", "calendars.x.overrides"]


@st.composite
def day_intervals(draw):
    """A valid day: sorted distinct boundaries paired up, some intervals touching, then shuffled."""
    points = sorted(draw(st.sets(st.integers(min_value=0, max_value=1440), max_size=12)))
    intervals, start = [], None
    for point in points:
        if start is None:
            start = point
        else:
            intervals.append((start, point))
            start = point if draw(st.booleans()) else None
    return intervals, draw(st.permutations([format_interval(interval) for interval in intervals]))


@given(st.lists(day_intervals(), min_size=7, max_size=7))
def test_valid_days_round_trip_through_normalize(days):
    spec = {"timezone": "UTC", "hours": {day: texts for day, (_, texts) in zip(WEEKDAYS, days, strict=True)}}
    if not any(intervals for intervals, _ in days):
        assert validate_calendar("g", spec) != []
        return
    normal = normalize_calendar(spec)
    for day, (intervals, _) in zip(WEEKDAYS, days, strict=True):
        assert [parse_interval(t) for t in normal["hours"].get(day, [])] == intervals
        assert list(normal["hours"]) == [d for d in WEEKDAYS if d in normal["hours"]]
    assert normalize_calendar(normal) == normal


@given(st.text(alphabet=st.sampled_from("0123456789:- \t2x"), max_size=14) | st.text(max_size=14))
def test_parse_interval_only_raises_hours_error(text):
    try:
        start, end = parse_interval(text)
    except HoursError as exc:
        assert str(exc)
    else:
        assert 0 <= start < end <= 1440
        assert parse_interval(format_interval((start, end))) == (start, end)

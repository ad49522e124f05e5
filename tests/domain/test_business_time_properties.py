"""Business-time engine: properties over generated calendars, starts, budgets and pauses.

Notation: B is the set of effective business instants (open intervals minus pauses, half-open), F(t) the
measure of B between the start s and t, G(s, x) the first t with F(t) = x, and N(t) the first instant
of B at or after t. Then, for x > 0, the `close` rule gives due = G(s, x) and `next-open` gives
N(G(s, x)); for x = 0 both give N(s). The properties below follow from that.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tgesc.domain.business_time import REACH_DAYS, BusinessCalendar, to_us
from tgesc.domain.hours import format_interval, normalize_calendar
from tgesc.domain.vocabulary import WEEKDAYS

US = timedelta(microseconds=1)
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tehran", "America/Sao_Paulo", "Australia/Sydney")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# The DST changes of the zones above (UTC instants, from the tz database), to start near them.
TRANSITIONS = {
    "Europe/Berlin": [utc("2026-03-29 01:00"), utc("2026-10-25 01:00")],
    "America/New_York": [utc("2026-03-08 07:00"), utc("2026-11-01 06:00")],
    "Asia/Tehran": [utc("2021-03-21 20:30"), utc("2021-09-21 19:30")],
    "America/Sao_Paulo": [utc("2018-11-04 03:00"), utc("2019-02-17 02:00")],
    "Australia/Sydney": [utc("2026-04-04 16:00"), utc("2026-10-03 16:00")],
}
ALL_TRANSITIONS = [t for ts in TRANSITIONS.values() for t in ts]


def minutes_offset(most: int) -> st.SearchStrategy[timedelta]:
    return st.integers(-most, most).map(lambda n: n * MINUTE)


# --- strategies ------------------------------------------------------------------------------------------

# Interval boundaries: often around the local times at which the zones above change (00:00-01:00,
# 02:00-03:00, 23:00-24:00), so that they fall before, inside and after DST gaps and repeated hours;
# otherwise on the half hour, sometimes any minute.
DST_MINUTES = (0, 30, 60, 90, 120, 135, 150, 180, 210, 1380, 1410, 1440)
boundaries = st.one_of(st.sampled_from(DST_MINUTES), st.integers(0, 48).map(lambda n: 30 * n), st.integers(0, 1440))


@st.composite
def day_hours(draw, points_from: st.SearchStrategy[int] = boundaries) -> list[str]:
    """One day's intervals: 0-3 disjoint ones, sometimes split into touching halves, or the whole day."""
    if draw(st.integers(0, 9)) == 0:
        return ["00:00-24:00"]
    n = draw(st.integers(0, 3))
    points = sorted(draw(st.lists(points_from, min_size=2 * n, max_size=2 * n, unique=True)))
    intervals = list(zip(points[::2], points[1::2], strict=True))
    if intervals and draw(st.booleans()):   # split one interval into two touching ones
        i = draw(st.integers(0, len(intervals) - 1))
        a, b = intervals[i]
        if b - a >= 2:
            c = draw(st.integers(a + 1, b - 1))
            intervals[i:i + 1] = [(a, c), (c, b)]
    return [format_interval(iv) for iv in intervals]


@st.composite
def scenarios(draw, *, fine: bool = True, max_pauses: int = 3):
    """(calendar spec, start, pauses). Half the starts lie near one of the zone's DST changes (any zone's,
    for UTC), within 3 days or 12 hours, and then the local date of that change often gets an override
    whose bounds all lie around the change; the other starts lie anywhere in 2018-2028."""
    zone = draw(st.sampled_from(ZONES))
    change_day = None
    if draw(st.booleans()):
        change = draw(st.sampled_from(TRANSITIONS.get(zone, ALL_TRANSITIONS)))
        start = change + draw(st.one_of(minutes_offset(3 * 1440), minutes_offset(12 * 60)))
        if draw(st.booleans()):
            change_day = change.astimezone(ZoneInfo(zone)).date()
    else:
        start = utc("2018-01-01 00:00") + draw(st.integers(0, 11 * 366 * 1440)) * MINUTE
    if fine and draw(st.integers(0, 3)) == 0:
        start += draw(st.integers(0, 60_000_000 - 1)) * US
    hours = {day: draw(day_hours()) for day in WEEKDAYS}
    if not any(hours.values()):
        hours["mon"] = ["09:00-17:00"]
    near = start.date()
    days = [near + timedelta(days=d) for d in draw(st.lists(st.integers(-3, 40), max_size=6, unique=True))]
    days = [d for d in days if d != change_day]
    holidays = [d.isoformat() for d in days[: len(days) // 2]]
    overrides = {d.isoformat(): draw(day_hours()) for d in days[len(days) // 2:]}
    if change_day is not None:
        overrides[change_day.isoformat()] = draw(day_hours(st.sampled_from(DST_MINUTES)))
    rule = draw(st.sampled_from(["close", "next-open"]))
    spec = normalize_calendar({"timezone": zone, "hours": hours, "holidays": holidays, "overrides": overrides,
                               "deadline_at_close": rule})
    pauses = []
    for _ in range(draw(st.integers(0, max_pauses))):
        if fine:
            offset = draw(st.integers(-2 * 86_400_000_000, 20 * 86_400_000_000)) * US
            length = draw(st.integers(0, 3 * 86_400_000_000)) * US
        else:
            offset = draw(st.integers(-2 * 1440, 6 * 1440)) * MINUTE
            length = draw(st.integers(0, 2 * 1440)) * MINUTE
        pauses.append((start + offset, start + offset + length))
    return spec, start, pauses


budgets = st.one_of(
    st.just(timedelta(0)),
    st.integers(0, 3 * 1440).map(lambda n: n * MINUTE),
    st.integers(0, 400 * 24).map(lambda n: timedelta(hours=n)),
    st.integers(0, 400 * 86_400_000_000).map(lambda n: n * US),
)


def effectively_open(cal: BusinessCalendar, t: datetime, pauses) -> bool:
    return cal.is_open(t) and not any(a <= t < b for a, b in pauses)


def with_rule(spec: dict, rule: str) -> BusinessCalendar:
    return BusinessCalendar({**spec, "deadline_at_close": rule})


# --- properties of due and elapsed -------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(scenarios(), budgets, budgets)
def test_due_and_elapsed(scenario, a, b):
    spec, s, pauses = scenario
    cal = BusinessCalendar(spec)
    rule = spec["deadline_at_close"]
    due_a, due_b = cal.due(s, a, pauses), cal.due(s, b, pauses)

    # At or after the start, strictly monotonic in the budget, and exactly the budget of business time.
    assert due_a >= s and due_b >= s
    assert (due_a < due_b) == (a < b) and (due_a == due_b) == (a == b)
    assert cal.elapsed(s, due_a, pauses) == a and cal.elapsed(s, due_b, pauses) == b

    # Tight: with `close` and x > 0 the instant just before the deadline counts (the deadline is inside
    # or at the end of an effective interval, not later); next-open's deadline is N(close's deadline).
    close = with_rule(spec, "close")
    for x, due_x in ((a, due_a), (b, due_b)):
        if rule == "close" and x:
            assert cal.elapsed(due_x - US, due_x, pauses) == US
        if rule == "next-open":
            assert effectively_open(cal, due_x, pauses)
            assert due_x == close.due(close.due(s, x, pauses), timedelta(0), pauses)
        if not x:
            assert effectively_open(cal, due_x, pauses)

    # Zero budget: the start if it is in business time, else the next opening.
    assert cal.due(s, timedelta(0)) == cal.next_open(s)
    assert (cal.next_open(s) == s) == cal.is_open(s)

    # Additivity. With next-open due(s, a + b) == due(due(s, a), b) always: there is no business time
    # between G(s, a) and u = N(G(s, a)), so for b > 0 G(u, b) = G(G(s, a), b) = G(s, a + b), and for
    # b == 0 both sides are N(G(s, a)) (N(u) = u).
    # With close it holds whenever b > 0 (G(s, a + b) = G(G(s, a), b)) or a == 0 (due(s, 0) = N(s), and
    # N(N(s)) = N(s)); with b == 0 < a it holds exactly when due(s, a) is itself business time: at a closing
    # instant (or the start of a pause), due(due(s, a), 0) is the next opening, later than due(s, a + 0).
    u = due_a
    chained, whole = cal.due(u, b, pauses), cal.due(s, a + b, pauses)
    if rule == "close" and b == timedelta(0) and a > timedelta(0) and not effectively_open(cal, u, pauses):
        assert whole == u < chained
        assert cal.elapsed(u, chained, pauses) == timedelta(0)
    else:
        assert whole == chained


@settings(max_examples=300, deadline=None)
@given(scenarios(max_pauses=0))
def test_week_intervals_are_ordered_and_disjoint(scenario):
    # The open intervals of the week around the start, as instants: each non-empty, in order, never
    # overlapping (touching is allowed), and together the week's business time.
    spec, s, _ = scenario
    cal = BusinessCalendar(spec)
    zone = ZoneInfo(spec["timezone"])
    local = s.astimezone(zone).date()
    monday = local - timedelta(days=local.weekday())
    week = [(a.astimezone(UTC), b.astimezone(UTC)) for a, b in cal.week(monday)]
    assert all(a < b for a, b in week)
    assert all(b <= c for (_, b), (c, _) in zip(week, week[1:], strict=False))
    first = datetime.combine(monday, time(0), tzinfo=zone)
    last = datetime.combine(monday + 7 * DAY, time(0), tzinfo=zone)
    assert all(first <= a and b <= last for a, b in week)
    assert sum((b - a for a, b in week), timedelta(0)) == cal.elapsed(first, last)


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.lists(st.integers(0, 30 * 86_400_000_000), min_size=3, max_size=3))
def test_elapsed_is_additive_and_bounded(scenario, offsets):
    spec, s, pauses = scenario
    cal = BusinessCalendar(spec)
    t0, t1, t2 = (s + n * US for n in sorted(offsets))
    e01, e12, e02 = cal.elapsed(t0, t1, pauses), cal.elapsed(t1, t2, pauses), cal.elapsed(t0, t2, pauses)
    assert e01 + e12 == e02
    assert timedelta(0) <= e01 <= t1 - t0
    assert cal.elapsed(t1, t0, pauses) == timedelta(0)
    assert cal.elapsed(t0, t2, pauses) <= cal.elapsed(t0, t2)   # pauses only take time away


# --- brute-force oracle ---------------------------------------------------------------------------------------


class Reference:
    """Obviously-correct business-ness of one instant, from the calendar text and zoneinfo alone.

    An interval "HH:MM-HH:MM" of local date D covers the instants from the wall time HH:MM of D to the
    closing wall time, each turned into an instant the way zoneinfo does with fold=0 (a time in a gap
    lies that far past the jump; a repeated time is its first occurrence); 24:00 is 00:00 of D + 1. An
    instant is business time when some interval of its local date, the day before or the day after
    covers it."""

    def __init__(self, spec: dict) -> None:
        self.zone = ZoneInfo(spec["timezone"])
        self.spec = spec

    def hours(self, d: date) -> list[tuple[int, int]]:
        if d.isoformat() in self.spec["overrides"]:
            texts = self.spec["overrides"][d.isoformat()]
        elif d.isoformat() in self.spec["holidays"]:
            texts = []
        else:
            texts = self.spec["hours"].get(WEEKDAYS[d.weekday()], [])
        result = []
        for text in texts:
            start, end = text.split("-")
            result.append(tuple(int(hh) * 60 + int(mm) for hh, mm in (start.split(":"), end.split(":"))))
        return result

    def wall(self, d: date, minute: int) -> datetime:
        if minute == 1440:
            d, minute = d + DAY, 0
        return datetime.combine(d, time(minute // 60, minute % 60), tzinfo=self.zone).astimezone(UTC)

    @functools.cache  # noqa: B019 - one Reference per example
    def covers(self, d: date) -> list[tuple[datetime, datetime]]:
        return [(self.wall(d, a), self.wall(d, b)) for a, b in self.hours(d)]

    def is_business(self, t: datetime) -> bool:
        local = t.astimezone(self.zone).date()
        return any(a <= t < b for d in (local - DAY, local, local + DAY) for a, b in self.covers(d))


CAP = 8 * 1440   # minutes the reference steps through at most


@settings(max_examples=100, deadline=None)
@given(scenarios(fine=False), st.one_of(st.integers(0, 600), st.integers(0, 3 * 1440)),
       st.lists(st.integers(0, CAP), min_size=4, max_size=4))
def test_against_minute_stepping_reference(scenario, budget_minutes, ends):
    # Everything here is on the minute grid: interval bounds are whole local minutes, the zones' offsets
    # whole minutes (Tehran's +03:30 too), starts and pauses whole UTC minutes; so each minute
    # [t, t + 1 min) is wholly business time or wholly not, and counting minutes is exact.
    spec, s, pauses = scenario
    cal = BusinessCalendar(spec)
    ref = Reference(spec)
    rule = spec["deadline_at_close"]

    steps: list[bool] = []   # steps[i]: the minute starting at s + i min counts

    def counts(i: int) -> bool:
        while len(steps) <= i:
            t = s + len(steps) * MINUTE
            business = ref.is_business(t)
            assert cal.is_open(t) == business, t
            steps.append(business and not any(a <= t < b for a, b in pauses))
        return steps[i]

    # due, by counting minutes.
    expected = None
    i, counted = 0, 0
    if budget_minutes == 0:
        while i < CAP and not counts(i):
            i += 1
        expected = s + i * MINUTE if i < CAP else None
    else:
        while i < CAP and counted < budget_minutes:
            counted += counts(i)
            i += 1
        if counted == budget_minutes:
            if rule == "next-open":
                while i < CAP and not counts(i):
                    i += 1
            expected = s + i * MINUTE if i < CAP or rule == "close" else None
    due = cal.due(s, budget_minutes * MINUTE, pauses)
    if expected is None:          # the reference gave up after CAP minutes: the engine must be later
        assert due >= s + CAP * MINUTE
    else:
        assert due == expected

    # elapsed, by counting minutes.
    for k in ends:
        assert cal.elapsed(s, s + k * MINUTE, pauses) == sum(counts(j) for j in range(k)) * MINUTE


def walk_days(cal: BusinessCalendar, start: datetime, budget: timedelta, rule: str) -> datetime:
    """`due` without skipping a week: each local day's open spans (`day`, checked against the reference above)
    in order from the start's local date, until the budget runs out."""
    from tgesc.domain.business_time import from_us

    remaining, ordinal = budget, cal.local_ordinal(to_us(start))
    while True:
        for opens, closes in ((from_us(a), from_us(b)) for a, b in cal.day(ordinal)):
            opens = max(opens, start)
            if closes <= opens:
                continue
            if remaining < closes - opens:
                return opens + remaining
            remaining -= closes - opens
            if remaining == timedelta(0) and rule == "close":
                return closes
        ordinal += 1


long_budgets = st.one_of(st.integers(0, 3 * 366 * 24).map(lambda n: timedelta(hours=n)),
                         st.integers(0, 3 * 366 * 86_400).map(lambda n: timedelta(seconds=n)))


@settings(max_examples=200, deadline=None)
@given(scenarios(max_pauses=0), long_budgets)
def test_skipping_whole_weeks_agrees_with_walking_every_day(scenario, budget):
    # Budgets of up to three years skip hundreds of weeks by arithmetic (issue 16: a cold 730-day `due` under
    # half a millisecond); walking every day's spans, one by one, must give the same instant.
    spec, start, _ = scenario
    cal = BusinessCalendar(spec)
    assert cal.due(start, budget) == walk_days(BusinessCalendar(spec), start, budget, spec["deadline_at_close"])


@settings(max_examples=300, deadline=None)
@given(scenarios(max_pauses=0), st.integers(-2, 6))
def test_a_week_lasts_what_its_days_last(scenario, weeks_on):
    # week_length counts the standard week and corrects only its unusual days (holidays, overrides, a change of
    # the clocks): the sum of its seven days' spans, each built on its own, must agree.
    spec, start, _ = scenario
    cal = BusinessCalendar(spec)
    first = cal.local_ordinal(to_us(start))
    monday = first - (first - 1) % 7 + 7 * weeks_on
    days = sum(end - begin for d in range(monday, monday + 7) for begin, end in BusinessCalendar(spec).day(d))
    assert cal.week_length(monday) == days


# --- wall-clock agreement -----------------------------------------------------------------------------------


def odd_wall_time(zone: ZoneInfo, d: date, minute: int) -> bool:
    """Whether that wall time does not exist or exists twice (fold=0 and fold=1 give different offsets)."""
    wall = datetime.combine(d, time(minute // 60, minute % 60))
    return wall.replace(tzinfo=zone, fold=0).utcoffset() != wall.replace(tzinfo=zone, fold=1).utcoffset()


@settings(max_examples=300, deadline=None)
@given(scenarios(max_pauses=0))
def test_is_open_is_plain_wall_clock_when_no_bound_lies_inside_a_dst_change(scenario):
    # A bound strictly inside a gap or a repeated hour is where "fold=0" differs from reading the wall
    # clock; a bound at the very start of one (02:00 in Berlin, 00:00 in Tehran) or at its end does not.
    spec, t, _ = scenario
    cal = BusinessCalendar(spec)
    ref = Reference(spec)
    local = t.astimezone(ref.zone)
    d = local.date()
    bounds = {m for interval in ref.hours(d) for m in interval}
    if any(0 < m < 1440 and odd_wall_time(ref.zone, d, m) and odd_wall_time(ref.zone, d, m - 1) for m in bounds):
        return
    wall = (local.hour * 60 + local.minute) * 60_000_000 + local.second * 1_000_000 + local.microsecond
    assert cal.is_open(t) == any(a * 60_000_000 <= wall < b * 60_000_000 for a, b in ref.hours(d))


# --- shifts: when a closed time began, when the calendar next opens or closes ------------------------------


@settings(max_examples=300, deadline=None)
@given(scenarios(max_pauses=0))
def test_closed_since_is_the_end_of_the_last_open_interval(scenario):
    spec, s, _ = scenario
    cal = BusinessCalendar(spec)
    since = cal.closed_since(s)
    if cal.is_open(s):
        assert since is None
        return
    assert since is not None and since <= s
    assert cal.elapsed(since, s) == timedelta(0)  # closed all the way from then
    assert cal.is_open(since - US) or since == s - REACH_DAYS * DAY  # and open just before (or long ago)


@settings(max_examples=300, deadline=None)
@given(scenarios(max_pauses=0))
def test_next_change_is_the_first_instant_the_calendar_opens_or_closes(scenario):
    spec, s, _ = scenario
    cal = BusinessCalendar(spec)
    change, open_now = cal.next_change(s), cal.is_open(s)
    if change is None:  # the same for as far as it looks (a 24/7 calendar)
        assert cal.elapsed(s, s + 60 * DAY) == (60 * DAY if open_now else timedelta(0))
        return
    assert change > s
    assert cal.elapsed(s, change) == (change - s if open_now else timedelta(0))  # unchanged up to then
    assert cal.is_open(change) != open_now

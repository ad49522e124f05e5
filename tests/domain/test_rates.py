from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tgesc.domain.rates import Rate, RateError, SlidingWindow, parse_rate


@pytest.mark.parametrize(("text", "rate"), [("25/1s", Rate(25, 1)), ("20/1m", Rate(20, 60)), (" 1/1s ", Rate(1, 1)),
                                            ("3/1h30m", Rate(3, 5400))])
def test_parses(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize(("text", "why"), [("25", "no '/'"), ("0/1s", "positive count"), ("-1/1s", "positive count"),
                                           ("x/1s", "positive count"), ("5/0s", "longer than 0s"),
                                           ("5/soon", "not a duration")])
def test_refuses_with_reason(text, why):
    with pytest.raises(RateError, match=why):
        parse_rate(text)


def test_interval_spreads_the_window():
    assert parse_rate("20/1m").interval_s == 3.0


@given(count=st.integers(1, 10_000), window=st.integers(1, 7 * 86400))
def test_canonical_text_round_trips(count, window):
    rate = Rate(count, window)
    assert parse_rate(str(rate)) == rate


@given(instants=st.lists(st.floats(0, 600, allow_nan=False), max_size=80).map(sorted),
       count=st.integers(1, 10), window=st.integers(1, 120))
def test_sliding_window_says_over_exactly_when_more_than_count_fall_in_the_window(instants, count, window):
    counter = SlidingWindow(Rate(count, window))
    for i, at in enumerate(instants):
        within = sum(1 for earlier in instants[:i + 1] if earlier > at - window)
        assert counter.hit("chat", at) == (within > count)


def test_sliding_window_keys_are_independent_and_idle_ones_forgotten():
    counter = SlidingWindow(Rate(1, 60))
    assert not counter.hit("a", 0) and not counter.hit("b", 1)
    assert counter.hit("a", 30)
    counter.forget_idle(200)
    assert not counter.hit("a", 201)


@given(instants=st.lists(st.floats(0, 600, allow_nan=False), max_size=60).map(sorted),
       retries=st.lists(st.integers(0, 3), min_size=60, max_size=60), count=st.integers(1, 10),
       window=st.integers(1, 120))
def test_an_event_retried_counts_once_and_gets_its_first_verdict(instants, retries, count, window):
    once, retried = SlidingWindow(Rate(count, window)), SlidingWindow(Rate(count, window))
    for number, (at, again) in enumerate(zip(instants, retries, strict=False)):
        verdict = once.hit("chat", at, number)
        assert all(retried.hit("chat", at, number) == verdict for _ in range(1 + again))


@given(instants=st.lists(st.floats(0, 600, allow_nan=False), max_size=60).map(sorted),
       run=st.integers(1, 11), count=st.integers(1, 10), window=st.integers(1, 120))
def test_a_run_of_events_handled_again_counts_once_and_keeps_its_verdicts(instants, run, count, window):
    """A run of a key's events rolled back and handled again one by one (the bot's runs of messages)."""
    once, replayed = SlidingWindow(Rate(count, window)), SlidingWindow(Rate(count, window))
    for start in range(0, len(instants), run):
        events = list(enumerate(instants))[start:start + run]
        verdicts = [once.hit("chat", at, number) for number, at in events]
        first = [replayed.hit("chat", at, number) for number, at in events]
        again = [replayed.hit("chat", at, number) for number, at in events]
        assert first == verdicts and again == verdicts

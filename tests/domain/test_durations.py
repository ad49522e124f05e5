"""Durations: the accepted forms, the rejected ones with their reasons, and round-trip invariants."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tgesc.domain.durations import DurationError, format_duration, parse_duration
from tgesc.domain.limits import MAX_DURATION


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15m", 900),
        ("2h", 7200),
        ("1d4h", 100800),
        ("90s", 90),
        ("1h30m", 5400),
        ("0s", 0),
        ("1d2h3m4s", 93784),
        ("  1H30M\n", 5400),
        ("90m", 5400),
        ("007m", 420),
    ],
)
def test_parse_accepts(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("15", "has no unit"),
        ("1h30", "the number 30 has no unit"),
        ("-5m", "negative"),
        ("5x", "'x' is not a unit"),
        ("5min", "'min' is not a unit"),
        ("5m2h", "out of order"),
        ("5m5m", "more than once"),
        ("1.5h", "decimals"),
        ("1,5h", "decimals"),
        ("1h 30m", "spaces"),
        ("h", "no number"),
        ("1d-1h", "'-'"),
        ("١٥m", "'١'"),
    ],
)
def test_parse_rejects_with_reason(text, reason):
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    message = str(caught.value)
    assert reason in message
    assert repr(text) in message
    assert "expected a duration like 15m, 2h, 1d4h or 90s" in message


def test_parse_rejects_non_text():
    with pytest.raises(DurationError):
        parse_duration(15)  # type: ignore[arg-type]


def test_duration_error_is_a_value_error():
    assert issubclass(DurationError, ValueError)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (90, "1m30s"), (14400, "4h"), (100800, "1d4h"), (5400, "1h30m"), (86401, "1d1s"),
     (59, "59s")],
)
def test_format_is_canonical(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("bad", [-1, 1.5, True, "60"])
def test_format_rejects_non_durations(bad):
    with pytest.raises(DurationError):
        format_duration(bad)


@pytest.mark.parametrize("text", ["366d", "365d1s", "8761h", "99999999d", "9" * 5000 + "d", "0" * 30 + "366d"])
def test_parse_refuses_more_than_365_days(text):
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert "is longer than 365d, the longest duration tgesc accepts" in str(caught.value)
    assert len(str(caught.value)) < 120


def test_the_longest_duration_is_365_days():
    assert MAX_DURATION == 365 * 86400
    assert parse_duration("365d") == parse_duration("8760h") == parse_duration("0364d23h59m60s") == MAX_DURATION


@given(st.integers(min_value=0, max_value=MAX_DURATION))
def test_format_then_parse_round_trips(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


@given(
    st.tuples(*(st.one_of(st.none(), st.integers(min_value=0, max_value=600)) for _ in range(4))).filter(
        lambda parts: any(part is not None for part in parts)
    ),
    st.booleans(),
)
def test_canonical_form_is_idempotent(parts, upper):
    assume(sum((n or 0) * size for n, size in zip(parts, (86400, 3600, 60, 1), strict=True)) <= MAX_DURATION)
    text = "".join(f"{n}{unit}" for n, unit in zip(parts, "dhms", strict=True) if n is not None)
    text = text.upper() if upper else text
    once = format_duration(parse_duration(text))
    assert format_duration(parse_duration(once)) == once
    assert parse_duration(once) == parse_duration(text)


@given(st.text(alphabet=st.sampled_from("0123456789dhmsDHMSx .-,٣\t"), max_size=12) | st.text(max_size=12))
def test_junk_parses_or_raises_duration_error(text):
    try:
        seconds = parse_duration(text)
    except DurationError as exc:
        assert repr(text) in str(exc)
    else:
        assert isinstance(seconds, int) and seconds >= 0

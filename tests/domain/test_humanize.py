"""How spans of time read to people (domain.humanize): a time left is rounded up (a promise is never shorter
than the truth), a time passed is rounded down (a deadline met at its very instant did not pass a minute ago)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tgesc.domain.humanize import (
    PROGRESS_KINDS,
    duration_text,
    elapsed_text,
    localized_name,
    priority_text,
    progress_text,
)

UNIT_MINUTES = {"day": 1440, "days": 1440, "hour": 60, "hours": 60, "minute": 1, "minutes": 1}


def minutes_in(text: str) -> int:
    return sum(int(n) * UNIT_MINUTES[unit] for n, unit in re.findall(r"(\d+) (\w+)", text))


@pytest.mark.parametrize(("seconds", "language", "text"), [
    (0, "en", "less than a minute"),
    (59, "en", "less than a minute"),
    (60, "en", "1 minute"),
    (150, "en", "2 minutes"),
    (3660, "en", "1 hour 1 minute"),
    (90000, "en", "1 day 1 hour"),
    (30, "zh", "不到 1 分钟"),
    (300, "zh", "5 分钟"),
    (30, "ru", "несколько секунд"),
    (120, "ru", "2 минуты"),
    (1260, "ru", "21 минута"),
])
def test_elapsed_time_counts_the_whole_minutes_passed(seconds, language, text):
    assert elapsed_text(timedelta(seconds=seconds), language) == text


@pytest.mark.parametrize(("seconds", "text"), [(0, "1 minute"), (1, "1 minute"), (61, "2 minutes"),
                                               (1800, "30 minutes"), (7200, "2 hours")])
def test_time_left_is_rounded_up_to_a_whole_minute(seconds, text):
    assert duration_text(timedelta(seconds=seconds), "en") == text


@given(st.integers(min_value=0, max_value=3 * 1440 * 60))
def test_time_passed_never_says_more_and_time_left_never_says_less_than_the_span(seconds):
    span = timedelta(seconds=seconds)
    passed, left = elapsed_text(span, "en"), duration_text(span, "en")
    assert minutes_in(passed) * 60 <= seconds
    if minutes_in(left) < 1440:  # below a day nothing is cut off: the promise covers the whole span
        assert minutes_in(left) * 60 >= seconds


@pytest.mark.parametrize(("language", "name"), [("zh", "二线"), ("zh-hans", "二线"), ("ru", "Вторая"), ("en", "Second"),
                                                ("pt-br", "Second"), (None, "Second")])
def test_a_name_in_the_readers_language_else_the_name_itself(language, name):
    assert localized_name("Second", {"zh": "二线", "ru": "Вторая"}, language) == name


def test_priority_and_progress_words_in_every_shipped_language():
    for language in ("en", "zh", "ru"):
        assert len({priority_text(p, language) for p in ("urgent", "high", "medium", "low")}) == 4
        texts = {progress_text(kind, language, "L3 team") for kind in PROGRESS_KINDS}
        assert len(texts) == len(PROGRESS_KINDS) and any("L3 team" in text for text in texts)
    assert progress_text("escalated", "en", "Admins") == "It has been escalated to Admins."


@pytest.mark.parametrize("names", [{}, {"zh": ""}, {"ZH": "二线"}, ["二线"], {"zh": "x" * 200}])
def test_bad_tier_names_are_refused(names):
    from tgesc.domain.config_document import validate_document

    _, problems = validate_document({"tiers": {"L2": {"name": "Second", "level": 2, "names": names}}})
    assert problems and problems[0].startswith("tiers.L2.names")

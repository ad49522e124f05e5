"""The return-visit survey policy (article, step 5): when it goes out, its buttons, what an answer means.

1–5 stars. At most `LOW_SCORE_MAX` (3) is a low score: the ticket reopens with a second escalation and the
customer is asked what went wrong. 4 or 5 is a success: the customer is invited to leave a review. No answer:
one reminder `remind_after` the survey was sent, then it expires `expire_after` the reminder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from tgesc.domain.survey_time import DEFAULT_DAYTIME, Daytime

STARS = (1, 2, 3, 4, 5)
LOW_SCORE_MAX = 3
DELAY_RANGE = (timedelta(hours=24), timedelta(hours=48))  # the article: a return visit within 24-48 h
STATUSES = ("scheduled", "sent", "reminded", "answered", "expired", "cancelled")
PENDING = ("scheduled", "sent", "reminded")  # the sweep still acts on these
AWAITING_ANSWER = ("sent", "reminded")
BUTTON_PREFIX = "survey"
_BUTTON = re.compile(r"survey:([0-9]{1,18}):([1-5])", re.ASCII)


@dataclass(frozen=True)
class SurveyPolicy:
    """The process settings survey_delay, survey_hours, survey_remind_after, survey_expire_after and
    survey_low_score_tier, parsed."""

    delay: timedelta = timedelta(hours=24)
    daytime: Daytime = DEFAULT_DAYTIME
    remind_after: timedelta = timedelta(hours=24)
    expire_after: timedelta = timedelta(hours=24)
    low_score_tier: str = "L2"


def check_delay(seconds: int) -> str | None:
    """Why a survey delay is not acceptable (None: it is)."""
    low, high = DELAY_RANGE
    if not low.total_seconds() <= seconds <= high.total_seconds():
        return "the article asks for the return visit 24-48 hours after the resolution: use 24h to 48h"
    return None


def is_low(stars: int) -> bool:
    return stars <= LOW_SCORE_MAX


def button_data(survey_id: int, stars: int) -> str:
    """The callback data of the `stars` button of survey `survey_id` (well under Telegram's 64 bytes)."""
    return f"{BUTTON_PREFIX}:{survey_id}:{stars}"


def parse_button(data: str) -> tuple[int, int] | None:
    """(survey id, stars) of a survey button's callback data; None when it is not one."""
    match = _BUTTON.fullmatch(data or "")
    return (int(match[1]), int(match[2])) if match else None


def star_buttons(survey_id: int) -> list[list[dict[str, str]]]:
    """The survey's inline keyboard: one row, 1 ★ … 5 ★."""
    return [[{"text": f"{stars} ★", "data": button_data(survey_id, stars)} for stars in STARS]]


def stars_text(stars: int) -> str:
    """`★★☆☆☆` for 2."""
    return "★" * stars + "☆" * (len(STARS) - stars)


# The short notice a press is answered with (Telegram shows it over the chat for a moment).
_NOTICES = {
    "en": {"recorded": "Thank you! {stars}", "already": "Your rating is recorded already: {stars}",
           "not_yours": "This survey is for another customer.", "closed": "This survey is closed."},
    "zh": {"recorded": "谢谢!{stars}", "already": "您已经评过分了:{stars}", "not_yours": "这份问卷属于另一位客户。",
           "closed": "这份问卷已关闭。"},
    "ru": {"recorded": "Спасибо! {stars}", "already": "Ваша оценка уже учтена: {stars}",
           "not_yours": "Этот опрос для другого клиента.", "closed": "Этот опрос закрыт."},
}


def press_notice(outcome: str, language: str, stars: int | None = None) -> str:
    """The answer to a press: `recorded`, `already` (answered before), `not_yours`, `closed` (expired or
    cancelled). `language` is a primary code; others fall back to English."""
    texts = _NOTICES.get(language, _NOTICES["en"])
    return texts[outcome].format(stars=stars_text(stars) if stars else "")

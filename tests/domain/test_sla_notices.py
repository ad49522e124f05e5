"""Staff notices of the SLA sweep: which clock, how much is left or how late, the deadline, what to do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tgesc.domain import templates
from tgesc.domain.sla import CLOCKS
from tgesc.domain.sla_notices import AUDIENCES, notice_key, notice_variables

DUE = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


def render(breach: bool, language: str, **overrides) -> str:
    key = notice_key(breach)
    values = {"ticket": 12, "priority": "urgent", "tier": "L2", "clock": "first_response", "due": DUE,
              "now": DUE + (timedelta(minutes=5) if breach else -timedelta(minutes=7)), "breach": breach,
              "audience": "thread", "zone": ZoneInfo("UTC"), "language": language, **overrides}
    body, _ = templates.lookup(key, language, {})
    return templates.render(key, body, notice_variables(**values))


def test_a_warning_says_which_clock_how_long_is_left_and_what_to_do():
    assert render(False, "en") == ("⏳ Ticket #12 (urgent, L2): the first response is due in 7 minutes "
                                   "(by 10:30, Mon 2 Mar UTC). Reply to the customer in this thread.")


def test_a_breach_says_how_late_it_is_and_a_manager_is_told_to_make_someone_take_it():
    assert render(True, "en", audience="manager", clock="resolution", zone=ZoneInfo("Europe/Berlin")) == (
        "🚨 Ticket #12 (urgent, L2): the resolution deadline passed 5 minutes ago (it was due 11:30, Mon 2 Mar "
        "Europe/Berlin). Make sure someone takes it now: assign it, answer the customer or escalate it "
        "(tgesc ticket show 12).")


def test_notices_in_chinese_and_russian():
    assert render(True, "zh", clock="next_response") == (
        "🚨 工单 #12(urgent,L2):后续响应 已超时 5 分钟(截止 3月2日 周一 10:30 UTC)。请在此话题中回复客户。")
    assert render(False, "ru", audience="escalated") == (
        "⏳ Заявка №12 (urgent, L2): срок «первый ответ» истекает через 7 минут (до 10:30, пн 2 мар UTC). "
        "Заявка передана сюда, потому что срок истёк: возьмите её в работу.")


@pytest.mark.parametrize("language", [*templates.SHIPPED_LANGUAGES, "de"])
@pytest.mark.parametrize("breach", [False, True])
def test_every_clock_and_audience_renders_in_every_language(language, breach):
    for clock in CLOCKS:
        for audience in AUDIENCES:
            text = render(breach, language, clock=clock, audience=audience)
            assert "12" in text and "urgent" in text and "L2" in text and "$" not in text

"""What the SLA sweep tells staff: the variables of the `sla_warning` and `sla_breach` templates.

A notice names the ticket, its priority and tier, the clock, how much time is left (a warning) or how late
it is (a breach), the deadline, and what to do, in the recipient's language (English, Chinese, Russian;
others fall back to English). Who it is for changes what to do:

- `thread`: the tier's staff chat, in the ticket's thread (warnings, and every breach note);
- `manager`: a team lead's or an admin's private chat (the breach actions notify-leads, notify-admins);
- `escalated`: the thread in the tier a breach escalated the ticket to.

Deadlines are shown in the zone of the ticket's tier's calendar (UTC for a tier without one), named.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tgesc.domain.humanize import duration_text, elapsed_text, instant_text, language_of

AUDIENCES = ("thread", "manager", "escalated")
CLOCK_NAMES = {
    "en": {"first_response": "first response", "next_response": "next response", "resolution": "resolution"},
    "zh": {"first_response": "首次响应", "next_response": "后续响应", "resolution": "解决"},
    "ru": {"first_response": "первый ответ", "next_response": "следующий ответ", "resolution": "решение"},
}
_REPLY = {"en": "Reply to the customer in this thread.",
          "zh": "请在此话题中回复客户。",
          "ru": "Ответьте клиенту в этой ветке."}
_RESOLVE = {"en": "Resolve it, or escalate it if it needs another tier.",
            "zh": "请尽快解决;如需其他层级处理,请升级。",
            "ru": "Решите заявку или передайте её на другую линию, если нужно."}
_MANAGER = {"en": "Make sure someone takes it now: assign it, answer the customer or escalate it "
                  "(tgesc ticket show {ticket}).",
            "zh": "请确保立即有人接手:指派负责人、回复客户或升级(tgesc ticket show {ticket})。",
            "ru": "Проследите, чтобы заявку взяли прямо сейчас: назначьте ответственного, ответьте клиенту "
                  "или передайте выше (tgesc ticket show {ticket})."}
_ESCALATED = {"en": "It was escalated here because the deadline passed: please take it over.",
              "zh": "因已超过时限,工单已升级至此:请接手处理。",
              "ru": "Заявка передана сюда, потому что срок истёк: возьмите её в работу."}


def clock_name(clock: str, language: str | None) -> str:
    return CLOCK_NAMES[language_of(language)][clock]


def what_to_do(clock: str, audience: str, ticket: int, language: str | None) -> str:
    """The advice a notice ends with."""
    lang = language_of(language)
    if audience == "manager":
        return _MANAGER[lang].format(ticket=ticket)
    if audience == "escalated":
        return _ESCALATED[lang]
    return (_RESOLVE if clock == "resolution" else _REPLY)[lang]


def notice_key(breach: bool) -> str:
    """The template of a notice: `sla_breach` for a breach, `sla_warning` before it."""
    return "sla_breach" if breach else "sla_warning"


def notice_variables(*, ticket: int, priority: str, tier: str, clock: str, due: datetime, now: datetime,
                     breach: bool, audience: str, zone: ZoneInfo, language: str | None) -> dict[str, str]:
    """The variables of `notice_key(breach)` for one recipient."""
    lang = language_of(language)
    variables = {"ticket": str(ticket), "priority": priority, "tier": tier, "clock": clock_name(clock, lang),
                 "due": f"{instant_text(due, zone, lang)} {zone.key}",
                 "todo": what_to_do(clock, audience, ticket, lang)}
    if breach:
        variables["late"] = elapsed_text(now - due, lang)
    else:
        variables["left"] = duration_text(due - now, lang)
    return variables

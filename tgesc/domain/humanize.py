"""Durations and instants as customers read them, in English, Chinese and Russian (others fall back to English).

Used for template variables such as `$eta` ("30 minutes (by 10:30, Mon 2 Mar)") and `$opens_at`. Instants are
shown in the customer's zone: their own when known, else the usual zone of their language.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

LANGUAGE_ZONES = {"en": "UTC", "zh": "Asia/Shanghai", "ru": "Europe/Moscow"}
_UNITS = {
    "en": (("day", "days"), ("hour", "hours"), ("minute", "minutes")),
    "zh": (("天", "天"), ("小时", "小时"), ("分钟", "分钟")),
}
_RU_UNITS = (("день", "дня", "дней"), ("час", "часа", "часов"), ("минута", "минуты", "минут"))
_UNDER_A_MINUTE = {"en": "less than a minute", "zh": "不到 1 分钟", "ru": "несколько секунд"}
_WEEKDAYS = {"en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
             "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
             "ru": ("пн", "вт", "ср", "чт", "пт", "сб", "вс")}
_MONTHS = {"en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
           "ru": ("янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек")}


def language_of(code: str | None) -> str:
    primary = (code or "en").split("-")[0].lower()
    return primary if primary in ("en", "zh", "ru") else "en"


def localized_name(name: str, names: Mapping[str, str] | None, language: str | None) -> str:
    """A name as readers of `language` read it: its variant for the language (`zh`, or `pt` for `pt-br`),
    else the name itself."""
    variants = names or {}
    code = (language or "").lower()
    return variants.get(code) or variants.get(code.split("-")[0]) or name


def zone_for(timezone: str | None, language: str | None) -> ZoneInfo:
    """The customer's zone, else the usual zone of their language."""
    return ZoneInfo(timezone or LANGUAGE_ZONES[language_of(language)])


def _ru_plural(n: int, forms: tuple[str, str, str]) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    return forms[1] if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else forms[2]


def duration_text(span: timedelta, language: str | None) -> str:
    """How long until something: `1 day 3 hours`, `45 minutes` (rounded up to the minute, at least one; at
    most two units)."""
    return _minutes_text(max(1, -(-int(span.total_seconds()) // 60)), language_of(language))


def elapsed_text(span: timedelta, language: str | None) -> str:
    """How long ago something was: the whole minutes passed (`2 hours 5 minutes`; at most two units), or
    `less than a minute`: a deadline met by a sweep at its very instant did not pass `1 minute ago`."""
    lang = language_of(language)
    minutes = int(span.total_seconds()) // 60
    return _minutes_text(minutes, lang) if minutes >= 1 else _UNDER_A_MINUTE[lang]


def _minutes_text(minutes: int, lang: str) -> str:
    parts = [(minutes // 1440, 0), (minutes % 1440 // 60, 1), (minutes % 60, 2)]
    shown = [(n, unit) for n, unit in parts if n][:2]
    if lang == "ru":
        return " ".join(f"{n} {_ru_plural(n, _RU_UNITS[unit])}" for n, unit in shown)
    return " ".join(f"{n} {_UNITS[lang][unit][n != 1]}" for n, unit in shown)


def instant_text(instant: datetime, zone: ZoneInfo, language: str | None) -> str:
    """`10:30, Mon 2 Mar` / `3月2日 周一 10:30` / `10:30, пн 2 мар` in `zone`."""
    lang = language_of(language)
    local = instant.astimezone(zone)
    clock = local.strftime("%H:%M")
    weekday = _WEEKDAYS[lang][local.weekday()]
    if lang == "zh":
        return f"{local.month}月{local.day}日 {weekday} {clock}"
    return f"{clock}, {weekday} {local.day} {_MONTHS[lang][local.month - 1]}"


def eta_text(now: datetime, due: datetime, zone: ZoneInfo, language: str | None) -> str:
    """How long until `due` and when that is: `30 minutes (by 10:30, Mon 2 Mar)`."""
    lang = language_of(language)
    by = {"en": "by", "zh": "", "ru": "до"}[lang]
    when = instant_text(due, zone, lang)
    suffix = f"（{when}前）" if lang == "zh" else f" ({by} {when})"
    return duration_text(due - now, lang) + suffix


LANGUAGE_NAMES = {"en": "English", "zh": "中文", "ru": "Русский"}
_STATUS_WORDS = {"en": {"open": "open", "waiting": "waiting for your reply", "reply": "a reply is expected within",
                        "late": "a reply is overdue; we are on it"},
                 "zh": {"open": "处理中", "waiting": "等待您的回复", "reply": "预计回复时间:",
                        "late": "回复已超时,我们正在加紧处理"},
                 "ru": {"open": "в работе", "waiting": "ждём вашего ответа", "reply": "ответ ожидается через",
                        "late": "ответ задерживается, мы уже занимаемся"}}


def ticket_status_line(number: int, status: str, now: datetime, due: datetime | None, zone: ZoneInfo,
                       language: str | None) -> str:
    """One line of a customer's /status: `#12 · open · a reply is expected within 30 minutes (by …)`."""
    words = _STATUS_WORDS[language_of(language)]
    parts = [f"#{number}", words.get(status, status)]
    if due is not None and status == "open":
        parts.append(f"{words['reply']} {eta_text(now, due, zone, language)}" if due > now else words["late"])
    return " · ".join(parts)


_PRIORITY_WORDS = {"en": {"urgent": "urgent", "high": "high priority", "medium": "medium priority",
                          "low": "low priority"},
                   "zh": {"urgent": "紧急", "high": "高优先级", "medium": "中优先级", "low": "低优先级"},
                   "ru": {"urgent": "срочное", "high": "высокоприоритетное", "medium": "обычное",
                          "low": "низкоприоритетное"}}


def priority_text(priority: str, language: str | None) -> str:
    """A ticket's priority as the comfort reply tells the customer (`marked as high priority`)."""
    return _PRIORITY_WORDS[language_of(language)].get(priority, priority)


_PROGRESS = {"en": {"escalated": "It has been escalated to {tier}.", "admins": "Our administrators have been alerted.",
                    "leads": "The team leads have been alerted.", "tier": "The team handling it has been reminded.",
                    "none": "We are still working on it."},
             "zh": {"escalated": "该问题已升级至{tier}。", "admins": "我们已通知管理员。",
                    "leads": "我们已通知团队负责人。", "tier": "我们已提醒负责处理的团队。",
                    "none": "我们仍在处理中。"},
             "ru": {"escalated": "Заявка передана на уровень: {tier}.", "admins": "Мы известили администраторов.",
                    "leads": "Мы известили руководителей команды.",
                    "tier": "Мы напомнили команде, которая ею занимается.", "none": "Мы продолжаем работу над ней."}}
PROGRESS_KINDS = ("escalated", "admins", "leads", "tier", "none")


def progress_text(kind: str, language: str | None, tier: str = "") -> str:
    """What the desk did about a breached resolution deadline, as the customer's update says it: `escalated`
    (to `tier`), `admins` or `leads` alerted, the `tier` reminded, or `none` (still being worked on)."""
    return _PROGRESS[language_of(language)][kind].format(tier=tier)

"""The customer's buttons on their own tickets: an FAQ answer's "that solved it" / "I still need help", and the
"close" button of /status. What their callback data is, how to read it back, their labels and the short notices
a press is answered with, per shipped language.

Callback data: `faq:<ticket number>:solved`, `faq:<ticket number>:help` (the verdict last, so that a scenario's
`press = "solved"` finds it) and `close:<ticket number>`; all well under Telegram's 64 bytes.
"""

from __future__ import annotations

import re

VERDICTS = ("solved", "help")
_FAQ = re.compile(r"faq:([0-9]{1,18}):(solved|help)", re.ASCII)
_CLOSE = re.compile(r"close:([0-9]{1,18})", re.ASCII)

_LABELS = {
    "en": {"solved": "✅ That solved it", "help": "🙋 I still need help", "close": "Close #{number}"},
    "zh": {"solved": "✅ 问题已解决", "help": "🙋 我仍需要帮助", "close": "关闭 #{number}"},
    "ru": {"solved": "✅ Это помогло", "help": "🙋 Мне нужна помощь", "close": "Закрыть #{number}"},
}
_NOTICES = {
    "en": {"solved": "Glad it helped!", "help": "A person will answer you.", "closed": "Closed.",
           "not_yours": "This button is for another customer.", "done": "This request is no longer open.",
           "none": "You have no open request to close.",
           "which": "You have several open requests ({numbers}); send /close with the number of the one to close."},
    "zh": {"solved": "很高兴能帮到您！", "help": "工作人员将回复您。", "closed": "已关闭。",
           "not_yours": "这个按钮属于另一位客户。", "done": "此请求已不再处于打开状态。",
           "none": "您没有可以关闭的请求。",
           "which": "您有多个未关闭的请求（{numbers}）；请发送 /close 加上要关闭的编号。"},
    "ru": {"solved": "Рады, что помогло!", "help": "Вам ответит сотрудник.", "closed": "Закрыто.",
           "not_yours": "Эта кнопка для другого клиента.", "done": "Это обращение уже не открыто.",
           "none": "У вас нет открытых обращений.",
           "which": "У вас несколько открытых обращений ({numbers}); отправьте /close с номером нужного."},
}


def faq_buttons(number: int, language: str) -> list[list[dict[str, str]]]:
    """The inline keyboard under an FAQ answer on ticket `number`: one row, solved and help."""
    labels = _LABELS.get(language, _LABELS["en"])
    return [[{"text": labels[verdict], "data": f"faq:{number}:{verdict}"} for verdict in VERDICTS]]


def close_buttons(numbers: list[int], language: str) -> list[list[dict[str, str]]]:
    """The inline keyboard under /status: one "close" button per open ticket, one per row."""
    label = _LABELS.get(language, _LABELS["en"])["close"]
    return [[{"text": label.format(number=number), "data": f"close:{number}"}] for number in numbers]


def parse_faq(data: str) -> tuple[int, str] | None:
    """(ticket number, verdict) of an FAQ answer's button; None when `data` is not one."""
    match = _FAQ.fullmatch(data or "")
    return (int(match[1]), match[2]) if match else None


def parse_close(data: str) -> int | None:
    """The ticket number of a /status close button; None when `data` is not one."""
    match = _CLOSE.fullmatch(data or "")
    return int(match[1]) if match else None


def notice(outcome: str, language: str, **values: str) -> str:
    """The answer to a press or to /close: solved, help, closed, not_yours, done (the ticket no longer takes it),
    none (no open ticket to close), which (several: `numbers`)."""
    return _NOTICES.get(language, _NOTICES["en"])[outcome].format(**values)

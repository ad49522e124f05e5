"""The readable form of a simulation's result: a transcript in virtual time, then a table of the tickets.

One line per message (who wrote to whom: `alice → bot`, `bot → L2 #1`, the text's first line without its
HTML, "…" when more follows, buttons as `[1 ★ | 2 ★] / [next row]`) and per event (`⇧ #1 escalated L1 → L2
(keyword: refund) — …`, `⚠ #1 SLA warning: first response 80%`, `★ #1 survey answered: 2 ★` …), in time order
(at one instant, messages before events, each in the order given), with a `── Mon 2 Mar 2026 ──` line
whenever the day changes; times are shown in the viewer's zone. The engine's `actions` (button presses and
command lines, {at, who, what, output}), when the result has them, are shown too, before what they caused.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WHO_WIDTH = 15
FIRST_LINE_LIMIT = 160
ACTION_OUTPUT_LINES = 12
TABLE_COLUMNS = ("number", "customer", "status", "tier", "priority", "emotion", "tags", "survey")

_TAG = re.compile(r"<[^>]*>")
_TICKET_MARK = re.compile(r"#([0-9]+)\b", re.ASCII)


UNTOLD = frozenset({"card_updated"})  # events only `--json` shows: a card edited after every change is noise here


def render_text(result: Mapping[str, Any], zone: tzinfo) -> str:
    """`result` ({scenario, messages, tickets, events}, instants as ISO strings) as a transcript and a ticket
    table, instants shown in `zone`."""
    threads = _thread_tickets(result.get("messages") or [])
    entries: list[tuple[datetime, int, int, str]] = []
    for i, action in enumerate(result.get("actions") or []):
        entries.append((_instant(action["at"], zone), 0, i, action_line(action)))
    for i, message in enumerate(result.get("messages") or []):
        entries.append((_instant(message["at"], zone), 1, i, message_line(message, threads)))
    for i, event in enumerate(result.get("events") or []):
        if event.get("kind") not in UNTOLD:
            entries.append((_instant(event["at"], zone), 2, i, event_line(event, zone)))
    entries.sort(key=lambda entry: entry[:3])
    lines = [f"Scenario: {result.get('scenario', '')}"]
    day = None
    for at, _, _, text in entries:
        if at.date() != day:
            day = at.date()
            lines += ["", f"── {day_text(at)} ──"]
        lines.append(f"{at:%H:%M}  " + text.replace("\n", "\n" + " " * 7))
    if not entries:
        lines += ["", "(nothing happened)"]
    lines += ["", "Tickets", ticket_table(result.get("tickets") or [])]
    return "\n".join(lines) + "\n"


def day_text(at: datetime) -> str:
    """`Tue 3 Mar 2026` (English, whatever the locale)."""
    return f"{WEEKDAYS[at.weekday()]} {at.day} {MONTHS[at.month - 1]} {at.year}"


def _instant(value: str | datetime, zone: tzinfo) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return at.astimezone(zone)


# --- messages -----------------------------------------------------------------------------------------------


def plain(text: str | None) -> str:
    """Telegram HTML as plain text: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", text or ""))


def first_line(text: str | None) -> str:
    """The first non-empty line of the plain text, with "…" when more follows (or it is cut)."""
    lines = [line.strip() for line in plain(text).splitlines() if line.strip()]
    if not lines:
        return ""
    line, more = lines[0], len(lines) > 1
    if len(line) > FIRST_LINE_LIMIT:
        line, more = line[:FIRST_LINE_LIMIT].rstrip(), True
    return line + " …" if more else line


def buttons_text(rows: Sequence[Sequence[Sequence[str]]] | None) -> str:
    """`[1 ★ | 2 ★] / [3 ★]`: each row's labels in brackets, rows separated by " / "."""
    return " / ".join("[" + " | ".join(str(button[0]) for button in row) + "]" for row in rows or () if row)


def _thread_tickets(messages: Sequence[Mapping[str, Any]]) -> dict[tuple[Any, Any], int]:
    """(chat id, thread) -> ticket number: a message's own `ticket` when it has one, else the `#N` on the first
    line of the first message in that thread (the context card that opened the topic)."""
    known: dict[tuple[Any, Any], int] = {}
    for message in messages:
        if message.get("thread") is None:
            continue
        key = (message.get("chat_id"), message["thread"])
        if message.get("ticket") is not None:
            known.setdefault(key, message["ticket"])
        elif key not in known:
            found = _TICKET_MARK.search(first_line(message.get("text")))
            if found:
                known[key] = int(found.group(1))
    return known


def message_line(message: Mapping[str, Any], threads: Mapping[tuple[Any, Any], int]) -> str:
    """`alice → bot      text`, `bot → L2 #1      text [buttons]`, `bob → L2 #1      text` (a staff member writing
    in a staff chat, when the message says who: `from`)."""
    chat = str(message.get("chat") or message.get("chat_id"))
    thread = message.get("thread")
    if thread is not None:
        number = message.get("ticket") or threads.get((message.get("chat_id"), thread))
        chat += f" #{number}" if number is not None else f" thread {thread}"
    sender = message.get("from")
    if message.get("direction") != "in":
        who = f"bot → {chat}"
    else:
        who = f"{sender} → {chat}" if sender and sender != message.get("chat") else f"{chat} → bot"
    parts = (attachment_text(message), first_line(message.get("text")), buttons_text(message.get("buttons")))
    return f"{who:<{WHO_WIDTH}}  " + "  ".join(part for part in parts if part)


def attachment_text(message: Mapping[str, Any]) -> str:
    """`[photo]`, `[document tgesc-report-2026-02-23.html]` (with the file's name when it has one); "" for a text."""
    if not message.get("attachment"):
        return ""
    return "[" + " ".join(str(part) for part in (message["attachment"], message.get("file_name")) if part) + "]"


def action_line(action: Mapping[str, Any]) -> str:
    """What a step did besides a message (`alice  presses [2 ★]`, `cli  $ tgesc ...`), the command's output
    below it, indented (at most ACTION_OUTPUT_LINES lines)."""
    line = f"{str(action.get('who', '')):<{WHO_WIDTH}}  {action.get('what', '')}"
    output = [text.rstrip() for text in str(action.get("output") or "").splitlines() if text.strip()]
    if len(output) > ACTION_OUTPUT_LINES:
        output = [*output[:ACTION_OUTPUT_LINES], f"… ({len(output) - ACTION_OUTPUT_LINES} more lines)"]
    return "\n".join([line, *(" " * (WHO_WIDTH + 2) + "│ " + text for text in output)])


# --- events -------------------------------------------------------------------------------------------------


def _clock(name: Any) -> str:
    return str(name or "").replace("_", " ")


def _by(d: Mapping[str, Any]) -> str:
    return f" by {d['by']}" if d.get("by") else ""


def _reason(d: Mapping[str, Any]) -> str:
    return f" — {first_line(d['reason'])}" if d.get("reason") else ""


def _escalated(n: str, d: Mapping[str, Any], _zone: tzinfo) -> str:
    trigger = str(d.get("trigger", ""))
    if d.get("rule"):
        trigger += f": {d['rule']}"
    elif d.get("clock"):
        trigger += f": {_clock(d['clock'])}"
    arrow = "⇩" if str(d.get("to")) < str(d.get("from")) else "⇧"
    return f"{arrow} {n} escalated {d.get('from')} → {d.get('to')} ({trigger}){_by(d)}{_reason(d)}"


def _due(d: Mapping[str, Any], zone: tzinfo) -> str:
    return f" (due {_instant(d['due'], zone):%H:%M})" if d.get("due") else ""


def _tagged(n: str, d: Mapping[str, Any], _zone: tzinfo) -> str:
    changes = [f"+{tag}" for tag in d.get("added") or []] + [f"-{tag}" for tag in d.get("removed") or []]
    return f"✎ {n} tags {' '.join(changes) or 'unchanged'}{_by(d)}"


def _survey_answered(n: str, d: Mapping[str, Any], _zone: tzinfo) -> str:
    outcome = f" ({d['outcome']})" if d.get("outcome") else ""
    return f"★ {n} survey answered: {d.get('rating')} ★{outcome}"


def _other(n: str, kind: str, d: Mapping[str, Any]) -> str:
    shown = ", ".join(f"{key}={first_line(str(value))}" for key, value in d.items() if value not in (None, "", []))
    return f"· {n} {kind.replace('_', ' ')}" + (f": {shown}" if shown else "")


_EVENT_TEXTS: dict[str, Callable[[str, Mapping[str, Any], tzinfo], str]] = {
    "created": lambda n, d, z: f"● {n} created{_by(d)}",
    "escalated": _escalated,
    "priority_changed": lambda n, d, z: f"▲ {n} priority {d.get('from')} → {d.get('to')}{_by(d)}",
    "tagged": _tagged,
    "sla_warning": lambda n, d, z: f"⚠ {n} SLA warning: {_clock(d.get('clock'))} {d.get('percent')}%{_due(d, z)}"
                                   + (" — not sent: a later milestone was due too" if d.get("action") == "skipped"
                                      else ""),
    "sla_breach": lambda n, d, z: f"✖ {n} SLA breach: {_clock(d.get('clock'))}{_due(d, z)}",
    "resolved": lambda n, d, z: f"✔ {n} resolved{_by(d)}{_why(d, 'staff')}",
    "reopened": lambda n, d, z: f"↺ {n} reopened{_by(d)}{_reason(d)}",
    "closed": lambda n, d, z: f"■ {n} closed{_by(d)}{_why(d, 'staff')}",
    "waiting": lambda n, d, z: f"⏸ {n} waiting on the customer ({d.get('reason')}){_by(d)}",
    "resumed": lambda n, d, z: f"▶ {n} open again ({d.get('reason')}){_by(d)}",
    "waiting_reminded": lambda n, d, z: f"· {n} customer reminded" + ("" if d.get("sent", True)
                                                                      else " (not sent: resolved at once)"),
    "assigned": lambda n, d, z: f"· {n} assigned to {d.get('to')}{_by(d)}",
    "unassigned": lambda n, d, z: f"· {n} back to the pool from {d.get('from')} "
                                  f"({str(d.get('reason') or '').replace('_', ' ')}){_by(d)}",
    "customer_banned": lambda n, d, z: f"⛔ {n} customer {d.get('customer')} banned until "
                                       + (f"{_instant(d['until'], z):%Y-%m-%d %H:%M}" if d.get("until") else "lifted")
                                       + f"{_by(d)}{_reason(d)}",
    "customer_unbanned": lambda n, d, z: f"· {n} customer {d.get('customer')} unbanned{_by(d)}{_reason(d)}",
    "emotion_changed": lambda n, d, z: f"☹ {n} emotion {d.get('from')} → {d.get('to')}",
    "rule_fired": lambda n, d, z: f"· {n} rule {d.get('rule')} fired ({d.get('rule_kind')})",
    "faq_answered": lambda n, d, z: f"· {n} FAQ {d.get('faq')} answered (matched {d.get('matched')!r})",
    "survey_sent": lambda n, d, z: f"✉ {n} survey sent",
    "survey_reminded": lambda n, d, z: f"✉ {n} survey reminder sent",
    "survey_expired": lambda n, d, z: f"✉ {n} survey expired unanswered",
    "survey_answered": _survey_answered,
    "review_invited": lambda n, d, z: f"★ {n} review invited",
}


def _why(detail: Mapping[str, Any], usual: str) -> str:
    """` (reason)` for a resolution or closing, unless it is the usual one (staff)."""
    reason = detail.get("reason")
    return f" ({reason})" if reason and reason != usual else ""


def event_line(event: Mapping[str, Any], zone: tzinfo) -> str:
    """One event, e.g. `⚠ #1 SLA warning: first response 80% (due 09:45)`."""
    kind, detail = event.get("kind", ""), event.get("detail") or {}
    number = "#" + str(event["ticket"]) if event.get("ticket") is not None else "(no ticket)"
    text = _EVENT_TEXTS.get(kind)
    return text(number, detail, zone) if text is not None else _other(number, kind, detail)


# --- tickets ------------------------------------------------------------------------------------------------


def _survey_cell(survey: Mapping[str, Any] | None) -> str:
    if not survey:
        return ""
    if survey.get("rating") is not None:
        return f"{survey['rating']} ★ ({survey.get('status', 'answered')})"
    return str(survey.get("status", ""))


def ticket_table(tickets: Sequence[Mapping[str, Any]]) -> str:
    """The tickets as a plain-text table (tabulate's `simple`), or "(no tickets)"."""
    from tabulate import tabulate

    if not tickets:
        return "(no tickets)"
    body = [[ticket.get("number"), ticket.get("customer"), ticket.get("status"), ticket.get("tier"),
             ticket.get("priority"), ticket.get("emotion"), ", ".join(ticket.get("tags") or []),
             _survey_cell(ticket.get("survey"))] for ticket in tickets]
    return tabulate(body, headers=list(TABLE_COLUMNS), tablefmt="simple", disable_numparse=True)

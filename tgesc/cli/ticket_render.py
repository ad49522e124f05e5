"""The ticket noun's text in and out: layouts of `tgesc ticket show` (the context card as sections) and
`tgesc ticket list` rows, and the parsing of what people type (`+tag -tag`, instants and dates).

The layouts take documents the services built (instants already in the viewer's zone for `show`, aware
UTC datetimes for `list`) and only lay them out: no queries here.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import typer

from tgesc.domain.durations import format_duration
from tgesc.domain.limits import name_problem

LABEL = 14  # width of the labels of the six core items


def when(iso: str | None) -> str:
    """`2026-03-02T10:05:00+08:00` → `2026-03-02 10:05+08:00` (or '-')."""
    if not iso:
        return "-"
    moment = datetime.fromisoformat(iso)
    return moment.isoformat(sep=" ", timespec="minutes" if moment.second == 0 else "seconds")


def _item(label: str, text: str) -> list[str]:
    """`label  first line`, later lines indented under the first."""
    body = text.splitlines() or [""]
    pad = " " * LABEL
    return [f"{label:<{LABEL}}{body[0]}", *(f"{pad}{line}" for line in body[1:])]


def _items(label: str, entries: Sequence[str], empty: str) -> list[str]:
    if not entries:
        return _item(label, empty)
    out = _item(label, "- " + entries[0])
    for entry in entries[1:]:
        out += _item("", "- " + entry)
    return out


def attachment(message: Mapping[str, Any]) -> str:
    if not message.get("media_type"):
        return ""
    return f"[{message['media_type']}{' ' + message['file_id'] if message.get('file_id') else ''}]"


def _message_text(message: Mapping[str, Any]) -> str:
    text = " ".join((message.get("text") or "").split())
    return " ".join(part for part in (text, attachment(message)) if part) or "(empty)"


def header(doc: Mapping[str, Any]) -> str:
    tags = f"tags: {', '.join(doc['tags'])}" if doc["tags"] else "no tags"
    assignee = f"assignee: {doc['assignee']}" if doc.get("assignee") else "unassigned"
    return " · ".join([f"#{doc['number']}", doc["status"], doc["tier"], doc["priority"], doc["emotion"], tags,
                       assignee])


def core_items(doc: Mapping[str, Any]) -> list[str]:
    """The article's six core items: customer, problem, tried, key messages, emotion, priority."""
    customer = doc["customer"]
    who = [f"id {customer['id']}", f"@{customer['username']}" if customer["username"] else "no username",
           *([customer["name"]] if customer.get("name") else []), f"language {customer['language']}",
           f"zone {customer['timezone'] or 'unknown'}"]
    tried = [f"{t['text']} ({t['by']}, {when(t['at'])})" for t in doc["tried"]]
    key = [f"{when(m['at'])} {m['from']} #{m['id']}{' (marked)' if m['marked'] else ''}: {_message_text(m)}"
           for m in doc["key_messages"]]
    emotion = doc["emotion"] + (" (set by staff)" if doc.get("emotion_set_by_staff") else "")
    return [*_item("Customer", " · ".join(who)), *_item("Problem", doc["problem"] or "(none recorded)"),
            *_items("Tried", tried, "nothing yet"), *_items("Key messages", key, "none"),
            *_item("Emotion", emotion), *_item("Priority", doc["priority"])]


def checklist(doc: Mapping[str, Any]) -> list[str]:
    items = doc["checklist"]
    missing = items["missing"]
    title = "Checklist: complete" if not missing else f"Checklist: {len(missing)} of 4 missing"
    lines = [title,
             f"  first occurred   {when(items['first_occurred_at'])}",
             f"  evidence         {'yes' if items['evidence_provided'] else 'no'}",
             f"  tried            {len(doc['tried'])} solution(s)",
             f"  expected by      {when(items['expected_resolution_by'])}"]
    return lines + [f"  missing: {item}" for item in missing]


def clocks(doc: Mapping[str, Any], zone: str) -> list[str]:
    from tabulate import tabulate

    rows = [[c["clock"], c["state"], when(c["due"]), c["left"] if c["state"] in ("running", "paused") else "-",
             f"{c['used']} of {c['budget']}"] for c in doc["sla"]["clocks"]]
    if not rows:
        return ["SLA clocks: none (no policy taken)"]
    body = tabulate(rows, headers=["clock", "state", "due", "left", "used"], tablefmt="simple",
                    disable_numparse=True)
    return [f"SLA clocks (times in {zone})", *("  " + line for line in body.splitlines())]


def _detail(detail: Mapping[str, Any]) -> str:
    def value(v: Any) -> str:
        if isinstance(v, list):
            return ",".join(map(str, v))
        return " ".join(str(v).split()) if v is not None else "-"

    return ", ".join(f"{k}={value(v)}" for k, v in detail.items() if v not in ("", [], None))


def timeline(doc: Mapping[str, Any]) -> list[str]:
    """Events and messages merged by time (a message before the event it caused at the same instant)."""
    entries = [(m["at"], 0, i, f"message  {m['from']} #{m['id']}"
                + (f" ({m['staff']})" if m.get("staff") else "") + f": {_message_text(m)}")
               for i, m in enumerate(doc.get("messages", []))]
    entries += [(e["at"], 1, i, f"{e['kind']}  by {e['actor']}" + (f": {_detail(e['detail'])}" if e["detail"]
                                                                    else ""))
                for i, e in enumerate(doc["events"])]
    entries.sort(key=lambda e: (datetime.fromisoformat(e[0]), e[1], e[2]))
    return ["Timeline", *(f"  {when(at)}  {text}" for at, _, _, text in entries)] if entries else \
        ["Timeline: empty"]


def show_text(doc: Mapping[str, Any], zone: str) -> str:
    """`ticket show N`: header, six core items, checklist, SLA clocks, timeline (blank lines between)."""
    sections = [[header(doc)], core_items(doc), checklist(doc), clocks(doc, zone), timeline(doc)]
    return "\n\n".join("\n".join(lines) for lines in sections)


# --- ticket list ----------------------------------------------------------------------------------

LIST_COLUMNS = ["number", "status", "tier", "priority", "emotion", "customer", "assignee", "tags",
                "next deadline", "age"]


def age_text(seconds: float) -> str:
    minutes = int(seconds) // 60
    return format_duration(minutes * 60) if minutes else "<1m"


def list_row(row: Mapping[str, Any], zone: str, as_json: bool) -> dict[str, Any]:
    """A queue row for output: instants in the viewer's zone (ISO 8601 with --json), ages as durations (`1h30m`)."""
    tz = _zone(zone)
    age = max(row["age"].total_seconds(), 0)  # a clock behind the ticket's opening (TGESC_CLOCK): no age yet
    if as_json:
        return {**{k: _iso(v, tz) if isinstance(v, datetime) else v for k, v in row.items() if k != "age"},
                "age": age_text(age), "age_seconds": int(age)}
    customer, due = row["customer"], _iso(row["next_deadline"], tz)
    return {"number": row["number"], "status": row["status"], "tier": row["tier"],
            "priority": row["priority"], "emotion": row["emotion"],
            "customer": f"@{customer['username']}" if customer["username"] else str(customer["id"]),
            "assignee": row["assignee"], "tags": row["tags"],
            "next deadline": (when(due) + (" overdue" if row["breaching"] else "")) if due else "-",
            "age": age_text(age)}


def _iso(moment: datetime | None, tz: ZoneInfo) -> str | None:
    """`moment` in `tz` as ISO 8601 to the second (None stays None)."""
    return moment.astimezone(tz).isoformat(timespec="seconds") if moment is not None else None


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def list_noun(wanted: Any) -> str:
    """What `ticket list` counts: breaching, open, or all tickets (`wanted`: tickets.queue.Wanted)."""
    from tgesc.domain.vocabulary import OPEN_STATUSES

    return ("breaching " if wanted.breaching else "open " if tuple(wanted.statuses) == OPEN_STATUSES else "") \
        + "tickets"


def list_footer(wanted: Any, shown: int, total: int, after: Any, limit: int | None, as_json: bool,
                more: bool = False) -> str:
    """The line under a page of `ticket list`: how many of how many match (`more`: more than `total`), and the
    command for the next page (`wanted`: the queue's filters, tickets.queue.Wanted; `after`: where the next page
    starts, or None)."""
    from tgesc.cli.output import counted

    noun = list_noun(wanted)
    following = None if after is None else \
        f"tgesc ticket list {''.join(_list_options(wanted, limit, as_json))}--after {after}"
    return counted(shown, total, noun, more=more, following=following)


def _list_options(wanted: Any, limit: int | None, as_json: bool) -> list[str]:
    """The options of `ticket list` that ask for `wanted` again (each followed by a space)."""
    from tgesc.domain.vocabulary import OPEN_STATUSES, TICKET_STATUSES
    from tgesc.services.tickets.queue import utc_text

    statuses = ["all"] if tuple(wanted.statuses) == TICKET_STATUSES else \
        [] if tuple(wanted.statuses) == OPEN_STATUSES else list(wanted.statuses)
    pairs = [*(("--status", s) for s in statuses), *(("--tier", t) for t in wanted.tiers),
             *(("--priority", p) for p in wanted.priorities), *(("--tag", t) for t in wanted.tags),
             *([("--assignee", wanted.assignee)] if wanted.assignee else []),
             *([("--customer", wanted.customer)] if wanted.customer else []),
             *([("--since", utc_text(wanted.since))] if wanted.since else []),
             *([("--until", utc_text(wanted.until))] if wanted.until else []),
             *([("--limit", str(limit))] if limit else [])]
    flags = [*(["--breaching"] if wanted.breaching else []), *(["--json"] if as_json else [])]
    return [f"{option} {shlex.quote(value)} " for option, value in pairs] + [f"{flag} " for flag in flags]


# --- what people type -----------------------------------------------------------------------------


def tag_changes(changes: Sequence[str], add: Sequence[str], remove: Sequence[str]) -> tuple[list[str], list[str]]:
    """`+a -b` arguments (given after `--`) plus --add/--remove options → (added, removed)."""
    added, removed = [t.strip() for t in add], [t.strip() for t in remove]
    for item in changes:
        sign, name = item[:1], item[1:].strip()
        if sign not in ("+", "-") or not name:
            raise typer.BadParameter(f"{item!r}: write +TAG to add or -TAG to remove (after --), "
                                     "or use --add / --remove")
        (added if sign == "+" else removed).append(name)
    if not added and not removed:
        raise typer.BadParameter("give the tags to change: -- +TAG -TAG, or --add TAG / --remove TAG")
    if not all(added + removed):
        raise typer.BadParameter("a tag must not be empty")
    for tag in added + removed:
        problem = name_problem(tag)
        if problem:
            raise typer.BadParameter(f"the tag {tag[:40]!r} {problem}")
    return added, removed


def typed_instant(text: str | None, zone: str, option: str) -> datetime | None:
    """An ISO 8601 instant or date typed by a person (`instants.parse_moment`): a bare date is local midnight and a
    time without an offset is local time, both in the viewer's `zone`."""
    if text is None:
        return None
    from tgesc.domain.instants import InstantError, parse_moment

    try:
        return parse_moment(text, ZoneInfo(zone))
    except InstantError as exc:
        raise typer.BadParameter(f"{option}: {exc}") from None

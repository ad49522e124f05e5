"""The schema of the escalation configuration document (the TOML sysadmins keep in git).

One declarative description per section drives everything: validating a file, normalising values to
one canonical form (so export → apply → export is byte-identical), and checking single edits made
from the CLI. A document is `{section: {key: {field: value}}}`; canonical values are plain TOML types
(durations as canonical strings such as "1d4h", hours as "HH:MM-HH:MM"). Every value keeps to the range
docs/limits.md gives its kind (`tgesc.domain.limits`): integers that fit their column, names and texts
without control characters, durations of at most 365d; a value outside it is a problem like any other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tgesc.domain.durations import DurationError, format_duration, parse_duration
from tgesc.domain.hours import normalize_calendar, validate_calendar
from tgesc.domain.limits import (
    CAPACITY,
    COUNT,
    LEVEL,
    MAX_DISPLAY_NAME,
    MAX_NAME,
    POSITION,
    TELEGRAM_CHAT_ID,
    TELEGRAM_USER_ID,
    LimitError,
    WholeNumbers,
    name_problem,
    text_problem,
)
from tgesc.domain.templates import SNIPPET, check_body
from tgesc.domain.vocabulary import ASSIGN_MODES, BREACH_ACTIONS, EMOTIONS, PRIORITIES, ROLES, RULE_KINDS
from tgesc.domain.weekly import Weekly, WeeklyError

Problems = list[str]


_KEY = re.compile(r"[\w.-]+")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,4})?", re.ASCII)


class Bad(ValueError):
    """A field value is invalid; the message says why (the path is added by the caller)."""


# --- field types: each converts a raw value to its canonical form or raises Bad -----------------


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise Bad(f"expected a string, got {type(value).__name__}")
    return value


def optional_text(value: Any) -> str:
    """A free text, possibly empty: no control character but tab and line breaks, at most 4096 characters."""
    problem = text_problem(_string(value))
    if problem:
        raise Bad(problem)
    return value


def name(limit: int = MAX_NAME, *, empty: bool = False) -> Callable[[Any], str]:
    """A name (display name, username, reference): no control character, at most `limit` characters;
    '' too when `empty`."""

    def check(value: Any) -> str:
        if empty and _string(value) == "":
            return value
        if not _string(value).strip():
            raise Bad("must not be empty")
        problem = name_problem(value, limit)
        if problem:
            raise Bad(problem)
        return value

    return check


def language_code(value: Any) -> str:
    """A Telegram-style language code: `en`, `zh`, `pt-br`."""
    if not isinstance(value, str) or not _LANGUAGE.fullmatch(value):
        raise Bad(f"{value!r} is not a language code; use lowercase letters such as en, zh, ru or pt-br")
    return value


def whole(numbers: WholeNumbers) -> Callable[[Any], int]:
    """An integer in the range of `numbers` (a TOML integer; the CLI parses ASCII digits the same way)."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Bad(f"expected an integer, got {type(value).__name__}")
        try:
            return numbers.check(value)
        except LimitError as exc:
            raise Bad(str(exc)) from None

    return check


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Bad(f"expected true or false, got {value!r}")
    return value


def duration(value: Any) -> str:
    if not isinstance(value, str):
        raise Bad(f"expected a duration string like \"15m\", got {value!r}")
    try:
        return format_duration(parse_duration(value))
    except DurationError as exc:
        raise Bad(str(exc)) from None


def positive_duration(value: Any) -> str:
    canonical = duration(value)
    if parse_duration(canonical) == 0:
        raise Bad("must be longer than 0s")
    return canonical


def one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise Bad(f"{value!r} is not one of {', '.join(choices)}")
        return value

    return check


def string_list(value: Any) -> list[str]:
    """Non-empty free texts (phrases), duplicates dropped."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise Bad("expected a list of non-empty strings")
    problems = [f"{v[:40]!r} {text_problem(v)}" for v in value if text_problem(v)]
    if problems:
        raise Bad(problems[0])
    return sorted(set(value), key=value.index)


def name_list(value: Any) -> list[str]:
    """Names (tags, tier codes), sorted, duplicates dropped."""
    items = string_list(value)
    problems = [f"{v[:40]!r} {name_problem(v)}" for v in items if name_problem(v)]
    if problems:
        raise Bad(problems[0])
    return sorted(set(items))


def phrase_table(value: Any) -> dict[str, list[str]]:
    """Phrases per language: `{ "en" = ["refund"], "zh" = ["退款"] }`."""
    if not isinstance(value, Mapping):
        raise Bad('expected a table of languages, e.g. phrases.en = ["refund"]')
    return _per_language(value, string_list)


def name_table(value: Any) -> dict[str, str]:
    """A display name per language: `{ zh = "二线支持", ru = "Вторая линия" }`."""
    if not isinstance(value, Mapping):
        raise Bad('expected a table of languages, e.g. names = { zh = "二线支持" }')
    if not value:
        raise Bad("names has no language; leave `names` out when the tier has one name only")
    return _per_language(value, name(MAX_DISPLAY_NAME))


def _per_language(value: Mapping, check: Callable[[Any], Any]) -> dict[str, Any]:
    """`value` (language code -> value) with each code checked and each value checked by `check`."""
    result = {}
    for language in sorted(value):
        language_code(language)
        try:
            result[language] = check(value[language])
        except Bad as exc:
            raise Bad(f"{language}: {exc}") from None
    return result


def snippet_texts(value: Any) -> dict[str, str]:
    """A snippet's text per language: `{ en = "…", zh = "…" }`, each Telegram HTML that may use $customer_name,
    $ticket, $tier and $eta (the customer gets theirs, else English's)."""
    if not isinstance(value, Mapping) or not value:
        raise Bad('expected a table of languages with at least one text, e.g. text.en = "Your refund is on its way"')

    def body(text: Any) -> str:
        if not isinstance(text, str):
            raise Bad("expected a text")
        problems = check_body(SNIPPET + "text", text)
        if problems:
            raise Bad("; ".join(problems))
        return text

    return _per_language(value, body)


def nonempty_phrase_table(value: Any) -> dict[str, list[str]]:
    """A phrase table holding at least one phrase (an FAQ entry without any could never answer)."""
    table = phrase_table(value)
    if not any(table.values()):
        raise Bad("needs at least one phrase in some language; an entry without phrases never answers")
    return table


def percentages(value: Any) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise Bad("expected a list of whole percentages, e.g. [50, 80]")
    if any(not 0 < v < 100 for v in value):
        raise Bad("each warning threshold must be between 1 and 99 percent")
    return sorted(set(value))


def emotion_list(value: Any) -> list[str]:
    items = string_list(value)
    bad = [v for v in items if v not in EMOTIONS]
    if bad:
        raise Bad(f"unknown emotion(s) {', '.join(bad)}; use {', '.join(EMOTIONS)}")
    return sorted(items, key=EMOTIONS.index)


# --- sections ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    convert: Callable[[Any], Any]
    required: bool = False
    default: Any = None  # filled in when absent (None: the field is simply absent)
    ref: str | None = None  # section whose key this field names ("tiers", "calendars")
    help: str = ""


@dataclass(frozen=True)
class Section:
    name: str
    fields: tuple[Field, ...]
    key_help: str
    key_max: int = 64  # the size of the key's column

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


TIERS = Section("tiers", (
    Field("name", name(MAX_DISPLAY_NAME), required=True, help="display name"),
    Field("level", whole(LEVEL), required=True, help="order: 1 is the front line"),
    Field("staff_chat", whole(TELEGRAM_CHAT_ID), help="Telegram chat id of the tier's staff group"),
    Field("forum", boolean, default=False, help="the staff chat is a forum (one topic per ticket)"),
    Field("calendar", name(), ref="calendars", help="business hours; absent: always open"),
    Field("description", optional_text, default="", help="what this tier handles"),
    Field("first_response", positive_duration,
          help="its own first-response target; applies when shorter than the priority's"),
    Field("names", name_table, help="the name in other languages, e.g. { zh = \"二线\" }"),
    Field("assign", one_of(*ASSIGN_MODES), help="who gets a ticket reaching the tier: manual (absent), round-robin "
          "or least-open, among its active staff on shift and under capacity"),
), key_help="tier code, e.g. L2", key_max=16)

STAFF = Section("staff", (
    Field("id", whole(TELEGRAM_USER_ID), required=True, help="Telegram user id"),
    Field("name", name(MAX_DISPLAY_NAME, empty=True), default="", help="display name"),
    Field("username", name(empty=True), help="Telegram @username without the @"),
    Field("role", one_of(*ROLES), default="agent", help="agent, lead or admin"),
    Field("tiers", name_list, default=[], ref="tiers", help="tiers this person works in"),
    Field("language", language_code, default="en", help="language of notices to this person"),
    Field("active", boolean, default=True, help="inactive staff get no notices and may not act"),
    Field("capacity", whole(CAPACITY), help="open tickets assigned to them at most; absent: no limit"),
    Field("calendar", name(), ref="calendars", help="their shift (automatic assignment); absent: the tier's hours"),
), key_help="handle, e.g. bob")

SLA = Section("sla", (
    Field("first_response", positive_duration, required=True, help="budget for the first staff reply"),
    Field("next_response", positive_duration, help="budget for each later reply a customer awaits"),
    Field("resolution", positive_duration, required=True, help="budget to resolve"),
    Field("calendar", name(), ref="calendars", help="business hours the clock runs in; absent: 24/7"),
    Field("warn_at", percentages, default=[50, 80], help="warning thresholds, % of each budget"),
    Field("pause_when_waiting", boolean, default=True, help="clock stops while waiting on the customer"),
    Field("on_breach", one_of(*BREACH_ACTIONS), required=True, help=", ".join(BREACH_ACTIONS)),
    Field("escalate_to", name(), ref="tiers", help="tier for on_breach = escalate"),
), key_help="priority: urgent, high, medium or low")

RULES = Section("rules", (
    Field("kind", one_of(*RULE_KINDS), required=True, help=", ".join(RULE_KINDS)),
    Field("enabled", boolean, default=True),
    Field("position", whole(POSITION), default=0, help="evaluation order (ascending, then by name)"),
    Field("phrases", phrase_table, default={}, help="per language; matched case-insensitively"),
    Field("tags", name_list, default=[], help="tags added to the ticket"),
    Field("priority", one_of(*PRIORITIES), help="priority raised to (never lowered)"),
    Field("escalate_to", name(), ref="tiers", help="tier the ticket is escalated to"),
    Field("reply", name(), ref="templates", help="template key sent to the customer"),
    Field("count", whole(COUNT), help="repeated-request: consecutive messages needed"),
    Field("after", positive_duration, help="unresolved-for: how long"),
    Field("emotions", emotion_list, default=[], help="emotion: which assessments fire"),
), key_help="rule name")

FAQ = Section("faq", (
    Field("phrases", nonempty_phrase_table, required=True, help="per language; any one matches"),
    Field("answer", name(), required=True, ref="templates", help="template key of the answer"),
    Field("enabled", boolean, default=True),
), key_help="FAQ entry name")

# Calendars and templates have shapes of their own (validated by hours.py and templates.py), and so has
# lifecycle: one table of settings (`[lifecycle]`, `close_after = "3d"`), not a table of entries.
SNIPPETS = Section("snippets", (
    Field("text", snippet_texts, required=True,
          help="per language: Telegram HTML; $customer_name, $ticket, $tier, $eta"),
), key_help="snippet key")

SECTIONS: dict[str, Section] = {s.name: s for s in (TIERS, STAFF, SLA, RULES, FAQ, SNIPPETS)}
SECTION_ORDER = ("calendars", "tiers", "staff", "sla", "templates", "rules", "faq", "snippets", "lifecycle",
                 "reports")
FLAT_SECTIONS = ("lifecycle", "reports")  # tables of settings: their "entries" are values, written `key = value`

LIFECYCLE: dict[str, tuple[str, str]] = {  # key: (default, help)
    "waiting_remind_after": ("1d", "a ticket waiting on the customer: the customer is reminded after this long"),
    "waiting_resolve_after": ("3d", "a ticket waiting on the customer: resolved (no_reply) after this long"),
    "faq_resolve_after": ("1d", "an FAQ answer nobody disputes: the ticket is resolved (faq_silence) after this long"),
    "close_after": ("3d", "a resolved ticket closes after this long; a message before then reopens it"),
}

REPORTS: dict[str, tuple[str, str]] = {  # key: (default, help)
    "digest": ("", "the weekly digest to leads and admins: a weekday and a time in the desk's zone, e.g. "
                   "\"mon 09:00\" (empty: none)"),
}
SETTINGS = {"lifecycle": LIFECYCLE, "reports": REPORTS}  # each table of settings: its keys, defaults and help


def weekly_or_empty(value: Any) -> str:
    """A weekly instant in canonical form (`mon 09:00`), or "" (none)."""
    if value == "":
        return ""
    try:
        return Weekly.parse(value).text()
    except WeeklyError as exc:
        raise Bad(str(exc)) from None


SETTING_CHECKS = {"lifecycle": lambda value: positive_duration(value), "reports": weekly_or_empty}

RULE_REQUIREMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required fields, fields at least one of which must act)
    "keyword": (("phrases",), ("tags", "priority", "escalate_to", "reply")),
    "repeated-request": (("phrases", "count"), ("escalate_to", "priority", "reply")),
    "unresolved-for": (("after",), ("escalate_to", "priority")),
    "emotion": (("emotions",), ("priority", "escalate_to", "reply", "tags")),
    "urgent-reply": (("phrases",), ("priority",)),
}
RULE_ONLY_FIELDS = {"count": "repeated-request", "after": "unresolved-for", "emotions": "emotion"}


def normalize_entry(section: Section, key: str, raw: Any) -> tuple[dict[str, Any], Problems]:
    """Canonicalise one entry: known fields only, converted, defaults filled, in schema order."""
    path = f"{section.name}.{key}"
    if not isinstance(raw, Mapping):
        return {}, [f"{path}: expected a table"]
    problems = key_problems(section.name, key, section.key_max)
    problems += [f"{path}.{name}: unknown key (allowed: {', '.join(section.field_names)})"
                 for name in raw if name not in section.field_names]
    entry: dict[str, Any] = {}
    for spec in section.fields:
        if spec.name not in raw:
            if spec.required:
                problems.append(f"{path}.{spec.name}: required ({spec.help or spec.name})")
            elif spec.default is not None:
                entry[spec.name] = spec.default
            continue
        try:
            entry[spec.name] = spec.convert(raw[spec.name])
        except Bad as exc:
            problems.append(f"{path}.{spec.name}: {exc}")
    return entry, problems


def key_problems(section: str, key: str, limit: int = 64) -> Problems:
    """An entry's name: letters, digits, '_', '-' and '.', at most `limit` characters."""
    if _KEY.fullmatch(key) and len(key) <= limit:
        return []
    return [f"{section}.{key}: invalid name {key!r}; use up to {limit} letters, digits, '_', '-' or '.'"]


def rule_problems(key: str, entry: Mapping[str, Any]) -> Problems:
    """Which fields each rule kind needs, and which make no sense for it."""
    kind = entry.get("kind")
    if kind not in RULE_REQUIREMENTS:
        return []
    required, actions = RULE_REQUIREMENTS[kind]
    path = f"rules.{key}"
    problems = [f"{path}.{name}: required for kind = {kind!r}" for name in required if not entry.get(name)]
    if not any(entry.get(name) for name in actions):
        problems.append(f"{path}: a {kind} rule must set at least one of {', '.join(actions)}")
    problems += [f"{path}.{name}: only allowed for kind = {owner!r}"
                 for name, owner in RULE_ONLY_FIELDS.items() if entry.get(name) and owner != kind]
    return problems


def sla_problems(key: str, entry: Mapping[str, Any]) -> Problems:
    problems = []
    if key not in PRIORITIES:
        problems.append(f"sla.{key}: unknown priority; use {', '.join(PRIORITIES)}")
    if entry.get("on_breach") == "escalate" and not entry.get("escalate_to"):
        problems.append(f"sla.{key}.escalate_to: required when on_breach = \"escalate\"")
    if entry.get("escalate_to") and entry.get("on_breach") != "escalate":
        problems.append(f"sla.{key}.escalate_to: only used when on_breach = \"escalate\"")
    return problems


def normalize_settings(section: str, raw: Mapping[str, Any]) -> tuple[dict[str, Any], Problems]:
    """A table of settings (`[lifecycle]`: positive durations; `[reports]`: the digest's weekly instant), each value
    given in canonical form; one not given keeps its default (`SETTINGS`) wherever the configuration is read."""
    known, check = SETTINGS[section], SETTING_CHECKS[section]
    allowed = ", ".join(known)
    problems = [f"{section}.{key}: unknown key (allowed: {allowed})" for key in raw if key not in known]
    result = {}
    for key in known:
        if key not in raw:
            continue
        try:
            result[key] = check(raw[key])
        except Bad as exc:
            problems.append(f"{section}.{key}: {exc}")
    return result, problems


def normalize_calendars(raw: Mapping[str, Any]) -> tuple[dict[str, Any], Problems]:
    result, problems = {}, []
    for name, spec in raw.items():
        found = key_problems("calendars", name) + validate_calendar(name, spec)
        problems += found
        if not found:
            result[name] = normalize_calendar(spec)
    return result, problems

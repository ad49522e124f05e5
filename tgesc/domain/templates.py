"""Reply templates: the registry of known keys, body checks, rendering and language fallback.

Bodies are Telegram HTML (trusted) with `string.Template` placeholders: `$ticket` or `${ticket}`, and
`$$` for a literal dollar sign. Each registry key may use its own set of variables; any other key is a
custom one (FAQ answers, rule replies) that may use `customer_name` and `ticket`. Variable values are
HTML-escaped when rendered. Default bodies ship in `tgesc/templates/<language>.toml`; a body stored
in the database for a (key, language) overrides the shipped one, and English is the fallback.
"""

from __future__ import annotations

import functools
import html
import importlib.resources
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass

from tgesc.domain.errors import ConfigInvalid, NotFound, UsageError
from tgesc.domain.limits import MAX_TEXT, control_problem

SHIPPED_LANGUAGES: tuple[str, ...] = ("en", "zh", "ru")
FALLBACK_LANGUAGE = "en"
CUSTOM_VARIABLES: frozenset[str] = frozenset({"customer_name", "ticket"})
SNIPPET_VARIABLES: frozenset[str] = frozenset({"customer_name", "ticket", "tier", "eta"})
SNIPPET = "snippet:"  # the prefix of a snippet's key where a template key is expected (its checks, its rendering)
# The word a customer replies with to flag an emergency, as the escalation notice tells them to.
URGENT_WORDS: Mapping[str, str] = {"en": "urgent", "zh": "紧急", "ru": "срочно"}


@dataclass(frozen=True)
class TemplateSpec:
    """One registry key: what the template is for and the variables its body may use."""

    key: str
    description: str
    variables: frozenset[str]


def _spec(key: str, description: str, *variables: str) -> TemplateSpec:
    return TemplateSpec(key, description, frozenset(variables))


REGISTRY: Mapping[str, TemplateSpec] = {
    spec.key: spec
    for spec in (
        _spec("greeting", "first reply to a customer who opens a conversation", "customer_name"),
        _spec("comfort", "apology and promise of a dedicated contact, sent on a complaint, with the ticket's "
              "priority", "customer_name", "ticket", "eta", "priority"),
        _spec("escalation_notice", "tells the customer the ticket moved up a tier and when to expect a reply",
              "ticket", "tier", "eta"),
        _spec("off_hours", "sent outside business hours: when work on the ticket resumes",
              "ticket", "opens_at"),
        _spec("breach_update", "apology when the promised resolution time has passed: what was done about it "
              "(progress) and a new ETA", "ticket", "eta", "progress"),
        _spec("survey", "return-visit question after resolution: rate 1-5 stars", "ticket"),
        _spec("survey_reminder", "the return-visit question again, once, when the survey was not answered", "ticket"),
        _spec("survey_thanks", "thanks for a survey rating", "ticket", "stars"),
        _spec("review_invitation", "invites a satisfied customer (4-5 stars) to leave a review", "ticket"),
        _spec("low_score_followup", "asks a dissatisfied customer (1-3 stars) what went wrong", "ticket"),
        _spec("resolved_notice", "tells the customer the ticket was resolved, and how to reopen it",
              "ticket", "reopen_within"),
        _spec("waiting_reminder", "reminds a customer that the ticket waits for their answer", "ticket"),
        _spec("faq_help", "after \"I still need help\" on an FAQ answer: a person will answer, and when",
              "ticket", "eta"),
        _spec("status", "answer to /status: the customer's open tickets, one line each", "tickets"),
        _spec("status_none", "answer to /status when the customer has no open ticket"),
        _spec("language_changed", "answer to /language CODE", "language"),
        _spec("language_help", "answer to /language without a code: the languages to choose from", "languages"),
        _spec("timezone_changed", "answer to /timezone CITY (or a tap on a zone): the zone now used, its time",
              "zone", "time"),
        _spec("timezone_help", "answer to /timezone without a city: asks for one, above buttons of common zones"),
        _spec("timezone_unknown", "answer to /timezone with a name that is no zone or city", "name"),
        _spec("flood_notice", "sent once to a customer writing faster than the flood limit", "ticket"),
        _spec("ban_notice", "sent once to a banned customer who writes: until when the desk will not answer",
              "until"),
        _spec("ban_notice_indefinite", "sent once to a customer banned until further notice who writes"),
        _spec("assigned_notice", "staff: a ticket was assigned to you automatically (private chat)",
              "ticket", "tier", "priority", "problem"),
        _spec("sla_warning", "staff: an SLA deadline is near (the ticket's thread)",
              "ticket", "priority", "tier", "clock", "left", "due", "todo"),
        _spec("sla_breach", "staff: an SLA deadline passed (thread, team leads' or admins' private chats)",
              "ticket", "priority", "tier", "clock", "late", "due", "todo"),
        _spec("weekly_digest", "team leads and admins: the week's numbers (private chat; the HTML report follows)",
              "since", "until", "opened", "resolved", "open_now", "first_response_median", "resolution_median",
              "sla_met", "escalations", "csat_average", "csat_answered", "follow_up_rate"),
    )
}
TEMPLATE_KEYS: tuple[str, ...] = tuple(REGISTRY)

# Worst-case-but-plausible values used to check a body's length when it is saved.
SAMPLE_VALUES: Mapping[str, str] = {
    "customer_name": "W" * 64,
    "ticket": "99999999",
    "eta": "1 day 23 hours 59 minutes",
    "tier": "L3 " + "W" * 61,
    "opens_at": "Wednesday 2026-12-30 09:00 (America/Argentina/Buenos_Aires)",
    "stars": "5",
    "reopen_within": "1 day 23 hours",
    "tickets": "\n".join(["#99999999 · waiting for your reply · a reply is expected within 1 day 23 hours 59 minutes"]
                         * 20),
    "language": "English",
    "until": "10:30, Wed 30 Dec",
    "problem": "W" * 300,
    "zone": "America/Argentina/Buenos_Aires",
    "time": "23:59",
    "name": "W" * 64,
    "languages": "/language en — English\n/language zh — 中文\n/language ru — Русский",
    "priority": "medium",
    "clock": "next response",
    "left": "1 day 23 hours",
    "late": "1 day 23 hours",
    "due": "10:30, Wed 30 Dec America/Argentina/Buenos_Aires",
    "todo": "W" * 160,
    "progress": "Заявка передана на уровень: " + "W" * 128 + ".",
}

_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}", re.ASCII)
_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
                   "a", "code", "pre", "blockquote", "tg-emoji"})
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")
_BARE_AMP = re.compile(r"&(?!(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);)")


def is_custom(key: str) -> bool:
    """True for a key outside the registry (an FAQ answer or rule reply)."""
    return key not in REGISTRY


def allowed_variables(key: str) -> frozenset[str]:
    """The variables a body for `key` may use."""
    if key.startswith(SNIPPET):
        return SNIPPET_VARIABLES
    return REGISTRY[key].variables if key in REGISTRY else CUSTOM_VARIABLES


def check_key(key: str) -> list[str]:
    """Problems with a template key's spelling (lowercase letters, digits, underscores; 64 at most)."""
    if isinstance(key, str) and _KEY.fullmatch(key):
        return []
    return [f"{key!r} is not a valid template key; use lowercase letters, digits and underscores, "
            "starting with a letter, e.g. faq_reset_password"]


def placeholders(body: str) -> set[str]:
    """The variable names a body uses (`$name` and `${name}`); `$$` and invalid `$` are not included."""
    return {m["named"] or m["braced"] for m in string.Template.pattern.finditer(body)
            if m["named"] or m["braced"]}


def _syntax_problems(body: str) -> list[str]:
    problems = []
    for match in string.Template.pattern.finditer(body):
        if match["invalid"] is None:
            continue
        start = match.start("invalid")
        line = body.count("\n", 0, start) + 1
        column = start - (body.rfind("\n", 0, start) + 1)
        snippet = re.match(r"\S{0,12}", body[start - 1:])[0]
        problems.append(
            f"invalid placeholder {snippet!r} at line {line}, column {column}; "
            "write $$ for a literal dollar sign, or $name / ${name} for a variable"
        )
    return problems


def _html_problems(body: str) -> list[str]:
    """Markup Telegram's HTML parse mode would reject: unknown or unbalanced tags, bare < and &."""
    problems, stack = [], []
    for match in _TAG.finditer(body):
        closing, name = match[1], match[2].lower()
        if name not in _TAGS:
            problems.append(f"tag <{match[2]}> is not supported by Telegram; use b, i, u, s, a, code, "
                            "pre, blockquote or tg-spoiler (write &lt; for a literal <)")
        elif not closing:
            stack.append(name)
        elif stack and stack[-1] == name:
            stack.pop()
        else:
            problems.append(f"closing tag </{name}> does not match an open <{name}>; balance the tags")
    problems += [f"tag <{name}> is never closed; add </{name}>" for name in stack]
    rest = _TAG.sub("", body)
    if "<" in rest:
        problems.append("contains a bare '<'; write &lt; for a literal < (the body is Telegram HTML)")
    if _BARE_AMP.search(rest):
        problems.append("contains a bare '&'; write &amp; for a literal & (the body is Telegram HTML)")
    return problems


def _unknown_problems(key: str, used: set[str]) -> list[str]:
    allowed = allowed_variables(key)
    can_use = ", ".join(f"${name}" for name in sorted(allowed))
    owner = f"the {key!r} template" if key in REGISTRY else (
        "a snippet" if key.startswith(SNIPPET) else f"the custom template {key!r}")
    return [f"${name} is not a variable {owner} can use; it can use {can_use}"
            for name in sorted(used - allowed)]


def check_body(key: str, body: str) -> list[str]:
    """Every problem with a body for `key`: empty, invalid `$` syntax, unknown variables, bad HTML."""
    if not isinstance(body, str) or not body.strip():
        return ["the body is empty; write the text the customer should receive"]
    if control_problem(body):
        return [f"the body {control_problem(body)}"]
    return _syntax_problems(body) + _unknown_problems(key, placeholders(body)) + _html_problems(body)


def visible_length(text: str) -> int:
    """Length of rendered Telegram HTML as Telegram counts it: tags removed, entities decoded, in
    UTF-16 code units (an emoji counts 2)."""
    visible = html.unescape(_TAG.sub("", text))
    return len(visible.encode("utf-16-le", "surrogatepass")) // 2  # a lone surrogate is refused elsewhere


def check_length_at_save(key: str, body: str) -> list[str]:
    """A problem if the body, filled with long sample values, would exceed Telegram's MAX_TEXT."""
    if not isinstance(body, str):
        return []
    samples = {name: SAMPLE_VALUES.get(name, "W" * 64) for name in allowed_variables(key)}
    length = visible_length(string.Template(body).safe_substitute(samples))
    if length <= MAX_TEXT:
        return []
    return [f"with long but plausible values (64-character name, 8-digit ticket) the text is {length} "
            f"characters, over Telegram's limit of {MAX_TEXT}; shorten it"]


def render(key: str, body: str, variables: Mapping[str, str]) -> str:
    """Fill `body` with HTML-escaped `variables`. Raises UsageError listing every missing and unknown
    variable (and other body problems) at once, or if the result exceeds MAX_TEXT characters.
    Variables given but not used by the body are ignored."""
    problems = check_body(key, body)
    if isinstance(body, str):
        missing = (placeholders(body) & allowed_variables(key)) - set(variables)
        problems += [f"no value given for ${name}, which the body uses" for name in sorted(missing)]
    if problems:
        raise UsageError(
            f"cannot render template {key!r}: {len(problems)} problem(s); fix the body or pass the values",
            problems=problems,
        )
    escaped = {name: html.escape(str(value), quote=False) for name, value in variables.items()}
    text = string.Template(body).substitute(escaped)
    length = visible_length(text)
    if length > MAX_TEXT:
        raise UsageError(
            f"template {key!r} renders to {length} characters, over Telegram's limit of {MAX_TEXT} "
            "per message; shorten the template or the values"
        )
    return text


@functools.cache
def _load(language: str) -> Mapping[str, str]:
    name = f"{language}.toml"
    text = importlib.resources.files("tgesc.templates").joinpath(name).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigInvalid(f"shipped templates tgesc/templates/{name} cannot be read: {exc}; "
                            "reinstall tgesc") from exc
    bad = [key for key, body in data.items() if not isinstance(body, str)]
    if bad:
        raise ConfigInvalid(f"shipped templates tgesc/templates/{name} are broken: {', '.join(bad)} "
                            "are not strings; reinstall tgesc")
    return data


def shipped(language: str) -> dict[str, str]:
    """The shipped bodies of one language (a fresh dict). NotFound for a language not shipped."""
    if language not in SHIPPED_LANGUAGES:
        raise NotFound(f"no shipped templates for language {language!r}; "
                       f"the shipped languages are {', '.join(SHIPPED_LANGUAGES)}")
    return dict(_load(language))


def primary_language(code: str | None) -> str:
    """The primary subtag of a Telegram `language_code` (`zh-hans` → `zh`); empty or None → `en`."""
    if not code:
        return FALLBACK_LANGUAGE
    return re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0] or FALLBACK_LANGUAGE


def lookup(key: str, language: str, overrides: Mapping[tuple[str, str], str]) -> tuple[str, str]:
    """Resolve the body for `key` in `language` (a code such as `ru` or `zh-hans`): the override in
    that language, the shipped one, the English override, the shipped English. Returns
    (body, source) with source `override:<lang>` or `shipped:<lang>`; NotFound if none exists."""
    wanted = primary_language(language)
    languages = [wanted] if wanted == FALLBACK_LANGUAGE else [wanted, FALLBACK_LANGUAGE]
    for lang in languages:
        if (key, lang) in overrides:
            return overrides[(key, lang)], f"override:{lang}"
        if lang in SHIPPED_LANGUAGES and key in _load(lang):
            return _load(lang)[key], f"shipped:{lang}"
    raise NotFound(
        f"there is no template {key!r} for {' or '.join(map(repr, languages))}, neither configured nor "
        f"shipped; add it under [templates.{key}] in the escalation config, or use a registry key "
        f"({', '.join(TEMPLATE_KEYS)})"
    )

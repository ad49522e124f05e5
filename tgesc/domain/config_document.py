"""Validating a whole escalation configuration document and comparing two of them.

`validate_document` turns a parsed TOML mapping into the canonical document or reports every problem
at once (dotted paths). `plan` compares the current and the desired document, entry by entry, into
the `+` / `~` / `-` changes that `tgesc config apply` prints and carries out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tgesc.domain import templates
from tgesc.domain.config_schema import (
    FLAT_SECTIONS,
    SECTION_ORDER,
    SECTIONS,
    Bad,
    Problems,
    language_code,
    normalize_calendars,
    normalize_entry,
    normalize_settings,
    rule_problems,
    sla_problems,
)
from tgesc.domain.durations import parse_duration
from tgesc.domain.hours import parse_day
from tgesc.domain.limits import LATEST
from tgesc.domain.vocabulary import rank

Document = dict[str, dict[str, dict[str, Any]]]
HORIZON_WEEKS = (date(9999, 12, 1) - LATEST.date()).days // 7  # weeks a deadline may lie after the latest instant


def empty_document() -> Document:
    return {name: {} for name in SECTION_ORDER}


def validate_document(raw: Mapping[str, Any], *, whole: bool = True) -> tuple[Document, Problems]:
    """The canonical document for `raw` and every problem found (the document is only usable if none).
    `whole` False: `raw` is laid over another document, so what it names may be there: its references and
    uniqueness are checked on the result (`overlay`, `cross_problems`), not here."""
    problems: Problems = [f"{name}: unknown section (allowed: {', '.join(SECTION_ORDER)})"
                          for name in raw if name not in SECTION_ORDER]
    doc = empty_document()
    for name in SECTION_ORDER:
        section_raw = raw.get(name, {})
        if not isinstance(section_raw, Mapping):
            problems.append(f"{name}: expected a table of entries, e.g. [{name}.NAME]" if name not in FLAT_SECTIONS
                            else f"{name}: expected a table of settings, e.g. [{name}]")
            continue
        doc[name], found = _normalize_section(name, section_raw)
        problems += found
    if whole:
        problems += cross_problems(doc)
    return doc, problems


def cross_problems(doc: Document) -> Problems:
    """What is wrong between entries: references to missing entries, tier levels and staff ids used twice,
    SLA budgets their calendar could not count out before the year 9999."""
    return _reference_problems(doc) + _uniqueness_problems(doc) + _horizon_problems(doc)


def overlay(base: Document, top: Document) -> Document:
    """`base` with every entry of `top` in place of (or beside) its own: what applying `top` without pruning
    makes of `base`."""
    return {name: {**base.get(name, {}), **top.get(name, {})} for name in SECTION_ORDER}


def _normalize_section(name: str, raw: Mapping[str, Any]) -> tuple[dict[str, Any], Problems]:
    if name == "calendars":
        return normalize_calendars(raw)
    if name == "templates":
        return _normalize_templates(raw)
    if name in FLAT_SECTIONS:
        return normalize_settings(name, raw)
    section = SECTIONS[name]
    entries, problems = {}, []
    for key in _ordered_keys(name, raw):
        entry, found = normalize_entry(section, key, raw[key])
        problems += found
        if name == "rules":
            problems += rule_problems(key, entry)
        elif name == "sla":
            problems += sla_problems(key, entry)
        entries[key] = entry
    return entries, problems


def _ordered_keys(name: str, raw: Mapping[str, Any]) -> list[str]:
    """Canonical entry order: tiers by level, SLA by priority, everything else by name."""
    keys = sorted(raw)
    if name == "tiers":
        return sorted(keys, key=lambda k: (_level(raw[k]), k))
    if name == "sla":
        return sorted(keys, key=lambda k: (rank(k), k))
    return keys


def _level(entry: Any) -> int:
    level = entry.get("level") if isinstance(entry, Mapping) else None
    return level if isinstance(level, int) else 0


def _normalize_templates(raw: Mapping[str, Any]) -> tuple[dict[str, Any], Problems]:
    """`[templates.KEY]` holds one body per language: `en = "..."`, `zh = "..."`."""
    result, problems = {}, []
    for key in sorted(raw):
        bodies = raw[key]
        path = f"templates.{key}"
        problems += [f"{path}: {p}" for p in templates.check_key(key)]
        if not isinstance(bodies, Mapping) or not bodies:
            problems.append(f'{path}: expected a table of bodies per language, e.g. en = "..."')
            continue
        entry = {}
        for language in sorted(bodies):
            body = bodies[language]
            try:
                language_code(language)
            except Bad as exc:
                problems.append(f"{path}: {exc}")
                continue
            if not isinstance(body, str):
                problems.append(f"{path}.{language}: expected a string")
                continue
            problems += [f"{path}.{language}: {p}" for p in templates.check_body(key, body)]
            problems += [f"{path}.{language}: {p}" for p in templates.check_length_at_save(key, body)]
            entry[language] = body
        result[key] = entry
    return result, problems


def _reference_problems(doc: Document) -> Problems:
    problems = []
    for name, section in SECTIONS.items():
        for key, entry in doc[name].items():
            for spec in section.fields:
                if spec.ref is None or spec.name not in entry:
                    continue
                values = entry[spec.name] if isinstance(entry[spec.name], list) else [entry[spec.name]]
                problems += [f"{name}.{key}.{spec.name}: {_missing(spec.ref, value)}"
                             for value in values if not _exists(doc, spec.ref, value)]
    return problems


def referrers(doc: Document, section: str, key: str) -> list[str]:
    """Dotted paths of the fields that name `section.key` (what stops it from being removed). A shipped
    template key is never stopped: removing its override falls back to the shipped body."""
    if section == "templates" and key in templates.TEMPLATE_KEYS:
        return []
    found = []
    for name, spec_section in SECTIONS.items():
        for entry_key, entry in doc[name].items():
            for spec in spec_section.fields:
                value = entry.get(spec.name)
                if spec.ref == section and (value == key or (isinstance(value, list) and key in value)):
                    found.append(f"{name}.{entry_key}.{spec.name}")
    return found


def _exists(doc: Document, section: str, key: str) -> bool:
    if section == "templates":
        return key in doc["templates"] or key in templates.TEMPLATE_KEYS
    return key in doc[section]


def _missing(section: str, key: str) -> str:
    what = {"tiers": "tier", "calendars": "calendar", "templates": "template"}[section]
    return f"there is no {what} {key!r}; define [{section}.{key}] or name an existing one"


def _uniqueness_problems(doc: Document) -> Problems:
    problems = []
    for field_name, section in (("level", "tiers"), ("id", "staff")):
        seen: dict[Any, str] = {}
        for key, entry in doc[section].items():
            value = entry.get(field_name)
            if value is None:
                continue
            if value in seen:
                problems.append(f"{section}.{key}.{field_name}: {value} is already used by {section}.{seen[value]}")
            else:
                seen[value] = key
    return problems


def _horizon_problems(doc: Document) -> Problems:
    """An SLA budget on a calendar open so few minutes a week that it would run out only after the year 9999,
    even from the latest instant tgesc accepts: every ticket would then fail to get its deadline."""
    problems = []
    for priority, entry in doc["sla"].items():
        calendar = doc["calendars"].get(entry.get("calendar"))
        if calendar is None:
            continue
        weekly = sum(end - start for day in calendar["hours"].values() for start, end in parse_day(day))
        for clock in ("first_response", "next_response", "resolution"):
            if entry.get(clock) and parse_duration(entry[clock]) / 60 > weekly * HORIZON_WEEKS:
                problems.append(f"sla.{priority}.{clock}: {entry[clock]} of business time on calendar "
                                f"{entry['calendar']!r} (open {weekly} minutes a week) would run out only after the "
                                "year 9999; give the calendar more hours or the policy a smaller budget")
    return problems


# --- planning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    op: str  # "+" add, "~" change, "-" remove
    section: str
    key: str
    fields: tuple[str, ...] = ()  # for "~": the fields whose value changes
    entry: dict[str, Any] = field(default_factory=dict)  # the desired entry ("+" and "~")

    def describe(self) -> str:
        suffix = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.op} {self.section}.{self.key}{suffix}"


def plan(current: Document, desired: Document, *, prune: bool) -> list[Change]:
    """Changes that turn `current` into `desired`; removals only with `prune`. Adds/changes come in
    dependency order (calendars before tiers ...), removals in reverse."""
    upserts, removals = [], []
    for section in SECTION_ORDER:
        have, want = current.get(section, {}), desired.get(section, {})
        for key, entry in want.items():
            if key not in have:
                upserts.append(Change("+", section, key, entry=entry))
            elif have[key] != entry:
                changed = tuple(f for f in _field_union(have[key], entry) if have[key].get(f) != entry.get(f)
                                ) if isinstance(entry, Mapping) else ()  # a flat section's value: no fields
                upserts.append(Change("~", section, key, changed, entry))
        if prune:
            removals += [Change("-", section, key) for key in have if key not in want]
    removals.sort(key=lambda c: -SECTION_ORDER.index(c.section))
    return upserts + removals


def _field_union(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys([*a, *b]))

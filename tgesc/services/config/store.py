"""Reading and writing the escalation configuration document from and to the database.

Each section maps its canonical entries to one model. `load_document` builds the canonical document
from the rows (optional fields that are unset are simply absent, as in a file), `save_entry` and
`delete_entry` write one entry. Callers validate first and run these inside one transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from peewee import JOIN, ModelSelect

from tgesc.domain.durations import format_duration, parse_duration
from tgesc.domain.errors import DomainError
from tgesc.domain.vocabulary import rank
from tgesc.models import (
    Calendar,
    FaqEntry,
    Meta,
    SlaPolicy,
    Snippet,
    Staff,
    StaffTier,
    Template,
    Ticket,
    Tier,
    TriggerRule,
    database,
)
from tgesc.store import statements
from tgesc.store.statements import outermost_transaction as outermost_transaction  # the config cache's key


def _present(**fields: Any) -> dict[str, Any]:
    """The entry with unset (None) optional fields left out, as a file would leave them out."""
    return {k: v for k, v in fields.items() if v is not None}


def _seconds(value: str | None) -> int | None:
    return None if value is None else parse_duration(value)


def _duration(seconds: int | None) -> str | None:
    return None if seconds is None else format_duration(seconds)


def _calendar_id(name: str | None) -> int | None:
    return None if name is None else Calendar.get(Calendar.name == name).id


def _tier_id(code: str | None) -> int | None:
    return None if code is None else Tier.get(Tier.code == code).id


# --- per-section load ---------------------------------------------------------------------------


def _load_calendars() -> dict[str, Any]:
    from tgesc.domain.hours import normalize_calendar

    return {c.name: normalize_calendar({
        "timezone": c.timezone, "hours": c.hours, "holidays": c.holidays,
        "overrides": c.overrides, "deadline_at_close": c.deadline_at_close,
    }) for c in Calendar.select().order_by(Calendar.name)}


def _load_tiers() -> dict[str, Any]:
    rows = Tier.select(Tier, Calendar).join(Calendar, JOIN.LEFT_OUTER).order_by(Tier.level, Tier.code)
    return {t.code: _present(
        name=t.name, level=t.level, staff_chat=t.staff_chat_id, forum=t.is_forum,
        calendar=t.calendar.name if t.calendar_id else None, description=t.description,
        first_response=_duration(t.first_response_s), names=t.names or None, assign=t.assign,
    ) for t in rows}


def _load_staff() -> dict[str, Any]:
    tiers: dict[int, list[str]] = {}
    for link in StaffTier.select(StaffTier, Tier).join(Tier):
        tiers.setdefault(link.staff_id, []).append(link.tier.code)
    return {s.handle: _present(
        id=s.telegram_id, name=s.name, username=s.username, role=s.role,
        tiers=sorted(tiers.get(s.id, [])), language=s.language, active=s.active, capacity=s.capacity,
        calendar=s.calendar.name if s.calendar_id else None,
    ) for s in Staff.select(Staff, Calendar).join(Calendar, JOIN.LEFT_OUTER).order_by(Staff.handle)}


def _load_sla() -> dict[str, Any]:
    policies = sorted(SlaPolicy.select(), key=lambda p: rank(p.priority))
    return {p.priority: _present(
        first_response=_duration(p.first_response_s), next_response=_duration(p.next_response_s),
        resolution=_duration(p.resolution_s), calendar=p.calendar.name if p.calendar_id else None,
        warn_at=p.warn_at, pause_when_waiting=p.pause_when_waiting, on_breach=p.breach_action,
        escalate_to=p.escalate_to.code if p.escalate_to_id else None,
    ) for p in policies}


def _load_templates() -> dict[str, Any]:
    result: dict[str, dict[str, str]] = {}
    for row in Template.select().order_by(Template.key, Template.language):
        result.setdefault(row.key, {})[row.language] = row.body
    return result


def _load_rules() -> dict[str, Any]:
    return {r.name: _present(
        kind=r.kind, enabled=r.enabled, position=r.position, phrases=r.phrases, tags=r.tags,
        priority=r.priority, escalate_to=r.escalate_to.code if r.escalate_to_id else None,
        reply=r.reply, count=r.count, after=_duration(r.after_s), emotions=r.emotions,
    ) for r in TriggerRule.select().order_by(TriggerRule.name)}


def _load_snippets() -> dict[str, Any]:
    return {s.name: {"text": s.texts} for s in Snippet.select().order_by(Snippet.name)}


def _load_faq() -> dict[str, Any]:
    return {f.name: _present(phrases=f.phrases, answer=f.answer, enabled=f.enabled)
            for f in FaqEntry.select().order_by(FaqEntry.name)}


def _settings_loader(section: str) -> Callable[[], dict[str, Any]]:
    """The loader of a table of settings (`[lifecycle]`, `[reports]`): meta rows `SECTION.KEY` (a setting not set
    keeps its default)."""
    def load() -> dict[str, Any]:
        from tgesc.domain.config_schema import SETTINGS

        prefix = f"{section}."
        rows = {m.key.removeprefix(prefix): m.value for m in Meta.select().where(Meta.key.startswith(prefix))}
        return {key: rows[key] for key in SETTINGS[section] if key in rows}

    return load


LOADERS: dict[str, Callable[[], dict[str, Any]]] = {
    "calendars": _load_calendars, "tiers": _load_tiers, "staff": _load_staff, "sla": _load_sla,
    "templates": _load_templates, "rules": _load_rules, "faq": _load_faq, "snippets": _load_snippets,
    "lifecycle": _settings_loader("lifecycle"), "reports": _settings_loader("reports"),
}


def load_section(section: str) -> dict[str, Any]:
    """One section as it is stored, in canonical form."""
    return LOADERS[section]()


def load_document() -> dict[str, dict[str, Any]]:
    """The whole configuration as it is stored, in canonical form."""
    return {section: loader() for section, loader in LOADERS.items()}


# --- per-section save ---------------------------------------------------------------------------


def _upsert(model, key_field, key: str, values: dict[str, Any]):
    row = model.get_or_none(key_field == key)
    if row is None:
        return model.create(**{key_field.name: key}, **values)
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
    return row


def _save_calendar(key: str, e: dict[str, Any]) -> None:
    _upsert(Calendar, Calendar.name, key, {
        "timezone": e["timezone"], "hours": e["hours"], "holidays": e["holidays"],
        "overrides": e["overrides"], "deadline_at_close": e["deadline_at_close"]})


def _save_tier(key: str, e: dict[str, Any]) -> None:
    _upsert(Tier, Tier.code, key, {
        "name": e["name"], "level": e["level"], "staff_chat_id": e.get("staff_chat"),
        "is_forum": e["forum"], "calendar": _calendar_id(e.get("calendar")), "description": e["description"],
        "first_response_s": _seconds(e.get("first_response")), "names": e.get("names") or {},
        "assign": e.get("assign")})


def _save_staff(key: str, e: dict[str, Any]) -> None:
    staff = _upsert(Staff, Staff.handle, key, {
        "telegram_id": e["id"], "name": e["name"], "username": e.get("username"), "role": e["role"],
        "language": e["language"], "active": e["active"], "capacity": e.get("capacity"),
        "calendar": _calendar_id(e.get("calendar"))})
    StaffTier.delete().where(StaffTier.staff == staff).execute()
    for code in e["tiers"]:
        StaffTier.create(staff=staff, tier=_tier_id(code))


def _save_sla(key: str, e: dict[str, Any]) -> None:
    _upsert(SlaPolicy, SlaPolicy.priority, key, {
        "first_response_s": _seconds(e["first_response"]), "next_response_s": _seconds(e.get("next_response")),
        "resolution_s": _seconds(e["resolution"]), "calendar": _calendar_id(e.get("calendar")),
        "warn_at": e["warn_at"], "pause_when_waiting": e["pause_when_waiting"], "breach_action": e["on_breach"],
        "escalate_to": _tier_id(e.get("escalate_to"))})


def _save_template(key: str, e: dict[str, Any]) -> None:
    Template.delete().where((Template.key == key) & Template.language.not_in(list(e))).execute()
    for language, body in e.items():
        row = Template.get_or_none((Template.key == key) & (Template.language == language))
        if row is None:
            Template.create(key=key, language=language, body=body)
        elif row.body != body:
            row.body = body
            row.save()


def _save_rule(key: str, e: dict[str, Any]) -> None:
    _upsert(TriggerRule, TriggerRule.name, key, {
        "kind": e["kind"], "enabled": e["enabled"], "position": e["position"], "phrases": e["phrases"],
        "tags": e["tags"], "priority": e.get("priority"), "escalate_to": _tier_id(e.get("escalate_to")),
        "reply": e.get("reply"), "count": e.get("count"), "after_s": _seconds(e.get("after")),
        "emotions": e["emotions"]})


def _save_faq(key: str, e: dict[str, Any]) -> None:
    _upsert(FaqEntry, FaqEntry.name, key, {"phrases": e["phrases"], "answer": e["answer"], "enabled": e["enabled"]})


def _save_snippet(key: str, e: dict[str, Any]) -> None:
    _upsert(Snippet, Snippet.name, key, {"texts": e["text"]})


def _settings_saver(section: str) -> Callable[[str, Any], None]:
    def save(key: str, value: Any) -> None:
        _upsert(Meta, Meta.key, f"{section}.{key}", {"value": value})

    return save


SAVERS: dict[str, Callable[[str, Any], None]] = {
    "calendars": _save_calendar, "tiers": _save_tier, "staff": _save_staff, "sla": _save_sla,
    "templates": _save_template, "rules": _save_rule, "faq": _save_faq, "snippets": _save_snippet,
    "lifecycle": _settings_saver("lifecycle"), "reports": _settings_saver("reports"),
}


def save_entry(section: str, key: str, entry: dict[str, Any]) -> None:
    SAVERS[section](key, entry)


def free_unique_slots(tiers: list[str], staff: list[str]) -> None:
    """Park the unique values (tier level, staff Telegram id) of entries about to change or go, so that
    another entry can take them over within the same apply without tripping a unique index."""
    for tier in Tier.select().where(Tier.code.in_(tiers)):
        tier.level = -tier.id
        tier.save()
    for person in Staff.select().where(Staff.handle.in_(staff)):
        person.telegram_id = -person.id
        person.save()


# --- delete ----------------------------------------------------------------------------------------

DELETE_KEYS = {
    "calendars": (Calendar, Calendar.name), "tiers": (Tier, Tier.code), "staff": (Staff, Staff.handle),
    "sla": (SlaPolicy, SlaPolicy.priority), "templates": (Template, Template.key),
    "rules": (TriggerRule, TriggerRule.name), "faq": (FaqEntry, FaqEntry.name), "snippets": (Snippet, Snippet.name),
}


def delete_entry(section: str, key: str) -> None:
    """Remove one entry; a tier that tickets still sit in cannot be removed (DomainError)."""
    if section == "tiers":
        in_use = Ticket.select().join(Tier).where(Tier.code == key).count()
        if in_use:
            raise DomainError(f"tier {key!r} cannot be removed: {in_use} ticket(s) are in it; move them first")
    if section in ("lifecycle", "reports"):
        Meta.delete().where(Meta.key == f"{section}.{key}").execute()
        return
    model, key_field = DELETE_KEYS[section]
    if section == "staff":
        StaffTier.delete().where(StaffTier.staff.in_(Staff.select().where(Staff.handle == key))).execute()
    model.delete().where(key_field == key).execute()


# --- change generation ---------------------------------------------------------------------------------

GENERATION = "config_generation"


def generation_query() -> ModelSelect:
    """The query for the generation's text (no row: 0), alone or as a subquery of a larger read."""
    return Meta.select(Meta.value).where(Meta.key == GENERATION)


def generation() -> int:
    """A number that changes whenever the configuration does (caches compare it). Each change draws a new one at
    random, never counts on: a database restored from a backup, or made afresh, while a process holding a cache
    runs must not meet a number that cache has seen."""
    value = statements.scalar(database, generation_query)
    return int(value) if value is not None else 0


bumps = 0  # generations bumped by this process: a cache checked within one transaction compares it


def bump_generation() -> None:
    global bumps
    bumps += 1
    drawn = str(secrets.randbelow(2**62) + 1)  # never 0, what no configuration reads as
    if not Meta.update(value=drawn).where(Meta.key == GENERATION).execute():
        Meta.insert(key=GENERATION, value=drawn).on_conflict_ignore().execute()

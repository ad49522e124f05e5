"""Configuration as code: export the escalation configuration as TOML, plan and apply a file, edit one entry.

Every write validates the whole resulting document first and happens in one transaction, so a bad
file or a bad edit never leaves half a configuration behind. Each applied change is audited.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import peewee

from tgesc.db import write_transaction
from tgesc.domain.errors import ConfigInvalid, DomainError, NotFound
from tgesc.models import Event
from tgesc.services.config import store as config_store

if TYPE_CHECKING:
    from tgesc.domain.config_document import Change, Document

# Validation and planning (tgesc.domain.config_document) are imported by the functions that write,
# so that read-only commands such as `tgesc tier list` start fast.

EXPORT_HEADER = (
    "# tgesc escalation configuration.\n"
    "# Apply with: tgesc config apply FILE [--dry-run] [--prune].\n"
    "# Reference: docs/escalation-configuration.md (in tgesc's source).\n\n"
)
SINGULAR = {"calendars": "calendar", "tiers": "tier", "staff": "staff member", "sla": "SLA policy",
            "templates": "template", "rules": "rule", "faq": "FAQ entry", "snippets": "snippet",
            "lifecycle": "lifecycle setting", "reports": "reports setting"}


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text; a syntax error names the source, line and column, nesting past the limit of
    docs/limits.md says so (ConfigInvalid, exit 78)."""
    import tomllib

    from tgesc.domain.limits import LimitError, load_toml

    try:
        return load_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigInvalid(f"{source}: malformed TOML: {exc}") from None
    except LimitError as exc:
        raise ConfigInvalid(f"{source}: {exc}") from None


def export_toml(db: peewee.Database) -> str:
    """The whole stored configuration as canonical TOML."""
    from tgesc.services.config import toml as config_toml

    with db.atomic():
        doc = config_store.load_document()
    return config_toml.dumps(doc, EXPORT_HEADER)


def current_document(db: peewee.Database) -> Document:
    with db.atomic():
        return config_store.load_document()


def apply_config(db: peewee.Database, raw: Mapping[str, Any], *, source: str, prune: bool, dry_run: bool,
                 actor: str, now: datetime,
                 confirm_removals: Callable[[list[Change]], bool] | None = None) -> list[Change]:
    """Validate `raw`, compute the plan against the database and (unless dry_run) carry it out atomically.

    A plan that removes entries is carried out only if `confirm_removals(plan)` agrees (when given);
    it is asked inside the transaction, so what was confirmed is exactly what is applied."""
    from tgesc.domain.config_document import cross_problems, overlay, plan, validate_document

    desired, problems = validate_document(raw, whole=prune)
    with (db.atomic() if dry_run else write_transaction(db)) as txn:
        current = config_store.load_document()
        if not prune:  # what the file names may be in the database: check the result, not the file alone
            problems += cross_problems(overlay(current, desired))
        if problems:
            raise ConfigInvalid(f"{source}: {len(problems)} problem(s); nothing was applied:", problems=problems)
        changes = plan(current, desired, prune=prune)
        if dry_run or not changes:
            txn.rollback()
            return changes
        removes = any(change.op == "-" for change in changes)
        if removes and confirm_removals is not None and not confirm_removals(changes):
            raise DomainError("the plan was not confirmed; nothing was applied")
        _execute(changes)
        Event.create(kind="config.apply", actor=actor, at=now,
                     details={"source": source, "changes": [c.describe() for c in changes]})
    return changes


def _execute(changes: list[Change]) -> None:
    config_store.bump_generation()
    def moving(section: str, unique_field: str) -> list[str]:
        return [c.key for c in changes if c.section == section and (c.op == "-" or unique_field in c.fields)]

    config_store.free_unique_slots(tiers=moving("tiers", "level"), staff=moving("staff", "id"))
    for change in changes:
        if change.op == "-":
            config_store.delete_entry(change.section, change.key)
        else:
            config_store.save_entry(change.section, change.key, change.entry)


def get_entry(db: peewee.Database, section: str, key: str) -> dict[str, Any]:
    return entry_in(list_entries(db, section), section, key)


def entry_in(entries: Mapping[str, dict[str, Any]], section: str, key: str) -> dict[str, Any]:
    """`entries[key]` of `section`, or NotFound pointing at the section's list command."""
    if key not in entries:
        raise NotFound(f"there is no {SINGULAR[section]} {key!r}; `tgesc {_noun(section)} list` shows them")
    return entries[key]


def list_entries(db: peewee.Database, section: str) -> dict[str, dict[str, Any]]:
    with db.atomic():
        return config_store.load_section(section)


def add_entry(db: peewee.Database, section: str, key: str, fields: Mapping[str, Any], *, actor: str,
              now: datetime) -> dict[str, Any]:
    """Create one entry (DomainError if it exists); the whole configuration is re-validated."""

    def created(current: dict[str, Any] | None) -> dict[str, Any]:
        if current is not None:
            raise DomainError(
                f"{SINGULAR[section]} {key!r} already exists; change it with `tgesc {_noun(section)} set`")
        return {k: v for k, v in fields.items() if v is not None}

    return _edit(db, section, key, actor, now, created)


def set_entry(db: peewee.Database, section: str, key: str, fields: Mapping[str, Any], *, actor: str,
              now: datetime) -> dict[str, Any]:
    """Change fields of one entry; a field given as None is unset (falls back to its default)."""

    def merged(current: dict[str, Any] | None) -> dict[str, Any]:
        if current is None:
            raise NotFound(f"there is no {SINGULAR[section]} {key!r}; add it with `tgesc {_noun(section)} add`")
        entry = dict(current)
        for name, value in fields.items():
            if value is None:
                entry.pop(name, None)
            else:
                entry[name] = value
        return entry

    return _edit(db, section, key, actor, now, merged)


def put_entry(db: peewee.Database, section: str, key: str, fields: Mapping[str, Any], *, actor: str,
              now: datetime) -> tuple[dict[str, Any], bool]:
    """Change the given fields of an entry, or create the entry from them if it does not exist yet
    (then every required field must be given). Returns (entry as stored, created)."""
    with write_transaction(db):
        if key in list_entries(db, section):
            return set_entry(db, section, key, fields, actor=actor, now=now), False
        return add_entry(db, section, key, fields, actor=actor, now=now), True


def remove_entry(db: peewee.Database, section: str, key: str, *, actor: str, now: datetime) -> None:
    """Remove one entry; refused (DomainError) while other configuration still refers to it."""
    with write_transaction(db):
        doc = config_store.load_document()
        if key not in doc[section]:
            raise NotFound(f"there is no {SINGULAR[section]} {key!r}")
        from tgesc.domain.config_document import Change, referrers

        users = referrers(doc, section, key)
        if users:
            raise DomainError(f"{SINGULAR[section]} {key!r} cannot be removed: it is still used by "
                              f"{', '.join(users)}; change those first")
        del doc[section][key]
        _validated(doc, f"{SINGULAR[section]} {key!r} cannot be removed")
        config_store.delete_entry(section, key)
        config_store.bump_generation()
        _audit(actor, now, Change("-", section, key))


def _edit(db, section, key, actor, now, build) -> dict[str, Any]:
    from tgesc.domain.config_document import plan

    with write_transaction(db):
        current = config_store.load_document()
        doc = copy.deepcopy(current)
        doc[section][key] = build(current[section].get(key))
        desired = _validated(doc, f"{SINGULAR[section]} {key!r} was not saved")
        changes = plan(current, desired, prune=False)
        _execute(changes)
        for change in changes:
            _audit(actor, now, change)
        return desired[section][key]


def _validated(doc: Document, failure: str) -> Document:
    from tgesc.domain.config_document import validate_document

    desired, problems = validate_document(doc)
    if problems:
        raise DomainError(f"{failure}:", problems=problems)
    return desired


def _audit(actor: str, now: datetime, change: Change) -> None:
    Event.create(kind="config.change", actor=actor, at=now, details={"change": change.describe()})


def _noun(section: str) -> str:
    return {"calendars": "calendar", "tiers": "tier", "rules": "rule", "templates": "template"}.get(section, section)

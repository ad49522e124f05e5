"""Reply templates as the desk uses them: shipped bodies overridden per (key, language) by the database.

The overrides are the `templates` section of the configuration document (`{key: {language: body}}`),
so saving one goes through `configuration` and is validated like any configuration edit (unknown
variables, bad HTML, too long with plausible values, bad key). Lookup and rendering rules live in
`tgesc.domain.templates`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import peewee

from tgesc.db import write_transaction
from tgesc.domain import templates
from tgesc.domain.errors import NotFound, UsageError
from tgesc.services.config.apply import list_entries, put_entry, remove_entry, set_entry

SECTION = "templates"


def overrides(db: peewee.Database) -> dict[tuple[str, str], str]:
    """{(key, language): body} for every body stored in the database."""
    return {(key, lang): body for key, bodies in list_entries(db, SECTION).items() for lang, body in bodies.items()}


def template_rows(db: peewee.Database, language: str | None = None) -> list[dict[str, str]]:
    """One row per template key and language: the effective body and where it comes from
    (`override:<lang>` or `shipped:<lang>`; another language than the row's means the English fallback).
    Keys: the registry, then any other shipped or stored key; languages: the shipped ones plus any with
    an override, or only `language`."""
    stored = overrides(db)
    shipped_keys = {key for lang in templates.SHIPPED_LANGUAGES for key in templates.shipped(lang)}
    custom = sorted((shipped_keys | {key for key, _ in stored}) - set(templates.TEMPLATE_KEYS))
    if language is not None:
        languages = [language]
    else:
        extra = sorted({lang for _, lang in stored} - set(templates.SHIPPED_LANGUAGES))
        languages = [*templates.SHIPPED_LANGUAGES, *extra]
    rows = []
    for key in [*templates.TEMPLATE_KEYS, *custom]:
        for lang in languages:
            try:
                body, source = templates.lookup(key, lang, stored)
            except NotFound:
                continue
            rows.append({"key": key, "language": lang, "source": source, "body": body})
    return rows


def effective_template(db: peewee.Database, key: str, language: str) -> dict[str, Any]:
    """The body used for `key` in `language`, its source, and the variables it may use."""
    body, source = templates.lookup(key, language, overrides(db))
    spec = templates.REGISTRY.get(key)
    return {"key": key, "language": language, "source": source,
            "description": spec.description if spec else "custom template (FAQ answer or rule reply)",
            "variables": sorted(templates.allowed_variables(key)), "body": body}


def save_override(db: peewee.Database, key: str, language: str, body: str, *, actor: str,
                  now: datetime) -> dict[str, str]:
    """Store `body` for (key, language), keeping the key's other languages. DomainError listing every
    problem (bad key, unknown variables, bad HTML, too long) if it is not valid."""
    return put_entry(db, SECTION, key, {language: body}, actor=actor, now=now)[0]


def remove_override(db: peewee.Database, key: str, language: str, *, actor: str, now: datetime,
                    dry_run: bool = False) -> bool:
    """Remove the stored body for (key, language), and the whole entry if it was its last language.
    Returns True if the entry went too. NotFound if there is no such override; DomainError if the
    key is a custom one still used by a rule or FAQ entry and this was its last body."""
    with db.atomic() if dry_run else write_transaction(db):
        entry = list_entries(db, SECTION).get(key)
        if entry is None or language not in entry:
            have = ", ".join(sorted(entry)) if entry else "none"
            raise NotFound(f"template {key!r} has no {language!r} override (overrides: {have}); "
                           "`tgesc template list` shows where each body comes from")
        last = len(entry) == 1
        if dry_run:
            return last
        if last:
            remove_entry(db, SECTION, key, actor=actor, now=now)
        else:
            set_entry(db, SECTION, key, {language: None}, actor=actor, now=now)
        return last


def preview(db: peewee.Database, key: str, language: str, variables: Mapping[str, str]) -> dict[str, str]:
    """Render the effective body with `variables` (HTML-escaped). UsageError listing, all at once, the
    variables the template cannot use and those its body needs but were not given."""
    body, source = templates.lookup(key, language, overrides(db))
    allowed = templates.allowed_variables(key)
    can_use = ", ".join(sorted(allowed))
    problems = [f"${name} is not a variable of template {key!r} (it can use {can_use})"
                for name in sorted(set(variables) - allowed)]
    try:
        text = templates.render(key, body, {k: v for k, v in variables.items() if k in allowed})
    except UsageError as exc:
        if not problems:
            raise
        problems += exc.problems or [str(exc)]
    if problems:
        raise UsageError(f"cannot render template {key!r} ({source}): {len(problems)} problem(s); "
                         "pass --var NAME=VALUE for each variable the body uses", problems=problems)
    return {"key": key, "language": language, "source": source, "text": text}

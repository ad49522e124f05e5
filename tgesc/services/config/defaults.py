"""`tgesc init`: create and migrate the database, then load the shipped defaults exactly once.

A second run changes nothing: the defaults are recorded as loaded in the `meta` table, so a sysadmin's
later edits are never overwritten by re-running init.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files

import peewee

from tgesc.db import upgrade, write_transaction
from tgesc.domain.config_document import Change
from tgesc.models import Meta
from tgesc.services.config.apply import apply_config, parse_toml

DEFAULTS_LOADED = "defaults_loaded_at"


@dataclass(frozen=True)
class InitReport:
    migrations_applied: list[str] = field(default_factory=list)
    defaults_loaded: list[Change] = field(default_factory=list)
    defaults_loaded_at: str = ""


def shipped_defaults() -> dict:
    text = (files("tgesc") / "defaults.toml").read_text(encoding="utf-8")
    return parse_toml(text, "tgesc/defaults.toml")


def initialise(db: peewee.Database, *, now: datetime, actor: str) -> InitReport:
    """Migrate to the latest schema; load the shipped defaults if this database never had them."""
    applied = upgrade(db)
    with write_transaction(db):
        marker = Meta.get_or_none(Meta.key == DEFAULTS_LOADED)
        if marker is not None:
            return InitReport(applied, [], marker.value)
        changes = apply_config(db, shipped_defaults(), source="shipped defaults", prune=False, dry_run=False,
                               actor=actor, now=now)
        Meta.create(key=DEFAULTS_LOADED, value=now.isoformat())
    return InitReport(applied, changes, now.isoformat())

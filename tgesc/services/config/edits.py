"""Incremental edits of one configuration entry: add to or take from a list, set or drop a nested value.

`tgesc staff set bob --add-tier L3`, `tgesc rule set refund --add-phrase en:money` and
`tgesc calendar set office --remove-holiday 2026-12-25` change part of a field rather than replace it.
`edit_entry` reads the entry, applies the edits and saves it through `configuration.set_entry`, all
in one transaction, so the whole configuration is re-validated exactly as for any other edit.

A path names a value inside the entry: `("tiers",)` is the staff member's tier list,
`("phrases", "en")` the English phrases of a rule, `("overrides", "2026-12-24")` one calendar override.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import peewee

from tgesc.db import write_transaction
from tgesc.domain.errors import DomainError
from tgesc.services.config.apply import get_entry, set_entry

Path = tuple[str, ...]


@dataclass
class Edits:
    """What to change, applied in this order: `fields` (whole top-level fields; None unsets one),
    `put` (a nested value; None removes it if present), `drop` (remove a nested value that must exist),
    `add` (append an item to a list unless present), `discard` (remove an item that must be in a list).
    A nested list emptied by `discard` is removed with its key."""

    fields: dict[str, Any] = field(default_factory=dict)
    put: list[tuple[Path, Any]] = field(default_factory=list)
    drop: list[Path] = field(default_factory=list)
    add: list[tuple[Path, Any]] = field(default_factory=list)
    discard: list[tuple[Path, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.put or self.drop or self.add or self.discard)


def edit_entry(db: peewee.Database, section: str, key: str, edits: Edits, *, actor: str,
               now: datetime) -> dict[str, Any]:
    """Apply `edits` to one existing entry (NotFound if there is none) and save it; returns the entry
    as stored. DomainError if a dropped value or discarded item is not there, or the result is invalid."""
    with write_transaction(db):
        current = get_entry(db, section, key)
        entry = apply_edits(current, edits, f"{section}.{key}")
        changed = {name: entry.get(name) for name in dict.fromkeys([*current, *entry])}
        return set_entry(db, section, key, changed, actor=actor, now=now)


def apply_edits(entry: Mapping[str, Any], edits: Edits, where: str) -> dict[str, Any]:
    """A copy of `entry` with `edits` applied (pure; `where` names the entry in error messages)."""
    result = copy.deepcopy(dict(entry))
    for name, value in edits.fields.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = copy.deepcopy(value)
    for path, value in edits.put:
        parent = _parent(result, path, create=value is not None)
        if value is None:
            if parent is not None:
                parent.pop(path[-1], None)
        else:
            parent[path[-1]] = copy.deepcopy(value)
    for path in edits.drop:
        parent = _parent(result, path, create=False)
        if parent is None or path[-1] not in parent:
            raise DomainError(f"{where}: there is no {_dotted(path)} to remove")
        del parent[path[-1]]
    for path, item in edits.add:
        items = _list_at(result, path, where, create=True)
        if item not in items:
            items.append(item)
    for path, item in edits.discard:
        items = _list_at(result, path, where, create=False)
        if items is None or item not in items:
            raise DomainError(f"{where}.{_dotted(path)} does not contain {item!r}; nothing to remove")
        items.remove(item)
        if not items and len(path) > 1:
            del _parent(result, path, create=False)[path[-1]]
    return result


def _parent(entry: dict[str, Any], path: Path, *, create: bool) -> dict[str, Any] | None:
    node: Any = entry
    for part in path[:-1]:
        if not isinstance(node, dict):
            return None
        if part not in node:
            if not create:
                return None
            node[part] = {}
        node = node[part]
    return node if isinstance(node, dict) else None


def _list_at(entry: dict[str, Any], path: Path, where: str, *, create: bool) -> list[Any] | None:
    parent = _parent(entry, path, create=create)
    if parent is None:
        return None
    if path[-1] not in parent:
        if not create:
            return None
        parent[path[-1]] = []
    items = parent[path[-1]]
    if not isinstance(items, list):
        raise DomainError(f"{where}.{_dotted(path)} is not a list")
    return items


def _dotted(path: Iterable[str]) -> str:
    return ".".join(path)


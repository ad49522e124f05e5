"""The `set` verb for nouns whose options also edit part of a field (--add-tier, --remove-holiday ...).

Options not given stay as they are and '' unsets a field; the list and table
edits go to `services.entry_edits.edit_entry`, which applies everything in one validated transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import typer

from tgesc.cli.context import current_time, state
from tgesc.cli.entries import RecordView, emit_entry, unset_empty
from tgesc.cli.output import info

Path = tuple[str, ...]


def edit_cmd(section: str, key: str, fields: Mapping[str, Any], as_: str | None, as_json: bool, *,
             put: Iterable[tuple[Path, Any]] = (), drop: Iterable[Path] = (),
             add: Iterable[tuple[Path, Any]] = (), discard: Iterable[tuple[Path, Any]] = (),
             view: RecordView | None = None) -> None:
    from tgesc.services.config.edits import Edits, edit_entry

    edits = Edits(fields=unset_empty(fields), put=list(put), drop=list(drop), add=list(add),
                  discard=list(discard))
    if not edits:
        raise typer.BadParameter("nothing to change: give at least one option (see --help)")
    cli = state()
    entry = edit_entry(cli.database(), section, key, edits, actor=cli.actor(as_), now=current_time())
    emit_entry(section, key, entry, as_json, view)
    info(f"Updated {section}.{key}.")


def put_cmd(section: str, key: str, fields: Mapping[str, Any], as_: str | None, as_json: bool) -> None:
    """`set` that creates the entry from the given fields when it does not exist (SLA policies)."""
    from tgesc.services.config.apply import put_entry

    changes = unset_empty(fields)
    if not changes:
        raise typer.BadParameter("nothing to change: give at least one option (see --help)")
    cli = state()
    entry, created = put_entry(cli.database(), section, key, changes, actor=cli.actor(as_), now=current_time())
    emit_entry(section, key, entry, as_json)
    info(f"{'Added' if created else 'Updated'} {section}.{key}.")

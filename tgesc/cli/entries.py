"""The list / show / add / set / remove verbs shared by every configuration noun (tier, staff, sla ...).

Each noun module declares its own options and hands the fields to these; the service re-validates the
whole configuration, so a CLI edit obeys exactly the rules of a configuration file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import typer

from tgesc.cli.context import current_time, state
from tgesc.cli.output import KEY_COLUMNS, emit, info
from tgesc.cli.parsing import name

TAG_CHANGES = typer.Argument(None, metavar="[+TAG|-TAG]...",
                             help="+TAG adds, -TAG removes; put them after `--` (a leading - would look like an "
                                  "option).")
TAG_ADD = typer.Option(None, "--add", help="Tag to add (repeatable).")
TAG_REMOVE = typer.Option(None, "--remove", help="Tag to remove (repeatable).")
AS_OPTION = typer.Option(None, "--as", parser=name(), metavar="HANDLE",
                         help="Act as this active staff member, with their permissions (a ticket: staff of its "
                              "tier, or an admin); recorded in the audit log. Default: the operator, recorded as "
                              "TGESC_ACTOR or cli.")
YES_OPTION = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")
DRY_RUN_OPTION = typer.Option(False, "--dry-run", help="Say what would happen, change nothing.")


def duration(value: str | None) -> str | None:
    """Typer parser for duration options: canonical text such as '1d4h', or a usage error (exit 2)."""
    if value is None or value == "":
        return value
    from tgesc.domain.durations import DurationError, format_duration, parse_duration

    try:
        return format_duration(parse_duration(value))
    except DurationError as exc:
        raise typer.BadParameter(str(exc)) from None


def unset_empty(fields: Mapping[str, Any]) -> dict[str, Any]:
    """For `set`: drop options not given; an empty string means 'unset this field' (None)."""
    return {k: (None if v == "" else v) for k, v in fields.items() if v is not None}


Entries = Mapping[str, Mapping[str, Any]]
Summary = Callable[[Entries], list[dict[str, Any]]]


def columns(section: str, names: Sequence[str]) -> Summary:
    """A summary view of a section: its key column, then the given fields."""

    def view(entries: Entries) -> list[dict[str, Any]]:
        return [{KEY_COLUMNS[section]: key, **{name: entry.get(name) for name in names}}
                for key, entry in entries.items()]

    return view


def list_cmd(section: str, as_json: bool, summary: Summary) -> None:
    """`list`: the section's summary table, or every entry in full with --json."""
    from tgesc.services.config.apply import list_entries

    entries = list_entries(state().database(), section)
    emit(entries if as_json else summary(entries), as_json)


RecordView = Callable[[str, Mapping[str, Any]], Mapping[str, Any]]


def emit_entry(section: str, key: str, entry: Mapping[str, Any], as_json: bool, view: RecordView | None = None) -> None:
    """One entry: its full JSON, or a field/value table (`view` may lay the fields out its own way)."""
    if as_json or view is None:
        emit({KEY_COLUMNS[section]: key, **entry}, as_json)
    else:
        emit(view(key, entry), False)


def show_cmd(section: str, key: str, as_json: bool, view: RecordView | None = None) -> None:
    from tgesc.services.config.apply import get_entry

    emit_entry(section, key, get_entry(state().database(), section, key), as_json, view)


def add_cmd(section: str, key: str, fields: Mapping[str, Any], as_: str | None, as_json: bool,
            view: RecordView | None = None) -> None:
    from tgesc.services.config.apply import add_entry

    cli = state()
    entry = add_entry(cli.database(), section, key, fields, actor=cli.actor(as_), now=current_time())
    emit_entry(section, key, entry, as_json, view)
    info(f"Added {section}.{key}.")


def remove_cmd(section: str, key: str, as_: str | None, yes: bool, dry_run: bool) -> None:
    from tgesc.services.config.apply import get_entry, remove_entry

    cli = state()
    get_entry(cli.database(), section, key)
    if dry_run:
        info(f"Would remove {section}.{key} (dry run: nothing changed).")
        return
    if not yes:
        confirm_bulk(f"Remove {section}.{key}?")
    remove_entry(cli.database(), section, key, actor=cli.actor(as_), now=current_time())
    info(f"Removed {section}.{key}.")


def confirm_bulk(question: str) -> None:
    """Destructive or bulk work: ask on a terminal (abort on no); elsewhere it needs --yes (exit 2)."""
    if not sys.stdin.isatty():
        raise typer.BadParameter(f"{question.rstrip('?')}: this needs --yes (or a terminal to confirm)")
    typer.confirm(question, abort=True, err=True)

"""`tgesc config show | export | apply`: effective settings, and the escalation configuration as code."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from tgesc.adapters.clock import utc_now
from tgesc.cli.context import state
from tgesc.cli.output import JSON_OPTION, emit, info, keyed_rows, table

app = typer.Typer(help="Settings, and the escalation configuration as a TOML file.", no_args_is_help=True)


@app.command("show")
def show(as_json: bool = JSON_OPTION) -> None:
    """Print every setting, its value (secrets masked) and where it came from.

    Sources, highest first: flag, environment (TGESC_*), .env file, default.

    Example:

      TGESC_TIMEZONE=Asia/Shanghai tgesc config show
    """
    emit(state().settings().shown(), as_json)


@app.command("export")
def export(
    file: Path = typer.Argument(None, help="Write here instead of stdout.", dir_okay=False),
) -> None:
    """Write the whole escalation configuration as TOML (stdout by default).

    Example:

      tgesc config export desk.toml && git add desk.toml
    """
    from tgesc.services.configuration import export_toml

    text = export_toml(state().database())
    if file is None:
        sys.stdout.write(text)
    else:
        file.write_text(text, encoding="utf-8")
        info(f"Wrote {file}")


@app.command("apply")
def apply(
    file: Path = typer.Argument(..., help="TOML file ('-' for stdin).", allow_dash=True),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan, change nothing."),
    prune: bool = typer.Option(False, "--prune", help="Also remove entries the file does not list."),
    as_: str = typer.Option(None, "--as", help="Staff handle recorded in the audit log."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Make the stored configuration match FILE, in one transaction.

    Prints the plan: '+' add, '~' change (with the changed fields), '-' remove (only with --prune).
    A file with any problem applies nothing and exits 78.

    Examples:

      tgesc config apply desk.toml --dry-run

      tgesc config apply desk.toml --prune
    """
    from tgesc.services.configuration import apply_config, parse_toml

    source = "<stdin>" if str(file) == "-" else str(file)
    raw = parse_toml(_read(file), source)
    cli = state()
    changes = apply_config(cli.database(), raw, source=source, prune=prune, dry_run=dry_run,
                           actor=cli.actor(as_), now=utc_now())
    if as_json:
        emit({"dry_run": dry_run, "changes": [{"op": c.op, "section": c.section, "key": c.key,
                                               "fields": list(c.fields)} for c in changes]}, True)
    else:
        for change in changes:
            print(change.describe())
    verb = "would apply" if dry_run else "applied"
    info(f"{len(changes)} change(s) {verb}." if changes else "No changes: the configuration already matches.")


def _read(file: Path) -> str:
    from tgesc.domain.errors import ConfigInvalid

    if str(file) == "-":
        return sys.stdin.read()
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigInvalid(f"cannot read {file}: {exc.strerror if isinstance(exc, OSError) else exc}") from None


def render_document(doc: dict, as_json: bool) -> None:
    """The configuration as one JSON document, or one table per non-empty section."""
    if as_json:
        emit(doc, True)
        return
    for section, entries in doc.items():
        if not entries:
            continue
        rows = keyed_rows(section, entries)
        columns = list(dict.fromkeys(col for row in rows for col in row))
        print(f"[{section}]")
        print(table(rows, columns))
        print()

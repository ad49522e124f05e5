"""`tgesc config show | export | apply`: effective settings, and the escalation configuration as code."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from tgesc.cli.context import current_time, state
from tgesc.cli.entries import AS_OPTION
from tgesc.cli.files import read_input, write_output
from tgesc.cli.output import JSON_OPTION, emit, info, table
from tgesc.domain.errors import ConfigInvalid

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
    from tgesc.services.config.apply import export_toml

    text = export_toml(state().database())
    if file is None:
        sys.stdout.write(text)
    else:
        write_output(file, text)
        info(f"Wrote {file}")


@app.command("apply")
def apply(
    file: Path = typer.Argument(..., help="TOML file ('-' for stdin).", allow_dash=True),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan, change nothing."),
    prune: bool = typer.Option(False, "--prune", help="Also remove entries the file does not list."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Apply a plan that removes entries without asking."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Make the stored configuration match FILE, in one transaction.

    Prints the plan: '+' add, '~' change (with the changed fields), '-' remove (only with --prune).
    A plan that removes entries asks first on a terminal, and needs --yes elsewhere.
    A file with any problem applies nothing and exits 78.

    Examples:

      tgesc config apply desk.toml --dry-run

      tgesc config apply desk.toml --prune --yes
    """
    from tgesc.services.config.apply import apply_config, parse_toml

    source = "<stdin>" if str(file) == "-" else str(file)
    raw = parse_toml(read_input(file, ConfigInvalid), source)
    cli = state()
    changes = apply_config(cli.database(), raw, source=source, prune=prune, dry_run=dry_run,
                           actor=cli.actor(as_), now=current_time(), confirm_removals=None if yes else _confirm)
    if as_json:
        emit({"dry_run": dry_run, "changes": [{"op": c.op, "section": c.section, "key": c.key,
                                               "fields": list(c.fields)} for c in changes]}, True)
    else:
        for change in changes:
            print(change.describe())
    verb = "would apply" if dry_run else "applied"
    info(f"{len(changes)} change(s) {verb}." if changes else "No changes: the configuration already matches.")


def _confirm(changes: list) -> bool:
    """Ask on a terminal before removing entries; off a terminal, removals need --yes."""
    removals = [change.describe() for change in changes if change.op == "-"]
    if not sys.stdin.isatty():
        raise typer.BadParameter(f"the plan removes {len(removals)} entr{'y' if len(removals) == 1 else 'ies'} "
                                 f"({', '.join(removals)}); pass --yes to apply it, or --dry-run to look first")
    for change in changes:
        info(change.describe())
    return typer.confirm(f"Apply these {len(changes)} change(s), removing {len(removals)}?", err=True, abort=True)


def render_document(doc: dict, as_json: bool) -> None:
    """The configuration as one JSON document, or each non-empty section's summary table."""
    if as_json:
        emit(doc, True)
        return
    from tgesc.cli import calendar, faq, rule, sla, snippet, staff, tier

    views = {"calendars": calendar.summary, "tiers": tier.summary, "staff": staff.summary, "sla": sla.summary,
             "templates": _template_summary, "rules": rule.summary, "faq": faq.summary,
             "snippets": snippet.summary, "lifecycle": _settings_summary, "reports": _settings_summary}
    for section, entries in doc.items():
        if entries:
            print(f"[{section}]")
            print(table(views[section](entries)))
            print()


def _settings_summary(values: dict) -> list[dict]:
    return [{"setting": key, "value": value} for key, value in values.items()]


def _template_summary(entries: dict) -> list[dict]:
    return [{"key": key, "languages": sorted(bodies)} for key, bodies in entries.items()]

"""`tgesc init` and `tgesc db upgrade | status`: create, migrate and inspect the database."""

from __future__ import annotations

import typer

from tgesc.cli.context import current_time, state
from tgesc.cli.output import JSON_OPTION, emit, info

app = typer.Typer(help="Database schema: versioned migrations.", no_args_is_help=True)
init_app = typer.Typer(add_completion=False)  # `tgesc init`, a top-level command


@init_app.command("init")
def init(
    as_json: bool = JSON_OPTION,
    show: bool = typer.Option(True, "--show/--quiet", help="Print the configuration afterwards."),
) -> None:
    """Create the data directory and database, migrate it, and load the shipped defaults once.

    Running it again changes nothing (your edits are kept).

    Examples:

      tgesc init

      TGESC_DATABASE_URL=postgresql://db.internal/tgesc tgesc init --quiet
    """
    from tgesc.cli.config import render_document
    from tgesc.services.config.apply import current_document
    from tgesc.services.config.defaults import initialise

    cli = state()
    database = cli.database(require_schema=False, create=True)
    report = initialise(database, now=current_time(), actor=cli.actor(None))
    if report.migrations_applied:
        info(f"Applied migrations: {', '.join(report.migrations_applied)}")
    if report.defaults_loaded:
        info(f"Loaded the shipped defaults ({len(report.defaults_loaded)} entries).")
    else:
        info(f"Already initialised (defaults loaded {report.defaults_loaded_at}); nothing changed.")
    info(f"Database: {_shown_url()}")
    if show or as_json:
        render_document(current_document(database), as_json)


def _shown_url() -> str:
    from tgesc.settings import mask_url_password

    return mask_url_password(state().settings().database_url)


@app.command("upgrade")
def upgrade_cmd() -> None:
    """Apply every pending migration, each in its own transaction.

    Example:

      tgesc db upgrade
    """
    from tgesc.db import upgrade

    applied = upgrade(state().database(require_schema=False, create=True))
    info(f"Applied: {', '.join(applied)}" if applied else "The schema is up to date.")


@app.command("status")
def status_cmd(as_json: bool = JSON_OPTION) -> None:
    """List the migrations and when each was applied (pending ones show no time).

    Example:

      tgesc db status --json
    """
    from tgesc.db import migration_status

    rows = [{"migration": m.name, "applied_at": m.applied_at.isoformat(sep=" ", timespec="seconds")
             if m.applied_at else None, "state": "applied" if m.applied_at else "pending"}
            for m in migration_status(state().database(require_schema=False))]
    emit(rows, as_json)

"""The `tgesc` command: global options, the command groups, and the mapping of errors to exit codes.

Exit codes (DESIGN.md): 0 ok, 1 domain error, 2 usage error, 69 dependency unavailable (DB, Redis),
78 configuration error. A user mistake never shows a traceback: arguments that are not text are refused
before any command runs (docs/limits.md), and a full disk, a file the command cannot open or a database
that went away is exit 69, the command's transaction rolled back. No message shows a secret of the settings.
Every command runs under umask 077: what it creates is private to the user (tgesc.private_files).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import typer
from typer.core import TyperGroup

from tgesc.cli.context import reset
from tgesc.cli.files import DISK_FULL
from tgesc.cli.parsing import check_arguments
from tgesc.domain.errors import DependencyUnavailable, TgescError
from tgesc.domain.redaction import redact
from tgesc.private_files import private_umask

# Each noun's module, imported only when that noun runs (or when --help lists them all): a command
# pays the start-up cost of its own noun alone (bench/cli_startup.py).
NOUNS = {
    "init": "tgesc.cli.db:init_app",
    "config": "tgesc.cli.config:app",
    "db": "tgesc.cli.db:app",
    "tier": "tgesc.cli.tier:app",
    "staff": "tgesc.cli.staff:app",
    "calendar": "tgesc.cli.calendar:app",
    "sla": "tgesc.cli.sla:app",
    "rule": "tgesc.cli.rule:app",
    "faq": "tgesc.cli.faq:app",
    "snippet": "tgesc.cli.snippet:app",
    "template": "tgesc.cli.template:app",
    "ticket": "tgesc.cli.ticket:app",
    "survey": "tgesc.cli.survey:app",
    "customer": "tgesc.cli.customer:app",
    "dead-letter": "tgesc.cli.dead_letter:app",
    "outbox": "tgesc.cli.outbox:app",
    "worker": "tgesc.cli.worker:app",
    "simulate": "tgesc.cli.simulate:app",
    "report": "tgesc.cli.report:app",
}


class LazyNouns(TyperGroup):
    """The root command group, building a noun's click command on first use."""

    def list_commands(self, ctx) -> list[str]:
        return list(NOUNS)

    def get_command(self, ctx, cmd_name: str):
        if cmd_name not in NOUNS:
            return None
        module, attribute = NOUNS[cmd_name].split(":")
        noun: typer.Typer = getattr(importlib.import_module(module), attribute)
        multiple = len(noun.registered_commands) > 1 or noun.registered_groups or noun.registered_callback
        command = typer.main.get_group(noun) if multiple else typer.main.get_command(noun)
        command.name = cmd_name
        return command


app = typer.Typer(
    cls=LazyNouns,
    name="tgesc",
    help="Telegram customer-service escalation desk: tiers L1→L2→L3, SLA clocks, tickets and surveys.\n\n"
         "Start with `tgesc init`, then `tgesc config show` and `tgesc tier list`.\n\n"
         "What each value accepts (durations, numbers, names, instants, files): docs/limits.md.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def version_text() -> str:
    """`tgesc 0.1.0`: the installed package's version (what `--version`, and later `doctor` and `status`, say)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"tgesc {version('tgesc')}"
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "tgesc (not installed: no version)"


def _print_version(given: bool) -> None:
    if given:
        print(version_text())
        raise typer.Exit(0)


@app.callback()
def root(
    home: str = typer.Option(None, "--home", help="Data directory (env TGESC_HOME)."),
    database_url: str = typer.Option(None, "--database-url", help="Database URL (env TGESC_DATABASE_URL)."),
    redis_url: str = typer.Option(None, "--redis-url", help="Redis URL (env TGESC_REDIS_URL)."),
    timezone: str = typer.Option(None, "--tz", help="Zone for shown times (env TGESC_TIMEZONE)."),
    env_file: Path = typer.Option(None, "--env-file", dir_okay=False,
                                  help="Settings file; it must exist (default: ./.env when there)."),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print tgesc's version and exit."),
) -> None:
    reset({"home": home, "database_url": database_url, "redis_url": redis_url, "timezone": timezone},
          env_file)



def run(argv: list[str] | None = None) -> int:
    """Run one command line; return its exit code (errors rendered as `Error: ...` on stderr)."""
    from tgesc.cli.context import state

    arguments = sys.argv[1:] if argv is None else argv
    try:
        check_arguments(arguments)
        with private_umask():
            app(args=arguments, prog_name="tgesc")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except TgescError as exc:
        return _fail(exc)
    except OSError as exc:
        if exc.filename is None and exc.errno not in DISK_FULL:
            raise
        return _fail(_file_unavailable(exc))
    except Exception as exc:
        unavailable = _database_unavailable(exc)
        if unavailable is None:
            raise
        return _fail(DependencyUnavailable(f"the database is unavailable: {unavailable}".splitlines()[0]))
    finally:
        state().close()
    return 0


def _database_unavailable(exc: BaseException) -> BaseException | None:
    """The database failure that passes (a lost connection, a lock held too long, a full disk) in `exc` or in what
    it was raised while handling (tgesc.db.passing_cause), or None: any other database error is a bug and shows a
    traceback."""
    db = sys.modules.get("tgesc.db")  # not imported: the command never touched the database
    return None if db is None else db.passing_cause(exc)


def _file_unavailable(exc: OSError) -> DependencyUnavailable:
    """A file or directory the command needs cannot be written or opened (the data directory, an export)."""
    where = f" {exc.filename}" if exc.filename else ""
    if exc.errno in DISK_FULL:
        return DependencyUnavailable(f"cannot write{where}: the disk is full ({exc.strerror}); free some space "
                                     "and run the command again")
    reason = "a file is where a directory should be" if isinstance(exc, FileExistsError | NotADirectoryError) \
        else exc.strerror or str(exc)
    return DependencyUnavailable(f"cannot use{where}: {reason}; check the path and its permissions")


def _fail(exc: TgescError) -> int:
    from tgesc.cli.context import state

    print(f"Error: {redact(exc.render(), state().secrets())}", file=sys.stderr)
    return exc.exit_code


def main() -> None:
    sys.exit(run())

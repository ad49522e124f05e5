"""`tgesc staff ...`: the people who work tickets, their Telegram identity, role and tiers."""

from __future__ import annotations

from typing import Literal

import typer

from tgesc.cli.edits import edit_cmd
from tgesc.cli.entries import (
    AS_OPTION,
    DRY_RUN_OPTION,
    YES_OPTION,
    add_cmd,
    columns,
    list_cmd,
    remove_cmd,
    show_cmd,
)
from tgesc.cli.output import JSON_OPTION
from tgesc.cli.parsing import whole_number
from tgesc.domain.limits import CAPACITY, TELEGRAM_USER_ID
from tgesc.domain.vocabulary import ROLES

app = typer.Typer(help="Staff members: Telegram id, role (agent, lead, admin) and the tiers they work in.",
                  no_args_is_help=True)
SECTION = "staff"
HANDLE = typer.Argument(..., help="Staff handle, e.g. bob (what --as and the audit log use).")
Role = Literal[ROLES]

summary = columns(SECTION, ["id", "name", "username", "role", "tiers", "language", "active"])

@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List staff members by handle.

    Examples:

      tgesc staff list

      tgesc staff list --json | jq -r 'to_entries[] | select(.value.role == "lead") | .key'
    """
    list_cmd(SECTION, as_json, summary)


@app.command("show")
def show(handle: str = HANDLE, as_json: bool = JSON_OPTION) -> None:
    """Show one staff member.

    Example:

      tgesc staff show bob --json
    """
    show_cmd(SECTION, handle, as_json)


@app.command("add")
def add(
    handle: str = HANDLE,
    telegram_id: int = typer.Option(..., "--id", parser=whole_number(TELEGRAM_USER_ID), metavar="ID",
                                    help="Telegram user id (a number; ask @userinfobot)."),
    name: str = typer.Option(None, "--name", help="Display name."),
    username: str = typer.Option(None, "--username", help="Telegram @username, without the @."),
    role: Role = typer.Option("agent", "--role", help="agent, lead or admin."),
    tiers: list[str] = typer.Option(None, "--tier", help="Tier this person works in (repeat for several)."),
    language: str = typer.Option(None, "--language", help="Language of notices to this person (default en)."),
    active: bool = typer.Option(True, "--active/--inactive", help="Inactive staff get no notices, may not act."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a staff member.

    Examples:

      tgesc staff add bob --id 5001 --name "Bob Li" --username boblee --tier L1 --tier L2

      tgesc staff add ana --id 5002 --role lead --tier L2 --language ru
    """
    add_cmd(SECTION, handle, {"id": telegram_id, "name": name, "username": _username(username), "role": role,
                              "tiers": tiers or None, "language": language, "active": active}, as_, as_json)


@app.command("set")
def set_(
    handle: str = HANDLE,
    telegram_id: int = typer.Option(None, "--id", parser=whole_number(TELEGRAM_USER_ID), metavar="ID",
                                    help="Telegram user id."),
    name: str = typer.Option(None, "--name", help="Display name; '' clears it."),
    username: str = typer.Option(None, "--username", help="Telegram @username; '' removes it."),
    role: Role = typer.Option(None, "--role", help="agent, lead or admin."),
    tiers: list[str] = typer.Option(None, "--tier", help="Replace the tier list (repeat; --tier '' clears it)."),
    add_tiers: list[str] = typer.Option(None, "--add-tier", help="Add a tier to the list (repeatable)."),
    remove_tiers: list[str] = typer.Option(None, "--remove-tier", help="Take a tier off the list (repeatable)."),
    language: str = typer.Option(None, "--language", help="Language of notices; '' means en."),
    active: bool = typer.Option(None, "--active/--inactive", help="Inactive staff get no notices, may not act."),
    capacity: str = typer.Option(None, "--capacity", parser=whole_number(CAPACITY, allow_empty=True), metavar="N",
                                 help="Open tickets assigned to them at most (automatic assignment); '' removes the "
                                      "limit."),
    calendar: str = typer.Option(None, "--calendar", help="Their shift, a calendar (automatic assignment); '' means "
                                                          "the tier's hours."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change fields of a staff member; options not given stay as they are.

    Examples:

      tgesc staff set bob --add-tier L3 --remove-tier L1

      tgesc staff set bob --role lead --username ''

      tgesc staff set ana --inactive

      tgesc staff set bob --capacity 8 --calendar night-shift
    """
    edit_cmd(SECTION, handle, {"id": telegram_id, "name": name, "username": _username(username), "role": role,
                               "tiers": _tier_list(tiers), "language": language, "active": active,
                               "capacity": capacity, "calendar": calendar}, as_, as_json,
             add=[(("tiers",), code) for code in add_tiers or []],
             discard=[(("tiers",), code) for code in remove_tiers or []])

def _username(value: str | None) -> str | None:
    return value.removeprefix("@") if value else value


def _tier_list(values: list[str] | None) -> list[str] | None:
    """--tier replaces the list; a lone --tier '' empties it."""
    if not values:
        return None
    return [v for v in values if v != ""]


@app.command("remove")
def remove(handle: str = HANDLE, as_: str = AS_OPTION, yes: bool = YES_OPTION,
           dry_run: bool = DRY_RUN_OPTION) -> None:
    """Remove a staff member (their past actions stay in the audit log).

    Example:

      tgesc staff remove bob --yes
    """
    remove_cmd(SECTION, handle, as_, yes, dry_run)

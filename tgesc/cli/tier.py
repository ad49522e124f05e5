"""`tgesc tier ...`: the support lines (L1, L2, L3), their order, staff chat and calendar."""

from __future__ import annotations

import typer

from tgesc.cli.edits import edit_cmd
from tgesc.cli.entries import (
    AS_OPTION,
    DRY_RUN_OPTION,
    YES_OPTION,
    add_cmd,
    columns,
    duration,
    list_cmd,
    remove_cmd,
    show_cmd,
)
from tgesc.cli.output import JSON_OPTION
from tgesc.cli.parsing import choice, choices_metavar, whole_number
from tgesc.domain.limits import LEVEL, TELEGRAM_CHAT_ID
from tgesc.domain.vocabulary import ASSIGN_MODES

app = typer.Typer(help="Support tiers (L1 → L2 → L3).", no_args_is_help=True)
SECTION = "tiers"
CODE = typer.Argument(..., help="Tier code, e.g. L2.")
summary = columns(SECTION, ["name", "level", "staff_chat", "forum", "calendar", "first_response", "description"])


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List tiers in escalation order.

    Example:

      tgesc tier list
    """
    list_cmd(SECTION, as_json, summary)


@app.command("show")
def show(code: str = CODE, as_json: bool = JSON_OPTION) -> None:
    """Show one tier.

    Example:

      tgesc tier show L2 --json
    """
    show_cmd(SECTION, code, as_json)


@app.command("add")
def add(
    code: str = CODE,
    name: str = typer.Option(..., "--name", help="Display name."),
    level: int = typer.Option(..., "--level", parser=whole_number(LEVEL), metavar="N",
                              help="Order: 1 is the front line."),
    chat: int = typer.Option(None, "--chat", parser=whole_number(TELEGRAM_CHAT_ID), metavar="ID",
                             help="Telegram chat id of the staff group."),
    forum: bool = typer.Option(False, "--forum/--no-forum", help="The staff chat is a forum."),
    calendar: str = typer.Option(None, "--calendar", help="Business-hours calendar (default: always open)."),
    description: str = typer.Option(None, "--description", help="What this tier handles."),
    first_response: str = typer.Option(None, "--first-response", parser=duration, metavar="DURATION",
                                       help="Its own first-response target, e.g. 5m (applies when shorter "
                                            "than the priority's; default: the priority's)."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a tier.

    Example:

      tgesc tier add L4 --name "Vendor escalation" --level 4 --chat -1001234567890 --forum
    """
    add_cmd(SECTION, code, {"name": name, "level": level, "staff_chat": chat, "forum": forum,
                            "calendar": calendar, "description": description,
                            "first_response": first_response}, as_, as_json)


@app.command("set")
def set_(
    code: str = CODE,
    name: str = typer.Option(None, "--name"),
    level: int = typer.Option(None, "--level", parser=whole_number(LEVEL), metavar="N"),
    chat: str = typer.Option(None, "--chat", parser=whole_number(TELEGRAM_CHAT_ID, allow_empty=True),
                             metavar="ID", help="Chat id; '' removes it."),
    forum: bool = typer.Option(None, "--forum/--no-forum"),
    calendar: str = typer.Option(None, "--calendar", help="Calendar name; '' means always open."),
    description: str = typer.Option(None, "--description"),
    first_response: str = typer.Option(None, "--first-response", parser=duration, metavar="DURATION",
                                       help="Its own first-response target, e.g. 5m (applies when shorter "
                                            "than the priority's); '' removes it."),
    assign: str = typer.Option(None, "--assign", parser=choice(ASSIGN_MODES), metavar=choices_metavar(ASSIGN_MODES),
                               help="Who gets a ticket reaching the tier: manual (someone types /take), or round-robin "
                                    "or least-open among its active staff on shift and under capacity."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change fields of a tier; options not given stay as they are.

    Examples:

      tgesc tier set L2 --chat -1009876543210 --forum

      tgesc tier set L2 --calendar ''

      tgesc tier set L1 --first-response 5m

      tgesc tier set L2 --assign least-open
    """
    edit_cmd(SECTION, code, {"name": name, "level": level, "staff_chat": chat, "forum": forum,
                            "calendar": calendar, "description": description,
                            "first_response": first_response, "assign": assign}, as_, as_json)


@app.command("remove")
def remove(code: str = CODE, as_: str = AS_OPTION, yes: bool = YES_OPTION, dry_run: bool = DRY_RUN_OPTION) -> None:
    """Remove a tier no ticket, staff member, rule or SLA policy uses.

    Example:

      tgesc tier remove L4 --yes
    """
    remove_cmd(SECTION, code, as_, yes, dry_run)

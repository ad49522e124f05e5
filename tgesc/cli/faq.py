"""`tgesc faq ...`: FAQ auto-answers — a customer's question on the front line answered by a template.

An entry has per-language phrases and an answer (a template key). When a message on a ticket still on
the lowest tier contains one of the phrases, the answer template is sent, once per ticket and entry.
`tgesc ticket to-faq` makes an entry (and its template) from a resolved case.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import typer

from tgesc.cli.edits import edit_cmd
from tgesc.cli.entries import (
    AS_OPTION,
    DRY_RUN_OPTION,
    YES_OPTION,
    add_cmd,
    list_cmd,
    remove_cmd,
    show_cmd,
)
from tgesc.cli.output import JSON_OPTION
from tgesc.cli.parsing import language_text, phrase_table
from tgesc.cli.rule import phrase_counts

app = typer.Typer(help="FAQ auto-answers: phrases that make the front line answer with a template.",
                  no_args_is_help=True)
SECTION = "faq"
NAME = typer.Argument(..., help="FAQ entry name, e.g. reset-2fa.")
PHRASE_HELP = 'LANG:TEXT, e.g. en:"reset 2fa" or zh:重置 (repeatable)'
ANSWER_HELP = "Template key of the answer, e.g. faq_reset_2fa (see `tgesc template list`)."


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List FAQ entries by name: the answer template, whether on, phrases per language.

    Examples:

      tgesc faq list

      tgesc faq list --json | jq -r 'to_entries[] | select(.value.enabled | not) | .key'
    """
    list_cmd(SECTION, as_json, summary)


def summary(entries: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """FAQ entries in name order: answer template, enabled, phrase counts per language."""
    return [{"faq": name, "answer": e["answer"], "enabled": e.get("enabled", True),
             "phrases": phrase_counts(e.get("phrases", {}))} for name, e in sorted(entries.items())]


@app.command("show")
def show(name: str = NAME, as_json: bool = JSON_OPTION) -> None:
    """Show one FAQ entry with all its phrases.

    Examples:

      tgesc faq show reset-2fa

      tgesc faq show reset-2fa --json | jq -r '.phrases.zh[]'
    """
    show_cmd(SECTION, name, as_json)


@app.command("add")
def add(
    name: str = NAME,
    answer: str = typer.Option(..., "--answer", help=ANSWER_HELP),
    phrases: list[str] = typer.Option(None, "--phrase", parser=language_text, metavar="LANG:TEXT",
                                      help=f"Phrase that triggers the answer, {PHRASE_HELP}; at least one."),
    disabled: bool = typer.Option(False, "--disabled", help="Add it switched off."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add an FAQ entry answered by an existing template.

    Phrases match case-insensitively anywhere in the customer's message; the answer template must
    exist (shipped, or stored with `tgesc template set`).

    Examples:

      tgesc template set faq_vpn --lang en --body 'Switch the VPN off and on again (ticket #$ticket).'

      tgesc faq add vpn --answer faq_vpn --phrase en:"vpn not working" --phrase zh:"VPN 连不上"

      tgesc faq add parcel --answer faq_parcel --phrase en:"where is my parcel" --disabled
    """
    add_cmd(SECTION, name, {"phrases": phrase_table(phrases), "answer": answer,
                            "enabled": False if disabled else None}, as_, as_json)


@app.command("set")
def set_(
    name: str = NAME,
    answer: str = typer.Option(None, "--answer", help=ANSWER_HELP),
    phrases: list[str] = typer.Option(None, "--phrase", parser=language_text, metavar="LANG:TEXT",
                                      help=f"Replace all phrases, {PHRASE_HELP}."),
    add_phrases: list[str] = typer.Option(None, "--add-phrase", parser=language_text, metavar="LANG:TEXT",
                                          help=f"Add a phrase, {PHRASE_HELP}."),
    remove_phrases: list[str] = typer.Option(None, "--remove-phrase", parser=language_text, metavar="LANG:TEXT",
                                             help=f"Remove a phrase, {PHRASE_HELP}."),
    enabled: bool = typer.Option(None, "--enabled/--disabled", "--enable/--disable",
                                 help="Switch the entry on or off."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change fields of an FAQ entry; options not given stay as they are.

    The --phrase options together replace all phrases, in every language, like `tgesc rule set`.

    Use --add-phrase and --remove-phrase to change one phrase. An entry keeps at least one phrase.

    Examples:

      tgesc faq set reset-2fa --add-phrase en:"lost authenticator" --remove-phrase ru:2fa

      tgesc faq set vpn --phrase en:vpn --phrase zh:梯子 --answer faq_vpn

      tgesc faq set vpn --disable
    """
    edit_cmd(SECTION, name, {"answer": answer, "enabled": enabled, "phrases": phrase_table(phrases)}, as_, as_json,
             add=[(("phrases", lang), text) for lang, text in add_phrases or []],
             discard=[(("phrases", lang), text) for lang, text in remove_phrases or []])


@app.command("enable")
def enable(name: str = NAME, as_: str = AS_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Switch an FAQ entry on.

    Example:

      tgesc faq enable reset-2fa
    """
    edit_cmd(SECTION, name, {"enabled": True}, as_, as_json)


@app.command("disable")
def disable(name: str = NAME, as_: str = AS_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Switch an FAQ entry off (it stays configured; `tgesc faq enable` brings it back).

    Example:

      tgesc faq disable reset-2fa
    """
    edit_cmd(SECTION, name, {"enabled": False}, as_, as_json)


@app.command("remove")
def remove(name: str = NAME, as_: str = AS_OPTION, yes: bool = YES_OPTION, dry_run: bool = DRY_RUN_OPTION) -> None:
    """Remove an FAQ entry (its answer template stays; `tgesc template remove` removes that).

    Examples:

      tgesc faq remove reset-2fa --dry-run

      tgesc faq remove reset-2fa --yes
    """
    remove_cmd(SECTION, name, as_, yes, dry_run)

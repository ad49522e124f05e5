"""`tgesc snippet ...`: canned replies (the article's "preset speech templates") staff send from a ticket's thread.

A snippet has a key and a text per language (Telegram HTML that may use $customer_name, $ticket, $tier and $eta).
`/r KEY` in a ticket's thread sends it to the customer in their language (English when it has none in theirs),
with the variables filled, as the staff member's answer; `/r` alone offers the keys as buttons.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import typer

from tgesc.cli.edits import edit_cmd
from tgesc.cli.entries import AS_OPTION, DRY_RUN_OPTION, YES_OPTION, add_cmd, list_cmd, remove_cmd, show_cmd
from tgesc.cli.output import JSON_OPTION
from tgesc.cli.parsing import language_text

app = typer.Typer(help="Canned replies staff send from a ticket's thread with /r KEY.", no_args_is_help=True)
SECTION = "snippets"
KEY = typer.Argument(..., help="Snippet key, e.g. refund_eta (what /r KEY names).")
TEXT_HELP = ('LANG:TEXT, e.g. en:"Your refund for #$ticket is on its way" (repeatable; Telegram HTML; $customer_name, '
             "$ticket, $tier, $eta)")


def summary(entries: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Snippets in key order: their languages and the start of the English (or first) text."""
    rows = []
    for key, entry in sorted(entries.items()):
        texts = entry.get("text", {})
        first = texts.get("en") or next(iter(texts.values()), "")
        rows.append({"snippet": key, "languages": ", ".join(sorted(texts)),
                     "text": first if len(first) <= 60 else first[:59] + "…"})
    return rows


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List the snippets by key: their languages and the start of their text.

    Examples:

      tgesc snippet list

      tgesc snippet list --json | jq -r 'keys[]'
    """
    list_cmd(SECTION, as_json, summary)


@app.command("show")
def show(key: str = KEY, as_json: bool = JSON_OPTION) -> None:
    """Show one snippet with its text in every language.

    Example:

      tgesc snippet show refund_eta --json | jq -r .text.zh
    """
    show_cmd(SECTION, key, as_json)


@app.command("add")
def add(
    key: str = KEY,
    texts: list[str] = typer.Option(..., "--text", parser=language_text, metavar="LANG:TEXT",
                                    help=f"The text in one language, {TEXT_HELP}; at least one."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a snippet.

    Examples:

      tgesc snippet add refund_eta --text en:"Hi \\$customer_name, your refund for #\\$ticket arrives within 5 days."

      tgesc snippet add refund_eta --text en:"Your refund is on its way." --text zh:"您的退款正在处理中。"
    """
    add_cmd(SECTION, key, {"text": dict(texts)}, as_, as_json)


@app.command("set")
def set_(
    key: str = KEY,
    texts: list[str] = typer.Option(None, "--text", parser=language_text, metavar="LANG:TEXT",
                                    help=f"Set the text in one language, {TEXT_HELP}; other languages stay."),
    remove_languages: list[str] = typer.Option(None, "--remove-language", metavar="LANG",
                                               help="Drop the text in this language (repeatable)."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change a snippet's text in some languages; the others stay as they are.

    Examples:

      tgesc snippet set refund_eta --text ru:"Ваш возврат уже в пути."

      tgesc snippet set refund_eta --remove-language ru
    """
    from tgesc.cli.context import state
    from tgesc.services.config.apply import get_entry

    merged = dict(get_entry(state().database(), SECTION, key).get("text", {}))
    merged.update(dict(texts or []))
    for language in remove_languages or []:
        merged.pop(language, None)
    edit_cmd(SECTION, key, {"text": merged}, as_, as_json)


@app.command("remove")
def remove(key: str = KEY, as_: str = AS_OPTION, yes: bool = YES_OPTION, dry_run: bool = DRY_RUN_OPTION) -> None:
    """Remove a snippet.

    Examples:

      tgesc snippet remove refund_eta --dry-run

      tgesc snippet remove refund_eta --yes
    """
    remove_cmd(SECTION, key, as_, yes, dry_run)

"""`tgesc template ...`: reply templates — shipped defaults per language, overridden in the database.

Bodies are Telegram HTML with `$name` / `${name}` placeholders (`$$` is a literal dollar). Each key
may use its own variables (`tgesc template show KEY` lists them); values are HTML-escaped when sent.
A language without a body of its own falls back to English.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from tgesc.cli.entries import AS_OPTION, DRY_RUN_OPTION, YES_OPTION
from tgesc.cli.files import read_input
from tgesc.cli.output import JSON_OPTION, emit, info
from tgesc.cli.parsing import key_value, language
from tgesc.domain.errors import UsageError

app = typer.Typer(help="Reply templates: shipped defaults (en, zh, ru) and your overrides.", no_args_is_help=True)
KEY = typer.Argument(..., help="Template key, e.g. comfort or faq_reset_2fa.")
PREVIEW = 50


def _lang_option(default: str | None, help_text: str):
    return typer.Option(default, "--lang", parser=language, metavar="LANG", help=help_text)


def _short(body: str) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"


@app.command("list")
def list_(
    lang: str = _lang_option(None, "Only this language (default: en, zh, ru and any with an override)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List every template per language: the body in use and its source.

    Source `override:<lang>` is a body stored with `tgesc template set`, `shipped:<lang>` the default;
    a language other than the row's own means the English fallback is used.

    Examples:

      tgesc template list --lang zh

      tgesc template list --json | jq -r '.[] | select(.source | startswith("override")) | .key'
    """
    from tgesc.cli.context import state
    from tgesc.services.config.templates import template_rows

    rows = template_rows(state().database(), lang)
    if as_json:
        emit(rows, True)
    else:
        emit([{**row, "body": _short(row["body"])} for row in rows], False)


@app.command("show")
def show(key: str = KEY, lang: str = _lang_option("en", "Language."), as_json: bool = JSON_OPTION) -> None:
    """Show the body used for KEY in a language, its source and the variables it may use.

    The body is printed as stored, after the table.

    Examples:

      tgesc template show comfort --lang ru

      tgesc template show escalation_notice --json | jq -r .body
    """
    from tgesc.cli.context import state
    from tgesc.services.config.templates import effective_template

    template = effective_template(state().database(), key, lang)
    if as_json:
        emit(template, True)
        return
    body = template.pop("body")
    template["variables"] = " ".join(f"${name}" for name in template["variables"])
    emit(template, False)
    print()
    print(body)


@app.command("set")
def set_(
    key: str = KEY,
    lang: str = _lang_option(..., "Language of this body, e.g. en."),
    body: str = typer.Option(None, "--body", help="The body text (Telegram HTML, $variables)."),
    file: Path = typer.Option(None, "--file", exists=True, dir_okay=False, allow_dash=True,
                              help="Read the body from a UTF-8 file ('-' for stdin)."),
    as_: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Store your own body for KEY in one language (other languages are kept).

    The body is checked before it is saved: only the key's variables, Telegram's HTML tags, and at
    most 4096 characters when filled with long but plausible values. Every problem is listed at once.

    Examples:

      tgesc template set comfort --lang en --body 'Sorry, $customer_name! Ticket #$ticket, reply within $eta.'

      tgesc template set faq_refund_policy --lang zh --file refund-zh.html
    """
    from tgesc.cli.context import current_time, state
    from tgesc.services.config.templates import save_override

    if (body is None) == (file is None):
        raise typer.BadParameter("give the body with exactly one of --body or --file")
    if file is not None:
        body = read_input(file, UsageError)
    cli = state()
    entry = save_override(cli.database(), key, lang, body, actor=cli.actor(as_), now=current_time())
    emit({"key": key, "language": lang, "source": f"override:{lang}", "body": entry[lang]}, as_json)
    info(f"Saved template {key} ({lang}).")


@app.command("remove")
def remove(
    key: str = KEY,
    lang: str = _lang_option(..., "Language whose override goes."),
    as_: str = AS_OPTION,
    yes: bool = YES_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
) -> None:
    """Remove your body for KEY in one language; the shipped one (or English) is used again.

    Example:

      tgesc template remove comfort --lang en --yes
    """
    from tgesc.cli.context import current_time, state
    from tgesc.services.config.templates import remove_override

    cli = state()
    if dry_run:
        last = remove_override(cli.database(), key, lang, actor=cli.actor(as_), now=current_time(), dry_run=True)
        info(f"Would remove the {lang} override of template {key}{' (its last one)' if last else ''} "
             "(dry run: nothing changed).")
        return
    if not yes:
        if not sys.stdin.isatty():
            raise typer.BadParameter(f"removing template {key} ({lang}) needs --yes (or run it on a terminal)")
        typer.confirm(f"Remove the {lang} override of template {key}?", abort=True, err=True)
    last = remove_override(cli.database(), key, lang, actor=cli.actor(as_), now=current_time())
    info(f"Removed the {lang} override of template {key}{'; it has no overrides left' if last else ''}.")


@app.command("render")
def render(
    key: str = KEY,
    lang: str = _lang_option("en", "Language."),
    variables: list[str] = typer.Option(None, "--var", parser=key_value, metavar="NAME=VALUE",
                                        help="A variable's value (repeatable); HTML-escaped."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Preview the text a customer would get: the body in use, filled in.

    Every unknown and missing variable is reported at once.

    Example:

      tgesc template render comfort --lang en --var customer_name=Ana --var ticket=1042 --var eta='30 minutes'
    """
    from tgesc.cli.context import state
    from tgesc.services.config.templates import preview

    result = preview(state().database(), key, lang, dict(variables or []))
    if as_json:
        emit(result, True)
    else:
        print(result["text"])

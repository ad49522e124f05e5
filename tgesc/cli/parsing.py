"""Typer parsers shared by the configuration nouns: a malformed value is a usage error (exit 2).

Each returns a parser function for `typer.Option(..., parser=...)`; an empty string passes through
unchanged where the option allows '' (meaning "unset" or "clear" in `set` commands).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import typer

_LANGUAGE = re.compile(r"[a-z]{2,8}", re.ASCII)


def choice(values: Sequence[str], *, allow_empty: bool = False) -> Callable[[str], str]:
    """One of `values` (or '' when allowed); anything else is a usage error listing the choices."""

    def parse(value: str) -> str:
        if value in values or (allow_empty and value == ""):
            return value
        extra = " or '' to unset" if allow_empty else ""
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(values)}{extra}")

    return parse


def choices_metavar(values: Sequence[str]) -> str:
    return "[" + "|".join(values) + "]"


def language(value: str) -> str:
    """A primary language code such as en, zh or ru (what Telegram's language_code starts with)."""
    if not _LANGUAGE.fullmatch(value):
        raise typer.BadParameter(f"{value!r} is not a language code; use lowercase letters such as en, zh, ru")
    return value


def language_text(value: str) -> tuple[str, str]:
    """`LANG:TEXT` (split at the first colon), e.g. `en:refund` or `zh:退款`."""
    lang, sep, text = value.partition(":")
    if not sep or not text.strip():
        raise typer.BadParameter(f"{value!r} is not LANG:TEXT; write e.g. en:refund or zh:退款")
    return language(lang.strip()), text.strip()


def phrase_table(pairs: list[tuple[str, str]] | None) -> dict[str, list[str]] | None:
    """Repeated `--phrase LANG:TEXT` values grouped per language (None when none was given); a ''
    among them (from `--phrase ''`, where the option allows it) leaves the table empty."""
    if not pairs:
        return None
    table: dict[str, list[str]] = {}
    for pair in pairs:
        if pair != "":
            lang, text = pair
            table.setdefault(lang, []).append(text)
    return table


def key_value(value: str) -> tuple[str, str]:
    """`NAME=VALUE` (split at the first '='; the value may be empty)."""
    name, sep, text = value.partition("=")
    if not sep or not name.strip():
        raise typer.BadParameter(f"{value!r} is not NAME=VALUE; write e.g. ticket=1042")
    return name.strip(), text


def positive_int_or_empty(value: str) -> int | str:
    """A whole number of 1 or more, or '' (unset)."""
    if value == "":
        return value
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise typer.BadParameter(f"{value!r} is not a whole number of 1 or more (or '' to unset)")
    return number

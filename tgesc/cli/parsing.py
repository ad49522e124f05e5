"""Typer parsers shared by the nouns: a malformed value is a usage error (exit 2).

Each returns a parser function for `typer.Option(..., parser=...)`; an empty string passes through
unchanged where the option allows '' (meaning "unset" or "clear" in `set` commands). Whole numbers go
through `whole_number` (ASCII digits, the range of docs/limits.md); `check_arguments` refuses, before
any command runs, an argument that is not text (a control character, bytes that were not UTF-8) or too long.
`moment_or_ago` reads the ends of a window (`--since`, `--until`) in the command, where the viewer's zone and
the clock are known.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

import typer

from tgesc.domain.errors import UsageError
from tgesc.domain.limits import MAX_NAME, LimitError, WholeNumbers, argument_problem, name_problem, text_problem

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


def check_arguments(arguments: Sequence[str]) -> None:
    """UsageError naming the first argument that is not text or is too long (docs/limits.md)."""
    for position, argument in enumerate(arguments, 1):
        problem = argument_problem(argument)
        if problem:
            shown = repr(argument) if len(argument) <= 40 else repr(argument[:37]) + "..."
            raise UsageError(f"argument {position} ({shown}) {problem}")


def whole_number(numbers: WholeNumbers, *, allow_empty: bool = False) -> Callable[[str], int | str]:
    """A whole number in ASCII digits within the range of `numbers` (or '' when allowed: unset)."""

    def parse(value: str | int) -> int | str:
        if allow_empty and value == "":
            return value
        try:
            return numbers.check(value) if isinstance(value, int) else numbers.parse(value)  # int: the default
        except LimitError as exc:
            raise typer.BadParameter(str(exc) + (" (or '' to unset)" if allow_empty else "")) from None

    return parse


def free_text(value: str) -> str:
    """A free text (a note, a reason, a customer's words): at most 4096 characters, no control character
    but tab and line breaks (docs/limits.md)."""
    problem = text_problem(value)
    if problem:
        raise typer.BadParameter(f"the text {problem}")
    return value


def name(limit: int = MAX_NAME) -> Callable[[str], str]:
    """A name (a handle, a username, a tag): no control character or line break, at most `limit` characters."""

    def parse(value: str) -> str:
        problem = name_problem(value, limit)
        if problem:
            raise typer.BadParameter(f"{value[:40]!r} {problem}")
        return value

    return parse


def moment_or_ago(text: str | None, option: str, zone: str, now: datetime) -> datetime | None:
    """`option`'s value (None: not given) as `instants.parse_moment_or_ago` reads it: a duration back from `now`
    (30d, 36h) or an ISO 8601 instant or date in the viewer's `zone`; a usage error naming the option otherwise."""
    if text is None:
        return None
    from zoneinfo import ZoneInfo

    from tgesc.domain.instants import InstantError, parse_moment_or_ago

    try:
        return parse_moment_or_ago(text, ZoneInfo(zone), now)
    except InstantError as exc:
        raise UsageError(f"{option}: {exc}") from None

"""Durations as people type them in config and on the command line: `15m`, `2h`, `1d4h`, `90s`.

`parse_duration` turns such text into whole seconds; `format_duration` renders seconds in the one
canonical form (largest units first, zero parts left out), so `parse_duration(format_duration(n)) == n`.
Days are plain 24-hour days here: calendar and business-hours arithmetic lives elsewhere. A duration is at
most `MAX_DURATION` (365d, docs/limits.md): a longer one is refused where it is typed, not stored to push
deadlines past the years tgesc can count in.
"""

from __future__ import annotations

import re

from tgesc.domain.limits import MAX_DURATION

UNITS: tuple[tuple[str, int], ...] = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))

_FORM = "expected a duration like 15m, 2h, 1d4h or 90s (units d, h, m, s, largest first, each at most once)"
_PATTERN = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?", re.IGNORECASE | re.ASCII)
_TOKEN = re.compile(r"[0-9]+|[a-z]+|.", re.IGNORECASE | re.ASCII)


class DurationError(ValueError):
    """A duration text or value is not acceptable; the message says why and shows the accepted form."""


def parse_duration(text: str) -> int:
    """Return the number of seconds `text` denotes, or raise DurationError saying what is wrong."""
    if not isinstance(text, str):
        raise DurationError(f"{text!r} is not a duration: {_FORM}")
    stripped = text.strip()
    match = _PATTERN.fullmatch(stripped)
    if stripped and match:
        seconds = _seconds(match.groups())
        if seconds > MAX_DURATION:
            raise DurationError(f"{_cut(text)} is longer than {format_duration(MAX_DURATION)}, the longest duration "
                                "tgesc accepts")
        return seconds
    raise DurationError(f"{text!r} is not a duration: {_reason(stripped)}; {_FORM}")


def looks_like_duration(text: str) -> bool:
    """Whether `text` is written as a duration (digits, each followed by a unit), whether or not it is too long."""
    return bool(text.strip()) and _PATTERN.fullmatch(text.strip()) is not None


def _seconds(numbers: tuple[str | None, ...]) -> int:
    """The seconds the numbers of the d, h, m and s parts denote (one of more than 12 digits is too long
    anyway: it counts as one second over MAX_DURATION, never as a huge int to multiply)."""
    total = 0
    for number, (_, size) in zip(numbers, UNITS, strict=True):
        digits = (number or "").lstrip("0")
        if len(digits) > 12:
            return MAX_DURATION + 1
        total += int(digits or 0) * size
    return total


def _cut(text: str) -> str:
    """`repr(text)`, shortened to 40 characters for a message."""
    shown = repr(text)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _reason(text: str) -> str:
    """Explain why `text` (already stripped, and known not to parse) is rejected."""
    if not text:
        return "it is empty"
    if text.startswith("-"):
        return "durations cannot be negative"
    if any(ch.isspace() for ch in text):
        return "it contains spaces; write the parts together, e.g. 1h30m"
    if "." in text or "," in text:
        return "decimals are not accepted; use a smaller unit instead, e.g. 90m for 1.5h"
    tokens = _TOKEN.findall(text)
    stray = [tok for tok in tokens if not (_is_digits(tok) or _is_letters(tok))]
    if stray:
        return f"{stray[0]!r} is neither a digit nor one of the units d, h, m, s"
    return _sequence_reason(tokens)


def _is_digits(token: str) -> bool:
    return token.isascii() and token.isdigit()


def _is_letters(token: str) -> bool:
    return token.isascii() and token.isalpha()


def _sequence_reason(tokens: list[str]) -> str:
    """Explain what is wrong with a rejected duration made only of ASCII digit and letter runs."""
    order = [name for name, _ in UNITS]
    units: list[str] = []
    for index, token in enumerate(tokens):
        if token.isdigit():
            if index + 1 == len(tokens):
                return f"the number {token} has no unit; add one of d, h, m, s (e.g. {token}m)"
            continue
        if token.lower() not in order:
            return f"{token!r} is not a unit; the units are d, h, m, s"
        if index == 0 or not tokens[index - 1].isdigit():
            return f"the unit {token!r} has no number before it (e.g. 5{token})"
        units.append(token.lower())
    if len(set(units)) != len(units):
        return "a unit appears more than once"
    return "the units are out of order; write the largest first, e.g. 2h5m, not 5m2h"


def format_duration(seconds: int) -> str:
    """Render `seconds` canonically: `4h`, `1d4h`, `1h30m`, `1m30s`, `0s`. Negative → DurationError."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise DurationError(f"{seconds!r} is not a whole number of seconds; pass an int")
    if seconds < 0:
        raise DurationError(f"{seconds} seconds is negative; durations are 0 seconds or more")
    parts = []
    remaining = seconds
    for unit, size in UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"

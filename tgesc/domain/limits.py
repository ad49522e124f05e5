"""The one range each kind of value accepted by tgesc has, checked where the value comes in (the CLI, the
escalation configuration, scenario files, settings) the same way on SQLite and PostgreSQL, before anything
is written. docs/limits.md explains them to users; a value outside its range is refused with a message
saying the range, never stored to break something later.

- durations: 0s to `MAX_DURATION` (365d), parsed by tgesc.domain.durations;
- whole numbers: ASCII digits only (an optional leading `-` where negatives make sense), each kind in the
  range of the PostgreSQL column holding it (`WholeNumbers`: ticket numbers, Telegram ids, levels ...);
- names (handles, codes, tags, display names) hold no control character; free texts (messages, notes,
  reasons) none but tab and line breaks; both have a maximum length (`name_problem`, `text_problem`);
- instants from `EARLIEST` (1970) up to `LATEST` (the year 9000), dates within the same years, so that
  deadlines counted from them stay in the years Python can count in;
- time zones: IANA names of at most `MAX_ZONE` characters that the tz database knows (`zone_problem`);
- command-line arguments: text (no control character but tab and line breaks) of at most `MAX_ARGUMENT`
  characters (`argument_problem`);
- files people give tgesc to read: regular files of at most `MAX_FILE_BYTES`, UTF-8 text without NUL
  (`read_text_file`), and TOML in them nested at most `MAX_NESTING` deep (`load_toml`).
"""

from __future__ import annotations

import os
import stat
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

MAX_DURATION = 365 * 86_400  # seconds: 365d
INT32_MAX = 2**31 - 1  # PostgreSQL integer
INT64_MAX = 2**63 - 1  # PostgreSQL bigint
MAX_TEXT = 4096  # characters of a free text: one Telegram message (tgesc.domain.telegram.TEXT_LIMIT)
MAX_NAME = 64  # characters of a handle, key, tag or username (their columns' size)
MAX_DISPLAY_NAME = 128  # characters of a person's or tier's display name
MAX_ZONE = 64
MAX_ARGUMENT = 16 * 1024  # characters of one command-line argument
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)  # excluded
MAX_FILE_BYTES = 1024 * 1024
MAX_NESTING = 16  # tables and arrays inside one another in a TOML document
_TEXT_CONTROLS = frozenset("\t\n\r")
_NAME_REFUSED = frozenset(("Cc", "Cs", "Zl", "Zp"))  # controls, lone surrogates, line and paragraph separators


class LimitError(ValueError):
    """A value outside the range of its kind; the message says what is wrong and what is accepted."""


# --- whole numbers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WholeNumbers:
    """The range of one kind of whole number: `what` it is, and its bounds (both included)."""

    what: str
    low: int
    high: int

    def describe(self) -> str:
        return f"a whole number from {self.low} to {self.high}"

    def check(self, value: int) -> int:
        """`value` itself when it is in range, else LimitError."""
        if not self.low <= value <= self.high:
            raise LimitError(f"{_short(value)} is out of range for {self.what}: {self.describe()}")
        return value

    def parse(self, text: str) -> int:
        """The number written in `text`: ASCII digits (with a leading `-` where negatives are in range)."""
        digits = text.removeprefix("-") if self.low < 0 else text
        if not (digits.isascii() and digits.isdigit()):
            raise LimitError(f"{_short(text)} is not {self.what}: write {self.describe()} in the digits 0-9")
        if len(digits.lstrip("0")) > len(str(max(abs(self.low), self.high))):
            raise LimitError(f"{_short(text)} is out of range for {self.what}: {self.describe()}")
        return self.check(int(text))


TICKET_NUMBER = WholeNumbers("a ticket number", 1, INT32_MAX)
ROW_ID = WholeNumbers("an id", 1, INT32_MAX)
TELEGRAM_USER_ID = WholeNumbers("a Telegram user id", 1, INT64_MAX)
TELEGRAM_CHAT_ID = WholeNumbers("a Telegram chat id", -INT64_MAX, INT64_MAX)
TELEGRAM_MESSAGE_ID = WholeNumbers("a Telegram message id", 1, INT64_MAX)
TELEGRAM_API_ID = WholeNumbers("a Telegram API id", 1, INT32_MAX)
LEVEL = WholeNumbers("a tier level", 1, INT32_MAX)
POSITION = WholeNumbers("a position", -INT32_MAX - 1, INT32_MAX)
COUNT = WholeNumbers("a count", 1, INT32_MAX)
CAPACITY = WholeNumbers("a capacity of open tickets", 1, 100_000)
LIMIT = WholeNumbers("a limit", 0, INT32_MAX)
PERCENT = WholeNumbers("a percentage", 1, 99)
CROWD = WholeNumbers("a crowd size", 1, 10_000)  # `simulate --crowd`: generated customers
SEED = WholeNumbers("a seed", 0, INT32_MAX)  # `simulate --seed`: which crowd


def _short(value: object) -> str:
    """`repr(value)`, cut to 40 characters (a message never repeats a megabyte of input)."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**40 else f"a {len(str(value))}-digit number"
    return text if len(text) <= 40 else text[:37] + "..."


# --- texts ----------------------------------------------------------------------------------------


def control_problem(value: str) -> str | None:
    """Why `value` is not text (it holds a control character other than tab and line breaks, or half of
    a surrogate pair: bytes that were not UTF-8), or None."""
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":
            return "holds bytes that are not UTF-8 text"
        if category == "Cc" and char not in _TEXT_CONTROLS:
            return f"holds the control character U+{ord(char):04X}; remove it"
    return None


def text_problem(value: str, limit: int = MAX_TEXT) -> str | None:
    """Why `value` is not a free text (no control character but tab and line breaks, at most `limit`
    characters), or None."""
    problem = control_problem(value)
    if problem:
        return problem
    if len(value) > limit:
        return f"is {len(value)} characters long; at most {limit}"
    return None


def name_problem(value: str, limit: int = MAX_NAME) -> str | None:
    """Why `value` is not a name (not blank, no control character or line break, at most `limit`
    characters), or None."""
    if not value.strip():
        return "is empty"
    for char in value:
        if unicodedata.category(char) in _NAME_REFUSED:
            return control_problem(char) or f"holds U+{ord(char):04X}, a tab or line break; names hold none"
    if len(value) > limit:
        return f"is {len(value)} characters long; at most {limit}"
    return None


def argument_problem(value: str) -> str | None:
    """Why `value` cannot be a command-line argument (not text, or longer than MAX_ARGUMENT), or None."""
    return text_problem(value, MAX_ARGUMENT)


# --- instants, dates and zones --------------------------------------------------------------------


def instant_problem(instant: datetime) -> str | None:
    """Why the aware `instant` is outside the instants tgesc accepts, or None."""
    try:
        inside = EARLIEST <= instant < LATEST
    except OverflowError:
        inside = False
    if inside:
        return None
    return f"lies outside the instants tgesc accepts, {EARLIEST:%Y-%m-%d} up to {LATEST:%Y-%m-%d} (UTC)"


def date_problem(day: date) -> str | None:
    """Why `day` is outside the dates tgesc accepts, or None."""
    if EARLIEST.date() <= day < LATEST.date():
        return None
    return f"lies outside the dates tgesc accepts, {EARLIEST:%Y-%m-%d} up to {LATEST:%Y-%m-%d}"


def zone_problem(name: object) -> str | None:
    """Why `name` is not a time zone tgesc accepts (an IANA name the tz database knows), or None."""
    hint = "use an IANA time zone name such as Europe/Berlin, Asia/Shanghai or UTC"
    if not isinstance(name, str) or not name:
        return f"a time zone name is needed; {hint}"
    if len(name) > MAX_ZONE or name_problem(name, MAX_ZONE):
        return f"{_short(name)} is not a time zone; {hint}"
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {_short(name)} (names are case-sensitive); {hint}"
    return None


# --- files ----------------------------------------------------------------------------------------


def read_text_file(path: Path) -> str:
    """The text of a file given to tgesc: a regular file of at most MAX_FILE_BYTES, UTF-8 without NUL.
    LimitError, `cannot read PATH: why`, says why not (missing, a directory or device, too big, binary)."""
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)  # never open a FIFO or a device: it may never end
        data = _head(path) if regular else b""
    except OSError as exc:
        raise LimitError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a NUL in the path
        raise LimitError(f"cannot read {_short(str(path))}: {exc}") from None
    if not regular:
        raise LimitError(f"cannot read {path}: it is not a regular file")
    if len(data) > MAX_FILE_BYTES:
        raise LimitError(f"cannot read {path}: it is larger than {MAX_FILE_BYTES // 1024} KiB, more than tgesc reads")
    try:
        return decode_text(data)
    except LimitError as exc:
        raise LimitError(f"cannot read {path}: {exc}") from None


def _head(path: Path) -> bytes:
    """The first MAX_FILE_BYTES + 1 bytes of a file (enough to tell that it is too big)."""
    with open(path, "rb") as file:
        return file.read(MAX_FILE_BYTES + 1)


def decode_text(data: bytes) -> str:
    """`data` as text: UTF-8 without a NUL byte (which marks a binary file), else LimitError."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LimitError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if "\0" in text:
        raise LimitError(f"not text: a NUL byte at byte {data.index(0)}")
    return text


def load_toml(text: str) -> dict[str, Any]:
    """The TOML document `text` holds; LimitError when it nests deeper than MAX_NESTING (tomllib raises
    TOMLDecodeError for a malformed one, as ever)."""
    import tomllib

    try:
        document = tomllib.loads(text)
    except RecursionError:
        raise LimitError(f"nests tables or arrays deeper than {MAX_NESTING} levels") from None
    if _depth(document) > MAX_NESTING:
        raise LimitError(f"nests tables or arrays deeper than {MAX_NESTING} levels")
    return document


def _depth(value: Any) -> int:
    """How deep tables and arrays nest in `value` (a scalar: 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_NESTING:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest

"""The clock. Only process entry points (cli, worker) read it; everything else is given `now`.

`utc_now` is the real clock. A process takes its clock from the `clock` setting (`TGESC_CLOCK`) with
`clock_from(settings)`:

- empty (the default): real time, `utc_now`;
- `file:/path`: a virtual clock. Every call reads the file and returns the instant written there (ISO 8601,
  e.g. `2026-03-02T09:30:00Z`; without an offset the time is UTC). The clock stands still until the file
  changes: a test or `tgesc simulate` drives worker processes through hours of virtual time by rewriting
  the file (`set_virtual_time`), and nothing waits for real minutes. A missing or unreadable file is an error
  naming the file, never a silent fall-back to real time. Between two moves no time passes: work paced by
  the clock (the bot's sending rates) waits in real time for what the virtual clock never grants, so a test
  that needs the bot to send fast runs it on real time. A file that is missing, not text, or holds no
  instant within the range of docs/limits.md is a ConfigInvalid (exit 78) naming TGESC_CLOCK and the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tgesc.settings import Settings

FILE_PREFIX = "file:"


def utc_now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


class FileClock:
    """A virtual clock: the instant written in `path`, read again at every call."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> datetime:
        from tgesc.domain.errors import ConfigInvalid
        from tgesc.domain.instants import InstantError, parse_instant
        from tgesc.domain.limits import LimitError, read_text_file

        try:
            text = read_text_file(self.path).strip()
        except LimitError as error:
            raise ConfigInvalid(f"TGESC_CLOCK: the virtual clock {error}") from None
        try:
            return parse_instant(text, UTC).astimezone(UTC)
        except InstantError as error:
            raise ConfigInvalid(f"TGESC_CLOCK: the virtual clock file {self.path} holds no instant: {error}") from None

    def __repr__(self) -> str:
        return f"FileClock({str(self.path)!r})"


def clock_from(settings: Settings) -> Callable[[], datetime]:
    """The clock the `clock` setting names: real time when empty, else the virtual clock of `file:/path`."""
    value = settings.get("clock")
    if not value:
        return utc_now
    if not value.startswith(FILE_PREFIX):  # the setting's check refuses this already
        raise ValueError(f"unsupported clock {value!r}; use file:/path or leave it empty")
    from tgesc.settings import expanded

    return FileClock(expanded(value[len(FILE_PREFIX):]))


def set_virtual_time(path: Path, instant: datetime) -> None:
    """Move a virtual clock: write `instant` (aware) into its file atomically, so a reader never sees half of it."""
    if instant.tzinfo is None:
        raise ValueError("a virtual clock is set to an aware instant")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(instant.astimezone(UTC).isoformat() + "\n", encoding="utf-8")
    os.replace(temporary, path)

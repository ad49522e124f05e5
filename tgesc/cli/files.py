"""Files named on the command line: read within the limits of docs/limits.md, written whole or not at all.

`read_input` reads FILE, or standard input for `-`: a regular file of at most 1 MiB, UTF-8 text without
NUL (tgesc.domain.limits), else the error type the caller gives, naming the file. `write_output` writes a
regular file (never over a device or a FIFO) through a temporary one beside it, renamed into place: a full
disk or any other failure leaves the old file as it was and no partial one (a full disk is exit 69 in
tgesc.cli.main, a path that cannot be written a usage error).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from pathlib import Path

from tgesc.domain.errors import TgescError, UsageError
from tgesc.domain.limits import MAX_FILE_BYTES, LimitError, decode_text, read_text_file

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def read_input(path: Path, error: type[TgescError]) -> str:
    """The text of `path` ('-': standard input); `error` (an exit code's type) saying why it cannot be read."""
    try:
        if str(path) == "-":
            return _read_stdin()
        return read_text_file(path)
    except LimitError as exc:
        raise error(str(exc) if str(path) != "-" else f"standard input: {exc}") from None


def _read_stdin() -> str:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text stream without bytes under it (a test's StringIO)
        data = sys.stdin.read(MAX_FILE_BYTES + 1).encode("utf-8", "surrogateescape")
    else:
        data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise LimitError(f"it is larger than {MAX_FILE_BYTES // 1024} KiB, more than tgesc reads")
    return decode_text(data)


def write_output(path: Path, text: str) -> None:
    """Write `text` to `path` (a regular file, or none yet; through a symbolic link: to its target) whole, or
    leave it untouched: the OSError naming `path` when the disk is full, else UsageError saying why not."""
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        raise UsageError(f"cannot write {path}: it is not a regular file (a directory, a device or a FIFO)")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        if exc.errno in DISK_FULL:
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None

"""The files tgesc creates hold customer data (invariant 7): its directories are 0700, its files 0600.

Every `tgesc` process runs under `private_umask()` (the CLI's `run`, so the workers too), and so does the
embedded redis-server it starts: whatever they create is private to the user running tgesc. Where tgesc creates
the data directory or a database it also says so explicitly (`private_directory`, `create_private_file`), and
`make_private` tightens a file an earlier version left readable to others. An existing directory is never
changed: a data directory may be one the administrator shares on purpose.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from tgesc.domain.errors import ConfigInvalid, DependencyUnavailable, TgescError

PRIVATE_UMASK = 0o077
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EIO)


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Run the block with umask 077 (new files 0600, new directories 0700), then restore the previous one."""
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def private_directory(path: Path) -> Path:
    """`path`, created 0700 with each missing parent (also 0700) unless it exists. OSError becomes a TgescError:
    ConfigInvalid (exit 78: point the setting somewhere writable), DependencyUnavailable when the disk is full."""
    missing = []
    for directory in (path, *path.parents):
        if directory.is_dir():
            break
        missing.append(directory)
    try:
        for directory in reversed(missing):
            directory.mkdir(mode=DIRECTORY_MODE, exist_ok=True)
    except OSError as error:
        raise creation_error(path, error) from None
    return path


def create_private_file(path: Path) -> None:
    """Create `path` empty and 0600 unless it exists (its contents are left alone)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    except OSError as error:
        raise creation_error(path, error) from None


def private_opener(path: str, flags: int) -> int:
    """For `open(..., opener=private_opener)`: a file it creates is 0600."""
    return os.open(path, flags, FILE_MODE)


def make_private(*paths: Path) -> None:
    """Take the group's and others' permissions off each of `paths` that exists and is ours (else leave it)."""
    for path in paths:
        with contextlib.suppress(OSError):
            status = path.stat()
            if status.st_mode & 0o077 and status.st_uid == os.getuid():
                os.chmod(path, status.st_mode & 0o700)


def creation_error(path: Path, error: OSError) -> TgescError:
    """What to tell the user when `path` cannot be created."""
    reason = error.strerror or type(error).__name__
    if error.errno in _FULL:
        return DependencyUnavailable(f"cannot create {path}: {reason}; free some space and try again")
    return ConfigInvalid(f"cannot create {path}: {reason}; choose a data directory you can write "
                         "(--home or TGESC_HOME) or another database URL (TGESC_DATABASE_URL)")

"""Kept desks: `tgesc simulate --keep DIR` keeps what a simulation made as a tgesc data directory.

A simulation plays on a throwaway desk in a temporary directory (its SQLite database, the bot's session file, the
virtual clock's file; an embedded Redis in a directory of its own). With --keep, once a scenario has played, its
database is copied (SQLite's online backup: one file, as of the last step) to `tgesc.db` in the desk's home: the
data directory's default database, so `TGESC_HOME=HOME tgesc ...` reads it with no other setting, under the
configuration the scenario ran with (it is in the database), with the instants of the virtual clock. Beside it,
`clock` holds the virtual clock's last instant: `TGESC_CLOCK=file:HOME/clock` looks at the desk as of then (without
it, commands run on the real clock, and a desk of March 2026 is history). Nothing else of the run is kept: no Redis
files, session file or sockets for a later command to trip on.

Homes (`plan`): one desk (one scenario, or several played together) is DIR itself; several are DIR/<file stem>.
DIR must not exist or be empty, checked before anything plays: a kept desk is never written over. When a run fails,
`discard` takes away what it kept so far, leaving DIR as it was.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tgesc.adapters.clock import set_virtual_time
from tgesc.db import copy_sqlite
from tgesc.domain.errors import UsageError
from tgesc.private_files import private_directory
from tgesc.simulation.desk import SimulatedDesk

DATABASE = "tgesc.db"  # the data directory's default database (tgesc.settings)
CLOCK = "clock"


@dataclass(frozen=True)
class Homes:
    """Where the desks go: `homes[i]` for the i-th desk played; `made`: DIR did not exist before."""

    directory: Path
    homes: tuple[Path, ...]
    made: bool


def plan(directory: Path, stems: Sequence[str]) -> Homes:
    """The homes in `directory` of the desks of scenario files named `stems` (several: `directory/<stem>` each; one, or
    none for the one desk of scenarios played together: `directory` itself); UsageError when `directory` is not a
    new or empty directory, or two desks would share a home."""
    _check_empty(directory)
    if len(stems) <= 1:
        return Homes(directory, (directory,), not directory.exists())
    repeated = sorted({stem for stem in stems if stems.count(stem) > 1})
    if repeated:
        raise UsageError(f"--keep {directory}: two scenario files are named {repeated[0]}, and each desk is kept in "
                         f"{directory}/<file stem>; rename one, or keep them in two runs")
    return Homes(directory, tuple(directory / stem for stem in stems), not directory.exists())


def _check_empty(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--keep {directory}: it is a file; give a new or empty directory")
    try:
        entries = sorted(entry.name for entry in directory.iterdir()) if directory.exists() else []
    except OSError as error:
        raise UsageError(f"--keep {directory}: cannot read it ({error.strerror}); give a new or empty directory") \
            from None
    if entries:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise UsageError(f"--keep {directory}: it is not empty ({shown}); a kept desk is never written over: give a "
                         "new or empty directory, or remove this one first")


def keep(desk: SimulatedDesk, home: Path) -> None:
    """Copy the played desk's database to `home` (0700, created) as its `tgesc.db`, and its clock's last instant."""
    private_directory(home)
    copy_sqlite(desk.db, home / DATABASE)
    set_virtual_time(home / CLOCK, desk.clock())


def discard(homes: Homes) -> None:
    """Take away what a failed run kept: every home made, and DIR itself when the run made it."""
    with contextlib.suppress(OSError):
        if homes.made:
            shutil.rmtree(homes.directory)
            return
        for home in homes.homes:
            if home == homes.directory:
                for name in (DATABASE, CLOCK):
                    (home / name).unlink(missing_ok=True)
            else:
                shutil.rmtree(home, ignore_errors=True)

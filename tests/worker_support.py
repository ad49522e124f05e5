"""tgesc worker processes in tests: `tgesc worker run` / `tgesc worker cron` (and the bot, tests/bot_process.py) as
real processes on a real Redis and a database file, their clock a file the test moves (TGESC_CLOCK=file:...).

    desk = Processes(tmp_path, database_url, redis_url, SLA_SWEEP_EVERY="1s")
    cron = desk.start("cron")                      # python -m tgesc worker cron, its log in tmp_path/cron-1.log
    desk.move_clock(minutes=20)                    # every process reads the new instant at its next call
    wait_until(lambda: ..., 10, "what we wait for")
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from remote_wire import WireServer
from support import empty_env_file

from tgesc.adapters.clock import set_virtual_time
from tgesc.adapters.telegram.wire import FakeWire
from tgesc.db import open_database
from tgesc.services.config.apply import add_entry, set_entry
from tgesc.services.config.defaults import initialise

TESTS = Path(__file__).resolve().parent
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday: the default L2 calendar (09-18 UTC) is open
QUIET = "1h"  # the interval of periodic jobs a test does not want to see again (each fires once at start)
L1_CHAT, ANN = -100111, 5001  # a sweeping desk's L1 staff chat and its admin


def wait_until(condition: Callable[[], bool], timeout: float, what: str, poll_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll_s)


class Proc:
    """One process; its output (logging) goes to a file, read with `log()`."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, log_path: Path) -> None:
        self.args, self.log_path = args, log_path
        with open(log_path, "wb") as out:
            self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.log_path.stem} ({self.pid}) still running after {timeout} s; its log:\n"
                                 f"{self.log()[-3000:]}") from None

    def wait_log(self, text: str, timeout: float) -> None:
        """Wait until `text` appears in the log (the process must stay alive meanwhile)."""
        def seen() -> bool:
            if text in self.log():
                return True
            if not self.alive():
                raise AssertionError(f"{self.log_path.stem} exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            return False
        wait_until(seen, timeout, f"{text!r} in the log of {self.log_path.stem}")

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait(10)


class Processes:
    """The environment every process of a test shares, the virtual clock file, and the processes started."""

    def __init__(self, tmp_path: Path, database_url: str, redis_url: str, **settings: str) -> None:
        self.tmp_path, self.clock_path = tmp_path, tmp_path / "clock"
        self.now = START
        set_virtual_time(self.clock_path, self.now)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TGESC_") or k.startswith("TGESC_TEST_")}
        self.env.update(
            PYTHONPATH=os.pathsep.join([str(TESTS), str(TESTS.parent)]),
            TGESC_HOME=str(tmp_path / "home"), TGESC_ENV_FILE=empty_env_file(tmp_path),
            TGESC_DATABASE_URL=database_url, TGESC_REDIS_URL=redis_url, TGESC_LOG_LEVEL="INFO",
            TGESC_CLOCK=f"file:{self.clock_path}", TGESC_CRON_LOCK_TTL="2s",
            TGESC_SLA_SWEEP_EVERY=QUIET, TGESC_UNRESOLVED_SWEEP_EVERY=QUIET, TGESC_SURVEY_SWEEP_EVERY=QUIET,
            TGESC_RELAY_EVERY=QUIET, TGESC_HOUSEKEEPING_EVERY=QUIET)
        self.env.update({f"TGESC_{name.upper()}": value for name, value in settings.items()})
        self.started: list[Proc] = []

    def start(self, *args: str, env: dict[str, str] | None = None) -> Proc:
        """`python -m tgesc worker ARGS...` (or, with args[0] a path, `python PATH ARGS...`)."""
        command = [sys.executable, *args] if args[0].endswith(".py") else [sys.executable, "-m", "tgesc", "worker",
                                                                          *args]
        name = Path(args[0]).stem if args[0].endswith(".py") else args[0]
        number = sum(1 for p in self.started if p.log_path.stem.startswith(name)) + 1
        proc = Proc(command, {**self.env, **(env or {})}, self.tmp_path, self.tmp_path / f"{name}-{number}.log")
        self.started.append(proc)
        return proc

    def move_clock(self, **delta: float) -> datetime:
        """Advance the virtual clock of every process (timedelta keywords: minutes=20, seconds=5 ...)."""
        self.now += timedelta(**delta)
        set_virtual_time(self.clock_path, self.now)
        return self.now

    def stop_all(self) -> None:
        for proc in self.started:
            proc.kill()


def sweeping_desk(tmp_path: Path, database_url: str, redis_url: str, **settings: str) -> Processes:
    """`Processes` for the sweeps, on a database (`.db`, open) with the shipped defaults, L1 given a staff chat
    (L1_CHAT) and the priority table's budgets (not its own five-minute first-response target), and one admin
    (ANN). Stop them and close the database afterwards."""
    db = open_database(database_url, create=True)
    initialise(db, now=START, actor="test")
    set_entry(db, "tiers", "L1", {"staff_chat": L1_CHAT, "first_response": None}, actor="test", now=START)
    add_entry(db, "staff", "ann", {"id": ANN, "role": "admin"}, actor="test", now=START)
    processes = Processes(tmp_path, database_url, redis_url, **settings)
    processes.db = db
    return processes


@contextmanager
def wired_processes(tmp_path: Path, database_url: str, redis_url: str, **settings: str) -> Iterator[Processes]:
    """`Processes` for a desk whose bot talks to a FakeWire in this test process (tests/remote_wire.py): the
    database initialised (`.db`), the wire (`.wire`) and its server (`.server`), the bot's credentials set.
    Afterwards the processes are stopped, and the wire must have answered every request it was sent."""
    db = open_database(database_url, create=True)
    initialise(db, now=START, actor="test")
    wire = FakeWire()
    server = WireServer(wire)
    processes = Processes(tmp_path, database_url, redis_url, API_ID="12345", API_HASH="api-hash-secret",
                          BOT_TOKEN=wire.bot_token, **settings)
    processes.env.update(server.env())
    processes.db, processes.wire, processes.server = db, wire, server
    try:
        yield processes
    finally:
        processes.stop_all()
        server.close()
        db.close()
    assert not wire.unhandled, f"the fake server was asked what it cannot answer: {wire.unhandled}"


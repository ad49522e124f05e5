"""Every CLI command, found by walking the command tree (a new command is covered without editing this file),
driven with generated hostile arguments on an initialised SQLite desk. Whatever the arguments: no
traceback, an exit code of 0, 1, 2, 69 or 78, and a command that fails leaves every row as it was.

The long-running workers (`worker bot`, `run`, `cron`) are not started: their arguments are parsed the way
`tgesc` parses them, and parsing may only succeed or be a usage error. A command still running after
`TIMEOUT` seconds fails the test (a daemon that belongs in LONG_RUNNING). Six command lines per command keep
it near 15 s; TGESC_TEST_HOSTILE_EXAMPLES=200 searches deeper.
"""

from __future__ import annotations

import os
import signal
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import database_rows
from typer.core import TyperArgument

from tgesc.cli.main import app
from tgesc.cli.parsing import check_arguments

EXIT_CODES = {0, 1, 2, 69, 78}
LONG_RUNNING = {("worker", "bot"), ("worker", "run"), ("worker", "cron")}
TIMEOUT = 60
EXAMPLES = int(os.environ.get("TGESC_TEST_HOSTILE_EXAMPLES", "6"))  # per command; more for a deeper search
SKIPPED_OPTIONS = {"help", "install_completion", "show_completion"}

NUMBERS = ["0", "1", "-1", "2", "١", "١٢", "１２", "²", "+5", " 7", "1_000", "1e3", "0x10", "2147483647", "2147483648",
           "-2147483649", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "9" * 30, "9" * 5000]
TEXTS = ["", " ", "x", "\0", "a\0b", "\x01", "\x1b[31mred", "\t", "\n", "a\u2028b", "\udcff", "x" * 65,
         "x" * 4097, "x" * 20000, "é", "中文", "👨\u200d👩\u200d👧", "--", "-", "'; DROP TABLE ticket; --", "${HOME}",
         "%s%n", "../..", "NaN", "null", "true", "[]", "{}", "\\", '"', "L1", "L2", "L9", "urgent",
         "office-hours", "comfort", "reset-2fa", "refund", "en", "zh", "bob", "1"]
DURATIONS = ["99999999d", "366d", "365d", "0s", "15m", "-5m", "1.5h", "5m2h", "1h 30m", "٣m", "9" * 40 + "s"]
INSTANTS = ["9999-12-31T23:59Z", "0001-01-01T00:00Z", "1969-12-31T23:59Z", "2026-03-02T10:00", "2026-03-02T10:00Z",
            "2026-02-30T10:00", "2026-03-02", "9999-12-31", "0001-01-01", "2026-03-02T10:00/2026-03-02T09:00",
            "2026-03-02T10:00Z/9999-12-31T00:00Z", "20260302T1000Z", "2026-03-02T25:00", "525601", "0.00000001"]
ZONES = ["", "UTC", "Europe/Berlin", "America", "America/", "Mars/Olympus", "UTC\0", "../etc/passwd", "zone.tab",
         "x" * 300]
URLS = ["", "mysql://db/x", "sqlite://x.db", "sqlite:///x.db?sync=off", "postgresql://", "postgresql://127.0.0.1:1/db",
        "redis://:secret@127.0.0.1:99999/0", "http://x", "unix:///nonexistent.sock", "sqlite:///\0"]
SHAPES = ["mon-fri=09:00-18:00", "sun-mon=09:00", "mon=25:00-26:00", "9999-12-31=09:00-12:00", "en:refund", "en:",
          ":x", "xx:yy", "ticket=1042", "=x", "+vip", "-vip", "en:" + "x" * 5000]
VALUES = NUMBERS + TEXTS + DURATIONS + INSTANTS + ZONES + URLS + SHAPES
# Values that get a parameter past parsing, so that the hostile ones beside them reach the command's work.
PLAUSIBLE = {
    **dict.fromkeys(("number", "survey_id", "ticket", "message_id"), ["1", "2"]),
    **dict.fromkeys(("customer", "telegram_id"), ["5", "1001", "123456789"]),
    "level": ["4", "9"], "position": ["0", "-5", "15"], "count": ["3", ""], "limit": ["0", "10"],
    "warn_at": ["50", "80"], "chat": ["-1001234567890", ""], "minutes": ["90", "0.5", "525600"],
    **dict.fromkeys(("first_response", "next_response", "resolution", "after", "since"), ["15m", "2h", "1d", ""]),
    **dict.fromkeys(("start", "from_", "to", "first_occurred", "expected_by"), ["2026-03-02T10:00Z", "2026-03-02"]),
    **dict.fromkeys(("week", "holidays", "add_holidays", "remove_holidays", "remove_overrides"), ["2026-12-24"]),
    "pauses": ["2026-03-02T10:00Z/2026-03-02T11:00Z"], "overrides": ["2026-12-24=09:00-12:00", "2026-12-31="],
    "hours": ["mon-fri=09:00-18:00", "sat="], "timezone": ["Europe/Berlin", "UTC"],
    **dict.fromkeys(("lang", "language"), ["en", "zh", "ru"]),
    **dict.fromkeys(("phrases", "add_phrases", "remove_phrases"), ["en:refund", "zh:退款"]),
    "variables": ["ticket=1042", "customer_name=Ana"], "code": ["L1", "L4"], "handle": ["bob", "alice"],
    "name": ["office-hours", "refund", "reset-2fa", "new_one"], "key": ["comfort", "faq_new"],
    **dict.fromkeys(("text", "reason", "body", "keywords", "answer", "description"), ["hello", "refund please"]),
    **dict.fromkeys(("tags", "add_tags", "remove_tags", "tag", "add", "remove"), ["vip", "refund"]),
    "changes": ["+vip", "-refund"], **dict.fromkeys(("staff", "assignee", "as_", "username"), ["bob", "cli"]),
    **dict.fromkeys(("to", "escalate_to", "tier", "tiers", "add_tiers", "remove_tiers"), ["L2", "L3"]),
    "calendar": ["office-hours", ""], "queues": ["default", "telegram"],
}


def leaf_commands() -> Iterator[tuple[tuple[str, ...], object]]:
    """(path, click command) of every command that does something, walking the groups."""
    root = typer.main.get_command(app)
    stack = [((), root)]
    while stack:
        path, command = stack.pop()
        if hasattr(command, "list_commands"):
            context = typer.Context(command)
            stack += [((*path, name), command.get_command(context, name))
                      for name in reversed(command.list_commands(context))]
        else:
            yield path, command


COMMANDS = dict(leaf_commands())
ROOT_OPTIONS = [p for p in typer.main.get_command(app).params if p.name not in SKIPPED_OPTIONS]


# --- odd files ------------------------------------------------------------------------------------


ODD_CONTENTS = {
    "empty.toml": b"", "binary.png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    "latin1.toml": 'name = "Müller"'.encode("latin-1"), "deep.toml": ("x = " + "[" * 600 + "]" * 600).encode(),
    "deep-tables.toml": ("a" + ".a" * 40 + " = 1").encode(),
    "values.toml": b'[tiers.L9]\nname = "a\\u0000b"\nlevel = 3000000000\n[sla.urgent]\n'
                   b'first_response = "99999999d"\nresolution = "1d"\non_breach = "none"\n[staff.x]\nid = -1\n',
    "scenario.toml": b'start = 9999-12-31T23:00:00Z\n[[steps]]\nat = "+365d"\n',
    "settings.env": b"TGESC_TIMEZONE=\nTGESC_API_ID=\xd9\xa1\nTGESC_SEND_RATE=99999999999999999999/1s\n",
    "big.toml": b"# " + b"x" * (1024 * 1024 + 10),
}
ODD_OTHERS = ("directory", "fifo", "device", "loop", "missing")


def make_odd_files(root: Path) -> None:
    """(Re)make the odd files in `root`: a command (config export FILE) may have written over one."""
    for name, data in ODD_CONTENTS.items():
        (root / name).write_bytes(data)
    for name in ("missing", "fifo", "device", "loop"):
        (root / name).unlink(missing_ok=True)
    (root / "directory").mkdir(exist_ok=True)
    os.mkfifo(root / "fifo")
    os.symlink(root / "loop", root / "loop")
    if os.geteuid() == 0:  # a device of our own, never the system's: a command writing it harms nothing
        os.mknod(root / "device", 0o666 | stat.S_IFCHR, os.makedev(1, 5))


@pytest.fixture(scope="module")
def odd_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the paths a person might give by mistake live: missing, a directory, a FIFO, a device (when
    root), a symlink loop, empty, binary, not UTF-8, deeply nested or out-of-range TOML, too big. No path
    outside it: a command may write the file it is given (config export), as root even a system device."""
    root = tmp_path_factory.mktemp("odd")
    make_odd_files(root)
    return root


@pytest.fixture(scope="module")
def odd_files(odd_root: Path) -> list[str]:
    return [str(odd_root / name) for name in (*ODD_CONTENTS, *ODD_OTHERS)] + ["-"]


# --- arguments ----------------------------------------------------------------------------------------


def values(param, files: list[str]) -> st.SearchStrategy[str]:
    """Hostile values for one parameter: its own choices, odd files for a path, anything for the rest."""
    choices = getattr(param.type, "choices", None)
    if choices:
        return st.sampled_from([str(c) for c in choices]) | st.sampled_from(TEXTS)
    if "Path" in type(param.type).__name__:
        return st.sampled_from(files)
    hostile = st.sampled_from(VALUES) | st.text(max_size=12)
    return st.sampled_from(PLAUSIBLE[param.name]) | hostile if param.name in PLAUSIBLE else hostile


def parameter(param, files: list[str]) -> st.SearchStrategy[list[str]]:
    """The words one parameter adds to the command line (none, once, or a few times when repeatable)."""
    if isinstance(param, TyperArgument):
        count = st.integers(1 if param.required else 0, 1 if param.nargs == 1 else 3)
        return count.flatmap(lambda n: st.lists(values(param, files), min_size=n, max_size=n))
    if getattr(param, "is_flag", False):
        flags = [*param.opts, *param.secondary_opts]
        return st.lists(st.sampled_from(flags), max_size=1)
    times = st.integers(1 if param.required else 0, 2 if param.multiple else 1)
    option = st.tuples(st.sampled_from(param.opts), values(param, files)).map(list)
    return times.flatmap(lambda n: st.lists(option, min_size=n, max_size=n).map(lambda ws: sum(ws, [])))


def command_lines(path: tuple[str, ...], files: list[str]) -> st.SearchStrategy[list[str]]:
    """A whole command line: maybe a hostile global option, the command, its parameters in any order."""
    command = COMMANDS[path]
    params = [p for p in command.params if p.name not in SKIPPED_OPTIONS]
    options = [parameter(p, files) for p in params if not isinstance(p, TyperArgument)]
    arguments = [parameter(p, files) for p in params if isinstance(p, TyperArgument)]
    root = st.sampled_from(ROOT_OPTIONS).flatmap(lambda p: st.tuples(st.sampled_from(p.opts), _root_values(p, files)))
    root = st.just([]) | st.just([]) | root.map(list)  # a hostile global option in a third of the command lines
    return st.tuples(root, st.tuples(*options).flatmap(st.permutations) if options else st.just([]),
                     st.tuples(*arguments) if arguments else st.just(())).map(
        lambda parts: [*parts[0], *path, *sum(parts[1], []), *sum(parts[2], [])])


def _root_values(param, files: list[str]) -> st.SearchStrategy[str]:
    if param.name == "env_file":
        return st.sampled_from(files)
    if param.name == "timezone":
        return st.sampled_from(ZONES)
    return st.sampled_from(URLS + ["/dev/null", "/proc/nonexistent/home"])  # --home, --database-url, --redis-url


# --- the property ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict]:
    """An initialised desk's database file (the shipped defaults and one ticket) and its rows, made once for
    every command."""
    from tgesc.db import open_database
    from tgesc.models import database as bound
    from tgesc.services.config.defaults import initialise
    from tgesc.services.tickets.channel_messages import open_ticket

    url = f"sqlite:///{tmp_path_factory.mktemp('pristine') / 'tgesc.db'}"
    previous = bound.obj
    db = open_database(url, create=True)
    try:
        now = datetime(2026, 3, 2, 9, tzinfo=UTC)
        initialise(db, now=now, actor="test")
        open_ticket(db, 5, "my refund never arrived", actor="test", now=now)
    finally:
        db.close()
        bound.initialize(previous)
    return Path(url[len("sqlite:///"):]).read_bytes(), database_rows(url)


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout(f"still running after {TIMEOUT} s: does it start a daemon? add it to LONG_RUNNING")


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_hostile_arguments_never_crash_and_a_failure_changes_nothing(path, cli, pristine, odd_root, odd_files):
    database = cli.home / "tgesc.db"
    rows = pristine[1]

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(command_lines(path, odd_files))
    def run_it(argv: list[str]) -> None:
        if path in LONG_RUNNING:
            assert_parses_or_is_a_usage_error(path, argv)
            return
        restore(database, pristine[0])
        make_odd_files(odd_root)
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(TIMEOUT)
        try:
            result = cli(*argv)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        assert result.exit_code in EXIT_CODES, result
        assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result
        if result.exit_code != 0:
            assert database_rows(f"sqlite:///{database}") == rows, f"a failing command changed the database\n{result}"

    run_it()


def restore(database: Path, data: bytes) -> None:
    """The desk as initialised: its database file back, without a WAL left by a previous run."""
    database.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.write_bytes(data)


def assert_parses_or_is_a_usage_error(path: tuple[str, ...], argv: list[str]) -> None:
    """A daemon's command line as tgesc parses it: the argument check, then the command's own parameters."""
    from tgesc.domain.errors import UsageError

    try:
        check_arguments(argv)
    except UsageError:
        return
    command = COMMANDS[path]
    words = argv[argv.index(path[-1]) + 1:] if path[-1] in argv else []
    try:
        command.make_context(path[-1], words)
    except typer.Exit:
        return
    except Exception as exc:  # click's usage errors: exit 2, as `tgesc` shows them
        assert getattr(exc, "exit_code", None) == 2, f"{argv}: {exc!r}"


def test_every_command_is_driven():
    assert len(COMMANDS) >= 70
    assert {("ticket", "open"), ("config", "apply"), ("simulate",), ("init",)} <= set(COMMANDS)


def test_no_integer_parameter_reads_other_scripts_digits():
    """Every integer parameter parses through tgesc.cli.parsing.whole_number (ASCII digits, a range): click's
    own INT would read '١' as 1."""
    loose = [f"{' '.join(path)} {param.name}" for path, command in COMMANDS.items() for param in command.params
             if type(param.type).__name__ in ("IntParamType", "IntRange", "FloatParamType")]
    assert loose == []


def test_odd_files_are_refused_quickly(cli, odd_root, odd_files):
    make_odd_files(odd_root)
    assert cli("init", "--quiet").exit_code == 0
    for path in odd_files:
        if path in ("-",) or path.endswith("empty.toml"):
            continue
        result = cli("config", "apply", path)
        assert result.exit_code in (2, 78), f"{path}: {result}"
        assert "Traceback" not in result.stderr, result


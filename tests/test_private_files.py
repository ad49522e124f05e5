"""Files tgesc creates hold customer data (invariant 7): the data directory (and each parent it creates) 0700;
the SQLite database and its WAL files, the embedded Redis's files and the exports it writes 0600, whatever the
umask of the shell that started tgesc. A database an earlier version left readable is tightened when opened."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from tgesc.adapters.redis_server import connect, stop_embedded
from tgesc.private_files import make_private, private_directory


@pytest.fixture(autouse=True)
def _shell_umask():
    """A usual shell's umask (022: files readable by all), which tgesc must not rely on."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_makes_the_data_directory_and_its_new_parents_0700_and_the_database_0600(cli, tmp_path):
    home = tmp_path / "srv" / "tgesc" / "home"
    assert cli("init", "--quiet", env={"TGESC_HOME": str(home)}).exit_code == 0
    assert {str(p.relative_to(tmp_path)): mode(p) for p in (home.parents[1], home.parent, home)} == {
        "srv": 0o700, "srv/tgesc": 0o700, "srv/tgesc/home": 0o700}
    assert mode(home / "tgesc.db") == 0o600
    with contextlib.closing(sqlite3.connect(home / "tgesc.db")) as reader:  # the WAL files exist while it is open
        reader.execute("SELECT count(*) FROM tier").fetchone()
        assert {name: mode(home / f"tgesc.db{name}") for name in ("-wal", "-shm")} == {"-wal": 0o600, "-shm": 0o600}
    assert os.umask(0o022) == 0o022  # the command's umask was the command's alone


def test_an_existing_directory_is_left_as_it_is(cli, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    assert cli("init", "--quiet", env={"TGESC_HOME": str(shared)}).exit_code == 0
    assert mode(shared) == 0o755 and mode(shared / "tgesc.db") == 0o600


def test_a_readable_database_of_an_earlier_version_is_made_private_when_opened(cli):
    assert cli("init", "--quiet").exit_code == 0
    database = cli.home / "tgesc.db"
    database.chmod(0o644)
    assert cli("tier", "list").exit_code == 0
    assert mode(database) == 0o600


def test_an_export_written_by_tgesc_is_0600(cli):
    assert cli("init", "--quiet").exit_code == 0
    result = cli("config", "export", str(cli.home / "desk.toml"))
    assert result.exit_code == 0, result
    assert mode(cli.home / "desk.toml") == 0o600


def test_the_embedded_redis_keeps_its_append_only_file_snapshot_and_log_private(tmp_path):
    home = tmp_path / "data" / "redis-home"
    try:
        client = connect("", home)
        client.set("customer:1", "my card number is ...")
        assert mode(home / "tgesc-redis.aof") == 0o600
    finally:
        stop_embedded(home)  # saves the snapshot
    assert mode(home.parent) == 0o700 and mode(home) == 0o700
    assert {name: mode(home / name) for name in ("tgesc-redis.aof", "tgesc-redis.rdb", "redis.log", "redis.lock")
            } == dict.fromkeys(("tgesc-redis.aof", "tgesc-redis.rdb", "redis.log", "redis.lock"), 0o600)


def test_an_earlier_embedded_redis_append_only_file_is_made_private_at_start(tmp_path):
    home = tmp_path / "data"
    home.mkdir(mode=0o755)
    (home / "tgesc-redis.aof").write_bytes(b"")
    (home / "tgesc-redis.aof").chmod(0o644)
    try:
        connect("", home).set("k", "v")
    finally:
        stop_embedded(home)
    assert mode(home / "tgesc-redis.aof") == 0o600


def test_private_directory_and_make_private(tmp_path):
    made = private_directory(tmp_path / "a" / "b")
    assert made == tmp_path / "a" / "b" and mode(tmp_path / "a") == 0o700 and mode(made) == 0o700
    loose = tmp_path / "loose"
    loose.write_text("x")
    loose.chmod(0o664)
    make_private(loose, tmp_path / "absent")  # an absent path is no error
    assert mode(loose) == 0o600


def test_a_data_directory_that_cannot_be_created_is_an_error_naming_it(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = cli("init", "--quiet", env={"TGESC_HOME": str(blocker / "home")})
    assert result.exit_code == 78, result
    assert result.stderr.startswith(f"Error: cannot create {blocker / 'home'}") and "Traceback" not in result.stderr

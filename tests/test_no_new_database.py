"""A failing command creates nothing: only `tgesc init` and `tgesc db upgrade` create a SQLite database. Any
other command (a worker too) given a mistyped data directory or database path exits 78 naming the path and
saying to run `tgesc init`, and leaves no directory and no empty database behind."""

from __future__ import annotations

from pathlib import Path

import pytest

COMMANDS = [
    ["tier", "list"], ["ticket", "list", "--json"], ["sla", "list"], ["calendar", "list"], ["staff", "list"],
    ["rule", "list"], ["faq", "list"], ["template", "list"], ["survey", "list"], ["db", "status"],
    ["config", "export"], ["ticket", "show", "1"], ["tier", "add", "L4", "--name", "Fourth", "--level", "4"],
    ["worker", "run", "--burst"],
]


def entries(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def refused(result, database: Path) -> None:
    assert result.exit_code == 78, result
    assert result.stderr.startswith(f"Error: there is no database at {database};"), result
    assert "tgesc init" in result.stderr and "Traceback" not in result.stderr and result.stdout == "", result


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_mistyped_data_directory_is_an_error_and_creates_nothing(cli, tmp_path, args):
    typo = tmp_path / "typo"
    refused(cli(*args, env={"TGESC_HOME": str(typo / "hmoe")}), typo / "hmoe" / "tgesc.db")
    assert not typo.exists()


@pytest.mark.parametrize("args", [["tier", "list"], ["db", "status"], ["worker", "run", "--burst"]], ids=" ".join)
def test_a_mistyped_database_path_is_an_error_and_creates_nothing(cli, tmp_path, args):
    assert cli("init", "--quiet").exit_code == 0
    before = entries(tmp_path)
    mistyped = cli.home / "tgesc-old" / "tgesc.db"
    refused(cli("--database-url", f"sqlite:///{mistyped}", *args), mistyped)
    assert entries(tmp_path) == before


def test_config_show_reads_no_database_and_creates_nothing(cli, tmp_path):
    result = cli("config", "show", env={"TGESC_HOME": str(tmp_path / "typo")})
    assert result.exit_code == 0, result
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("args", [["init", "--quiet"], ["db", "upgrade"]], ids=" ".join)
def test_init_and_db_upgrade_create_the_database(cli, tmp_path, args):
    home = tmp_path / "new" / "home"
    result = cli(*args, env={"TGESC_HOME": str(home)})
    assert result.exit_code == 0, result
    assert (home / "tgesc.db").is_file()
    listed = cli("tier", "list", env={"TGESC_HOME": str(home)})  # the schema is current: it works
    assert listed.exit_code == 0, listed


def test_an_in_memory_database_is_never_a_file(cli, tmp_path):
    assert cli("--database-url", "sqlite:///:memory:", "init", "--quiet").exit_code == 0
    assert not (tmp_path / ":memory:").exists()

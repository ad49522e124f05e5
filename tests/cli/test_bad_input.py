"""Bad input never produces a traceback, a wrong exit code or a partial change (issue 13, points 5, 6, 10):
the concrete cases found, each refused with its exit code and a message saying why, on SQLite and
PostgreSQL, the database unchanged. A full disk is exit 69 with nothing half-written. Generated hostile
arguments for every command are in test_hostile_arguments.py."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support import database_rows, flat

SCENARIO = 'start = {start}\n[customers.alice]\nid = 1001\n[[steps]]\nat = "+0m"\ncustomer = "alice"\ntext = "hi"\n'


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Files a person might hand tgesc by mistake."""
    made = {
        "binary": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe",
        "deep.toml": ("x = " + "[" * 600 + "]" * 600 + "\n").encode(),
        "bad-values.toml": (b'[tiers.L9]\nname = "a\\u0000b"\nlevel = 3000000000\n'
                            b'[rules.slow]\nkind = "unresolved-for"\nafter = "99999999d"\npriority = "high"\n'
                            b'[staff.zed]\nid = 9223372036854775808\n'),
        "year-1.toml": SCENARIO.format(start="0001-01-01T00:00:00Z").encode(),
        "year-9999.toml": SCENARIO.format(start='"9999-12-31T00:00:00+01:00"').encode(),
        "deep-scenario.toml": ('start = "2026-03-02T09:00:00Z"\nsteps = ' + "[" * 600 + "]" * 600 + "\n").encode(),
        "far-clock": b"9999-12-31T00:00:00Z\n",
        "sparse.toml": b'[calendars.night]\ntimezone = "UTC"\nhours.mon = ["09:00-09:01"]\n[sla.urgent]\n'
                       b'first_response = "15m"\nresolution = "365d"\non_breach = "none"\ncalendar = "night"\n',
    }
    for name, data in made.items():
        (tmp_path / name).write_bytes(data)
    os.mkfifo(tmp_path / "fifo")
    return {name: tmp_path / name for name in [*made, "fifo", "missing"]}


def cases(files: dict[str, Path]) -> list[tuple[tuple[str, ...], dict[str, str], int, str]]:
    """(arguments, environment, exit code, what stderr says) of each case of the issue."""
    clock = {name: {"TGESC_CLOCK": f"file:{files[name]}"} for name in ("missing", "binary", "far-clock")}
    return [
        # point 10: only ASCII digits make a number
        (("ticket", "show", "١"), {}, 2, "'١' is not a ticket number: write a whole number from 1 to 2147483647"),
        (("ticket", "open", "--customer", "٥", "--text", "hi"), {}, 2, "is not a Telegram user id"),
        (("survey", "show", "１"), {}, 2, "is not an id"),
        # point 5: numbers that fit no column, durations that overflow every deadline, NUL in a name
        (("ticket", "show", "99999999999999999999"), {}, 2, "is out of range for a ticket number"),
        (("ticket", "open", "--customer", "9223372036854775808", "--text", "hi"), {}, 2,
         "is out of range for a Telegram user id: a whole number from 1 to 9223372036854775807"),
        (("tier", "add", "L9", "--name", "x", "--level", "2147483648"), {}, 2, "is out of range for a tier level"),
        (("staff", "add", "zed", "--id", "9223372036854775808"), {}, 2, "out of range for a Telegram user id"),
        (("rule", "add", "r9", "--kind", "keyword", "--phrase", "en:x", "--tag", "t", "--position", "2147483648"),
         {}, 2, "is out of range for a position"),
        (("survey", "list", "--limit", "99999999999999999999"), {}, 2, "is out of range for a limit"),
        (("sla", "set", "urgent", "--first-response", "99999999d"), {}, 2,
         "'99999999d' is longer than 365d, the longest duration tgesc accepts"),
        (("rule", "add", "slow", "--kind", "unresolved-for", "--after", "366d", "--priority", "high"), {}, 2,
         "is longer than 365d"),
        (("tier", "add", "L9", "--name", "a\0b", "--level", "9"), {}, 2,
         "argument 5 ('a\\x00b') holds the control character U+0000"),
        (("ticket", "tag", "1", "--new", "--add", "x" * 65), {}, 2, "is 65 characters long; at most 64"),
        (("ticket", "open", "--customer", "5", "--text", "x" * 4097), {}, 2, "is 4097 characters long; at most 4096"),
        (("config", "apply", str(files["bad-values.toml"])), {}, 78,
         "tiers.L9.level: 3000000000 is out of range for a tier level"),
        (("config", "apply", str(files["bad-values.toml"])), {}, 78, "tiers.L9.name: holds the control character"),
        (("config", "apply", str(files["bad-values.toml"])), {}, 78, "rules.slow.after: '99999999d' is longer"),
        (("config", "apply", str(files["bad-values.toml"])), {}, 78, "staff.zed.id: 9223372036854775808 is out"),
        (("config", "apply", str(files["sparse.toml"])), {}, 78,
         "sla.urgent.resolution: 365d of business time on calendar 'night' (open 1 minutes a week) would run out "
         "only after the year 9999"),
        # point 6: user mistakes that were tracebacks
        (("--tz", "", "ticket", "list"), {}, 78, "--tz '' (from flag): is empty"),
        (("calendar", "show", "office-hours", "--week", "9999-12-31"), {}, 2,
         "'9999-12-31' lies outside the dates tgesc accepts, 1970-01-01 up to 9000-01-01"),
        (("calendar", "due", "office-hours", "--start", "0001-01-01T00:00Z", "--minutes", "5"), {}, 2,
         "lies outside the instants tgesc accepts"),
        (("ticket", "checklist", "1", "--first-occurred", "9999-12-31"), {}, 2, "lies outside the instants"),
        (("ticket", "list"), clock["missing"], 78, f"TGESC_CLOCK: the virtual clock cannot read {files['missing']}"),
        (("ticket", "list"), clock["binary"], 78, "not UTF-8 text"),
        (("ticket", "open", "--customer", "5", "--text", "hi"), clock["far-clock"], 78,
         "holds no instant: '9999-12-31T00:00:00Z' lies outside the instants tgesc accepts"),
        (("--env-file", str(files["binary"]), "tier", "list"), {}, 78,
         f"the settings file {files['binary']} (from --env-file) cannot be used"),
        (("template", "set", "comfort", "--lang", "en", "--file", str(files["binary"])), {}, 2, "not UTF-8 text"),
        (("config", "apply", str(files["deep.toml"])), {}, 78, "nests tables or arrays deeper than 16 levels"),
        (("simulate", str(files["deep-scenario.toml"])), {}, 1, "nests tables or arrays deeper than 16 levels"),
        (("simulate", str(files["year-1.toml"])), {}, 1, "field 'start': 0001-01-01T00:00:00+00:00 lies outside"),
        (("simulate", str(files["year-9999.toml"])), {}, 1, "field 'start': '9999-12-31T00:00:00+01:00' lies out"),
        (("config", "export", str(files["missing"] / "x.toml")), {}, 2, "cannot write"),
        (("config", "export", str(files["fifo"])), {}, 2, "is not a regular file (a directory, a device or a FIFO)"),
        # point 10: a named settings file that is not there
        (("--env-file", str(files["missing"]), "tier", "list"), {}, 78,
         f"the settings file {files['missing']} (from --env-file) cannot be used: cannot read"),
        (("tier", "list"), {"TGESC_ENV_FILE": str(files["missing"])}, 78, "(from TGESC_ENV_FILE) cannot be used"),
    ]


def test_bad_input_is_refused_with_its_exit_code_and_changes_nothing(db_url, desk, files):
    before = database_rows(db_url)
    wrong = []
    for args, env, code, message in cases(files):
        result = desk(*args, env=env)
        if (result.exit_code, "Traceback" in result.stderr, message in flat(result.stderr)) != (code, False, True):
            wrong.append(f"$ tgesc {' '.join(args)[:120]} (expected exit {code}, {message!r})\n{result}")
        elif database_rows(db_url) != before:
            wrong.append(f"$ tgesc {' '.join(args)[:120]} changed the database")
    assert not wrong, "\n\n".join(wrong)
    assert desk("ticket", "open", "--customer", "5", "--text", "still works").exit_code == 0


def test_the_default_env_file_stays_optional_and_a_named_one_is_read(cli, tmp_path):
    assert cli("config", "show", env={"TGESC_ENV_FILE": None}).exit_code == 0  # no ./.env: fine
    named = tmp_path / "desk.env"
    named.write_text("TGESC_ACTOR=from-file\n", encoding="utf-8")
    shown = cli("--env-file", str(named), "config", "show", "--json")
    assert shown.exit_code == 0 and "from-file" in shown.stdout


# --- a full disk -----------------------------------------------------------------------------------


@contextlib.contextmanager
def small_disk(path: Path, size: str = "2m"):
    """A tmpfs of `size` mounted at `path` (root only), unmounted afterwards."""
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path, leave: int = 0) -> Path:
    """Fill the disk holding `directory` (then free `leave` bytes of it); return the filler file."""
    filler = directory / "filler"
    # unbuffered: a buffered file keeps what a full disk refused, and its close raises ENOSPC writing it again
    with open(filler, "wb", buffering=0) as file:
        with contextlib.suppress(OSError):
            while True:
                file.write(b"\0" * 65536)
    with contextlib.suppress(OSError):  # a last partial block
        with open(filler, "ab", buffering=0) as file:
            while True:
                file.write(b"\0" * 512)
    if leave:
        os.truncate(filler, max(filler.stat().st_size - leave, 0))
    return filler


def big_config(path: Path) -> Path:
    """A valid configuration of some 400 KB: more than a nearly full disk holds."""
    bodies = "".join(f'[templates.faq_bulk_{n}]\nen = "{"Long answer. " * 300}"\n' for n in range(100))
    path.write_text(bodies, encoding="utf-8")
    return path


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_full_disk_is_exit_69_and_leaves_the_database_as_it_was(cli, tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        env = {"TGESC_HOME": str(disk), "TGESC_DATABASE_URL": f"sqlite:///{disk / 'tgesc.db'}"}
        assert cli("init", "--quiet", env=env).exit_code == 0
        before = database_rows(env["TGESC_DATABASE_URL"])
        filler = fill(disk, leave=256 * 1024)  # room to open the database, not for 400 KB of templates
        applied = cli("config", "apply", str(big_config(tmp_path / "big.toml")), env=env)
        assert applied.exit_code == 69, applied
        assert "Error: the database is unavailable: database or disk is full" in applied.stderr
        fill(disk)
        for args in (("ticket", "open", "--customer", "5", "--text", "disk full"),
                     ("tier", "add", "L9", "--name", "Vendor", "--level", "9"),
                     ("template", "set", "comfort", "--lang", "en", "--body", "Sorry!")):
            result = cli(*args, env=env)
            assert (result.exit_code, result.stderr.startswith("Error: ")) == (69, True), result
        assert cli("init", "--quiet").exit_code == 0  # a desk elsewhere exports onto the full disk
        export = cli("config", "export", str(disk / "export.toml"))
        assert export.exit_code == 69, export
        assert f"Error: cannot write {disk / 'export.toml'}: the disk is full" in export.stderr
        filler.unlink()
        assert database_rows(env["TGESC_DATABASE_URL"]) == before
        assert sorted(p.name for p in disk.iterdir() if not p.name.startswith("tgesc.db")) == []
        assert cli("ticket", "open", "--customer", "5", "--text", "room again", env=env).exit_code == 0


def test_fill_stops_at_a_full_disk(tmp_path):
    """The helper above really fills a disk: a write after it fails with ENOSPC."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    with small_disk(tmp_path / "disk", "1m") as disk:
        fill(disk)
        with pytest.raises(OSError) as caught, open(disk / "more", "wb") as file:
            file.write(b"x" * 8192)
            file.flush()
        assert caught.value.errno == errno.ENOSPC

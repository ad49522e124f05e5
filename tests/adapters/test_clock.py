"""The process clock: real time by default, a virtual clock read from a file with `TGESC_CLOCK=file:...`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tgesc.adapters.clock import FileClock, clock_from, set_virtual_time, utc_now
from tgesc.domain.errors import ConfigInvalid
from tgesc.settings import load_settings


def test_without_a_clock_setting_processes_use_real_time(tmp_path):
    clock = clock_from(load_settings(environ={}))
    assert clock is utc_now
    before = datetime.now(UTC)
    assert before <= clock() <= datetime.now(UTC)


def test_a_file_clock_reads_its_file_on_every_call(tmp_path):
    path = tmp_path / "clock"
    clock = clock_from(load_settings(environ={"TGESC_CLOCK": f"file:{path}"}))
    assert isinstance(clock, FileClock)
    start = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    set_virtual_time(path, start)
    assert clock() == start == clock()  # it stands still until the file changes
    set_virtual_time(path, start + timedelta(hours=5, microseconds=7))
    assert clock() == start + timedelta(hours=5, microseconds=7)
    assert clock().tzinfo == UTC


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-02T09:30:00Z", datetime(2026, 3, 2, 9, 30, tzinfo=UTC)),
    ("2026-03-02T10:30+01:00\n", datetime(2026, 3, 2, 9, 30, tzinfo=UTC)),
    ("2026-03-02 09:30:15.5", datetime(2026, 3, 2, 9, 30, 15, 500000, tzinfo=UTC)),  # no offset: UTC
])
def test_the_file_holds_an_iso_8601_instant(tmp_path, text, expected):
    path = tmp_path / "clock"
    path.write_text(text)
    assert FileClock(path)() == expected


def test_a_missing_or_garbled_clock_file_is_a_configuration_error_naming_it(tmp_path):
    path = tmp_path / "clock"
    with pytest.raises(ConfigInvalid, match=f"TGESC_CLOCK: the virtual clock cannot read {path}: No such file"):
        FileClock(path)()
    path.write_text("tomorrow")
    with pytest.raises(ConfigInvalid, match=f"TGESC_CLOCK: the virtual clock file {path} holds no instant"):
        FileClock(path)()
    path.write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    with pytest.raises(ConfigInvalid, match="not UTF-8 text"):
        FileClock(path)()
    path.write_text("9999-12-31T00:00:00Z")
    with pytest.raises(ConfigInvalid, match="lies outside the instants tgesc accepts"):
        FileClock(path)()
    with pytest.raises(ConfigInvalid, match="is not a regular file"):
        FileClock(tmp_path)()


def test_the_clock_setting_is_checked(tmp_path):
    with pytest.raises(ConfigInvalid) as caught:
        load_settings(environ={"TGESC_CLOCK": "virtual"})
    assert "TGESC_CLOCK=virtual" in caught.value.render()


def test_set_virtual_time_wants_an_aware_instant(tmp_path):
    with pytest.raises(ValueError, match="aware"):
        set_virtual_time(tmp_path / "clock", datetime(2026, 3, 2, 9, 30))
    set_virtual_time(tmp_path / "clock", datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=2))))
    assert FileClock(tmp_path / "clock")() == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    assert [p.name for p in tmp_path.iterdir()] == ["clock"]  # no temporary file left

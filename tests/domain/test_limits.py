"""The ranges of docs/limits.md: whole numbers in ASCII digits within their column's range, names and texts
without control characters, instants and dates between 1970 and the year 9000, zones, files and TOML."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tgesc.domain.limits import (
    COUNT,
    INT32_MAX,
    INT64_MAX,
    MAX_FILE_BYTES,
    MAX_NESTING,
    POSITION,
    TELEGRAM_CHAT_ID,
    TICKET_NUMBER,
    LimitError,
    date_problem,
    instant_problem,
    load_toml,
    name_problem,
    read_text_file,
    text_problem,
    zone_problem,
)


@pytest.mark.parametrize(("numbers", "text", "value"), [
    (TICKET_NUMBER, "1", 1), (TICKET_NUMBER, "0042", 42), (TICKET_NUMBER, str(INT32_MAX), INT32_MAX),
    (TICKET_NUMBER, "0" * 40 + "7", 7), (POSITION, "-2147483648", -(2**31)), (POSITION, "-0", 0),
    (TELEGRAM_CHAT_ID, "-1001234567890", -1001234567890), (TELEGRAM_CHAT_ID, str(-INT64_MAX), -INT64_MAX),
])
def test_whole_numbers_parse(numbers, text, value):
    assert numbers.parse(text) == value


@pytest.mark.parametrize(("numbers", "text", "reason"), [
    (TICKET_NUMBER, "١", "is not a ticket number: write a whole number from 1 to 2147483647 in the digits 0-9"),
    (TICKET_NUMBER, "１２", "in the digits 0-9"),
    (TICKET_NUMBER, "²", "in the digits 0-9"),
    (TICKET_NUMBER, "+5", "in the digits 0-9"),
    (TICKET_NUMBER, " 5", "in the digits 0-9"),
    (TICKET_NUMBER, "1_000", "in the digits 0-9"),
    (TICKET_NUMBER, "", "in the digits 0-9"),
    (TICKET_NUMBER, "-1", "in the digits 0-9"),
    (TICKET_NUMBER, "0", "is out of range for a ticket number: a whole number from 1 to 2147483647"),
    (TICKET_NUMBER, str(INT32_MAX + 1), "is out of range for a ticket number"),
    (TICKET_NUMBER, "9" * 5000, "is out of range for a ticket number"),
    (COUNT, "0", "is out of range for a count"),
    (POSITION, "-2147483649", "is out of range for a position"),
    (POSITION, "--1", "in the digits 0-9"),
    (TELEGRAM_CHAT_ID, str(2**63), "is out of range for a Telegram chat id"),
])
def test_whole_numbers_refuse(numbers, text, reason):
    with pytest.raises(LimitError) as caught:
        numbers.parse(text)
    assert reason in str(caught.value)
    assert len(str(caught.value)) < 160


@given(st.text(alphabet=st.sampled_from("0123456789-+ _١２²٣") | st.characters(), max_size=30))
def test_only_ascii_digits_make_a_number(text):
    digits = text.removeprefix("-")
    well_formed = digits.isascii() and digits.isdigit()
    try:
        value = TELEGRAM_CHAT_ID.parse(text)
    except LimitError:
        assert not well_formed or abs(int(text)) > INT64_MAX
    else:
        assert well_formed and value == int(text)


@pytest.mark.parametrize(("value", "problem"), [
    ("bob", None), ("Боб 李", None), ("x" * 64, None), ("x" * 65, "is 65 characters long; at most 64"),
    ("", "is empty"), ("  ", "is empty"), ("a\0b", "U+0000"), ("a\nb", "U+000A"), ("a\tb", "U+0009"),
    ("a\x1bb", "U+001B"), ("a\x85b", "U+0085"), ("a\u2028b", "U+2028"), ("a\udc80b", "bytes that are not UTF-8 text"),
])
def test_names(value, problem):
    found = name_problem(value)
    assert found == problem if problem is None else problem in found


@pytest.mark.parametrize(("value", "problem"), [
    ("hello\nworld\t!\r\n", None), ("", None), ("x" * 4096, None), ("x" * 4097, "at most 4096"),
    ("a\0b", "U+0000"), ("a\x07b", "U+0007"), ("a\x7fb", "U+007F"), ("a\ud800b", "bytes that are not UTF-8 text"),
])
def test_free_texts(value, problem):
    found = text_problem(value)
    assert found == problem if problem is None else problem in found


@pytest.mark.parametrize(("instant", "inside"), [
    (datetime(1970, 1, 1, tzinfo=UTC), True),
    (datetime(1970, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), False),
    (datetime(9000, 1, 1, tzinfo=UTC) - timedelta.resolution, True),
    (datetime(9000, 1, 1, tzinfo=UTC), False),
    (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), False),  # before the year 1 in UTC
    (datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))), False),  # the year 10000 in UTC
])
def test_instants(instant, inside):
    assert (instant_problem(instant) is None) == inside


def test_a_free_text_is_one_telegram_message():
    from tgesc.domain.limits import MAX_TEXT
    from tgesc.domain.telegram import TEXT_LIMIT

    assert MAX_TEXT == TEXT_LIMIT


def test_dates():
    assert date_problem(date(1970, 1, 1)) is None and date_problem(date(8999, 12, 31)) is None
    assert "outside the dates tgesc accepts, 1970-01-01 up to 9000-01-01" in date_problem(date(9999, 12, 31))
    assert date_problem(date(1, 1, 1))


@pytest.mark.parametrize("name", ["", "America", "America/", "/etc/passwd", "UTC\0", "a" * 5000, "../x", "utc",
                                  "zone.tab", 5, None, "Europe/Berlin\n"])
def test_zones_refused(name):
    assert zone_problem(name)


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "Asia/Shanghai", "America/Argentina/Buenos_Aires"])
def test_zones_accepted(name):
    assert zone_problem(name) is None


def test_files(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("a = '中'\n", encoding="utf-8")
    assert read_text_file(good) == "a = '中'\n"
    cases = {"missing": "No such file or directory", "dir": "it is not a regular file",
             "binary": "not UTF-8 text (invalid start byte at byte 1)", "nul": "not text: a NUL byte at byte 2",
             "big": f"it is larger than {MAX_FILE_BYTES // 1024} KiB"}
    (tmp_path / "dir").mkdir()
    (tmp_path / "binary").write_bytes(b"a\xff")
    (tmp_path / "nul").write_bytes(b"ab\0c")
    (tmp_path / "big").write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    for name, reason in cases.items():
        with pytest.raises(LimitError, match=reason.replace("(", r"\(").replace(")", r"\)")):
            read_text_file(tmp_path / name)
    with pytest.raises(LimitError, match="it is not a regular file"):
        read_text_file("/dev/zero")


@pytest.mark.parametrize("text", ["x = " + "[" * 600 + "]" * 600, "x = " + "[" * 17 + "]" * 17,
                                  "x = " + "{a = " * 17 + "1" + "}" * 17, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q = 1"])
def test_toml_nesting_is_bounded(text):
    with pytest.raises(LimitError, match=f"nests tables or arrays deeper than {MAX_NESTING} levels"):
        load_toml(text)


def test_toml_nesting_up_to_the_bound_loads():
    assert load_toml("x = " + "[" * 15 + "]" * 15)["x"] is not None

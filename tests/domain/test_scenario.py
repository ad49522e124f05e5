"""Scenario files for `tgesc simulate`: the documented example, defaults, every validation rule with the
step and field it names, file reading, and properties (offsets round-trip, junk only ever raising
ScenarioError, step instants monotone)."""

import copy
import tomllib
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgesc.domain.durations import format_duration
from tgesc.domain.scenario import (
    Scenario,
    ScenarioCustomer,
    ScenarioError,
    ScenarioStaff,
    Step,
    load_scenario,
    parse_offset,
    parse_scenario,
)

EXAMPLE = """\
start = "2026-03-02T09:00:00+01:00"   # the virtual clock's start
config = "policy.toml"                 # optional, relative to this file

[customers.alice]
id = 1001
name = "Alice"
language = "en"
timezone = "Europe/Berlin"

[staff.bob]
id = 5001
role = "agent"
tiers = ["L1"]

[[steps]]
at = "+0m"
customer = "alice"
text = "I was charged twice, I want a refund"

[[steps]]
at = "+2m"
staff = "bob"
ticket = 1
text = "/tried Checked the payment log"

[[steps]]
at = "+3m"
cli = "ticket escalate 1 --to L2 --reason 'double charge' --quick"

[[steps]]
at = "+30m"

[[steps]]
at = "+26h"
customer = "alice"
press = 2
"""
CET = timezone(timedelta(hours=1))
START = datetime(2026, 3, 2, 9, 0, tzinfo=CET)


def minimal(*steps, **top):
    """A valid document with customer alice (1001) and staff bob (5001), and the given steps."""
    document = {"start": "2026-03-02T09:00:00+01:00", "customers": {"alice": {"id": 1001}},
                "staff": {"bob": {"id": 5001}}, "steps": list(steps) or [{"at": "+0m"}]}
    document.update(top)
    return document


def error(document) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(document, name="refund.toml")
    assert caught.value.exit_code == 1
    return str(caught.value)


# --- the documented example ---------------------------------------------------------------------


def test_the_example_parses_with_instants_resolved(tmp_path):
    path = tmp_path / "refund.toml"
    path.write_text(EXAMPLE, encoding="utf-8")
    line = "ticket escalate 1 --to L2 --reason 'double charge' --quick"
    assert load_scenario(path) == Scenario(
        name="refund.toml", path=path, start=START, config=tmp_path / "policy.toml",
        customers={"alice": ScenarioCustomer("alice", 1001, "Alice", "en", "Europe/Berlin", "alice")},
        staff={"bob": ScenarioStaff("bob", 5001, "Bob", "agent", ("L1",), "en")},
        steps=(
            Step(1, START, customer="alice", text="I was charged twice, I want a refund"),
            Step(2, START + timedelta(minutes=2), staff="bob", ticket=1, text="/tried Checked the payment log"),
            Step(3, START + timedelta(minutes=3), cli=("ticket", "escalate", "1", "--to", "L2", "--reason",
                                                       "double charge", "--quick"), cli_line=line),
            Step(4, START + timedelta(minutes=30)),
            Step(5, datetime(2026, 3, 3, 11, 0, tzinfo=CET), customer="alice", press="2"),
        ),
    )


def test_the_example_keeps_the_start_offset_and_kinds():
    scenario = parse_scenario(tomllib.loads(EXAMPLE), name="refund.toml")
    assert scenario.start.utcoffset() == timedelta(hours=1)
    assert all(step.at.utcoffset() == timedelta(hours=1) for step in scenario.steps)
    assert [step.kind for step in scenario.steps] == ["customer", "staff", "cli", "wait", "press"]
    assert scenario.config == Path("policy.toml")  # no base: kept as given
    assert scenario.path is None and scenario.description == ""


def test_config_resolution():
    assert parse_scenario(minimal(config="p.toml"), name="s", base=Path("/a/b")).config == Path("/a/b/p.toml")
    assert parse_scenario(minimal(config="/etc/p.toml"), name="s", base=Path("/a")).config == Path("/etc/p.toml")
    scenario = parse_scenario(minimal(config="p.toml"), name="s", path=Path("/a/s.toml"))
    assert (scenario.config, scenario.path) == (Path("/a/p.toml"), Path("/a/s.toml"))
    assert parse_scenario(minimal(), name="s").config is None


def test_toml_datetimes_and_absolute_instants():
    document = tomllib.loads("""
        start = 2026-03-02T09:00:00+01:00
        description = "A double charge"
        [[steps]]
        at = 2026-03-02T08:30:00Z
        [[steps]]
        at = "2026-03-02T11:00:00+02:00"
        [[steps]]
        at = "+1h"
    """)
    scenario = parse_scenario(document, name="s.toml")
    assert scenario.start == START and scenario.description == "A double charge"
    hour = START + timedelta(hours=1)
    assert [step.at for step in scenario.steps] == [START + timedelta(minutes=30), hour, hour]
    assert all(step.at.tzinfo == CET for step in scenario.steps)  # shown in the start's offset


def test_defaults_and_optional_fields():
    scenario = parse_scenario(minimal(
        {"at": "+1m", "customer": "alice", "attachment": "photo"},
        {"at": "+2m", "customer": "alice", "attachment": "voice", "text": "listen"},
        {"at": "+3m", "customer": "alice", "press": "yes"},
        customers={"alice_smith": {"id": 1, "username": "al", "language": "pt-br"}, "alice": {"id": 2}},
        staff={"carol": {"id": 3, "role": "lead", "tiers": ["L2", "L3"], "name": "Carol C", "language": "de"}},
    ), name="s")
    assert scenario.customers["alice_smith"] == ScenarioCustomer("alice_smith", 1, "Alice_Smith", "pt-br", None, "al")
    assert scenario.staff["carol"] == ScenarioStaff("carol", 3, "Carol C", "lead", ("L2", "L3"), "de")
    media, captioned, press = scenario.steps
    assert (media.kind, media.text, media.attachment) == ("customer", None, "photo")
    assert (captioned.kind, captioned.text) == ("customer", "listen")
    assert (press.kind, press.press) == ("press", "yes")


def test_staff_may_have_a_shift_and_a_capacity():
    scenario = parse_scenario(minimal({"at": "+1m"}, staff={"bob": {"id": 5001, "capacity": 3,
                                                                    "calendar": "early"}}), name="s")
    assert (scenario.staff["bob"].capacity, scenario.staff["bob"].calendar) == (3, "early")


def test_staff_may_write_in_a_chat_outside_any_thread():
    scenario = parse_scenario(minimal({"at": "+1m", "staff": "bob", "chat": "forum:Night desk", "text": "/bind L2"}),
                              name="s")
    assert (scenario.steps[0].kind, scenario.steps[0].chat, scenario.steps[0].ticket) == (
        "staff", "forum:Night desk", None)


def test_staff_may_come_from_the_config():
    scenario = parse_scenario(minimal({"at": "+1m", "staff": "dave", "ticket": 7, "text": "on it"}, staff={}),
                              name="s")
    assert scenario.steps[0].staff == "dave" and scenario.staff == {}


# --- validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "message"), [
    ({"extra": 1}, "refund.toml: field 'extra': unknown field"),
    ({"start": None}, "refund.toml: field 'start': expected an ISO 8601 instant with a UTC offset"),
    ({"start": "2026-03-02T09:00"}, "refund.toml: field 'start': needs a UTC offset, e.g. 2026-03-02T09:00:00+01:00"),
    ({"start": datetime(2026, 3, 2, 9)}, "refund.toml: field 'start': needs a UTC offset"),
    ({"start": date(2026, 3, 2)}, "refund.toml: field 'start': expected an ISO 8601 instant with a UTC offset, "
                                  "e.g. 2026-03-02T09:00:00+01:00, got 2026-03-02"),
    ({"start": "tomorrow"}, "refund.toml: field 'start': 'tomorrow' is not an instant"),
    ({"config": ""}, "refund.toml: field 'config': expected a non-empty string, got ''"),
    ({"description": 5}, "refund.toml: field 'description': expected a string, got 5"),
    ({"customers": []}, "refund.toml: field 'customers': expected a table of tables ([customers.NAME])"),
    ({"customers": {"alice": 5}}, "refund.toml: field 'customers.alice': expected a table"),
    ({"customers": {"alice": {"id": "x"}}}, "refund.toml: field 'customers.alice.id': expected a positive integer, "
                                            "got 'x'"),
    ({"customers": {"alice": {"id": True}}}, "field 'customers.alice.id': expected a positive integer, got True"),
    ({"customers": {"alice": {"id": 0}}}, "field 'customers.alice.id': expected a positive integer, got 0"),
    ({"customers": {"alice": {"id": 2**63}}}, "field 'customers.alice.id': expected a positive integer up to"),
    ({"customers": {"alice": {}}}, "field 'customers.alice.id': required"),
    ({"customers": {"alice": {"id": 1, "age": 3}}}, "field 'customers.alice.age': unknown field"),
    ({"customers": {"alice": {"id": 1, "timezone": "Mars/Base"}}},
     "field 'customers.alice.timezone': expected a time zone name such as Europe/Berlin, got 'Mars/Base'"),
    ({"customers": {"alice": {"id": 1, "timezone": "Europe"}}}, "field 'customers.alice.timezone': expected a time"),
    ({"customers": {"alice": {"id": 1, "language": ""}}}, "field 'customers.alice.language': expected a language"),
    ({"customers": {"alice": {"id": 1, "language": "english-long"}}}, "field 'customers.alice.language'"),
    ({"customers": {"alice": {"id": 1, "language": "e1"}}}, "field 'customers.alice.language'"),
    ({"customers": {"alice": {"id": 1, "name": " "}}}, "field 'customers.alice.name': expected a non-empty string"),
    ({"staff": {"bob": {"id": 5001, "role": "boss"}}},
     "field 'staff.bob.role': expected agent | lead | admin, got 'boss'"),
    ({"staff": {"bob": {"id": 5001, "tiers": "L1"}}}, "field 'staff.bob.tiers': expected a list of tier names"),
    ({"staff": {"bob": {"id": 5001, "tiers": ["L1", 2]}}}, "field 'staff.bob.tiers': expected a non-empty string"),
    ({"staff": {"bob": {"id": 5001, "username": "b"}}}, "field 'staff.bob.username': unknown field"),
    ({"staff": {"bob": {"id": 5001, "capacity": 0}}}, "field 'staff.bob.capacity': expected a positive integer"),
    ({"staff": {"bob": {"id": 5001, "capacity": 100_001}}}, "field 'staff.bob.capacity': expected a positive "
                                                             "integer up to 100000"),
    ({"staff": {"bob": {"id": 5001, "calendar": ""}}}, "field 'staff.bob.calendar': expected a non-empty string"),
    ({"staff": {"bob": {"id": 1001}}}, "refund.toml: field 'staff.bob.id': 1001 is already customers.alice's id"),
    ({"customers": {"alice": {"id": 1}, "al": {"id": 1}}}, "field 'customers.al.id': 1 is already customers.alice's"),
    ({"steps": []}, "refund.toml: field 'steps': a scenario needs at least one [[steps]]"),
    ({"steps": {"at": "+0m"}}, "refund.toml: field 'steps': expected an array of tables ([[steps]])"),
])
def test_top_level_errors(change, message):
    document = minimal()
    document.update(change)
    assert message in error(document)


def test_a_missing_start_or_steps():
    document = minimal()
    del document["start"]
    assert error(document).startswith("refund.toml: field 'start': required")
    document = minimal()
    del document["steps"]
    assert error(document) == "refund.toml: field 'steps': a scenario needs at least one [[steps]]"


@pytest.mark.parametrize(("step", "message"), [
    (5, "step 2: expected a table ([[steps]]), got 5"),
    ({"customer": "alice", "text": "hi"}, "step 2: field 'at': required"),
    ({"at": "+1m", "colour": "red"}, "step 2: field 'colour': unknown field"),
    ({"at": 5}, "step 2: field 'at': expected an offset from start such as +30m"),
    ({"at": "+5x"}, "step 2: field 'at': '+5x' is not an offset"),
    ({"at": "-5m"}, "step 2: field 'at': '-5m' is not an offset"),
    ({"at": "+99999999999d"}, "step 2: field 'at': '+99999999999d' is not an offset: '99999999999d' is longer "
                              "than 365d, the longest duration tgesc accepts"),
    ({"at": "+366d"}, "step 2: field 'at': '+366d' is not an offset: '366d' is longer than 365d"),
    ({"at": "2026-03-02T09:30"}, "step 2: field 'at': needs a UTC offset"),
    ({"at": time(9, 30)}, "step 2: field 'at': expected an offset from start"),
    ({"at": "+5m", "text": "hi", "press": 1, "customer": "alice"},
     "step 2: field 'press': a step does one thing: `text` and `press` cannot go together"),
    ({"at": "+5m", "press": 1, "cli": "ticket show 1"}, "step 2: field 'cli': a step does one thing"),
    ({"at": "+5m", "text": "hi"}, "step 2: field 'text': needs `customer`, or `staff` and `ticket`"),
    ({"at": "+5m", "text": "hi", "customer": "alice", "staff": "bob"},
     "step 2: field 'staff': a step comes from a `customer` or from `staff`, not both"),
    ({"at": "+5m", "text": "hi", "staff": "bob"}, "step 2: field 'ticket': required with `staff`"),
    ({"at": "+5m", "text": "hi", "customer": "alice", "ticket": 1}, "step 2: field 'ticket': only with `staff`"),
    ({"at": "+5m", "staff": "bob", "ticket": 1}, "step 2: field 'staff': needs `text`"),
    ({"at": "+5m", "text": "hi", "customer": "alice", "chat": "L1"}, "step 2: field 'chat': only with `staff`"),
    ({"at": "+5m", "text": "hi", "staff": "bob", "ticket": 1, "chat": "L1"}, "step 2: field 'chat': a staff step "
                                                                              "writes in a `ticket`'s thread or in a"),
    ({"at": "+5m", "text": "hi", "staff": "bob", "chat": ""}, "step 2: field 'chat': expected a non-empty string"),
    ({"at": "+5m", "cli": "ticket show 1", "chat": "L1"}, "step 2: field 'chat': not allowed with `cli`"),
    ({"at": "+5m", "text": "hi", "staff": "bob", "ticket": 0}, "step 2: field 'ticket': expected a positive integer"),
    ({"at": "+5m", "text": "hi", "staff": "bob", "ticket": "1"}, "step 2: field 'ticket': expected a positive"),
    ({"at": "+5m", "text": "hi", "staff": "", "ticket": 1}, "step 2: field 'staff': expected a non-empty string"),
    ({"at": "+5m", "press": 2}, "step 2: field 'press': needs `customer` (who presses)"),
    ({"at": "+5m", "press": 2, "customer": "alice", "staff": "bob"}, "step 2: field 'staff': a step comes from"),
    ({"at": "+5m", "press": 2, "staff": "bob"}, "step 2: field 'staff': not allowed with `press`"),
    ({"at": "+5m", "press": "", "customer": "alice"}, "step 2: field 'press': expected a non-empty string"),
    ({"at": "+5m", "press": True, "customer": "alice"}, "step 2: field 'press': expected a non-empty string"),
    ({"at": "+5m", "cli": "ticket show 1", "customer": "alice"}, "step 2: field 'customer': not allowed with `cli`"),
    ({"at": "+5m", "cli": "ticket show 1", "staff": "bob"}, "step 2: field 'staff': not allowed with `cli`"),
    ({"at": "+5m", "cli": "ticket show 1", "ticket": 1}, "step 2: field 'ticket': not allowed with `cli`"),
    ({"at": "+5m", "cli": "ticket 'show"}, "step 2: field 'cli': cannot split \"ticket 'show\" into words: "
                                           "No closing quotation"),
    ({"at": "+5m", "cli": ""}, "step 2: field 'cli': expected a non-empty string"),
    ({"at": "+5m", "cli": 3}, "step 2: field 'cli': expected a non-empty string, got 3"),
    ({"at": "+5m", "customer": "carol", "text": "hi"},
     "step 2: field 'customer': 'carol' is not in [customers] (they are: alice)"),
    ({"at": "+5m", "customer": "alice"}, "step 2: field 'customer': needs `text`, `attachment` or `press`"),
    ({"at": "+5m", "customer": "alice", "text": ""}, "step 2: field 'text': expected a non-empty string, got ''"),
    ({"at": "+5m", "customer": "alice", "text": 5}, "step 2: field 'text': expected a non-empty string, got 5"),
    ({"at": "+5m", "customer": "alice", "attachment": "video"},
     "step 2: field 'attachment': expected photo | document | voice, got 'video'"),
    ({"at": "+5m", "attachment": "photo"}, "step 2: field 'attachment': only on a customer's message"),
    ({"at": "+5m", "customer": "alice", "press": 1, "attachment": "photo"}, "step 2: field 'attachment': only on"),
    ({"at": "+5m", "staff": "bob", "ticket": 1, "text": "x", "attachment": "photo"}, "step 2: field 'attachment'"),
])
def test_step_errors_name_the_step_and_field(step, message):
    assert f"refund.toml: {message}" in error(minimal({"at": "+0m"}, step))


def test_steps_must_not_go_back_in_time():
    assert error(minimal({"at": "+10m"}, {"at": "+20m"}, {"at": "+5m"})) == (
        "refund.toml: step 3: field 'at': 2026-03-02T09:05:00+01:00 is before step 2's 2026-03-02T09:20:00+01:00; "
        "steps must not go back in time")
    assert error(minimal({"at": "+0m"}, {"at": "2026-03-02T07:59:00Z"})) == (
        "refund.toml: step 2: field 'at': 2026-03-02T08:59:00+01:00 is before the start 2026-03-02T09:00:00+01:00; "
        "time only goes forward")
    assert parse_scenario(minimal({"at": "+5m"}, {"at": "2026-03-02T08:05:00Z"}), name="s").steps[1].kind == "wait"


def test_extremes_are_refused_not_crashed_on():
    assert ("field 'start': 0001-01-01T00:00:00+01:00 lies outside the instants tgesc accepts, 1970-01-01 up "
            "to 9000-01-01 (UTC)") in error(minimal(start=datetime(1, 1, 1, tzinfo=CET)))
    assert "field 'start': '9999-12-31T00:00:00Z' lies outside the instants tgesc accepts" in error(
        minimal(start="9999-12-31T00:00:00Z"))
    far = minimal({"at": "9999-12-31T23:00:00Z"}, start="2026-03-02T09:00:00+14:00")
    assert "step 1: field 'at': '9999-12-31T23:00:00Z' lies outside the instants tgesc accepts" in error(far)
    late = minimal({"at": "+2d"}, start="8999-12-31T00:00:00Z")
    assert "field 'at': '+2d' lands at 9000-01-02T00:00:00+00:00, which lies outside the instants" in error(late)
    assert "step 1: field 'press': the number is too long" in error(minimal({"at": "+0m", "customer": "alice",
                                                                             "press": 10**64}))
    huge = minimal(customers={"alice": {"id": -(10**5000)}})
    assert error(huge).endswith("expected a positive integer, got a value of type int")


def test_the_document_itself_must_be_a_table():
    assert error([1, 2]) == "refund.toml: expected a table of scenario settings, got [1, 2]"


# --- reading files ----------------------------------------------------------------------------------


def test_load_errors(tmp_path):
    with pytest.raises(ScenarioError, match=r"^missing\.toml: cannot read .*missing\.toml"):
        load_scenario(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text('start = "2026-03-02T09:00:00+01:00\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"^broken\.toml: not valid TOML: "):
        load_scenario(broken)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"start = \xff\n")
    with pytest.raises(ScenarioError, match=r"^binary\.toml: cannot read \S*binary\.toml: not UTF-8 text \(invalid"):
        load_scenario(binary)
    deep = tmp_path / "deep.toml"
    deep.write_text("steps = " + "[" * 600 + "]" * 600 + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"^deep\.toml: not valid TOML: nests tables or arrays deeper than 16"):
        load_scenario(deep)
    with pytest.raises(ScenarioError, match=r"^test_load_errors0: cannot read \S*: it is not a regular file"):
        load_scenario(tmp_path)
    invalid = tmp_path / "invalid.toml"
    invalid.write_text('start = "2026-03-02T09:00:00+01:00"\n[[steps]]\nat = "+1m"\npress = 1\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"^invalid\.toml: step 1: field 'press': needs `customer`"):
        load_scenario(invalid)


# --- offsets and properties -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "delta"), [
    ("+0m", timedelta(0)), ("+90s", timedelta(seconds=90)), ("+26h", timedelta(hours=26)),
    ("+2d", timedelta(days=2)), ("+1h30m", timedelta(minutes=90)), (" +5m ", timedelta(minutes=5)),
])
def test_parse_offset(text, delta):
    assert parse_offset(text) == delta


@pytest.mark.parametrize("text", ["5m", "-5m", "+", "+5", "+5x", "", "+1.5h", "+99999999999d", 5])
def test_parse_offset_rejects_with_value_error(text):
    with pytest.raises(ValueError, match="offset|duration|too far"):
        parse_offset(text)


@given(st.integers(min_value=0, max_value=365 * 86400))
def test_offsets_round_trip(seconds):
    assert parse_offset(f"+{format_duration(seconds)}") == timedelta(seconds=seconds)


NAMES = st.sampled_from(["start", "config", "description", "customers", "staff", "steps", "at", "customer",
                         "ticket", "text", "press", "attachment", "cli", "id", "name", "language", "timezone",
                         "username", "role", "tiers", "alice", "bob", ""])
LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**62), st.floats(), st.text(max_size=12),
    st.sampled_from(["+0m", "+5m", "-1m", "+9999999999999d", "2026-03-02T09:00:00+01:00", "0001-01-01T00:00+01:00",
                     "9999-12-31T23:59+00:00", "2026-03-02T09:00", "Europe/Berlin", "Europe", "../x", "photo",
                     "agent", "alice", "bob", "ticket show 1", "'open", "en"]),
    st.datetimes(timezones=st.none() | st.just(UTC) | st.just(timezone(timedelta(hours=14)))),
    st.dates(), st.times(),
)
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(NAMES | st.integers() | st.text(max_size=4), inner, max_size=5),
                      max_leaves=25)


def _mostly(values: list, odds: int = 5) -> st.SearchStrategy:
    """One of `values` (valid or nearly valid) but once in `odds` times anything. (Both are always drawn,
    so Hypothesis, which avoids repeating itself, does not run out of plausible choices.)"""
    junk = st.sampled_from([False] * (odds - 1) + [True])
    return st.tuples(junk, st.sampled_from(values), VALUES).map(lambda drawn: drawn[2] if drawn[0] else drawn[1])


def _fields(plausible: dict, required: tuple[str, ...] = (), odds: int = 5) -> st.SearchStrategy:
    """Tables of the given keys (those not required optional), each holding mostly plausible values."""
    strategies = {key: _mostly(values, odds) for key, values in plausible.items()}
    return st.fixed_dictionaries({key: strategies.pop(key) for key in required}, optional=strategies)


STEP = _fields({"at": ["+0m", "+5m", "+1h", "+5x", "2026-03-02T10:00:00+01:00", "2026-03-02T08:00:00Z"],
                "customer": ["alice", "zed", ""], "staff": ["carol", ""], "ticket": [1, 0, True],
                "text": ["hi", "", 5], "press": [1, "2", "", False], "attachment": ["photo", "video"],
                "cli": ["ticket show 1", "'open", ""]}, required=("at",), odds=12)
PERSON = {"name": ["Al", ""], "language": ["en", "pt-br", "e1", ""]}
CUSTOMERS = st.dictionaries(st.sampled_from(["alice", "bob", ""]), _fields({
    "id": [1, 2, 3, 0, "1"], "timezone": ["Europe/Berlin", "Europe", "Mars/Base", ""], "username": ["al", ""],
    **PERSON}, required=("id",)), max_size=3)
STAFF = st.dictionaries(st.sampled_from(["carol", "dave"]), _fields({
    "id": [11, 12, 1], "role": ["lead", "boss"], "tiers": [["L1"], "L1", [""]], **PERSON}, required=("id",)),
    max_size=2)
DOCUMENTS = st.one_of(VALUES, st.fixed_dictionaries({
    "start": _mostly(["2026-03-02T09:00:00+01:00", datetime(2026, 3, 2, tzinfo=UTC), "9999-12-31T23:00Z"]),
    "steps": st.lists(STEP, min_size=1, max_size=5) | VALUES,
}, optional={"customers": CUSTOMERS | VALUES, "staff": STAFF, "config": _mostly(["p.toml", ""]),
             "description": _mostly(["", "d"])}))


@settings(max_examples=400)
@given(DOCUMENTS)
def test_any_document_gives_a_scenario_or_a_scenario_error(document):
    before = copy.deepcopy(document)
    try:
        scenario = parse_scenario(document, name="junk.toml", base=Path("/base"))
    except ScenarioError as exc:
        assert str(exc).startswith("junk.toml: ")
    else:
        assert scenario.steps and all(a.at <= b.at for a, b in zip(scenario.steps, scenario.steps[1:], strict=False))
    assert document == before or document != document  # never mutated (NaN is never equal to itself)


def _as_at(seconds: int, absolute: bool, hours: int) -> str:
    if not absolute:
        return f"+{format_duration(seconds)}"
    return (START + timedelta(seconds=seconds)).astimezone(timezone(timedelta(hours=hours))).isoformat()


@given(st.lists(st.tuples(st.integers(0, 10**7), st.booleans(), st.integers(-12, 14)), min_size=1, max_size=8))
def test_step_instants_are_monotone_and_exact(offsets):
    document = minimal(*({"at": _as_at(*offset)} for offset in offsets))
    seconds = [offset[0] for offset in offsets]
    if seconds != sorted(seconds):
        assert "must not go back in time" in error(document)
        return
    steps = parse_scenario(document, name="s.toml").steps
    assert [step.at for step in steps] == [START + timedelta(seconds=n) for n in seconds]
    assert [step.number for step in steps] == list(range(1, len(offsets) + 1))
    assert all(step.at.utcoffset() == timedelta(hours=1) and step.kind == "wait" for step in steps)

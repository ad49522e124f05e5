"""Configuration as code against real databases: export/apply round trips, plans, atomicity, bad files."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tgesc.domain.errors import ConfigInvalid
from tgesc.domain.weekly import Weekly
from tgesc.models import Event, Staff, Tier
from tgesc.services.config.apply import apply_config, export_toml, parse_toml
from tgesc.services.config.current import current
from tgesc.services.config.defaults import initialise, shipped_defaults

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def apply(db, raw, *, prune=False, dry_run=False):
    return apply_config(db, raw, source="test.toml", prune=prune, dry_run=dry_run, actor="test", now=NOW)


def test_defaults_export_apply_export_is_byte_identical(db):
    initialise(db, now=NOW, actor="test")
    first = export_toml(db)
    assert apply(db, parse_toml(first, "export")) == []
    assert export_toml(db) == first
    assert "[tiers.L2]" in first and 'first_response = "15m"' in first


def test_the_digest_in_force_is_the_reports_setting(db):
    initialise(db, now=NOW, actor="test")
    assert current(db).digest is None
    apply(db, {"reports": {"digest": "mon 09:00"}})
    assert current(db).digest == Weekly.parse("mon 09:00")


def test_init_twice_changes_nothing(db):
    first = initialise(db, now=NOW, actor="test")
    assert len(first.defaults_loaded) == len([k for s in shipped_defaults().values() for k in s])
    before = export_toml(db)
    second = initialise(db, now=NOW, actor="test")
    assert second.migrations_applied == [] and second.defaults_loaded == []
    assert export_toml(db) == before


def test_plan_lists_adds_changes_and_prunes(db):
    initialise(db, now=NOW, actor="test")
    raw = tomllib.loads(export_toml(db))
    raw["tiers"]["L2"]["name"] = "Second line (billing)"
    raw["tiers"]["L2"]["staff_chat"] = -1001
    raw["tiers"]["L4"] = {"name": "Vendor", "level": 4}
    del raw["faq"]
    changes = apply(db, raw, dry_run=True)
    assert [c.describe() for c in changes] == ["~ tiers.L2 (name, staff_chat)", "+ tiers.L4"]
    assert Tier.get(Tier.code == "L2").name == "Second line"  # dry run changed nothing
    pruned = apply(db, raw, prune=True)
    assert [c.describe() for c in pruned] == ["~ tiers.L2 (name, staff_chat)", "+ tiers.L4", "- faq.reset-2fa"]
    assert Tier.get(Tier.code == "L4").level == 4
    assert apply(db, raw, prune=True) == []
    audit = Event.select().where(Event.kind == "config.apply").order_by(Event.id.desc()).first()
    assert audit.details["changes"] == [c.describe() for c in pruned]


def test_reordering_tiers_and_moving_ids_within_one_apply(db):
    initialise(db, now=NOW, actor="test")
    raw = tomllib.loads(export_toml(db))
    raw["tiers"]["L1"]["level"], raw["tiers"]["L2"]["level"] = 2, 1
    raw["staff"] = {"bob": {"id": 5001, "tiers": ["L1"]}}
    apply(db, raw)
    raw["staff"] = {"robert": {"id": 5001, "tiers": ["L1", "L2"], "role": "lead"}}
    apply(db, raw, prune=True)
    assert [(t.code, t.level) for t in Tier.select().order_by(Tier.level)][:2] == [("L2", 1), ("L1", 2)]
    assert [(s.handle, s.telegram_id, s.role) for s in Staff.select()] == [("robert", 5001, "lead")]


BAD_FILES = [
    ("[tiers.L1\nname = 1", "malformed TOML: Expected ']' at the end of a table declaration (at line 1, column 10)"),
    ('[tiers.L1]\nname = "x"\nlevel = 1\ncolour = "red"', "tiers.L1.colour: unknown key"),
    ('[calendars.x]\ntimezone = "Mars/Olympus"\nhours.mon = ["09:00-12:00"]', "calendars.x.timezone"),
    ('[calendars.x]\ntimezone = "UTC"\nhours.mon = ["09:00-12:00", "11:00-13:00"]', "calendars.x.hours.mon"),
    ('[calendars.x]\ntimezone = "UTC"\nhours.mon = ["13:00-12:00"]', "calendars.x.hours.mon[0]"),
    ('[sla.urgent]\nfirst_response = "15 minutes"\nresolution = "2h"\non_breach = "none"',
     "sla.urgent.first_response: "),
    ('[tiers.L1]\nname = "x"\nlevel = 1\ncalendar = "nope"', "tiers.L1.calendar: there is no calendar 'nope'"),
    ('[rules.r]\nkind = "keyword"\nphrases.en = ["x"]\nescalate_to = "L9"',
     "rules.r.escalate_to: there is no tier 'L9'"),
    ("[nonsense]\nx = 1", "nonsense: unknown section"),
    ('[tiers.second-line-billing]\nname = "x"\nlevel = 4', "tiers.second-line-billing: invalid name"),
    ('[tiers."L 4"]\nname = "x"\nlevel = 4', "tiers.L 4: invalid name 'L 4'"),
    ('[staff.bob]\nid = 1\nname = "' + "b" * 129 + '"', "staff.bob.name: is 129 characters long; at most 128"),
    ('[staff.bob]\nid = 1\nlanguage = "English"', "staff.bob.language: 'English' is not a language code"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_FILES, ids=[e.split(":")[0] for _, e in BAD_FILES])
def test_bad_files_name_the_problem_and_apply_nothing(db, text, expected):
    initialise(db, now=NOW, actor="test")
    before = export_toml(db)
    with pytest.raises(ConfigInvalid) as caught:
        raw = parse_toml(text, "bad.toml")
        apply(db, {**tomllib.loads(before), **raw})
    assert caught.value.exit_code == 78
    assert expected in caught.value.render()
    assert export_toml(db) == before


def test_every_problem_is_reported_at_once(db):
    raw = tomllib.loads('''
[tiers.L1]
name = "Front"
level = 1
calendar = "missing"
colour = 3
[sla.urgent]
first_response = "soon"
resolution = "2h"
on_breach = "escalate"
''')
    with pytest.raises(ConfigInvalid) as caught:
        apply(db, raw)
    problems = caught.value.problems
    assert len(problems) == 4, problems
    assert {p.split(":")[0] for p in problems} == {
        "tiers.L1.colour", "tiers.L1.calendar", "sla.urgent.first_response", "sla.urgent.escalate_to"}
    assert Tier.select().count() == 0


# --- property: any valid configuration survives apply → export → apply unchanged -----------------

codes = st.lists(st.sampled_from(["L1", "L2", "L3", "L4", "VIP", "ops"]), min_size=1, max_size=4, unique=True)
durations = st.sampled_from(["90s", "15m", "1h30m", "2h", "1d", "1d4h"])
awkward = st.text("ab z退款возврат\"'\\\n\t#=[]{}.é🙂", min_size=1, max_size=12)
phrases = st.dictionaries(st.sampled_from(["en", "zh", "ru", "pt-br"]),
                          st.lists(awkward.filter(str.strip), min_size=1, max_size=3, unique=True),
                          min_size=1, max_size=3)


@st.composite
def configurations(draw):
    calendars = {name: {"timezone": draw(st.sampled_from(["UTC", "Europe/Berlin", "Asia/Shanghai"])),
                        "hours": {"mon": ["09:00-12:00", "13:00-17:00"], "sat": draw(st.sampled_from(
                            [[], ["10:00-14:00"]]))},
                        "holidays": draw(st.lists(st.sampled_from(["2026-12-25", "2026-12-26", "2027-01-01"]),
                                                  unique=True)),
                        "deadline_at_close": draw(st.sampled_from(["close", "next-open"]))}
                 for name in draw(st.lists(st.sampled_from(["eu", "cn"]), unique=True))}
    tier_codes = draw(codes)
    levels = draw(st.permutations(range(1, len(tier_codes) + 1)))
    tiers = {code: {"name": f"Tier {code}", "level": level, "forum": draw(st.booleans()),
                    **({"calendar": draw(st.sampled_from(sorted(calendars)))} if calendars and draw(st.booleans())
                       else {}),
                    **({"staff_chat": draw(st.integers(-10**13, -1))} if draw(st.booleans()) else {})}
             for code, level in zip(tier_codes, levels, strict=True)}
    staff = {handle: {"id": 5000 + i, "role": draw(st.sampled_from(["agent", "lead", "admin"])),
                      "tiers": draw(st.lists(st.sampled_from(tier_codes), unique=True))}
             for i, handle in enumerate(draw(st.lists(st.sampled_from(["ann", "bob", "chen", "dmitri"]),
                                                     unique=True)))}
    sla = {p: {"first_response": draw(durations), "resolution": draw(durations),
               "warn_at": draw(st.lists(st.integers(1, 99), unique=True, max_size=3)),
               "on_breach": "escalate", "escalate_to": draw(st.sampled_from(tier_codes))}
           for p in draw(st.lists(st.sampled_from(["urgent", "high", "medium", "low"]), unique=True))}
    rules = {f"kw-{i}.x": {"kind": "keyword", "phrases": draw(phrases), "tags": draw(st.lists(
        st.sampled_from(["billing", "vip", "bug"]), min_size=1, unique=True)), "position": i}
        for i in range(draw(st.integers(0, 3)))}
    templates = {"faq_a": {"en": draw(awkward) + " #$ticket", "zh": "答案\n#$ticket"}} if draw(st.booleans()) else {}
    return {"calendars": calendars, "tiers": tiers, "staff": staff, "sla": sla, "rules": rules,
            "templates": templates}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=configurations())
def test_round_trip_of_generated_configurations(db, raw):
    apply(db, raw, prune=True)  # one database for all examples: --prune turns it into exactly `raw`
    exported = export_toml(db)
    assert apply(db, tomllib.loads(exported), prune=True) == []
    assert export_toml(db) == exported
    round_tripped = tomllib.loads(exported)
    assert set(round_tripped.get("tiers", {})) == set(raw["tiers"])
    for code, tier in raw["tiers"].items():
        assert {k: round_tripped["tiers"][code][k] for k in tier} == tier


def test_a_file_applied_without_prune_may_name_entries_the_database_has(db):
    initialise(db, now=NOW, actor="test")
    raw = parse_toml('[sla.high]\nfirst_response = "30m"\nresolution = "4h"\non_breach = "none"\n'
                     'calendar = "office-hours"\n', "p.toml")
    apply(db, raw)  # office-hours is not in the file but in the database: the result is whole
    assert tomllib.loads(export_toml(db))["sla"]["high"]["calendar"] == "office-hours"
    with pytest.raises(ConfigInvalid) as pruned:
        apply(db, raw, prune=True)  # with --prune the file alone is the configuration
    assert "sla.high.calendar: there is no calendar 'office-hours'" in pruned.value.render()
    bad = parse_toml('[sla.high]\nfirst_response = "30m"\nresolution = "4h"\non_breach = "none"\n'
                     'calendar = "nights"\n', "q.toml")
    with pytest.raises(ConfigInvalid) as missing:
        apply(db, bad)
    assert "sla.high.calendar: there is no calendar 'nights'" in missing.value.render()

"""The escalation configuration with hostile values, applied to real SQLite and PostgreSQL databases: each
document is either applied or refused with ConfigInvalid (exit 78) and nothing changed; never a database
error (an integer past a column, a NUL byte, a string longer than its column)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import database_rows

from tgesc.domain.config_schema import SECTIONS
from tgesc.domain.errors import ConfigInvalid
from tgesc.services.config.apply import apply_config
from tgesc.services.config.defaults import initialise

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
VALID = {  # one valid entry per section, into which hostile values go
    "calendars": ("night", {"timezone": "UTC", "hours": {"mon": ["09:00-10:00"]}}),
    "tiers": ("L9", {"name": "Vendor", "level": 9}),
    "staff": ("zed", {"id": 777}),
    "sla": ("urgent", {"first_response": "15m", "resolution": "2h", "on_breach": "none"}),
    "templates": ("faq_new", {"en": "Hello"}),
    "rules": ("new-rule", {"kind": "keyword", "phrases": {"en": ["x"]}, "tags": ["t"]}),
    "faq": ("new-faq", {"phrases": {"en": ["x"]}, "answer": "comfort"}),
}
FIELDS = {**{name: [f.name for f in section.fields] for name, section in SECTIONS.items()},
          "calendars": ["timezone", "hours", "holidays", "overrides", "deadline_at_close"],
          "templates": ["en", "zh", "abcdefghijk", "a\0", ""]}
STRINGS = ["", "\0", "a\0b", "\x01", "x" * 65, "x" * 129, "x" * 5000, "\ud800", "١", "99999999d", "366d", "0s",
           "9999-12-31", "0001-01-01", "America", "UTC\0", "09:00-25:00", "L1", "comfort", "none", "escalate"]
INTEGERS = [0, -1, 2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, 2**63, -(2**63), 10**30]
HOSTILE = st.recursive(
    st.sampled_from(STRINGS) | st.sampled_from(INTEGERS) | st.integers() | st.booleans() | st.text(max_size=8)
    | st.dates(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(STRINGS) | st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=6)


@st.composite
def documents(draw) -> dict:
    """A configuration of one section's valid entry with one or two fields (or its key) made hostile."""
    section = draw(st.sampled_from(sorted(VALID)))
    key, entry = VALID[section]
    entry = dict(entry)
    for field in draw(st.lists(st.sampled_from(FIELDS[section]), min_size=1, max_size=2)):
        entry[field] = draw(HOSTILE)
    if draw(st.booleans()):
        key = draw(st.sampled_from(STRINGS) | st.text(max_size=4))
    return {section: {key: entry}}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=documents())
def test_hostile_values_are_applied_or_refused_never_a_database_error(db, db_url, raw):
    if not database_rows(db_url).get("tier"):
        initialise(db, now=NOW, actor="test")
    before = database_rows(db_url)
    try:
        apply_config(db, raw, source="hostile.toml", prune=False, dry_run=False, actor="test", now=NOW)
    except ConfigInvalid as refused:
        assert refused.problems, refused
        assert database_rows(db_url) == before

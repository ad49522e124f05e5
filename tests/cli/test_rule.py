"""`tgesc rule list | show | add | set | remove | enable | disable` through the real CLI entry point."""

from __future__ import annotations

import json

import pytest
from support import cells, ok_json

CHARGEBACK = {"rule": "chargeback", "kind": "keyword", "enabled": True, "position": 5,
              "phrases": {"en": ["chargeback", "dispute: card"], "zh": ["拒付"]}, "tags": ["billing", "card"],
              "priority": "high", "escalate_to": "L2", "reply": "comfort", "emotions": []}
ADD_CHARGEBACK = ("rule", "add", "chargeback", "--kind", "keyword", "--phrase", "en:chargeback",
                  "--phrase", "zh:拒付", "--phrase", "en:dispute: card", "--tag", "card", "--tag", "billing",
                  "--priority", "high", "--escalate-to", "L2", "--reply", "comfort", "--position", "5")


@pytest.fixture
def desk(desk):
    added = desk(*ADD_CHARGEBACK)
    assert added.exit_code == 0, added
    return desk


def show(cli, name: str) -> dict:
    return ok_json(cli("rule", "show", name, "--json"))


def test_list_shows_actions_and_phrase_counts(cli, db_url):
    assert cli("init", "--quiet").exit_code == 0
    listed = cli("rule", "list")
    assert listed.exit_code == 0, listed
    lines = listed.stdout.splitlines()
    assert cells(lines[0]) == ["rule", "kind", "enabled", "position", "when", "actions", "phrases"]
    rows = {cells(line)[0]: cells(line) for line in lines[2:]}
    assert [cells(line)[0] for line in lines[2:]] == [
        "angry-customer", "asks-for-manager", "customer-says-urgent", "unresolved-15m",
        "refund", "account-ban", "security", "outage", "legal"]
    assert rows["refund"] == ["refund", "keyword", "yes", "10",
                              "tags billing,refund · priority high · escalate L2 · reply comfort", "en 5, zh 5, ru 5"]
    assert rows["unresolved-15m"] == ["unresolved-15m", "unresolved-for", "yes", "0", "after 15m", "escalate L2"]
    assert rows["asks-for-manager"] == ["asks-for-manager", "repeated-request", "yes", "0", "3 in a row",
                                        "escalate L2 · reply comfort", "en 6, zh 5, ru 6"]
    doc = json.loads(cli("rule", "list", "--json").stdout)
    assert doc["refund"]["phrases"]["zh"] == ["退款", "退钱", "重复扣款", "扣了两次", "拒付"]
    assert doc["angry-customer"]["emotions"] == ["angry", "threatening"]


def test_add_show_round_trip(cli, db_url):
    assert cli("init", "--quiet").exit_code == 0
    added = cli(*ADD_CHARGEBACK, "--json")
    assert added.exit_code == 0, added
    assert json.loads(added.stdout) == CHARGEBACK
    assert show(cli, "chargeback") == CHARGEBACK
    emotion = cli("rule", "add", "furious", "--kind", "emotion", "--emotion", "threatening", "--emotion", "angry",
                  "--priority", "urgent", "--disabled", "--json")
    assert emotion.exit_code == 0, emotion
    assert json.loads(emotion.stdout) == {"rule": "furious", "kind": "emotion", "enabled": False, "position": 0,
                                          "phrases": {}, "tags": [], "priority": "urgent",
                                          "emotions": ["angry", "threatening"]}
    stuck = cli("rule", "add", "stuck", "--kind", "unresolved-for", "--after", "90m", "--escalate-to", "L3")
    assert stuck.exit_code == 0, stuck
    assert show(cli, "stuck")["after"] == "1h30m"


def test_set_one_field_leaves_the_others_and_edits_phrases(desk):
    assert desk("rule", "set", "chargeback", "--priority", "urgent").exit_code == 0
    assert show(desk, "chargeback") == {**CHARGEBACK, "priority": "urgent"}
    assert desk("rule", "set", "chargeback", "--add-phrase", "ru:чарджбэк", "--remove-phrase", "zh:拒付",
                "--remove-phrase", "en:dispute: card", "--add-tag", "dispute", "--remove-tag", "card").exit_code == 0
    expected = {**CHARGEBACK, "priority": "urgent", "phrases": {"en": ["chargeback"], "ru": ["чарджбэк"]},
                "tags": ["billing", "dispute"]}
    assert show(desk, "chargeback") == expected
    assert desk("rule", "set", "chargeback", "--phrase", "en:money back", "--phrase", "zh:退钱").exit_code == 0
    expected["phrases"] = {"en": ["money back"], "zh": ["退钱"]}
    assert show(desk, "chargeback") == expected
    absent = desk("rule", "set", "chargeback", "--remove-phrase", "ru:чарджбэк")
    assert absent.exit_code == 1 and "does not contain 'чарджбэк'" in absent.stderr


def test_unset_with_empty_value(desk):
    assert desk("rule", "set", "chargeback", "--reply", "", "--priority", "", "--tag", "").exit_code == 0
    expected = {k: v for k, v in CHARGEBACK.items() if k not in ("reply", "priority")}
    assert show(desk, "chargeback") == {**expected, "tags": []}
    became = desk("rule", "set", "unresolved-15m", "--kind", "repeated-request", "--after", "", "--count", "4",
                  "--phrase", "en:help")
    assert became.exit_code == 0, became
    assert show(desk, "unresolved-15m") == {"rule": "unresolved-15m", "kind": "repeated-request", "enabled": True,
                                            "position": 0, "phrases": {"en": ["help"]}, "tags": [],
                                            "escalate_to": "L2", "count": 4, "emotions": []}


def test_enable_and_disable(desk):
    assert desk("rule", "disable", "outage").exit_code == 0
    assert show(desk, "outage")["enabled"] is False
    row = next(cells(line) for line in desk("rule", "list").stdout.splitlines() if line.startswith("outage"))
    assert row[:4] == ["outage", "keyword", "no", "40"]
    assert desk("rule", "enable", "outage").exit_code == 0
    assert show(desk, "outage")["enabled"] is True
    assert desk("rule", "enable", "nope").exit_code == 1


def test_usage_errors_exit_2(desk):
    for args in (["--phrase", "refund"], ["--phrase", ":refund"], ["--phrase", "EN:refund"], ["--add-phrase", "en:"],
                 ["--kind", "magic"], ["--after", "soon"], ["--priority", "critical"], ["--emotion", "sad"],
                 ["--count", "0"], ["--count", "many"], []):
        result = desk("rule", "set", "chargeback", *args)
        assert result.exit_code == 2, (args, result)
    malformed = desk("rule", "add", "x", "--kind", "keyword", "--phrase", "refund", "--tag", "t")
    assert malformed.exit_code == 2 and "is not LANG:TEXT" in malformed.stderr
    assert show(desk, "chargeback") == CHARGEBACK


def test_domain_errors_exit_1(desk):
    tier = desk("rule", "set", "chargeback", "--escalate-to", "L7")
    assert tier.exit_code == 1
    assert "rules.chargeback.escalate_to: there is no tier 'L7'" in tier.stderr
    reply = desk("rule", "add", "x", "--kind", "keyword", "--phrase", "en:x", "--reply", "no_such_template")
    assert reply.exit_code == 1 and "rules.x.reply: there is no template 'no_such_template'" in reply.stderr
    inert = desk("rule", "add", "x", "--kind", "keyword", "--phrase", "en:x")
    assert inert.exit_code == 1
    assert "rules.x: a keyword rule must set at least one of tags, priority, escalate_to, reply" in inert.stderr
    assert desk("rule", "add", "chargeback", "--kind", "keyword", "--phrase", "en:x", "--tag", "t").exit_code == 1
    unknown = desk("rule", "show", "nope")
    assert unknown.exit_code == 1 and "there is no rule 'nope'" in unknown.stderr
    assert show(desk, "chargeback") == CHARGEBACK


def test_remove_needs_yes_and_tier_in_use_by_rules_stays(desk, db_url):
    refused = desk("tier", "remove", "L2", "--yes")
    assert refused.exit_code == 1
    assert "it is still used by " in refused.stderr and "rules.chargeback.escalate_to," in refused.stderr
    assert desk("rule", "remove", "chargeback").exit_code == 2  # needs --yes off a terminal
    assert desk("rule", "remove", "chargeback", "--dry-run").exit_code == 0
    assert show(desk, "chargeback") == CHARGEBACK
    assert desk("rule", "remove", "chargeback", "--yes").exit_code == 0
    assert desk("rule", "show", "chargeback").exit_code == 1

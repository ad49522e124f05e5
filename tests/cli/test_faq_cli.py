"""`tgesc faq list | show | add | set | remove | enable | disable` through the real CLI entry point, and an
entry added from the CLI answering a customer's message through ingest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from support import cells, ok_json, private_message

from tgesc.models import Event, Outbox
from tgesc.services.config.apply import list_entries
from tgesc.services.tickets.ingest import ingest_message

VPN = {"faq": "vpn", "phrases": {"en": ["vpn not working", "vpn down"], "zh": ["VPN 连不上"]},
       "answer": "faq_vpn", "enabled": True}
ADD_VPN = ("faq", "add", "vpn", "--answer", "faq_vpn", "--phrase", "en:vpn not working", "--phrase", "zh:VPN 连不上",
           "--phrase", "en:vpn down")
VPN_ANSWER = {"en": "Switch the VPN off and on again (ticket #$ticket).", "zh": "请重新连接 VPN(工单 #$ticket)。"}
MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def desk(desk, db):
    """The shipped defaults (on both backends), a custom template faq_vpn in en and zh, and the FAQ entry vpn."""
    for lang, body in VPN_ANSWER.items():
        assert desk("template", "set", "faq_vpn", "--lang", lang, "--body", body).exit_code == 0
    added = desk(*ADD_VPN)
    assert added.exit_code == 0, added
    assert desk("staff", "add", "bob", "--id", "5001").exit_code == 0  # `--as` names an active staff member
    return desk


def show(cli, name: str) -> dict:
    return ok_json(cli("faq", "show", name, "--json"))


def config_changes(actor: str) -> list[str]:
    return [e.details["change"] for e in Event.select().where((Event.kind == "config.change") & (Event.actor == actor))
            .order_by(Event.id)]


def test_list_and_show_the_shipped_entry(cli, db_url):
    assert cli("init", "--quiet").exit_code == 0
    listed = cli("faq", "list")
    assert listed.exit_code == 0, listed
    assert [cells(line) for line in listed.stdout.splitlines()] == [
        ["faq", "answer", "enabled", "phrases"], ["---------", "-------------", "---------", "----------------"],
        ["reset-2fa", "faq_reset_2fa", "yes", "en 3, zh 2, ru 3"]]
    assert ok_json(cli("faq", "list", "--json")) == {"reset-2fa": {
        "phrases": {"en": ["two-step verification", "2fa", "two factor"], "ru": ["двухэтапн", "двухфакторн", "2fa"],
                    "zh": ["两步验证", "二次验证"]}, "answer": "faq_reset_2fa", "enabled": True}}
    shown = cli("faq", "show", "reset-2fa")
    assert shown.exit_code == 0, shown
    rows = {cells(line)[0]: cells(line)[1:] for line in shown.stdout.splitlines()[2:]}
    assert rows == {"faq": ["reset-2fa"], "answer": ["faq_reset_2fa"], "enabled": ["yes"],
                    "phrases": ["en: two-step verification, 2fa, two factor; ru: двухэтапн, двухфакторн, 2fa; "
                                "zh: 两步验证, 二次验证"]}


def test_init_show_uses_the_faq_summary(cli):
    shown = cli("init")
    assert shown.exit_code == 0, shown
    section = shown.stdout.split("[faq]\n", 1)[1].splitlines()
    assert cells(section[0]) == ["faq", "answer", "enabled", "phrases"]
    assert cells(section[2]) == ["reset-2fa", "faq_reset_2fa", "yes", "en 3, zh 2, ru 3"]


def test_add_show_round_trip_and_audit(cli, db):
    assert cli("init", "--quiet").exit_code == 0
    assert cli("template", "set", "faq_vpn", "--lang", "en", "--body", VPN_ANSWER["en"]).exit_code == 0
    assert cli("staff", "add", "bob", "--id", "5001").exit_code == 0  # `--as` names an active staff member
    added = cli(*ADD_VPN, "--as", "bob", "--json")
    assert added.exit_code == 0, added
    assert (json.loads(added.stdout), added.stderr) == (VPN, "Added faq.vpn.\n")
    assert show(cli, "vpn") == VPN
    assert list_entries(db, "faq")["vpn"] == {k: v for k, v in VPN.items() if k != "faq"}
    assert config_changes("bob") == ["+ faq.vpn"]
    off = cli("faq", "add", "parcel", "--answer", "comfort", "--phrase", "ru:где посылка", "--disabled")
    assert off.exit_code == 0, off
    assert [cells(line) for line in off.stdout.splitlines()[2:]] == [
        ["faq", "parcel"], ["phrases", "ru: где посылка"], ["answer", "comfort"], ["enabled", "no"]]
    assert [cells(line)[:3] for line in cli("faq", "list").stdout.splitlines()[2:]] == [
        ["parcel", "comfort", "no"], ["reset-2fa", "faq_reset_2fa", "yes"], ["vpn", "faq_vpn", "yes"]]


def test_set_changes_only_the_given_fields(desk):
    changed = desk("faq", "set", "vpn", "--add-phrase", "ru:не работает vpn", "--remove-phrase", "en:vpn down",
                   "--as", "bob")
    assert (changed.exit_code, changed.stderr) == (0, "Updated faq.vpn.\n"), changed
    expected = {**VPN, "phrases": {"en": ["vpn not working"], "ru": ["не работает vpn"], "zh": ["VPN 连不上"]}}
    assert show(desk, "vpn") == expected
    assert config_changes("bob") == ["~ faq.vpn (phrases)"]
    assert desk("faq", "set", "vpn", "--phrase", "en:vpn", "--phrase", "zh:梯子").exit_code == 0
    expected["phrases"] = {"en": ["vpn"], "zh": ["梯子"]}  # --phrase replaces every language, like rule set
    assert show(desk, "vpn") == expected
    assert desk("faq", "set", "vpn", "--answer", "comfort", "--disable").exit_code == 0
    assert show(desk, "vpn") == {**expected, "answer": "comfort", "enabled": False}
    for flag, enabled in (("--enable", True), ("--disabled", False), ("--enabled", True)):
        assert desk("faq", "set", "vpn", flag).exit_code == 0
        assert show(desk, "vpn")["enabled"] is enabled
    assert desk("faq", "disable", "vpn").exit_code == 0 and show(desk, "vpn")["enabled"] is False
    assert desk("faq", "enable", "vpn").exit_code == 0 and show(desk, "vpn")["enabled"] is True
    assert show(desk, "vpn") == {**expected, "answer": "comfort"}


def test_usage_errors_exit_2_and_change_nothing(desk):
    for args in (["--phrase", "vpn"], ["--phrase", ":vpn"], ["--phrase", "EN:vpn"], ["--phrase", ""],
                 ["--add-phrase", "en:"], ["--remove-phrase", "vpn"], []):
        result = desk("faq", "set", "vpn", *args)
        assert result.exit_code == 2, (args, result)
    malformed = desk("faq", "add", "x", "--answer", "comfort", "--phrase", "refund")
    assert malformed.exit_code == 2 and "is not LANG:TEXT" in malformed.stderr
    no_answer = desk("faq", "add", "x", "--phrase", "en:x")
    assert no_answer.exit_code == 2 and "Missing option '--answer'" in no_answer.stderr
    assert show(desk, "vpn") == VPN


DOMAIN_ERRORS = [
    (("add", "x", "--answer", "no_such_template", "--phrase", "en:x"),
     "Error: FAQ entry 'x' was not saved:\n  - faq.x.answer: there is no template 'no_such_template'; define "
     "[templates.no_such_template] or name an existing one\n"),
    (("set", "vpn", "--answer", "faq_nope"),
     "Error: FAQ entry 'vpn' was not saved:\n  - faq.vpn.answer: there is no template 'faq_nope'; define "
     "[templates.faq_nope] or name an existing one\n"),
    (("add", "x", "--answer", "comfort"),
     "Error: FAQ entry 'x' was not saved:\n  - faq.x.phrases: required (per language; any one matches)\n"),
    (("set", "vpn", "--remove-phrase", "en:vpn not working", "--remove-phrase", "en:vpn down",
      "--remove-phrase", "zh:VPN 连不上"),
     "Error: FAQ entry 'vpn' was not saved:\n  - faq.vpn.phrases: needs at least one phrase in some language; an "
     "entry without phrases never answers\n"),
    (("set", "vpn", "--remove-phrase", "en:vpn up"),
     "Error: faq.vpn.phrases.en does not contain 'vpn up'; nothing to remove\n"),
    (("add", "vpn", "--answer", "comfort", "--phrase", "en:x"),
     "Error: FAQ entry 'vpn' already exists; change it with `tgesc faq set`\n"),
    (("add", "bad name", "--answer", "comfort", "--phrase", "en:x"),
     "Error: FAQ entry 'bad name' was not saved:\n  - faq.bad name: invalid name 'bad name'; use up to 64 letters, "
     "digits, '_', '-' or '.'\n"),
    (("show", "nope"), "Error: there is no FAQ entry 'nope'; `tgesc faq list` shows them\n"),
    (("set", "nope", "--disable"), "Error: there is no FAQ entry 'nope'; `tgesc faq list` shows them\n"),
    (("enable", "nope"), "Error: there is no FAQ entry 'nope'; `tgesc faq list` shows them\n"),
    (("remove", "nope", "--yes"), "Error: there is no FAQ entry 'nope'; `tgesc faq list` shows them\n"),
]


@pytest.mark.parametrize(("args", "stderr"), DOMAIN_ERRORS,
                         ids=["unknown-template", "set-unknown-template", "no-phrases", "last-phrase-removed",
                              "absent-phrase", "duplicate", "bad-name", "show-unknown", "set-unknown",
                              "enable-unknown", "remove-unknown"])
def test_domain_errors_exit_1_and_change_nothing(desk, db, args, stderr):
    before = list_entries(db, "faq")
    result = desk("faq", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", stderr)
    assert list_entries(db, "faq") == before


def test_remove_needs_yes_offers_dry_run_and_keeps_the_template(desk, db):
    refused = desk("faq", "remove", "vpn")
    assert refused.exit_code == 2 and "this needs --yes" in refused.stderr
    dry = desk("faq", "remove", "vpn", "--dry-run")
    assert (dry.exit_code, dry.stderr) == (0, "Would remove faq.vpn (dry run: nothing changed).\n")
    assert show(desk, "vpn") == VPN
    removed = desk("faq", "remove", "vpn", "--yes", "--as", "bob")
    assert (removed.exit_code, removed.stderr) == (0, "Removed faq.vpn.\n")
    assert "vpn" not in list_entries(db, "faq") and "faq_vpn" in list_entries(db, "templates")
    assert config_changes("bob") == ["- faq.vpn"]
    assert desk("faq", "show", "vpn").exit_code == 1


def says(db, user_id: int, message_id: int, text: str, language: str = "en"):
    at = MON_10 + timedelta(minutes=message_id)
    return ingest_message(db, private_message(user_id, message_id, at, text, first_name="Ana",
                                              language_code=language), now=at)


def answers() -> list[tuple[int, str, str]]:
    return [(o.chat_id, o.payload.get("template"), o.text) for o in Outbox.select().order_by(Outbox.id)]


def test_an_entry_added_from_the_cli_answers_customers_through_ingest(desk, db):
    says(db, 2001, 1, "Hi, my VPN NOT working since the morning")
    says(db, 2001, 2, "vpn down again")  # once per ticket and entry
    says(db, 2002, 1, "VPN 连不上了", language="zh")
    assert answers() == [(2001, "faq_vpn", "Switch the VPN off and on again (ticket #1)."),
                         (2002, "faq_vpn", "请重新连接 VPN(工单 #2)。")]
    answered = Event.get(Event.kind == "faq.answered")
    assert (answered.actor, answered.details) == ("faq:vpn", {"faq": "vpn", "matched": "vpn not working"})

    assert desk("faq", "add", "parcel", "--answer", "faq_vpn", "--phrase", "en:where is my parcel",
                "--disabled").exit_code == 0
    says(db, 2003, 1, "where is my parcel?")
    assert len(answers()) == 2  # a disabled entry answers nothing
    assert desk("faq", "enable", "parcel").exit_code == 0
    says(db, 2003, 2, "so where is my parcel?")
    assert answers()[2:] == [(2003, "faq_vpn", "Switch the VPN off and on again (ticket #3).")]
    assert desk("faq", "remove", "vpn", "--yes").exit_code == 0
    says(db, 2004, 1, "vpn down")
    assert len(answers()) == 3

"""`tgesc staff list | show | add | set | remove` through the real CLI entry point."""

from __future__ import annotations

import json

import pytest
from support import ok_json

BOB = {"handle": "bob", "id": 5001, "name": "Bob Li", "username": "boblee", "role": "agent",
       "tiers": ["L1", "L2"], "language": "en", "active": True}


@pytest.fixture
def desk(desk):
    added = desk("staff", "add", "bob", "--id", "5001", "--name", "Bob Li", "--username", "@boblee",
                "--tier", "L2", "--tier", "L1")
    assert added.exit_code == 0, added
    return desk


def show(cli, handle: str) -> dict:
    return ok_json(cli("staff", "show", handle, "--json"))


def test_add_show_and_list_round_trip(cli, db_url):
    assert cli("init", "--quiet").exit_code == 0
    assert cli("staff", "list").stdout == "(none)\n"
    added = cli("staff", "add", "bob", "--id", "5001", "--name", "Bob Li", "--username", "@boblee",
                "--tier", "L2", "--tier", "L1", "--json")
    assert added.exit_code == 0, added
    assert json.loads(added.stdout) == BOB
    assert added.stderr == "Added staff.bob.\n"
    assert show(cli, "bob") == BOB
    assert cli("staff", "add", "ana", "--id", "5002", "--role", "lead", "--language", "ru", "--inactive").exit_code == 0
    listed = cli("staff", "list")
    assert listed.exit_code == 0, listed
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["handle", "id", "name", "username", "role", "tiers", "language", "active"]
    assert lines[2].split() == ["ana", "5002", "lead", "ru", "no"]
    assert lines[3].split() == ["bob", "5001", "Bob", "Li", "boblee", "agent", "L1,", "L2", "en", "yes"]
    as_json = json.loads(cli("staff", "list", "--json").stdout)
    assert list(as_json) == ["ana", "bob"]
    assert as_json["ana"] == {"id": 5002, "name": "", "role": "lead", "tiers": [], "language": "ru", "active": False}


def test_set_one_field_leaves_the_others(desk):
    result = desk("staff", "set", "bob", "--role", "lead")
    assert result.exit_code == 0, result
    assert show(desk, "bob") == {**BOB, "role": "lead"}
    assert desk("staff", "set", "bob", "--username", "").exit_code == 0
    expected = {k: v for k, v in BOB.items() if k != "username"}
    assert show(desk, "bob") == {**expected, "role": "lead"}
    assert desk("staff", "set", "bob", "--name", "", "--inactive").exit_code == 0
    assert show(desk, "bob") == {**expected, "role": "lead", "name": "", "active": False}


def test_tier_list_is_replaced_or_edited(desk):
    assert desk("staff", "set", "bob", "--add-tier", "L3", "--remove-tier", "L1").exit_code == 0
    assert show(desk, "bob")["tiers"] == ["L2", "L3"]
    assert desk("staff", "set", "bob", "--tier", "L1").exit_code == 0
    assert show(desk, "bob")["tiers"] == ["L1"]
    assert desk("staff", "set", "bob", "--tier", "").exit_code == 0
    assert show(desk, "bob")["tiers"] == []
    missing = desk("staff", "set", "bob", "--remove-tier", "L2")
    assert missing.exit_code == 1
    assert missing.stderr == "Error: staff.bob.tiers does not contain 'L2'; nothing to remove\n"


def test_errors_and_exit_codes(desk):
    unknown_tier = desk("staff", "set", "bob", "--add-tier", "L9")
    assert unknown_tier.exit_code == 1
    assert "staff.bob.tiers: there is no tier 'L9'" in unknown_tier.stderr
    assert show(desk, "bob") == BOB  # nothing saved
    assert desk("staff", "set", "bob", "--role", "boss").exit_code == 2
    assert desk("staff", "set", "bob").exit_code == 2  # nothing to change
    assert desk("staff", "add", "bob", "--id", "7").exit_code == 1  # exists
    clash = desk("staff", "add", "eve", "--id", "5001")
    assert clash.exit_code == 1 and "staff.eve.id: 5001 is already used by staff.bob" in clash.stderr
    nobody = desk("staff", "set", "nobody", "--name", "x")
    assert nobody.exit_code == 1 and "there is no staff member 'nobody'" in nobody.stderr
    assert desk("staff", "show", "nobody").exit_code == 1
    assert desk("staff", "add", "eve").exit_code == 2  # --id is required


def test_remove_needs_yes_off_a_terminal(desk):
    refused = desk("staff", "remove", "bob")
    assert refused.exit_code == 2 and "needs --yes" in refused.stderr
    dry = desk("staff", "remove", "bob", "--dry-run")
    assert dry.exit_code == 0 and "Would remove staff.bob" in dry.stderr
    assert show(desk, "bob") == BOB
    assert desk("staff", "remove", "bob", "--yes").exit_code == 0
    assert desk("staff", "show", "bob").exit_code == 1
    assert desk("staff", "remove", "bob", "--yes").exit_code == 1


def test_tier_in_use_by_staff_cannot_be_removed(desk):
    assert desk("tier", "add", "L4", "--name", "Vendor", "--level", "4").exit_code == 0
    assert desk("staff", "set", "bob", "--add-tier", "L4").exit_code == 0
    refused = desk("tier", "remove", "L4", "--yes")
    assert refused.exit_code == 1 and "it is still used by staff.bob.tiers;" in refused.stderr

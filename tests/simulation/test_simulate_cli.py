"""`tgesc simulate SCENARIO.toml ...` as a user runs it: the transcript and ticket table, `--json` (one document
or a list), `--config` instead of a scenario's own, the user's own desk left alone, and every mistake (in a file,
or found while playing it) an exit 1 naming the file, step and field, with nothing on stdout."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from scenario_support import HEAD, REFUND, failed, marking, rule_file, scenario
from support import cells

KEYS = ["scenario", "messages", "tickets", "events"]


def escalations(document: dict) -> list[tuple]:
    return [(e["detail"]["trigger"], e["detail"].get("rule"), e["detail"]["to"])
            for e in document["events"] if e["kind"] == "escalated"]


# --- output ---------------------------------------------------------------------------------------------------


def test_the_text_output_is_the_transcript_then_the_ticket_table(tgesc_bin):
    process = tgesc_bin(["simulate", str(REFUND)])
    assert process.returncode == 0, process.stderr
    lines = process.stdout.rstrip("\n").splitlines()
    assert lines[0] == "Scenario: 1-refund-to-l2.toml"
    assert "── Mon 2 Mar 2026 ──" in lines
    for pattern in (r"10:00  alice → bot +I was charged twice for my subscription this month, I want a refund",
                    r"10:00  bot → alice +Dear Alice, I'm very sorry for the inconvenience\.",
                    r"10:00  bot → L2 #1 +#1 · @alice \(id 1001\) · L2 · priority high",
                    r"10:00  ⇧ #1 escalated L1 → L2 \(keyword: refund\)",
                    r"10:01  alice → bot +\[photo\]  Here is my bank statement",
                    r"10:12  carol → L2 #1 +Hello Alice, I can see both charges\.",
                    r"10:20  ✔ #1 resolved by carol"):
        assert any(re.match(pattern, line) for line in lines), pattern
    table = lines[lines.index("Tickets"):]
    assert cells(table[1]) == ["number", "customer", "status", "tier", "priority", "emotion", "tags", "survey"]
    assert cells(table[3]) == ["1", "alice", "resolved", "L2", "high", "calm", "billing, refund", "scheduled"]
    assert len(table) == 4


def test_json_with_one_file_is_one_document_with_two_files_a_list(cli, tmp_path):
    own = scenario(tmp_path / "own.toml", config="refund-off.toml")
    rule_file(tmp_path / "refund-off.toml", enabled="false")
    plain = scenario(tmp_path / "plain.toml")
    result = cli("simulate", str(own), str(plain), "--json")
    assert result.exit_code == 0, result
    both = json.loads(result.stdout)
    assert isinstance(both, list) and [sorted(doc) for doc in both] == [sorted(KEYS)] * 2
    assert [doc["scenario"] for doc in both] == ["own.toml", "plain.toml"]
    assert escalations(both[0]) == []  # the scenario's own config disabled the rule
    assert escalations(both[1]) == [("keyword", "refund", "L2")]

    result = cli("simulate", str(plain), "--json")
    one = json.loads(result.stdout)
    assert isinstance(one, dict) and list(one) == KEYS
    assert one["scenario"] == "plain.toml" and one["tickets"] == both[1]["tickets"]


# --- --config -------------------------------------------------------------------------------------------------


def test_config_on_the_command_line_disables_the_refund_rule(cli, tmp_path):
    off = rule_file(tmp_path / "off.toml", enabled="false")
    result = cli("simulate", str(REFUND), "--config", str(off), "--json")
    assert result.exit_code == 0, result
    document = json.loads(result.stdout)
    assert not [e for e in document["events"] if e["kind"] == "rule_fired" and e["detail"]["rule"] == "refund"]
    [row] = document["tickets"]
    assert (row["priority"], row["tags"]) == ("medium", [])
    # no keyword escalation: the ticket waits in L1 until the unresolved-for rule takes it up at 15 minutes
    assert escalations(document) == [("unresolved", "unresolved-15m", "L2")]
    assert [e["at"] for e in document["events"] if e["kind"] == "escalated"] == ["2026-03-02T10:15:00+00:00"]


def test_config_on_the_command_line_wins_over_the_scenarios_own(cli, tmp_path):
    rule_file(tmp_path / "refund-off.toml", enabled="false")
    own = scenario(tmp_path / "own.toml", config="refund-off.toml")
    urgent = rule_file(tmp_path / "urgent.toml", priority='"urgent"')
    result = cli("simulate", str(own), "--config", str(urgent), "--json")
    assert result.exit_code == 0, result
    document = json.loads(result.stdout)
    # instead of the scenario's own (which disables the rule), not on top of it: the rule fires, made urgent
    assert escalations(document) == [("keyword", "refund", "L2")]
    assert document["tickets"][0]["priority"] == "urgent"


# --- the user's own desk --------------------------------------------------------------------------------------


def test_the_users_own_desk_is_left_alone(cli, tmp_path):
    assert cli("init", "--quiet").exit_code == 0
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in cli.home.rglob("*") if path.is_file()}
    played = scenario(tmp_path / "cli.toml", 'at = "+1m"\ncli = "ticket escalate 1 --quick --to L3 --reason outage"')
    result = cli("simulate", str(played), "--json")
    assert result.exit_code == 0, result
    document = json.loads(result.stdout)
    assert escalations(document)[-1] == ("quick", None, "L3")  # the command ran on the simulated desk
    listed = cli("ticket", "list", "--json")
    assert listed.exit_code == 0, listed
    assert json.loads(listed.stdout) == []
    after = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in cli.home.rglob("*") if path.is_file()}
    assert after == before


# --- mistakes in the files: nothing runs ----------------------------------------------------------------------


BAD_FILES = {
    "press-without-customer": ('at = "+1m"\npress = 2', ["step 2", "field 'press'", "needs `customer`"]),
    "unknown-field": ('at = "+1m"\ncustomer = "alice"\ntext = "hi"\ncolour = "red"',
                      ["step 2", "field 'colour'", "unknown field"]),
    "staff-without-ticket": ('at = "+1m"\nstaff = "bob"\ntext = "hi"', ["step 2", "field 'ticket'"]),
    "worker-refused": ('at = "+1m"\ncli = "worker bot"', ["step 2", "field 'cli'", "`tgesc worker` is not available"]),
    "simulate-refused": ('at = "+1m"\ncli = "simulate other.toml"',
                         ["step 2", "field 'cli'", "`tgesc simulate` is not available"]),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_scenario_exits_1_naming_the_step_and_field_and_nothing_runs(cli, tmp_path, case):
    step, parts = BAD_FILES[case]
    bad = scenario(tmp_path / "bad.toml", step)
    failed(cli("simulate", str(bad)), "bad.toml: ", *parts)
    good, marker = marking(tmp_path)
    failed(cli("simulate", str(good), str(bad), "--json"), "bad.toml: ", *parts)
    assert not marker.exists()  # the good file, first, was not played either


def test_a_toml_syntax_error_names_the_file_and_line(cli, tmp_path):
    bad = tmp_path / "broken.toml"
    text = HEAD.format(config="") + '\n[[steps]\nat = "+1m"\n'
    bad.write_text(text, encoding="utf-8")
    line = text.splitlines().index("[[steps]") + 1
    good, marker = marking(tmp_path)
    failed(cli("simulate", str(good), str(bad)), "broken.toml: not valid TOML", f"line {line},")
    assert not marker.exists()


def test_a_good_scenario_with_a_cli_step_is_played(cli, tmp_path):
    """The control for the tests above: the marker's step does run when the file is played."""
    good, marker = marking(tmp_path)
    result = cli("simulate", str(good))
    assert result.exit_code == 0, result
    assert "$ tgesc config export" in result.stdout
    assert "[rules.refund]" in marker.read_text(encoding="utf-8")


# --- problems found while playing -----------------------------------------------------------------------------


RUNTIME = {
    "no-such-ticket-yet": ('at = "+1m"\nstaff = "bob"\nticket = 2\ntext = "Hello"',
                           ["step 2", "field 'ticket'", "there is no ticket #2 at this point"]),
    "press-without-buttons": ('at = "+1m"\ncustomer = "alice"\npress = 2',
                              ["step 2", "field 'press'", "the bot has sent alice no message with buttons"]),
    "command-fails": ('at = "+1m"\ncli = "ticket escalate 9 --to L2 --reason x"',
                      ["step 2", "field 'cli'", "`tgesc ticket escalate 9 --to L2 --reason x` exited 1",
                       "no ticket #9"]),
    "unknown-staff": ('at = "+1m"\nstaff = "nobody"\nticket = 1\ntext = "Hello"',
                      ["step 2", "field 'staff'", "no staff member 'nobody' in the scenario or the configuration"]),
}


@pytest.mark.parametrize("case", RUNTIME)
def test_a_step_that_cannot_be_carried_out_exits_1_naming_it_and_prints_nothing(cli, tmp_path, case):
    step, parts = RUNTIME[case]
    bad = scenario(tmp_path / "bad.toml", step)
    good = scenario(tmp_path / "good.toml")
    failed(cli("simulate", str(good), str(bad)), "bad.toml: ", *parts)


def test_scenario_staff_in_an_unknown_tier_exits_1_naming_the_entry(cli, tmp_path):
    bad = scenario(tmp_path / "tiers.toml")
    bad.write_text(bad.read_text(encoding="utf-8").replace('tiers = ["L1"]', 'tiers = ["L1", "L9"]'),
                   encoding="utf-8")
    failed(cli("simulate", str(bad), "--json"), "tiers.toml: field 'staff.bob'", "no tier 'L9'")


# --- a scenario touches its own throwaway desk only -----------------------------------------------------------


ROOT_OPTIONS = ["--home {home}", "--database-url sqlite:///{home}/tgesc.db", "--home={home}",
                "--redis-url redis://127.0.0.1:1/0", "--env-file {home}/x.env", "--tz UTC", "--help"]


@pytest.mark.parametrize("option", ROOT_OPTIONS)
def test_a_root_option_in_a_cli_step_is_refused_and_the_real_desk_is_left_alone(cli, tmp_path, option):
    assert cli("init", "--quiet").exit_code == 0
    opened = cli("ticket", "open", "--customer", "42", "--text", "my order never came")
    assert opened.exit_code == 0, opened
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in cli.home.rglob("*") if path.is_file()}
    line = option.format(home=cli.home) + " ticket close 1"
    bad = scenario(tmp_path / "escape.toml", f'at = "+1m"\ncli = "{line}"')
    failed(cli("simulate", str(bad)), "escape.toml: step 2: field 'cli': ", f"`{option.split()[0].split('=')[0]}`",
           "option of tgesc itself")
    after = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in cli.home.rglob("*") if path.is_file()}
    assert after == before
    shown = cli("ticket", "show", "1", "--json")
    assert json.loads(shown.stdout)["status"] == "open", shown


HOSTILE_SETTINGS = {"TGESC_FLOOD_LIMIT": "1/1d", "TGESC_LIFECYCLE_SWEEP_EVERY": "1d",
                    "TGESC_ASSIGNMENT_SWEEP_EVERY": "1d", "TGESC_TIMEZONE": "Pacific/Kiritimati",
                    "TGESC_ACTOR": "intruder", "TGESC_SLA_SWEEP_EVERY": "1d", "TGESC_UNRESOLVED_SWEEP_EVERY": "1d",
                    "TGESC_SURVEY_DELAY": "48h", "TGESC_SURVEY_HOURS": "03:00-04:00", "TGESC_CLOCK": "file:/nowhere"}


def test_the_environments_and_dot_envs_settings_do_not_reach_the_simulated_desk(cli, tmp_path):
    played = scenario(tmp_path / "env.toml", 'at = "+1m"\ncustomer = "alice"\ntext = "and a second charge today"\n'
                      '\n[[steps]]\nat = "+2m"\ncli = "ticket note 1 checked"')
    plain = cli("simulate", str(played), "--json")
    assert plain.exit_code == 0, plain
    (tmp_path / ".env").write_text("".join(f"{key}={value}\n" for key, value in HOSTILE_SETTINGS.items()),
                                   encoding="utf-8")
    from_dot_env = cli("simulate", str(played), "--json", env={"TGESC_ENV_FILE": None})
    from_environment = cli("simulate", str(played), "--json", env=HOSTILE_SETTINGS)
    for result in (from_dot_env, from_environment):
        assert result.exit_code == 0, result
        assert json.loads(result.stdout) == json.loads(plain.stdout)


def test_a_message_the_bot_fails_to_handle_fails_the_run_naming_the_step(cli, tmp_path, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("the configuration breaks every message")

    monkeypatch.setattr("tgesc.services.telegram.dispatch.customer_message", broken)
    played = scenario(tmp_path / "broken.toml", 'at = "+1m"\ncustomer = "alice"\ntext = "hello?"')
    failed(cli("simulate", str(played), "--json"), "broken.toml: step 1: field 'customer': ",
           "the bot failed to handle alice's message", "RuntimeError: the configuration breaks every message")


def test_a_sweep_that_fails_fails_the_run_naming_the_step(cli, tmp_path, monkeypatch):
    def broken(*_args, **_kwargs):
        raise ValueError("year 10000 is out of range")

    from tgesc.services.sweeps import sla
    from tgesc.services.sweeps.batches import Sweep

    monkeypatch.setattr(sla, "SLA_SWEEP", Sweep(sla.SLA_SWEEP.due, broken))
    played = scenario(tmp_path / "sweep.toml", 'at = "+1h"')
    failed(cli("simulate", str(played)), "sweep.toml: step 2: field 'at': ", "sla_sweep",
           "ValueError: year 10000 is out of range")


def test_a_tier_that_assigns_by_itself_reports_assigned_by_auto(cli, tmp_path):
    config = tmp_path / "l2-assigns.toml"
    config.write_text('[tiers.L2]\nname = "Second line"\nlevel = 2\nassign = "round-robin"\n', encoding="utf-8")
    own = tmp_path / "assigned.toml"
    own.write_text(HEAD.format(config="") + '\n[staff.carol]\nid = 5002\ntiers = ["L2"]\n', encoding="utf-8")
    result = cli("simulate", str(own), "--config", str(config), "--json")
    assert result.exit_code == 0, result
    document = json.loads(result.stdout)
    assert [(e["ticket"], e["detail"]) for e in document["events"] if e["kind"] == "assigned"] == [
        (1, {"to": "carol", "by": "auto"})]


def test_bind_works_in_a_staff_step_like_in_telegram(cli, tmp_path):
    own = scenario(tmp_path / "bind.toml", 'at = "+1m"\nstaff = "dave"\nticket = 1\ntext = "/bind L2"')
    own.write_text(own.read_text(encoding="utf-8") + '\n[[steps]]\nat = "+2m"\nstaff = "dave"\nticket = 1\n'
                   'text = "/bind L3"\n\n[staff.dave]\nid = 5003\nrole = "admin"\n', encoding="utf-8")
    result = cli("simulate", str(own), "--json")
    assert result.exit_code == 0, result
    answers = [m["text"] for m in json.loads(result.stdout)["messages"]
               if m["direction"] == "out" and m["chat"] == "L2" and "staff chat" in m["text"]]
    assert answers == [
        "This forum already is L2's staff chat.\nThe bot's rights in this forum: ✓ post messages, ✓ manage topics, "
        "✓ pin messages. It has every right it needs.",
        "This forum is L2's staff chat already, so it was not made L3's: a group serves one tier. To move it, free it "
        "first with `tgesc tier set L2 --chat ''` (L2 then has no staff chat until it gets another), then send /bind "
        "L3 here again."]


def test_a_staff_step_may_write_in_a_new_group_and_bind_it(cli, tmp_path):
    own = scenario(tmp_path / "new-group.toml", 'at = "+1m"\nstaff = "dave"\nchat = "forum:Night desk"\n'
                                                'text = "/bind L3"')
    own.write_text(own.read_text(encoding="utf-8") + '\n[[steps]]\nat = "+2m"\nstaff = "dave"\nchat = "L1"\n'
                   'text = "/id"\n\n[staff.dave]\nid = 5003\nrole = "admin"\n', encoding="utf-8")
    result = cli("simulate", str(own), "--json")
    assert result.exit_code == 0, result
    document = json.loads(result.stdout)
    bound = [m["text"] for m in document["messages"] if m["direction"] == "out" and m["chat"] == "forum:Night desk"]
    assert len(bound) == 1 and bound[0].startswith("This forum is now L3's staff chat")
    assert "✓ manage topics" in bound[0]
    ids = [m["text"] for m in document["messages"] if m["direction"] == "out" and m["chat"] == "L1"]
    assert ids and ids[-1].startswith("This chat's id: -100") and "Your user id: 5003." in ids[-1]

    wrong = scenario(tmp_path / "wrong.toml", 'at = "+1m"\nstaff = "bob"\nchat = "L9"\ntext = "/id"')
    refused = cli("simulate", str(wrong))
    assert refused.exit_code != 0 and "'L9' is no tier's staff chat" in refused.stderr

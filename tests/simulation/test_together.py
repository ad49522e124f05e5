"""Stories played together on one desk (`tgesc simulate --together`, simulation.together): one timeline, and
each story's ticket numbers its own (a staff step's `ticket`, a command's `ticket VERB N`), translated to the
desk's while it plays; what cannot share a desk (one name for two people, one id for two names, two
configurations, a command whose ticket cannot be translated) is refused before anything plays."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from scenario_support import EXAMPLES, REFUND, failed, marking, scenario
from support import ok_json

from tgesc.domain.scenario import ScenarioError, Step, load_scenario
from tgesc.simulation.together import StoryTickets, together

PHONE = EXAMPLES / "9-phone-case-from-the-cli.toml"  # ticket open, then ticket reply/message/resolve 1 --as bob
SILENT = EXAMPLES / "13-customer-never-answers.toml"  # ticket wait 1 --reply ...
MANAGER = EXAMPLES / "2-three-manager-requests.toml"  # bob answers in ticket 1's thread
MINUTE = timedelta(minutes=1)


def test_each_story_works_its_own_tickets_whatever_the_desks_numbers(cli):
    document = ok_json(cli("simulate", str(REFUND), str(PHONE), str(MANAGER), str(SILENT), "--together", "--json"))
    numbers = {row["customer"]: row["number"] for row in document["tickets"]}
    assert numbers == {"alice": 1, "dan": 2, "ben": 3, "jack": 4}  # alice wrote at 10:00, before dan's ticket open
    said = {(m["chat"], m["text"]) for m in document["messages"] if m["from"] == "bot"}
    assert ("dan", "Sorry about that, Dan: it left our warehouse yesterday and arrives tomorrow.") in said
    assert ("alice", "Hello Alice, I can see both charges. I have refunded the second one; it reaches your card in "
                     "3-5 days.") in said
    assert ("ben", "Hi Ben, let me check with the courier.") in said
    assert ("jack", "Which order number is it?") in said
    kinds = {(event["ticket"], event["kind"]) for event in document["events"]}
    assert {(2, "ticket_replied"), (2, "resolved"), (4, "waiting"), (1, "resolved")} <= kinds
    assert (3, "resolved") not in kinds and (1, "waiting") not in kinds


def test_the_transcript_shows_the_commands_with_the_desks_numbers(cli):
    result = cli("simulate", str(REFUND), str(PHONE), "--together")
    assert result.exit_code == 0, result
    assert result.stdout.startswith("Scenario: 1-refund-to-l2.toml + 9-phone-case-from-the-cli.toml\n")
    assert "$ tgesc ticket resolve 2 --as bob" in result.stdout


def test_a_story_naming_a_ticket_it_has_not_opened_fails_naming_its_step(cli, tmp_path):
    bad = scenario(tmp_path / "bad.toml", 'at = "+1m"\nstaff = "bob"\nticket = 2\ntext = "Hello"')
    bad.write_text(bad.read_text(encoding="utf-8").replace("alice", "amy").replace("1001", "1002"), encoding="utf-8")
    failed(cli("simulate", str(scenario(tmp_path / "good.toml")), str(bad), "--together"),
           "bad.toml: step 2: field 'ticket': this story has no ticket #2 at this point (it has opened 1)")


@pytest.mark.parametrize(("files", "reason"), [
    ((EXAMPLES / "3-outage-to-l3.toml", PHONE),
     "9-phone-case-from-the-cli.toml: field 'customers.dan': another story has a customers entry named 'dan'"),
    ((EXAMPLES / "6-other-timezone-after-hours.toml", EXAMPLES / "17-shift-ends-hands-back.toml"),
     "share one desk and one configuration, but 6-other-timezone-after-hours.toml"),
])
def test_what_cannot_share_a_desk_is_refused_before_anything_plays(cli, tmp_path, files, reason):
    good, marker = marking(tmp_path)
    failed(cli("simulate", str(good), *map(str, files), "--together"), reason)
    assert not marker.exists()


def test_one_configuration_given_lets_stories_of_two_share_a_desk(cli):
    files = (EXAMPLES / "6-other-timezone-after-hours.toml", EXAMPLES / "17-shift-ends-hands-back.toml")
    config = EXAMPLES / "policies" / "l2-shifts.toml"
    document = ok_json(cli("simulate", *map(str, files), "--together", "--config", str(config), "--json"))
    assert sorted(row["customer"] for row in document["tickets"]) == ["alice", "ben", "wang"]


@pytest.mark.parametrize(("line", "reason"), [
    ("ticket escalate --to L2 1 --reason x", "a ticket command names its ticket right after the verb"),
    ("survey send 1", "`tgesc survey` commands are not translated"),
])
def test_a_command_whose_ticket_cannot_be_translated_is_refused(tmp_path, line, reason):
    story = load_scenario(scenario(tmp_path / "story.toml", f'at = "+1m"\ncli = "{line}"'))
    with pytest.raises(ScenarioError, match=f"story.toml: step 2: field 'cli': .*{reason}"):
        together([story], name="one")


def test_one_id_for_two_names_is_refused(tmp_path):
    first = load_scenario(scenario(tmp_path / "a.toml"))
    other = dataclasses.replace(load_scenario(scenario(tmp_path / "b.toml")), name="b.toml")
    renamed = {"ann": dataclasses.replace(first.customers["alice"], key="ann")}
    with pytest.raises(ScenarioError, match="b.toml: field 'customers.ann.id': 1001 is already alice's id in a.toml"):
        together([first, dataclasses.replace(other, customers=renamed)], name="both")


def test_steps_keep_their_story_and_number_in_one_timeline(tmp_path):
    early = load_scenario(scenario(tmp_path / "early.toml", 'at = "+5m"'))
    late = load_scenario(scenario(tmp_path / "late.toml", 'at = "+1m"'))
    late = dataclasses.replace(late, start=late.start - MINUTE, steps=tuple(
        dataclasses.replace(step, at=step.at - MINUTE) for step in late.steps))  # a minute earlier
    merged = together([early, late], name="both")
    assert merged.start == late.start
    assert [(step.story, step.number, step.at.minute) for step in merged.steps] == [
        ("late.toml", 1, 59), ("early.toml", 1, 0), ("late.toml", 2, 0), ("early.toml", 2, 5)]


def test_story_tickets_translate_and_learn_in_the_order_opened():
    stories = StoryTickets()
    at = datetime(2026, 3, 2, 10, tzinfo=UTC)
    stories.learn(Step(number=1, at=at, customer="ann", story="a"), [1])
    stories.learn(Step(number=1, at=at, customer="bo", story="b"), [2, 3])
    step = Step(number=4, at=at, staff="bob", ticket=2, text="Hello", story="b")
    assert stories.translated(step).ticket == 3 and stories.last == 3
    command = Step(number=5, at=at, cli=("ticket", "resolve", "1", "--as", "bob"), cli_line="ticket resolve 1",
                   story="a")
    assert stories.translated(command).cli_line == "ticket resolve 1 --as bob"
    alone = Step(number=1, at=at, staff="bob", ticket=7, text="Hi")
    assert stories.translated(alone) is alone
    with pytest.raises(ScenarioError, match="a: step 6: field 'ticket': this story has no ticket #2"):
        stories.translated(Step(number=6, at=at, staff="bob", ticket=2, text="Hi", story="a"))

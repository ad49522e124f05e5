"""examples/9-phone-case-from-the-cli.toml is a test: a case worked entirely from the command line (`ticket open`,
`ticket reply`, `ticket message --from-customer`, `ticket resolve`) goes through the bot's path, as its header
comment states."""

from __future__ import annotations

from pathlib import Path

from tgesc.cli.main import run
from tgesc.domain.scenario import load_scenario
from tgesc.domain.telegram import OWN_MESSAGE_IDS
from tgesc.simulation.runner import run_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "9-phone-case-from-the-cli.toml"
REPLY = "Sorry about that, Dan: it left our warehouse yesterday and arrives tomorrow."


def test_a_phone_case_worked_from_the_cli_goes_through_the_bots_path():
    doc = run_scenario(load_scenario(EXAMPLE), run_command=run)
    assert [(e["at"][11:16], e["kind"], e["detail"]) for e in doc["events"]] == [
        ("10:00", "created", {"channel": "cli", "by": "bob"}),
        ("10:02", "ticket_replied", {"chat_id": 1004, "first": True, "message_id": OWN_MESSAGE_IDS + 2}),
        ("10:02", "card_updated", {"cause": "ticket_replied", "tier": "L1"}),  # the card: first response met
        ("10:10", "card_updated", {"cause": "customer_message", "tier": "L1"}),  # the next response is owed
        ("10:12", "resolved", {"survey": True, "reason": "staff", "by": "bob"}),  # nothing escalates or breaches
        ("10:12", "card_updated", {"cause": "resolved", "tier": "L1"})]
    out = [(m["at"][11:16], m["chat"], m["text"].split("\n")[0]) for m in doc["messages"] if m["direction"] == "out"]
    assert out[1:] == [
        ("10:00", "L1", "#1 · @dan (id 1004) · L1 · priority medium · calm"),  # the card opens the thread
        ("10:02", "dan", REPLY),  # relayed through the bot
        ("10:02", "L1", f"bob → customer (#1): {REPLY}"),  # and shown in the thread
        ("10:10", "L1", "Dan (#1): Thanks, I will wait until tomorrow"),  # the e-mail, mirrored like a message
        ("10:12", "dan", "Your ticket #1 has been resolved. If the problem is not solved, just write here within 3 "
                         "days and the ticket reopens; after that, a message starts a new ticket.")]
    [ticket] = doc["tickets"]
    assert (ticket["status"], ticket["tier"], ticket["survey"]["status"]) == ("resolved", "L1", "scheduled")

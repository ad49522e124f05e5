"""The handover checklist filled in from a ticket's thread, through the real bot: /first and /expected read in the
customer's zone, /evidence, /checklist with buttons a tap fills in, and /escalate accepted once it is complete,
without the command line."""

from __future__ import annotations

from datetime import UTC, datetime

from bot_support import command, escalated_to_l2, last_message_id
from pyrogram import raw

from tgesc.models import Customer, Event, Ticket


def press(bot, who: str, data: str) -> str:
    """`who` presses the button `data` under the bot's last message in L2; the answer the press got."""
    chat = bot.chats["L2"]
    bot.connection.feed(bot.wire.callback(bot.people[who], chat, last_message_id(bot, chat, outgoing=True), data))
    bot.deliver()
    return bot.wire.sent(raw.functions.messages.SetBotCallbackAnswer)[-1].message


def test_the_checklist_is_filled_in_from_the_thread_and_escalation_then_goes_through(bot):
    escalated_to_l2(bot)
    Customer.update(timezone="Asia/Shanghai").where(Customer.telegram_id == 1001).execute()
    refused = command(bot, "/escalate L3 needs a developer")
    assert "the handover checklist is incomplete" in refused and "/first WHEN in the thread" in refused

    shown = command(bot, "/checklist")
    assert shown.splitlines() == [
        "Handover checklist of #1 (times in Asia/Shanghai, the customer's zone):",
        "✗ first occurred: /first WHEN", "✗ evidence: /evidence", "✗ tried (0 of 3): /tried TEXT",
        "✗ expected resolution by: /expected WHEN"]
    buttons = [[b.type.data.decode() for b in row.buttons]
               for row in bot.wire.sent(raw.functions.messages.SendMessage)[-1].reply_markup.rows]
    assert buttons == [["checklist:1:evidence"], ["checklist:1:first-today", "checklist:1:first-yesterday"]]

    assert command(bot, "/first 2026-03-01 14:30") == (
        "#1: first occurred 2026-03-01 14:30. Still missing: /evidence, /tried TEXT, /expected WHEN.")
    assert Ticket.get().first_occurred_at == datetime(2026, 3, 1, 6, 30, tzinfo=UTC)  # 14:30 in Shanghai
    assert press(bot, "carol", "checklist:1:evidence") == "#1: evidence is in."
    assert Ticket.get().evidence_provided is True
    command(bot, "/tried refunded the second charge by hand")
    assert command(bot, "/expected 2026-03-03") == (
        "#1: expected resolution by 2026-03-03 00:00. The handover checklist is complete.")
    assert command(bot, "/escalate L3 needs a developer") == "#1 escalated to L3."
    assert [e.actor for e in Event.select().where(Event.kind == "ticket.checklist")] == ["carol"] * 3


def test_mistakes_and_strangers_are_told_why(bot):
    escalated_to_l2(bot)
    assert "/first: 'yesterday' is not an instant" in command(bot, "/first yesterday")
    assert "say nothing (or yes) when it is in, no when it is not" in command(bot, "/evidence maybe")
    command(bot, "/checklist")
    assert press(bot, "bob", "checklist:1:first-today") == (  # bob works L1 only
        "Only staff of this ticket's tier (and admins) can fill in its checklist.")
    assert Ticket.get().first_occurred_at is None
    assert press(bot, "dave", "checklist:1:first-yesterday").startswith("#1: first occurred 2026-03-01 (")
    assert command(bot, "/evidence no").startswith("#1: no evidence yet. Still missing: /evidence")

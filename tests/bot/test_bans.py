"""Bans through the real bot: a lead or an admin bans the customer from a ticket's thread (`/ban [DURATION]
REASON`); what the customer writes then is stored and goes no further (no ticket opened, no rule, no mirror, no
answer) but for one notice per ban; the ban ends by itself or with `/unban`; agents may not ban."""

from __future__ import annotations

from datetime import timedelta

from bot_support import command, escalated_to_l2

from tgesc.models import Customer, Event, Message, Outbox, Ticket


def customer_texts() -> list[tuple[int | None, str]]:
    return [(m.ticket.number if m.ticket_id else None, m.text)
            for m in Message.select().where(Message.sender == "customer").order_by(Message.id)]


def staff_rows() -> int:
    return Outbox.select().where(Outbox.chat_id < 0).count()


def test_a_banned_customer_is_stored_not_answered_and_told_once(bot):
    escalated_to_l2(bot)
    answer = command(bot, "/ban 7d insults the staff", who="dave")
    assert "banned until 2026-03-09" in answer
    alice = Customer.get(Customer.telegram_id == 1001)
    assert alice.ban_reason == "insults the staff" and alice.banned_until - alice.banned_at == timedelta(days=7)

    before_staff, before_events = staff_rows(), Event.select().count()
    bot.says("alice", "you are all useless, I want a manager now")  # words that would escalate
    bot.says("alice", "/status")
    bot.says("alice", "hello??")
    bot.deliver()
    assert customer_texts()[-2:] == [(1, "you are all useless, I want a manager now"), (1, "hello??")]
    assert staff_rows() == before_staff and Event.select().count() == before_events  # nothing mirrored, no rule
    to_alice = bot.texts_to(1001)
    assert sum("paused until" in text for text in to_alice) == 1 and not any("open tickets" in t for t in to_alice)
    assert Ticket.select().count() == 1 and Ticket.get().tier.code == "L2"
    [banned] = Event.select().where(Event.kind == "customer.banned")
    assert (banned.ticket.number, banned.actor, banned.details["customer"]) == (1, "dave", 1001)


def test_a_ban_ends_by_itself_or_with_unban(bot):
    escalated_to_l2(bot)
    command(bot, "/ban 1d spam", who="dave")
    bot.clock.sleep(2 * 86_400)  # the ban is over: alice is a customer like any other again
    bot.says("alice", "Any news about my refund?")
    bot.deliver()
    assert customer_texts()[-1] == (1, "Any news about my refund?")
    assert any("Any news" in text for text in bot.texts_to(bot.chats["L2"]))

    command(bot, "/ban spam again", who="dave")
    assert command(bot, "/unban apologised", who="dave") == "The customer of #1 is no longer banned."
    assert Customer.get(Customer.telegram_id == 1001).banned_at is None
    assert [e.details["reason"] for e in Event.select().where(Event.kind == "customer.unbanned")] == ["apologised"]
    assert "is not banned" in command(bot, "/unban", who="dave")


def test_a_banned_customer_without_an_open_ticket_opens_none(bot, cli, tmp_path):
    bot.people["mallory"] = bot.wire.user(1009, first_name="Mallory", username="mallory")
    bot.says("mallory", "hi")
    bot.deliver()
    clock = tmp_path / "clock"  # the CLI on the bot's virtual time
    clock.write_text(bot.clock().isoformat())
    on_time = {"TGESC_CLOCK": f"file:{clock}"}
    assert cli("ticket", "resolve", "1", "--no-survey", env=on_time).exit_code == 0
    assert cli("ticket", "close", "1", env=on_time).exit_code == 0
    banned = cli("customer", "ban", "@mallory", "--reason", "advertising bot", env=on_time)
    assert banned.exit_code == 0, banned
    bot.says("mallory", "BUY CHEAP FOLLOWERS")
    bot.says("mallory", "BUY CHEAP FOLLOWERS NOW")
    bot.deliver()
    assert customer_texts()[-2:] == [(None, "BUY CHEAP FOLLOWERS"), (None, "BUY CHEAP FOLLOWERS NOW")]
    assert Ticket.select().count() == 1
    assert [t for t in bot.texts_to(1009) if "paused" in t] == [
        "Your messages to support are paused until further notice. What you send is kept, but nobody will answer "
        "it."]


def test_agents_may_not_ban(bot):
    escalated_to_l2(bot)
    assert "only team leads and admins may ban customers; carol is agent" in command(bot, "/ban 7d rude")
    assert Customer.get(Customer.telegram_id == 1001).banned_at is None

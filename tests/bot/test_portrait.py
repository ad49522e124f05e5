"""The customer's portrait through the real bot: staff tag, note and set the zone of a ticket's customer from its
thread (/ctag, /cnote, /tz) and every card shows it; the customer sets their own zone with /timezone, by a city or
by a tap, and every time told to them is in it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot_support import command, escalated_to_l2, last_message_id
from pyrogram import raw

from tgesc.models import Customer, Event


def test_staff_keep_the_portrait_from_the_thread_and_the_card_shows_it(bot):
    escalated_to_l2(bot)
    assert command(bot, "/ctag +vip +reseller") == "Tags of the customer of #1: reseller, vip."
    assert command(bot, "/cnote Prefers short answers") == (
        "Noted about the customer of #1: every card of theirs shows it.")
    assert command(bot, "/tz berlin") == (
        "The time zone of the customer of #1 is Europe/Berlin (it is 11:00 there now).")
    assert "is no time zone or city tgesc knows" in command(bot, "/tz Atlantis")
    alice = Customer.get(Customer.telegram_id == 1001)
    assert (alice.tags, alice.timezone) == (["reseller", "vip"], "Europe/Berlin")

    command(bot, "/card")
    card = bot.wire.sent(raw.functions.messages.SendMessage)[-1].message
    berlin = bot.clock().astimezone(ZoneInfo("Europe/Berlin"))
    assert f"Customer: zone Europe/Berlin, {berlin:%H:%M} there now · L2 works now · tags reseller, vip" in card
    assert 'Assignee: nobody yet (/take) · Escalated L1 → L2 (rule:refund): refund: keyword "refund" (en)' in card
    assert "Notes: Prefers short answers (carol)" in card
    assert [e.ticket.number for e in Event.select().where(Event.kind.startswith("customer."))] == [1, 1, 1]


def test_a_customer_names_their_zone_or_taps_one(bot):
    bot.says("wang", "/timezone")
    bot.deliver()
    question = bot.wire.sent(raw.functions.messages.SendMessage)[-1]
    assert question.message.startswith("您在哪个时区?")
    labels = [row.buttons[0].text for row in question.reply_markup.rows]
    assert labels[:2] == ["Shanghai · 18:00", "Hong Kong · 18:00"]  # Monday 10:00 UTC, zones of Chinese speakers

    bot.connection.feed(bot.wire.callback(bot.people["wang"], 1002, last_message_id(bot, 1002, outgoing=True),
                                          "tz:Asia/Taipei"))
    bot.deliver()
    assert bot.texts_to(1002)[-1] == "已设置:今后我会按 Asia/Taipei 时间告诉您所有时间(当地现在是 18:00)。"
    assert Customer.get(Customer.telegram_id == 1002).timezone == "Asia/Taipei"

    bot.says("alice", "/timezone new york")
    bot.says("alice", "/timezone Gondor")
    bot.deliver()
    answers = bot.texts_to(1001)
    assert answers[-2] == "Done: from now on I will tell you every time in America/New_York (it is 05:00 there now)."
    assert answers[-1].startswith('I do not know a time zone or city called "Gondor".')
    assert Customer.get(Customer.telegram_id == 1001).timezone == "America/New_York"

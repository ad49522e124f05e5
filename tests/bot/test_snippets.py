"""Canned replies through the real bot: `/r KEY` in a ticket's thread sends the snippet to the customer in their
language with its variables filled, as the staff member's answer (it is the first response); `/r` offers the
snippets as buttons, which only the ticket's tier (and admins) can use."""

from __future__ import annotations

from bot_support import command, escalated_to_l2, last_message_id
from pyrogram import raw

from tgesc.models import Event, Ticket
from tgesc.services.config.apply import add_entry

REFUND = {"en": "Hi $customer_name, your refund for #$ticket is on its way; $tier will write again within $eta.",
          "zh": "$customer_name 您好,工单 #$ticket 的退款已在处理中。"}


def snippets(bot) -> None:
    add_entry(bot.db, "snippets", "refund_eta", {"text": REFUND}, actor="test", now=bot.clock())
    add_entry(bot.db, "snippets", "thanks", {"text": {"en": "Thank you for your patience, <b>$customer_name</b>!"}},
              actor="test", now=bot.clock())


def test_r_sends_the_snippet_in_the_customers_language_as_the_first_response(bot):
    snippets(bot)
    escalated_to_l2(bot)
    answer = command(bot, "/r refund_eta")
    assert answer.startswith("Sent snippet refund_eta to the customer of #1: Hi Alice, your refund for #1 is on its "
                             "way; Second line will write again within ")
    told = bot.texts_to(1001)[-1]
    assert told.startswith("Hi Alice, your refund for #1 is on its way; Second line will write again within ")
    assert Ticket.get().first_responded_at is not None
    [sent] = Event.select().where(Event.kind == "snippet.sent")
    assert (sent.actor, sent.details) == ("carol", {"key": "refund_eta", "language": "en"})
    assert "there is no snippet 'nope'; the snippets: refund_eta, thanks" in command(bot, "/r nope")
    assert "is not a snippet key" in command(bot, "/r Refund ETA")

    escalated_to_l2(bot, "wang", "我被重复扣款了,我要退款 refund")
    command(bot, "/r refund_eta", thread_id=Ticket.get(Ticket.number == 2).topic_id)
    assert bot.texts_to(1002)[-1] == "Wang 您好,工单 #2 的退款已在处理中。"


def test_r_alone_offers_the_snippets_as_buttons(bot):
    snippets(bot)
    escalated_to_l2(bot)
    command(bot, "/r")
    offer = bot.wire.sent(raw.functions.messages.SendMessage)[-1]
    assert [[b.type.data.decode() for b in row.buttons] for row in offer.reply_markup.rows] == [
        ["snippet:1:refund_eta", "snippet:1:thanks"]]

    def tap(who: str, data: str) -> str:
        chat = bot.chats["L2"]
        bot.connection.feed(bot.wire.callback(bot.people[who], chat, last_message_id(bot, chat, outgoing=True), data))
        bot.deliver()
        return bot.wire.sent(raw.functions.messages.SetBotCallbackAnswer)[-1].message

    assert tap("bob", "snippet:1:thanks") == "Only staff of this ticket's tier (and admins) can answer its customer."
    assert tap("carol", "snippet:1:thanks") == "Sent thanks to the customer of #1."
    assert bot.texts_to(1001)[-1] == "Thank you for your patience, Alice!"

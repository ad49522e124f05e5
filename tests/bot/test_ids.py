"""/id through the real bot, in any chat it is in: the chat's id and the sender's, so that a new group can be
connected to a tier without looking its id up elsewhere."""

from __future__ import annotations

from bot_support import last_message_id, replied_to, to_chat

from tgesc.models import Message


def test_id_in_a_group_that_is_no_tiers_yet_and_in_private(bot):
    new_group = bot.wire.supergroup("Staff L4", forum=True)
    bot.connection.feed(bot.wire.service(new_group, bot.people["dave"]))  # dave adds the bot
    bot.connection.feed(bot.wire.group_text(new_group, bot.people["dave"], "/id"))
    typed = last_message_id(bot, new_group, outgoing=False)
    bot.says("alice", "/id")
    bot.deliver()
    [answer] = [r for r in to_chat(bot, new_group) if replied_to(r) == typed]
    assert answer.message == (
        f"This chat's id: {new_group} (supergroup, a forum).\nYour user id: 5003.\n"
        f"To make this group a tier's staff chat: /bind TIER here (an admin), or tgesc tier set TIER --chat "
        f"{new_group} --forum")
    assert bot.texts_to(1001)[-1] == "This chat's id: 1001 (private chat).\nYour user id: 1001."
    assert not Message.select().exists()  # a question to the bot, not a customer's message: no ticket

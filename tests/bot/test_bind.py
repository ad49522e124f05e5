"""/bind TIER through the real bot: an admin makes a group a tier's staff chat from Telegram, recorded and audited as
`tgesc tier set TIER --chat ID [--forum]` is, and the bot says which of the rights it needs there it has (asked of
Telegram when the answer is sent). Everyone else, and every other place, is refused with the reason."""

from __future__ import annotations

import pytest
from bot_support import escalated_to_l2, last_message_id, replied_to, to_chat
from pyrogram import raw

from tgesc.models import Event, Outbox, Tier
from tgesc.services.config.apply import set_entry

EVERY_RIGHT = "✓ post messages, ✓ manage topics, ✓ pin messages. It has every right it needs."


def new_group(bot, name: str, *, forum: bool | None = None) -> int:
    """A group dave has just added the bot to (a basic group; a supergroup with `forum` given), known as `name`."""
    chat = bot.wire.group(name) if forum is None else bot.wire.supergroup(name, forum=forum)
    bot.chats[name] = chat
    bot.connection.feed(bot.wire.service(chat, bot.people["dave"]))
    return chat


def bind(bot, text: str, *, who: str = "dave", chat: str = "new", thread_id: int | None = None) -> str:
    """`who` types `text` in `chat`; everything is delivered; the bot's one answer there, a reply to it."""
    bot.staff_says(who, chat, text, thread_id=thread_id)
    typed = last_message_id(bot, bot.chats[chat], outgoing=False)
    bot.deliver()
    answers = [r.message for r in to_chat(bot, bot.chats[chat]) if replied_to(r) == typed]
    assert len(answers) == 1, f"{text!r}: {answers}"
    return answers[0]


def tier(code: str) -> tuple[int | None, bool]:
    found = Tier.get(Tier.code == code)
    return found.staff_chat_id, found.is_forum


def config_events() -> list[tuple[str, dict]]:
    return [(e.actor, e.details) for e in Event.select().where(Event.kind == "config.change").order_by(Event.id)
            if e.actor != "test"]


def test_an_admin_binds_a_forum_where_the_bot_has_every_right_and_escalations_go_there(bot):
    old = bot.chats["L2"]
    forum = new_group(bot, "new", forum=True)
    answer = bind(bot, "/bind L2")

    assert tier("L2") == (forum, True)
    assert config_events() == [("dave", {"change": "~ tiers.L2 (staff_chat)"})]
    assert answer == (f"This forum is now L2's staff chat: each ticket that reaches it gets its own topic here. (It "
                      f"was chat {old} until now: tickets already there keep their threads there.)\n"
                      f"The bot's rights in this forum: {EVERY_RIGHT}")
    assert len(bot.wire.sent(raw.functions.channels.GetParticipant)) == 1

    bot.chats["L2"] = forum
    ticket = escalated_to_l2(bot)  # the card opens its topic in the new forum
    [topic] = [r for r in bot.wire.sent(raw.functions.messages.CreateForumTopic)
               if r.peer.channel_id == bot.wire._group(forum).id]
    assert ticket.topic_id and topic.title.startswith("#1")


def test_in_a_plain_group_without_the_pin_right_the_answer_names_exactly_that(bot):
    group = new_group(bot, "new")
    bot.wire.set_bot_rights(group, admin=False)  # a plain member: members may post, not pin
    answer = bind(bot, "/bind L1")

    assert tier("L1") == (group, False)
    assert answer.endswith(
        "The bot's rights in this group: ✓ post messages, ✗ pin messages.\nMissing: pin messages. Make the bot an "
        "administrator of the group with the right to pin messages, then send /bind again to check.")
    assert answer.startswith("This group is now L1's staff chat: each ticket that reaches it is posted here as a "
                             "card; reply to the card to work the ticket.")


def test_a_forum_where_the_bot_may_not_open_topics_says_so_and_a_second_bind_checks_again(bot):
    forum = new_group(bot, "new", forum=True)
    bot.wire.set_bot_rights(forum, manage_topics=False)
    assert "Missing: manage topics. Make the bot an administrator of the group with the right to manage topics" \
        in bind(bot, "/bind L3")

    bot.wire.set_bot_rights(forum)  # the owner fixed it
    answer = bind(bot, "/bind l3")
    assert answer == f"This forum already is L3's staff chat.\nThe bot's rights in this forum: {EVERY_RIGHT}"
    assert len(config_events()) == 1  # binding it again changed nothing


def test_when_the_bot_may_not_post_the_admin_gets_the_answer_in_private(bot):
    group = new_group(bot, "new")
    bot.wire.set_bot_rights(group, admin=False)
    bot.wire.set_member_rights(group, send=False)
    bot.staff_says("dave", "new", "/bind L1")
    bot.deliver()

    assert tier("L1") == (group, False)
    assert not to_chat(bot, group)
    assert bot.texts_to(5003) == [
        f"/bind L1 in group {group}: the bot cannot post there, so it answers here.\n"
        "This group is now L1's staff chat: each ticket that reaches it is posted here as a card; reply to the card "
        f"to work the ticket. (It was chat {bot.chats['L1']} until now: tickets already there keep their threads "
        f"there.)\nThe bot's rights in group {group}: ✗ post messages, ✗ pin messages.\nMissing: post messages, pin "
        "messages. Make the bot an administrator of the group with the right to post messages and pin messages, then "
        "send /bind again to check."]
    assert Outbox.get(Outbox.kind == "rights").status == "sent"


@pytest.mark.parametrize(("who", "text", "says"), [
    ("carol", "/bind L2", "Only admins can bind a group to a tier, and carol is an agent. Nothing was changed: an "
                          "admin can send /bind here, or run `tgesc tier set TIER --chat {chat}`."),
    ("alice", "/bind L2", "Only admins can bind a group to a tier, and you (user id 1001) are not registered as "
                          "staff. Nothing was changed"),
    ("dave", "/bind L9", "There is no tier L9; the tiers are L1, L2, L3. Nothing was changed."),
    ("dave", "/bind", "/bind needs one tier code. Usage: /bind TIER — make this group TIER's staff chat"),
])
def test_refused_binds_change_nothing_and_say_why(bot, who, text, says):
    chat = new_group(bot, "new")
    assert bind(bot, text, who=who).startswith(says.format(chat=chat))
    assert tier("L2") == (bot.chats["L2"], True) and not config_events()
    refused = [e.actor for e in Event.select().where(Event.kind == "staff.refused")]
    assert refused == ([who if who == "carol" else "telegram:1001"] if "Only admins" in says else [])


def test_a_group_that_serves_another_tier_is_not_moved(bot):
    answer = bind(bot, "/bind L3", chat="L2")
    assert answer == ("This forum is L2's staff chat already, so it was not made L3's: a group serves one tier. To "
                      "move it, free it first with `tgesc tier set L2 --chat ''` (L2 then has no staff chat until it "
                      "gets another), then send /bind L3 here again.")
    assert tier("L3") == (bot.chats["L3"], True) and not config_events()


def test_bind_in_a_private_chat_is_refused(bot):
    bot.says("dave", "/bind L2")
    bot.deliver()
    assert bot.texts_to(5003) == ["/bind works in a group: add the bot to the group that is to be a tier's staff chat, "
                                  "and send /bind TIER there (an admin)"]
    assert not config_events()


def test_a_bind_handed_over_again_by_a_catch_up_is_carried_out_and_answered_once(bot):
    old = bot.chats["L2"]
    new_group(bot, "new", forum=True)
    bind(bot, "/bind L2")
    set_entry(bot.db, "tiers", "L2", {"staff_chat": old}, actor="test", now=bot.clock())  # then moved back (CLI)
    rows, events, asked = Outbox.select().count(), config_events(), len(bot.wire.sent())

    bot.restart_forgetting_updates()  # the catch-up hands every update over again
    bot.deliver()

    assert (Outbox.select().count(), config_events(), tier("L2")) == (rows, events, (old, True))
    again = [type(r).__name__ for r in bot.wire.sent()[asked:]]
    assert "GetChannelDifference" in again
    assert not {"SendMessage", "GetParticipant"} & set(again)

"""The living card through the real bot: pinned in its topic (messages.UpdatePinnedMessage), edited in place
(messages.EditMessage) when the ticket changes, changes that come while an edit waits joined into it, a change
after an edit went out edited again, the old tier's card showing where the ticket went, and a refused pin or a
flood wait losing nothing."""

from __future__ import annotations

from bot_support import command, escalated_to_l2, last_message_id, to_chat
from pyrogram import raw

from tgesc.db import write_transaction
from tgesc.models import Customer, Event, Outbox, Ticket
from tgesc.services.customers import portrait
from tgesc.services.tickets.escalation import escalate_ticket

EditMessage, Pin = raw.functions.messages.EditMessage, raw.functions.messages.UpdatePinnedMessage


def card_edits(bot, chat_id: int, card_id: int) -> list[str]:
    """The texts the card `card_id` in `chat_id` was edited to, in order."""
    return [r.message for r in to_chat(bot, chat_id, EditMessage) if r.id == card_id]


def card_of(bot, chat_id: int) -> int:
    """The id of the ticket's card in `chat_id` (the bot's first message there with the ticket's number)."""
    return next(r.id for r in bot.wire._box(chat_id).messages.values()
                if getattr(r, "out", False) and (getattr(r, "message", "") or "").startswith("#1 · "))


def updated(cause: str | None = None) -> list[dict]:
    return [e.details for e in Event.select().where(Event.kind == "card.updated").order_by(Event.id)
            if cause is None or e.details["cause"] == cause]


def test_the_card_is_pinned_in_its_topic_and_edited_when_the_ticket_changes(bot):
    ticket = escalated_to_l2(bot)
    l2 = bot.chats["L2"]
    card = card_of(bot, l2)
    assert bot.wire.pinned[(l2, ticket.topic_id)] == card and bot.wire.last(Pin).silent
    assert card_edits(bot, l2, card) == []  # the card that opened the thread shows everything already

    command(bot, "/take")
    [taken] = card_edits(bot, l2, card)
    assert "Assignee: carol" in taken and bot.wire._box(l2).messages[card].message.startswith("#1 · @alice")
    assert updated() == [{"chat": l2, "message": card, "cause": "ticket.assigned"}]

    assert command(bot, "/first 2026-03-01 18:00").startswith("#1:")
    assert "first occurred 2026-03-01 18:00" in card_edits(bot, l2, card)[-1]
    command(bot, "/tried restarted the app")
    assert "Tried (1 of 3): restarted the app (carol)" in card_edits(bot, l2, card)[-1]
    assert len(card_edits(bot, l2, card)) == 3


def test_changes_while_an_edit_waits_join_it_and_later_ones_edit_again(bot):
    ticket = escalated_to_l2(bot)
    l2 = bot.chats["L2"]
    card = card_of(bot, l2)
    for text in ("/take", "/priority urgent", "/tag -billing"):
        bot.staff_says("carol", "L2", text, thread_id=ticket.topic_id)
    assert Outbox.select().where(Outbox.kind == "card-edit", Outbox.status == "pending").count() == 1
    bot.deliver()
    [edit] = card_edits(bot, l2, card)
    assert "Assignee: carol" in edit and "priority urgent" in edit  # (the request's text: its HTML parsed)
    assert edit.split("\n")[0].endswith("· refund")  # billing untagged

    bot.says("alice", "here is the receipt", media="photo")  # evidence, after the edit went out
    bot.deliver()
    assert len(card_edits(bot, l2, card)) == 2 and "evidence ✓" in card_edits(bot, l2, card)[-1]
    assert [d["cause"] for d in updated()] == ["ticket.assigned", "customer.message"]


def test_the_portrait_changed_elsewhere_shows_on_every_open_card_of_the_customer(bot):
    escalated_to_l2(bot)
    l2 = bot.chats["L2"]
    card = card_of(bot, l2)
    alice = Customer.get(Customer.telegram_id == 1001)
    with write_transaction(bot.db):
        portrait.retag(bot.db, alice, ["reseller"], [], actor="cli", now=bot.clock())  # no ticket: the CLI
    bot.deliver()
    assert "tags reseller" in card_edits(bot, l2, card)[-1]
    assert updated("customer.tags")


def test_in_a_plain_group_the_card_is_edited_not_pinned_and_the_old_card_shows_where_it_went(bot):
    escalated_to_l2(bot)
    escalate_ticket(bot.db, 1, to="L1", reason="a front-line question", actor="dave", now=bot.clock(),
                    quick=True, down=True)
    bot.deliver()
    l1, l2 = bot.chats["L1"], bot.chats["L2"]
    old_card, card = card_of(bot, l2), last_message_id(bot, l1, outgoing=True)
    assert "· L1 ·" in card_edits(bot, l2, old_card)[-1].split("\n")[0]  # the L2 card: now at L1
    assert not [p for p in bot.wire.sent(Pin) if p.id == card]
    assert Ticket.get().card_message_id == card

    command(bot, "/take", who="bob", chat="L1", thread_id=card)
    assert "Assignee: bob" in card_edits(bot, l1, card)[-1]


def test_a_refused_pin_or_a_flood_wait_loses_nothing(bot):
    bot.wire.fail_next(Pin, "CHAT_ADMIN_REQUIRED")
    ticket = escalated_to_l2(bot)
    l2 = bot.chats["L2"]
    card = card_of(bot, l2)
    assert (l2, ticket.topic_id) not in bot.wire.pinned
    assert Outbox.get(Outbox.kind == "card").status == "sent"  # the card went; only its pin did not

    bot.wire.fail_next(EditMessage, "FLOOD_WAIT_30")
    command(bot, "/take")
    bot.deliver()
    assert Outbox.get(Outbox.kind == "card-edit").status == "sent"
    assert "Assignee: carol" in bot.wire._box(l2).messages[card].message
    assert len(updated()) == 1

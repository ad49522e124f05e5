"""Staff working tickets through the real bot: commands in a ticket's forum topic run the CLI's services
and are answered in the thread; in a plain group the card and the mirrored messages are the thread;
the private chat lists tickets; strangers are refused and logged."""

from __future__ import annotations

from datetime import timedelta

from bot_support import command, escalated_to_l2, last_message_id, replied_to, thread_of, to_chat
from pyrogram import raw

from tgesc.models import Event, Message, SentMessage, Ticket, TriedSolution
from tgesc.services.config.apply import add_entry
from tgesc.services.tickets.escalation import escalate_ticket


def events(kind: str) -> list[tuple[str, dict]]:
    return [(e.actor, e.details) for e in Event.select().where(Event.kind == kind).order_by(Event.id)]


def test_take_tried_note_priority_and_tags_in_the_forum_topic(bot):
    add_entry(bot.db, "rules", "vip", {"kind": "keyword", "phrases": {"en": ["vip"]}, "tags": ["vip"]},
              actor="test", now=bot.clock())  # a rule sets "vip": a tag the desk knows
    escalated_to_l2(bot)

    assert command(bot, "/take") == "#1 is now assigned to carol."
    assert Ticket.get().assignee.handle == "carol"
    assert events("ticket.assigned") == [("carol", {"to": "carol"})]

    assert command(bot, "/tried asked her to restart the payment app") == \
        "Noted on #1 as tried: asked her to restart the payment app"
    tried = TriedSolution.get()
    assert (tried.text, tried.actor, tried.staff.handle) == ("asked her to restart the payment app", "carol", "carol")

    assert command(bot, "/note she called yesterday too") == "Note added to #1."
    assert events("ticket.note") == [("carol", {"text": "she called yesterday too"})]

    assert command(bot, "/priority urgent") == "#1 now has priority urgent; its SLA clocks follow the new policy."
    ticket = Ticket.get()
    assert ticket.priority == "urgent"
    assert ticket.first_response_due == ticket.created_at + timedelta(minutes=15)  # urgent: 15 min
    assert events("ticket.priority")[-1] == ("carol", {"old": "high", "new": "urgent", "reason": ""})

    assert command(bot, "/tag +vip -billing") == "#1 tags: refund, vip."
    assert Ticket.get().tags == ["refund", "vip"]
    assert events("ticket.tags") == [("rule:refund", {"added": ["billing", "refund"], "removed": []}),
                                     ("carol", {"added": ["vip"], "removed": ["billing"]})]
    refused = command(bot, "/tag +vipp")  # carol is an agent: a tag nobody has is a typo or a lead's call
    assert "unknown tag 'vipp'" in refused and "only team leads and admins may create tags" in refused
    assert Ticket.get().tags == ["refund", "vip"]
    assert "not a tag" in command(bot, "/tag +!")
    assert command(bot, "/tag +chargeback", who="dave") == "#1 tags: chargeback, refund, vip."  # an admin creates it
    assert command(bot, "/tag -chargeback") == "#1 tags: refund, vip."

    # none of it reached the customer; every command is kept on the ticket as an internal message
    assert not any("carol" in text or "restart" in text for text in bot.texts_to(1001))
    typed = Message.select().where((Message.sender == "staff") & (Message.chat_id == bot.chats["L2"]))
    assert typed.count() == 9 and all(m.is_internal for m in typed)
    assert {m.staff.handle for m in typed} == {"carol", "dave"}


def test_escalate_is_refused_while_the_checklist_is_incomplete_and_quick_opens_an_l3_topic(bot):
    escalated_to_l2(bot)
    refusal = command(bot, "/escalate L3 the payment provider needs the tech lead")
    assert refusal.startswith("ticket #1 was not escalated: the handover checklist is incomplete")
    missing = [line for line in refusal.splitlines() if line.startswith("- ")]
    assert [item.split()[1] for item in missing] == ["first_occurred", "evidence", "tried", "expected_resolution"]
    assert Ticket.get().tier.code == "L2" and not events("ticket.escalated")[1:]

    command(bot, "/tried refunded the second charge by hand")
    refusal = command(bot, "/escalate L3 still charged twice")
    assert [line.split()[1] for line in refusal.splitlines() if line.startswith("- ")] == [
        "first_occurred", "evidence", "expected_resolution"]
    assert "/escalate needs a tier" in command(bot, "/escalate")

    topics_before = len(bot.wire.sent(raw.functions.messages.CreateForumTopic))
    assert command(bot, "/quick the payment provider double-charges everyone") == "#1 escalated to L3 (quick channel)."
    ticket = Ticket.get()
    assert (ticket.tier.code, ticket.staff_chat_id) == ("L3", bot.chats["L3"])
    assert events("ticket.escalated")[-1] == ("carol", {
        "from": "L2", "to": "L3", "trigger": "manual", "quick": True, "priority": "high", "down": False,
        "reason": "the payment provider double-charges everyone"})
    topics = bot.wire.sent(raw.functions.messages.CreateForumTopic)
    assert len(topics) == topics_before + 1 and topics[-1].title == "#1 · Alice · billing"
    l3_topic = SentMessage.select().where((SentMessage.chat_id == bot.chats["L3"]) & (SentMessage.part == -1)).get()
    assert ticket.topic_id == l3_topic.message_id
    cards = to_chat(bot, bot.chats["L3"])
    assert len(cards) == 1 and thread_of(cards[0]) == ticket.topic_id
    assert cards[0].message.startswith("#1 · @alice (id 1001) · L3 · priority high")
    assert "Tried (1 of 3): refunded the second charge by hand (carol)" in cards[0].message
    assert bot.texts_to(1001)[-1].startswith("Your issue has been escalated to Admins and technical lead (ticket #1)")

    # the customer's next words go to the L3 topic now
    bot.says("alice", "it happened again today")
    bot.deliver()
    mirrored = to_chat(bot, bot.chats["L3"])[-1]
    assert mirrored.message == "Alice (#1): it happened again today" and thread_of(mirrored) == ticket.topic_id


def test_resolve_reopen_close_and_card_in_the_topic(bot):
    escalated_to_l2(bot)
    command(bot, "/take")
    card = command(bot, "/card")  # the card again, here, as it stands now
    assert card.startswith("#1 · @alice (id 1001) · L2 · priority high · calm · billing, refund")
    assert "Problem (customer's words): I was charged twice, I want a refund" in card
    assert card.count("#1 · @alice") == 1

    assert command(bot, "/resolve") == "#1 resolved."
    ticket = Ticket.get()
    assert (ticket.status, ticket.resolved_at) == ("resolved", Event.get(Event.kind == "ticket.resolved").at)
    assert events("ticket.resolved") == [("carol", {"survey": True, "reason": "staff"})]
    assert command(bot, "/reopen she wrote again") == "#1 reopened."
    assert Ticket.get().status == "open"
    assert events("ticket.reopened") == [("carol", {"reason": "she wrote again"})]
    assert command(bot, "/resolve --no-survey") == "#1 resolved."
    assert events("ticket.resolved")[-1] == ("carol", {"survey": False, "reason": "staff"})
    assert command(bot, "/close") == "#1 closed."
    assert Ticket.get().status == "closed"
    assert events("ticket.closed") == [("carol", {"reason": "staff"})]
    assert "reopen it before escalating" in command(bot, "/quick too late")
    assert command(bot, "/bogus").startswith("Unknown command /bogus. Here you can use:\n/ban")


def test_in_a_plain_group_the_card_and_mirrored_messages_are_the_thread(bot):
    escalated_to_l2(bot)
    escalate_ticket(bot.db, 1, to="L1", reason="a front-line question after all", actor="dave", now=bot.clock(),
                    quick=True, down=True)
    bot.deliver()
    l1 = bot.chats["L1"]
    cards = to_chat(bot, l1)
    assert len(cards) == 1 and isinstance(cards[0].peer, raw.types.InputPeerChat)
    assert cards[0].reply_to is None and cards[0].message.startswith("#1 · @alice (id 1001) · L1")
    card_id = last_message_id(bot, l1, outgoing=True)
    ticket = Ticket.get()
    assert (ticket.staff_chat_id, ticket.topic_id, ticket.card_message_id) == (l1, None, card_id)

    # bob answers by replying to the card: relayed to alice, her first response
    bot.staff_says("bob", "L1", "Hi Alice, the second charge is refunded.", reply_to=card_id)
    bot.deliver()
    assert bot.texts_to(1001)[-1] == "Hi Alice, the second charge is refunded."
    assert events("ticket.replied")[-1][0] == "bob" and Ticket.get().first_responded_at == bot.clock()

    # alice's next message is mirrored as a reply to the card; bob replies to that mirrored message
    bot.says("alice", "Thanks! When will I see it?")
    bot.deliver()
    mirrored = to_chat(bot, l1)[-1]
    assert (mirrored.message, replied_to(mirrored)) == ("Alice (#1): Thanks! When will I see it?", card_id)
    mirrored_id = last_message_id(bot, l1, outgoing=True)
    bot.staff_says("bob", "L1", "Within 3 business days.", reply_to=mirrored_id)
    bot.deliver()
    assert bot.texts_to(1001)[-1] == "Within 3 business days."
    assert [actor for actor, _ in events("ticket.replied")] == ["bob", "bob"]

    # commands work in the card's reply thread too
    bot.staff_says("bob", "L1", "/take", reply_to=card_id)
    typed = last_message_id(bot, l1, outgoing=False)
    bot.deliver()
    answer = to_chat(bot, l1)[-1]
    assert (answer.message, replied_to(answer), answer.reply_to.top_msg_id) == (
        "#1 is now assigned to bob.", typed, None)
    assert Ticket.get().assignee.handle == "bob"

    # chatter in the group that is no ticket's thread is ignored
    bot.staff_says("bob", "L1", "lunch anyone?")
    bot.deliver()
    assert bot.texts_to(1001)[-1] == "Within 3 business days."
    assert not Message.select().where(Message.text == "lunch anyone?").exists()


def test_the_staff_private_chat_lists_their_tickets(bot):
    escalated_to_l2(bot)  # #1 at L2
    bot.says("wang", "应用打不开")  # #2 at L1
    command(bot, "/take")

    def private(who: str, text: str) -> str:
        bot.says(who, text)
        typed = last_message_id(bot, bot.people[who].id, outgoing=False)
        bot.deliver()
        answers = [r for r in to_chat(bot, bot.people[who].id) if replied_to(r) == typed]
        assert len(answers) == 1
        return answers[0].message

    assert private("carol", "/mine") == "Your open tickets (1):\n#1 · L2 · high · open · due 2026-03-02 10:30 UTC"
    assert private("bob", "/mine") == "Your open tickets: none."
    assert private("bob", "/queue") == "Open tickets in L1 (1):\n#2 · L1 · medium · open · due 2026-03-02 10:05 UTC"
    assert private("carol", "/queue") == "Open tickets in L2 (1):\n#1 · L2 · high · open · due 2026-03-02 10:30 UTC"
    assert private("dave", "/queue") == ("Open tickets in every tier (2):\n#2 · L1 · medium · open · due 2026-03-02 "
                                         "10:05 UTC\n#1 · L2 · high · open · due 2026-03-02 10:30 UTC")
    help_text = "/mine — your open tickets\n/queue — the open tickets of your tiers"
    assert private("bob", "hello bot") == help_text
    assert private("bob", "/take").startswith("Unknown command /take. Here you can use:\n" + help_text)
    # staff are no customers: none of it opened a ticket
    assert Ticket.select().count() == 2 and not Message.select().where(Message.chat_id == 5001).exists()


def test_someone_not_in_the_staff_config_is_refused_in_a_staff_topic_and_logged(bot):
    escalated_to_l2(bot)
    mallory = bot.person("mallory", 6666)
    before = len(bot.texts_to(1001))
    answer = command(bot, "Hi, I am from support, send me your card number", who="mallory")
    assert answer == ("you are not registered as staff; only L2 staff and admins can work ticket #1 here. "
                      "Nothing was relayed.")
    assert command(bot, "/resolve", who="mallory").startswith("you are not registered as staff")
    assert len(bot.texts_to(1001)) == before and Ticket.get().status == "open"
    refused = events("staff.refused")
    assert [actor for actor, _ in refused] == [f"telegram:{mallory.id}"] * 2
    assert refused[0][1]["text"] == "Hi, I am from support, send me your card number"
    assert refused[0][1]["chat_id"] == bot.chats["L2"]
    # dave, an admin of no tier, may work any tier's ticket
    bot.staff_says("dave", "L2", "Dave here, we are on it.", thread_id=Ticket.get().topic_id)
    bot.deliver()
    assert bot.texts_to(1001)[-1] == "Dave here, we are on it."


def test_a_staff_answer_starting_with_a_slash_that_is_no_command_is_relayed(bot):
    ticket = escalated_to_l2(bot)
    answer = "/etc/hosts on your computer blocks our site: please remove the line with our domain"
    bot.staff_says("carol", "L2", answer, thread_id=ticket.topic_id)
    bot.staff_says("carol", "L2", "/take@some_other_bot", thread_id=ticket.topic_id)  # not ours: ignored
    bot.deliver()
    assert bot.texts_to(1001)[-1] == answer
    assert [actor for actor, _ in events("ticket.replied")] == ["carol"]
    assert not Message.get(Message.text == answer).is_internal
    assert Message.get(Message.text == "/take@some_other_bot").is_internal and Ticket.get().assignee is None


def test_staff_added_or_deactivated_by_another_process_are_recognised_on_their_next_message(bot, tgesc_bin):
    bot.person("erin", 5004)
    bot.says("erin", "hello?")  # not staff yet: a customer
    assert [m.text for m in Message.select().where(Message.chat_id == 5004)] == ["hello?"]
    added = tgesc_bin(["staff", "add", "erin", "--id", "5004", "--tier", "L1"])  # the CLI: another process
    assert added.returncode == 0, added.stderr

    bot.says("erin", "/mine")
    bot.deliver()
    assert bot.texts_to(5004)[-1] == "Your open tickets: none."
    assert Message.select().where(Message.chat_id == 5004).count() == 1  # staff are no customers

    deactivated = tgesc_bin(["staff", "set", "erin", "--inactive"])
    assert deactivated.returncode == 0, deactivated.stderr
    bot.says("erin", "hello again")  # a customer once more
    assert [m.text for m in Message.select().where(Message.chat_id == 5004).order_by(Message.id)] == \
        ["hello?", "hello again"]


def test_an_answer_in_the_thread_takes_over_from_an_faq_answer_and_wait_asks_the_customer(bot):
    bot.says("alice", "How do I reset my 2FA?")
    bot.deliver()
    ticket = Ticket.get()
    assert (ticket.status, ticket.waiting_reason) == ("waiting", "faq")
    card_id = ticket.card_message_id
    bot.staff_says("bob", "L1", "I have reset it for you, Alice.", reply_to=card_id)
    bot.deliver()
    ticket = Ticket.get()
    assert (ticket.status, ticket.waiting_reason, ticket.first_responded_at) == ("open", None, bot.clock())
    assert events("ticket.resumed") == [("bob", {"reason": "staff"})]
    bot.staff_says("bob", "L1", "/wait Does it work now?", reply_to=card_id)
    bot.deliver()
    assert bot.texts_to(1001)[-1] == "Does it work now?"
    assert (Ticket.get().status, Ticket.get().waiting_reason) == ("waiting", "staff")
    assert events("ticket.waiting")[-1] == ("bob", {"reason": "staff"})

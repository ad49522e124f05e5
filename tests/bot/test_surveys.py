"""Return-visit surveys through the real bot on the fake wire, with the virtual clock: the survey goes out in
the customer's daytime with 1-5 ★ buttons; a press is answered and recorded once, only from the customer;
2 stars reopen and escalate the ticket (card and notice in the L2 topic) and the next message is the comment;
5 stars invite a review; no answer: one reminder, then it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot_support import escalated_to_l2, last_message_id, thread_of, to_chat
from pyrogram import raw

from tgesc.models import Event, Message, Survey, Ticket
from tgesc.services.outbox.rows import render_template
from tgesc.services.sweeps.surveys import sweep_surveys
from tgesc.services.tickets import actions

ALICE, WANG = 1001, 1002  # alice writes in English (zone UTC), wang in Chinese (Asia/Shanghai)
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)


def resolved(bot, name: str = "alice", text: str = "How do I change my e-mail address?") -> Ticket:
    """`name` asks a plain question (it stays at L1) and bob resolves it now; everything delivered."""
    bot.says(name, text)
    bot.deliver()
    number = Ticket.select().count()
    actions.resolve(bot.db, number, survey=True, actor="bob", now=bot.clock())
    return Ticket.get(Ticket.number == number)


def sweep_at(bot, instant: datetime) -> list[str]:
    """Move the clock to `instant`, sweep, deliver; the sweep's actions."""
    bot.clock.now = instant
    done = sweep_surveys(bot.db, now=bot.clock())
    bot.deliver()
    return [item["action"] for item in done]


def survey() -> Survey:
    return Survey.select().order_by(Survey.id.desc()).get()


def survey_message(bot, chat_id: int):
    """The last survey message the bot sent to `chat_id` (the request) and its Telegram message id."""
    request = [r for r in to_chat(bot, chat_id) if r.reply_markup is not None][-1]
    return request, last_message_id(bot, chat_id, outgoing=True)


def press(bot, name: str, chat_id: int, message_id: int, data: str, after: float = 30) -> str:
    """`name` presses the button with `data`; everything delivered; the text the press was answered with."""
    bot.clock.sleep(after)
    bot.connection.feed(bot.wire.callback(bot.people[name], chat_id, message_id, data))
    bot.deliver()
    return bot.wire.sent(raw.functions.messages.SetBotCallbackAnswer)[-1].message


def texts(bot, chat_id: int) -> list[str]:
    return [r.message for r in to_chat(bot, chat_id)]


def plain(html: str) -> str:
    return html.replace("<b>", "").replace("</b>", "")


def test_a_ticket_resolved_at_23_customer_time_is_surveyed_at_10_the_day_after_next(bot):
    bot.clock.now = datetime(2026, 3, 2, 23, 0, tzinfo=SHANGHAI).astimezone(UTC)  # 15:00 UTC
    resolved(bot, "wang", "我怎么修改邮箱地址?")
    due = datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)  # +24 h is 23:00 on the 3rd: past 20:00
    assert survey().due_at == due
    assert sweep_at(bot, datetime(2026, 3, 3, 23, 0, tzinfo=SHANGHAI)) == []
    assert sweep_at(bot, due - timedelta(minutes=1)) == []
    assert sweep_at(bot, due) == ["sent"]
    request, _ = survey_message(bot, WANG)
    assert request.message == plain(render_template("survey", "zh", {"ticket": 1}))
    buttons = request.reply_markup.rows[0].buttons
    assert [(b.text, b.type.data) for b in buttons] == [(f"{n} ★", f"survey:{survey().id}:{n}".encode())
                                                   for n in range(1, 6)]
    assert sweep_at(bot, due + timedelta(hours=1)) == []  # sent once
    assert len([r for r in to_chat(bot, WANG) if r.reply_markup is not None]) == 1


def test_two_stars_reopen_and_escalate_and_the_next_message_becomes_the_comment(bot):
    ticket = resolved(bot)
    assert ticket.tier.code == "L1"
    assert sweep_at(bot, survey().due_at) == ["sent"]
    _, message_id = survey_message(bot, ALICE)
    before = len(texts(bot, ALICE))
    assert press(bot, "alice", ALICE, message_id, f"survey:{survey().id}:2") == "Thank you! ★★☆☆☆"
    answered = survey()
    assert (answered.status, answered.stars, answered.answered_by) == ("answered", 2, ALICE)
    ticket = Ticket.get()
    assert (ticket.status, ticket.tier.code, ticket.staff_chat_id) == ("open", "L2", bot.chats["L2"])
    assert ticket.topic_id  # the card opened the ticket's topic in L2's forum
    escalated = Event.get(Event.kind == "ticket.escalated")
    assert (escalated.details["trigger"], escalated.details["to"], escalated.actor) == ("survey", "L2",
                                                                                         f"customer:{ALICE}")
    told = texts(bot, ALICE)[before:]
    assert told[:2] == [plain(render_template("survey_thanks", "en", {"ticket": 1, "stars": 2})),
                        plain(render_template("low_score_followup", "en", {"ticket": 1}))]
    assert told[2].startswith("Your issue has been escalated to Second line (ticket #1)")  # the escalation notice
    l2 = to_chat(bot, bot.chats["L2"])
    assert l2[0].message.startswith("#1 · @alice")  # the card
    notice = l2[-1]
    assert notice.message.startswith("⚠ Return visit: Alice rated ticket #1 ★★☆☆☆ (2/5). The ticket is reopened; "
                                     "escalated L1 → L2.")
    assert thread_of(notice) == ticket.topic_id

    bot.says("alice", "The new address never received the confirmation mail")
    bot.deliver()
    assert survey().comment == "The new address never received the confirmation mail"
    assert Message.select().where(Message.ticket == ticket).count() == 2  # still a message of the ticket ...
    mirrored = to_chat(bot, bot.chats["L2"])[-1]  # ... shown to the staff in the topic
    assert mirrored.message == "Alice (#1): The new address never received the confirmation mail"
    assert thread_of(mirrored) == ticket.topic_id
    bot.says("alice", "any news?")
    bot.deliver()
    assert survey().comment == "The new address never received the confirmation mail"  # only the next one


def test_a_low_score_after_a_resolve_in_the_l2_topic_tells_that_topic(bot):
    ticket = escalated_to_l2(bot)
    bot.staff_says("carol", "L2", "/resolve", thread_id=ticket.topic_id)
    bot.deliver()
    assert survey().status == "scheduled"
    assert sweep_at(bot, survey().due_at) == ["sent"]
    _, message_id = survey_message(bot, ALICE)
    press(bot, "alice", ALICE, message_id, f"survey:{survey().id}:1")
    assert (Ticket.get().status, Ticket.get().tier.code) == ("open", "L2")
    notice = to_chat(bot, bot.chats["L2"])[-1]
    assert "The ticket is reopened; it stays at L2." in notice.message and thread_of(notice) == ticket.topic_id


def test_five_stars_invite_a_review(bot):
    resolved(bot)
    sweep_at(bot, survey().due_at)
    _, message_id = survey_message(bot, ALICE)
    assert press(bot, "alice", ALICE, message_id, f"survey:{survey().id}:5") == "Thank you! ★★★★★"
    assert texts(bot, ALICE)[-2:] == [plain(render_template("survey_thanks", "en", {"ticket": 1, "stars": 5})),
                                      plain(render_template("review_invitation", "en", {"ticket": 1}))]
    assert (survey().stars, Ticket.get().status) == (5, "resolved")
    assert Event.select().where(Event.kind == "ticket.escalated").count() == 0


def test_a_double_press_counts_once(bot):
    resolved(bot)
    sweep_at(bot, survey().due_at)
    _, message_id = survey_message(bot, ALICE)
    press(bot, "alice", ALICE, message_id, f"survey:{survey().id}:5")
    sent = len(texts(bot, ALICE))
    assert press(bot, "alice", ALICE, message_id, f"survey:{survey().id}:1") == \
        "Your rating is recorded already: ★★★★★"
    assert (survey().stars, Ticket.get().status) == (5, "resolved")
    assert len(texts(bot, ALICE)) == sent  # no second thanks, no follow-up
    assert len(bot.wire.sent(raw.functions.messages.SetBotCallbackAnswer)) == 2  # each press is answered
    assert Event.select().where(Event.kind == "survey.answered").count() == 1


def refused_presses() -> list[tuple[int, str, dict]]:
    """The `survey.press_refused` events: (ticket number, actor, details)."""
    return [(e.ticket.number, e.actor, e.details)
            for e in Event.select().where(Event.kind == "survey.press_refused").order_by(Event.id)]


def test_a_press_by_someone_else_changes_nothing_but_is_recorded(bot, caplog):
    bot.says("wang", "你好")  # wang is a customer the desk knows (Chinese)
    resolved(bot)
    sweep_at(bot, survey().due_at)
    _, message_id = survey_message(bot, ALICE)
    assert press(bot, "wang", ALICE, message_id, f"survey:{survey().id}:1") == "这份问卷属于另一位客户。"
    assert (survey().status, survey().stars) == ("sent", None)
    assert Ticket.get(Ticket.number == 2).status == "resolved"
    assert refused_presses() == [(2, f"telegram:{WANG}", {"survey": survey().id, "round": 1, "user": WANG,
                                                           "stars": 1, "reason": "not the ticket's customer"})]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "refused" in r.getMessage()]
    assert warnings == [f"survey {survey().id} of ticket #2: a press by Telegram user {WANG}, who is not the "
                        "ticket's customer, was refused"]
    assert press(bot, "alice", ALICE, message_id, f"survey:{survey().id}:4") == "Thank you! ★★★★☆"
    assert survey().stars == 4


def test_a_refused_press_delivered_twice_is_recorded_once(bot):
    resolved(bot)
    sweep_at(bot, survey().due_at)
    _, message_id = survey_message(bot, ALICE)
    stranger = bot.wire.callback(bot.people["wang"], ALICE, message_id, f"survey:{survey().id}:2")
    for _ in range(2):  # a catch-up after a restart hands the same update over again
        bot.connection.feed(stranger)
        bot.deliver()
    assert len(bot.wire.sent(raw.functions.messages.SetBotCallbackAnswer)) == 1
    assert [(number, details["stars"]) for number, _, details in refused_presses()] == [(1, 2)]
    assert (survey().status, survey().stars) == ("sent", None)


def test_no_answer_one_reminder_then_it_expires(bot):
    resolved(bot)
    sent_at = survey().due_at
    assert sweep_at(bot, sent_at) == ["sent"]
    assert sweep_at(bot, sent_at + DAY - timedelta(minutes=1)) == []
    assert sweep_at(bot, sent_at + DAY) == ["reminded"]
    reminder, message_id = survey_message(bot, ALICE)
    assert reminder.message == plain(render_template("survey_reminder", "en", {"ticket": 1}))
    assert len([r for r in to_chat(bot, ALICE) if r.reply_markup is not None]) == 2  # with the buttons again
    assert sweep_at(bot, sent_at + 2 * DAY - timedelta(minutes=1)) == []
    assert sweep_at(bot, sent_at + 2 * DAY) == ["expired"]
    assert survey().status == "expired"
    assert press(bot, "alice", ALICE, message_id, f"survey:{survey().id}:5") == "This survey is closed."
    assert (survey().status, survey().stars) == ("expired", None)
    assert sweep_at(bot, sent_at + 30 * DAY) == []
    assert len([r for r in to_chat(bot, ALICE) if r.reply_markup is not None]) == 2

"""A customer's private chat with the real bot: every message (text, media, edits) stored before anything
reacts, their Telegram identity kept current, their commands (/start, /status, /language) answered once,
and a customer flooding the bot throttled without losing a word."""

from __future__ import annotations

from types import SimpleNamespace

from bot_support import last_message_id, to_chat
from pyrogram import raw
from pyrogram.file_id import FileId

from tgesc.models import Customer, Event, Message, MessageEdit, Outbox, Ticket

SendMessage = raw.functions.messages.SendMessage


def _wire_media_id(bot, chat_id: int, message_id: int) -> int:
    """The id of the photo or document the wire attached to a message."""
    media = bot.wire._box(chat_id).messages[message_id].media
    return (getattr(media, "photo", None) or media.document).id


def test_text_media_and_edits_are_stored_before_anything_reacts(bot):
    bot.says("alice", "My app crashes when I open the settings")
    first = last_message_id(bot, 1001)
    stored = Message.get((Message.chat_id == 1001) & (Message.message_id == first))
    assert (stored.text, stored.sender, stored.direction, stored.ticket.number) == (
        "My app crashes when I open the settings", "customer", "in", 1)
    assert not bot.sent(SendMessage)  # stored at once; Telegram hears nothing before the delivery runs

    for kind, caption in [("photo", "the error"), ("document", ""), ("voice", ""), ("sticker", "")]:
        bot.says("alice", caption, media=kind)
        message_id = last_message_id(bot, 1001)
        row = Message.get((Message.chat_id == 1001) & (Message.message_id == message_id))
        assert (row.media_type, row.text, row.ticket.number) == (kind, caption, 1)
        assert FileId.decode(row.file_id).media_id == _wire_media_id(bot, 1001, message_id), kind
    assert Ticket.get().evidence_provided  # an attachment is evidence for the handover checklist

    bot.clock.sleep(30)
    bot.connection.feed(bot.wire.edit(1001, first, "My app crashes when I open the settings page"))
    bot.clock.sleep(30)
    bot.connection.feed(bot.wire.edit(1001, first, "My app crashes whenever I open the settings page"))
    edits = list(MessageEdit.select().where(MessageEdit.message == stored.id).order_by(MessageEdit.edited_at))
    assert [e.text for e in edits] == ["My app crashes when I open the settings page",
                                       "My app crashes whenever I open the settings page"]
    assert edits[1].edited_at > edits[0].edited_at > stored.sent_at
    assert Message.get_by_id(stored.id).text == "My app crashes when I open the settings"  # the original kept
    assert Message.select().where(Message.chat_id == 1001).count() == 5 and Ticket.select().count() == 1


def test_the_customers_telegram_identity_is_kept_up_to_date(bot):
    bot.says("alice", "hello")
    alice = Customer.get(Customer.telegram_id == 1001)
    assert (alice.username, alice.first_name, alice.last_name, alice.language) == ("alice", "Alice", "", "en")
    assert alice.access_hash == bot.people["alice"].access_hash
    bot.says("wang", "你好")
    assert Customer.get(Customer.telegram_id == 1002).language == "zh"

    # alice renames herself, changes her username and her app's language; Telegram hands out a new access hash
    bot.people["alice"] = bot.wire.user(1001, first_name="Alicia", last_name="Smith", username="alicia_s",
                                        lang_code="ru", access_hash=777_777_777)
    bot.says("alice", "still there?")
    alice = Customer.get(Customer.telegram_id == 1001)
    assert (alice.username, alice.first_name, alice.last_name, alice.language, alice.access_hash) == (
        "alicia_s", "Alicia", "Smith", "ru", 777_777_777)
    assert alice.updated_at == bot.clock()
    bot.says("alice", "/start")
    bot.deliver()
    assert to_chat(bot, 1001)[-1].peer.access_hash == 777_777_777  # the bot writes with the current hash
    assert bot.texts_to(1001)[-1].startswith("Здравствуйте, Alicia!")


def test_start_greets_in_the_customers_language(bot):
    bot.says("alice", "/start")
    bot.says("wang", "/start@tgesc_desk_bot")
    bot.says("alice", "/start@another_bot")  # another bot's command: just text for the desk
    bot.deliver()
    assert bot.texts_to(1001) == ["Hello, Alice! Thank you for contacting us. Please describe your issue, "
                                  "and we will do our best to help you."]
    assert bot.texts_to(1002) == ["Wang,您好!感谢您联系我们。请描述您遇到的问题,我们会尽力为您解决。"]
    assert Outbox.get(Outbox.chat_id == 1001).payload == {"template": "greeting"}
    # a command opens no ticket; the other bot's command is a message like any other
    assert [m.text for m in Message.select()] == ["/start@another_bot"]


def test_status_lists_only_the_customers_own_open_tickets_with_the_expected_reply_time(bot):
    bot.says("alice", "/status")
    bot.deliver()
    assert bot.texts_to(1001) == ["You have no open tickets. Just write to us whenever you need help."]

    bot.clock.sleep(50)  # 10:01:00
    bot.says("alice", "My app crashes when I open the settings", after=0)  # #1 at L1: 5 minutes
    bot.says("wang", "应用打不开", after=0)  # #2, wang's
    bot.says("alice", "/status", after=60)
    bot.says("wang", "/status", after=0)
    bot.deliver()
    assert bot.texts_to(1001)[-1] == "Your open tickets:\n#1 · open · a reply is expected within 4 minutes " \
                                     "(by 10:06, Mon 2 Mar)"
    to_wang = bot.texts_to(1002)[-1]
    assert to_wang == "您未关闭的工单:\n#2 · 处理中 · 预计回复时间: 4 分钟（3月2日 周一 18:06前）"
    assert "#1" not in to_wang

    # alice's ticket resolved: she has none open; wang still sees only his own
    ticket = Ticket.get(Ticket.number == 1)
    Ticket.update(status="resolved", resolved_at=bot.clock()).where(Ticket.id == ticket.id).execute()
    bot.says("alice", "/status")
    bot.says("wang", "/status", after=0)
    bot.deliver()
    assert bot.texts_to(1001)[-1] == "You have no open tickets. Just write to us whenever you need help."
    assert bot.texts_to(1002)[-1].startswith("您未关闭的工单:\n#2 · ") and "#1" not in bot.texts_to(1002)[-1]


def test_language_switches_and_telegrams_language_code_no_longer_overrides_it(bot):
    bot.says("alice", "/language")
    bot.deliver()
    assert bot.texts_to(1001) == ["Choose your language:\n/language en — English\n/language zh — 中文\n"
                                  "/language ru — Русский"]
    bot.says("alice", "/language xx")  # no such language: the choices again
    bot.says("alice", "/language zh")
    bot.deliver()
    assert bot.texts_to(1001)[1].startswith("Choose your language:")
    assert bot.texts_to(1001)[2] == "已设置:今后我们将使用中文与您沟通。"
    alice = Customer.get(Customer.telegram_id == 1001)
    assert (alice.language, alice.language_chosen) == ("zh", True)

    bot.says("alice", "hello again")  # her Telegram still says "en"
    bot.says("alice", "/start")
    bot.says("alice", "/status")
    bot.deliver()
    assert Customer.get(Customer.telegram_id == 1001).language == "zh"
    assert bot.texts_to(1001)[-2:] == ["Alice,您好!感谢您联系我们。请描述您遇到的问题,我们会尽力为您解决。",
                                       bot.texts_to(1001)[-1]]
    assert bot.texts_to(1001)[-1].startswith("您未关闭的工单:\n#1 · 处理中")

    bot.says("alice", "/language EN")
    bot.deliver()
    assert bot.texts_to(1001)[-1] == "Done: I will write to you in English from now on."
    assert Customer.get(Customer.telegram_id == 1001).language == "en"


def test_a_replayed_command_is_answered_once_and_a_replayed_message_stored_once(bot):
    handled = []
    dispatcher = bot.connection._handlers
    bot.connection._handlers = SimpleNamespace(
        on_message=lambda message, raw: (handled.append(message.message_id), dispatcher.on_message(message, raw)),
        on_messages=dispatcher.on_messages, on_press=dispatcher.on_press, on_unreadable=dispatcher.on_unreadable)
    command = bot.wire.private_text(bot.people["alice"], "/start")
    bot.connection.feed(command)
    bot.connection.feed(command)  # the same message again (a catch-up replay)
    text = bot.wire.private_text(bot.people["alice"], "I want a refund, I was charged twice")
    bot.connection.feed(text)
    bot.connection.feed(text)
    assert len(handled) == 4  # the library handed each over twice: the desk made them count once
    bot.deliver()
    assert bot.texts_to(1001)[0].startswith("Hello, Alice!")
    assert sum(t.startswith("Hello, Alice!") for t in bot.texts_to(1001)) == 1
    assert Message.select().count() == 1 and Ticket.select().count() == 1
    assert Event.select().where(Event.kind == "ticket.escalated").count() == 1
    assert len(bot.wire.sent(raw.functions.messages.CreateForumTopic)) == 1


def test_a_flooding_customer_gets_one_notice_and_every_message_is_stored_but_no_rule_fires(bot):
    for n in range(20):
        bot.says("alice", f"message {n}", after=2)
    assert Customer.get(Customer.telegram_id == 1001).throttled_until is None
    bot.says("alice", "I want a refund, I was charged twice", after=2)  # the 21st within a minute
    for n in range(21, 30):
        bot.says("alice", f"message {n} refund", after=2)
    flooded_at = bot.clock()
    bot.deliver()  # the sender's pacing moves the clock on (the card and 29 mirrored messages to L1's group)

    texts = bot.texts_to(1001)
    assert texts == ["You are sending messages very quickly. Everything you sent has been added to ticket #1; "
                     "please wait for our reply — there is no need to repeat it."]
    assert Message.select().where(Message.chat_id == 1001).count() == 30
    ticket = Ticket.get()
    assert (ticket.tier.code, ticket.tags, ticket.priority) == ("L1", [], "medium")  # the refund rule did not run
    assert [e.kind for e in Event.select().where(Event.kind == "customer.throttled")] == ["customer.throttled"]
    alice = Customer.get(Customer.telegram_id == 1001)
    assert alice.throttled_until is not None and alice.throttled_until > flooded_at

    # a minute of calm later the desk reacts again
    bot.says("alice", "I want a refund, I was charged twice", after=120)
    bot.deliver()
    assert Ticket.get().tier.code == "L2" and "refund" in Ticket.get().tags


def test_commands_count_toward_the_flood_limit(bot):
    for _ in range(30):
        bot.says("alice", "/start", after=1)
    bot.deliver()
    assert len(bot.texts_to(1001)) == 20  # the first 20 in the minute are answered, the rest are not
    bot.says("alice", "/status", after=120)
    bot.deliver()
    assert bot.texts_to(1001)[-1] == "You have no open tickets. Just write to us whenever you need help."

"""The weekly digest through the bot: at `[reports] digest` every lead and admin gets, in private, the week's numbers
(`weekly_digest`) and then the week's HTML report as a file, uploaded through the real library; once per week and
person, however often `send_due` runs and whatever flood wait or crash comes between."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot_support import delivered, peer_id
from pyrogram import raw

from tgesc.adapters.telegram.journal import file_name
from tgesc.db import write_transaction
from tgesc.models import Outbox
from tgesc.services.config.apply import add_entry, apply_config
from tgesc.services.outbox import rows as outbox
from tgesc.services.reports.digest import send_due
from tgesc.services.telegram.delivery import random_id

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9 = datetime(2026, 3, 9, 9, 0, tzinfo=BERLIN).astimezone(UTC)  # a week after the bot's clock starts
LEADERS = {"dave": 5003, "erin": 5004}  # the admin (tests/bot/conftest.py) and a lead
REPORT = "tgesc-report-2026-03-02.html"
SendMedia = raw.functions.messages.SendMedia


def a_week_with_a_ticket(bot) -> None:
    """`[reports] digest = "mon 09:00"`, a lead (erin, who joined L1's group: the client knows her) besides the
    admin; alice opens a ticket on Monday 2 March, then the clock goes to the next Monday, 09:00 in Berlin."""
    now = bot.clock()
    apply_config(bot.db, {"reports": {"digest": "mon 09:00"}}, source="test.toml", prune=False, dry_run=False,
                 actor="test", now=now)
    add_entry(bot.db, "staff", "erin", {"id": LEADERS["erin"], "name": "Erin", "role": "lead", "tiers": ["L1"]},
              actor="test", now=now)
    bot.connection.feed(bot.wire.service(bot.chats["L1"], bot.person("erin", LEADERS["erin"])))
    bot.says("alice", "My parcel never arrived")
    bot.deliver()
    bot.clock.now = MONDAY_9


def sends_to(bot, chat_id: int) -> list:
    return [request for request in bot.wire.sent(SendMedia) if peer_id(request.peer) == chat_id]


def document_rows() -> list[Outbox]:
    return list(Outbox.select().where(Outbox.kind == "document").order_by(Outbox.chat_id))


def test_each_lead_and_admin_gets_the_digest_then_the_weeks_html_report_once(bot):
    a_week_with_a_ticket(bot)
    assert send_due(bot.db, bot.clock(), BERLIN) == ["dave", "erin"]
    bot.deliver()

    for chat_id in LEADERS.values():
        text, report = delivered(bot, chat_id)
        assert text.message.startswith("📊 The week 2026-03-02 – 2026-03-09\nTickets: 1 opened") and not text.media
        assert (file_name(report.media), report.media.document.mime_type, report.message) == (REPORT, "text/html", "")
        page = bot.wire.uploaded(chat_id, report.id).decode("utf-8")
        assert page.startswith("<!DOCTYPE html>") and "<title>tgesc report 2026-03-02 – 2026-03-09</title>" in page
        assert "2026-03-02 09:00 – 2026-03-09 09:00 (Europe/Berlin)" in page
        assert report.media.document.size == len(page.encode("utf-8"))
    assert [(row.status, row.telegram_message_id) for row in document_rows()] == [
        ("sent", delivered(bot, chat_id)[1].id) for chat_id in LEADERS.values()]

    bot.clock.sleep(3600)
    assert send_due(bot.db, bot.clock(), BERLIN) == []  # the same week: nothing more
    bot.deliver()
    assert [len(delivered(bot, chat_id)) for chat_id in LEADERS.values()] == [2, 2]
    assert len(bot.wire.sent(SendMedia)) == 2


def test_a_flood_wait_on_the_file_postpones_it_then_it_goes_once(bot):
    a_week_with_a_ticket(bot)
    erin = LEADERS["erin"]
    bot.wire.fail_next(lambda q: isinstance(q, SendMedia) and peer_id(q.peer) == erin, "FLOOD_WAIT_60")
    send_due(bot.db, bot.clock(), BERLIN)
    bot.deliver(budget_s=5)

    assert [len(delivered(bot, chat_id)) for chat_id in LEADERS.values()] == [2, 1]  # erin: the text, no file yet
    row = Outbox.get((Outbox.kind == "document") & (Outbox.chat_id == erin))
    tried = MONDAY_9 + timedelta(seconds=1)  # a second after the text: one message a second per chat
    assert (row.status, row.attempts, row.not_before) == ("pending", 1, tried + timedelta(seconds=60))
    assert "retry after 60 s" in row.error

    bot.deliver()
    text, report = delivered(bot, erin)
    assert file_name(report.media) == REPORT and bot.wire.uploaded(erin, report.id).startswith(b"<!DOCTYPE html>")
    refused, sent = sends_to(bot, erin)
    assert refused.random_id == sent.random_id == random_id(row, 0) and refused.media.file.id == sent.media.file.id
    assert [row.status for row in document_rows()] == ["sent", "sent"] and bot.wire.duplicates == 0


def test_a_file_sent_before_a_crash_is_not_sent_again(bot):
    """The bot uploaded and sent the file, then died before recording it: the next attempt, with the row's random_id,
    gets Telegram's first message back."""
    a_week_with_a_ticket(bot)
    send_due(bot.db, bot.clock(), BERLIN)
    row = Outbox.get((Outbox.kind == "document") & (Outbox.chat_id == LEADERS["dave"]))
    first = bot.connection.send_document(row.chat_id, REPORT, b"<!DOCTYPE html>", random_id=random_id(row, 0))
    bot.deliver()

    assert Outbox.get_by_id(row.id).telegram_message_id == first and bot.wire.duplicates == 1
    assert [m.id for m in delivered(bot, row.chat_id) if m.media] == [first]


def test_a_document_row_naming_an_unknown_report_fails_for_good_and_sends_nothing(bot, caplog):
    with write_transaction(bot.db):
        outbox.queue(None, LEADERS["dave"], "", now=bot.clock(), kind="document",
                     payload={"report": "pdf", "filename": "week.pdf"})
    bot.deliver()

    row = Outbox.get(Outbox.kind == "document")
    assert (row.status, row.attempts) == ("failed", 1) and "unknown report 'pdf'" in row.error
    assert f"outbox row {row.id} failed" in caplog.text
    assert bot.wire.sent(raw.functions.upload.SaveFilePart) == [] and bot.wire.sent(SendMedia) == []

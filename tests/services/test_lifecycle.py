"""The everyday lifecycle against real databases (SQLite and PostgreSQL): staff put a ticket to wait (the clocks
pause, the reply is relayed), the customer's message resumes it, the lifecycle sweep reminds, resolves and closes
each exactly once (twice run, dry run, late run), FAQ verdicts and customer closes, reopening before the closing
and a new ticket after it, and the `[lifecycle]` section of the escalation configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ticket_support import open_ticket

from tgesc.domain.errors import ConfigInvalid, DomainError
from tgesc.domain.telegram import ButtonPress, IncomingMessage, User
from tgesc.models import Event, Outbox, Survey, Ticket
from tgesc.services.config.apply import apply_config, export_toml, parse_toml
from tgesc.services.config.current import current
from tgesc.services.config.defaults import initialise
from tgesc.services.sweeps.lifecycle import sweep_lifecycle
from tgesc.services.sweeps.next_due import next_lifecycle_step
from tgesc.services.tickets import actions, deflection
from tgesc.services.tickets.ingest import ingest_message

MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
ALICE = 1001


@pytest.fixture
def desk(db):
    initialise(db, now=MON_10, actor="test")
    return db


def ticket(number: int = 1) -> Ticket:
    return Ticket.get(Ticket.number == number)


def kinds(number: int = 1) -> list[tuple[str, str | None]]:
    return [(e.kind, e.details.get("reason")) for e in Event.select().join(Ticket).where(
        (Ticket.number == number) & Event.kind.in_(["ticket.waiting", "ticket.resumed", "ticket.waiting_reminded",
                                                     "ticket.resolved", "ticket.closed", "ticket.reopened"]))
        .order_by(Event.id)]


def templates() -> list[str]:
    return [o.payload.get("template") or o.text for o in Outbox.select().order_by(Outbox.id)]


def writes(db, text: str, at: datetime, message_id: int, user: int = ALICE):
    message = IncomingMessage(chat_id=user, message_id=message_id, sender=User(user), text=text, sent_at=at,
                              chat_type="private")
    return ingest_message(db, message, now=at)


def test_wait_relays_the_reply_pauses_the_clocks_and_the_customer_resumes_them(desk):
    open_ticket(desk, at=MON_10)
    due_before = ticket().resolution_due
    actions.wait(desk, 1, reply="Could you send a screenshot?", actor="bob", now=MON_10 + HOUR)
    waiting = ticket()
    assert (waiting.status, waiting.waiting_reason, waiting.first_responded_at) == ("waiting", "staff", MON_10 + HOUR)
    assert waiting.next_check_at is None and waiting.escalate_unresolved_at is None  # no clock, no rule runs
    assert waiting.lifecycle_due_at == MON_10 + HOUR + DAY  # the reminder
    assert Outbox.get().text == "Could you send a screenshot?"
    writes(desk, "here it is", MON_10 + 3 * HOUR, 10)
    resumed = ticket()
    assert (resumed.status, resumed.waiting_reason, resumed.lifecycle_due_at) == ("open", None, None)
    assert resumed.resolution_due == due_before + 2 * HOUR  # the two hours of waiting do not count
    assert kinds() == [("ticket.waiting", "staff"), ("ticket.resumed", "customer")]


def test_only_an_open_ticket_can_wait(desk):
    open_ticket(desk, at=MON_10)
    actions.wait(desk, 1, reply=None, actor="bob", now=MON_10)
    with pytest.raises(DomainError, match="ticket #1 is waiting"):
        actions.wait(desk, 1, reply="again?", actor="bob", now=MON_10 + HOUR)
    assert Outbox.select().count() == 0  # refused before anything was relayed


def test_the_sweep_reminds_resolves_and_closes_each_once(desk):
    open_ticket(desk, at=MON_10)
    actions.wait(desk, 1, reply=None, actor="bob", now=MON_10)
    assert sweep_lifecycle(desk, now=MON_10 + DAY - timedelta(seconds=1)) == []
    assert [d["action"] for d in sweep_lifecycle(desk, now=MON_10 + DAY, dry_run=True)] == ["remind"]
    assert templates() == [] and kinds() == [("ticket.waiting", "staff")]  # the dry run changed nothing
    for _ in range(2):  # a second sweep at the same instant finds nothing left to do
        sweep_lifecycle(desk, now=MON_10 + DAY)
    assert next_lifecycle_step() == MON_10 + 3 * DAY
    sweep_lifecycle(desk, now=MON_10 + 3 * DAY)
    sweep_lifecycle(desk, now=MON_10 + 3 * DAY + HOUR)
    assert (ticket().status, ticket().lifecycle_due_at) == ("resolved", MON_10 + 6 * DAY)
    assert Survey.select().count() == 1  # a no-reply resolution is followed by the survey
    sweep_lifecycle(desk, now=MON_10 + 6 * DAY)
    assert ticket().status == "closed" and next_lifecycle_step() is None
    assert kinds() == [("ticket.waiting", "staff"), ("ticket.waiting_reminded", None),
                       ("ticket.resolved", "no_reply"), ("ticket.closed", "auto")]
    assert templates() == ["waiting_reminder", "resolved_notice"]


def test_a_sweep_after_an_outage_resolves_without_a_stale_reminder(desk):
    open_ticket(desk, at=MON_10)
    actions.wait(desk, 1, reply=None, actor="bob", now=MON_10)
    done = sweep_lifecycle(desk, now=MON_10 + 7 * DAY)
    assert [(d["action"], d["reason"]) for d in done] == [("remind", "no_reply"), ("resolve", "no_reply")]
    assert ticket().lifecycle_due_at == MON_10 + 10 * DAY  # closed close_after the resolution it really got
    assert templates() == ["resolved_notice"]  # the reminder was overtaken: recorded, not sent
    assert Event.get(Event.kind == "ticket.waiting_reminded").details["sent"] is False


def test_a_message_before_the_closing_reopens_after_it_opens_a_new_ticket(desk):
    writes(desk, "my order has not arrived", MON_10, 1)
    actions.resolve(desk, 1, survey=False, actor="bob", now=MON_10 + HOUR)
    writes(desk, "it still has not", MON_10 + 2 * DAY, 2)
    assert (ticket().status, Ticket.select().count()) == ("open", 1)
    actions.resolve(desk, 1, survey=False, actor="bob", now=MON_10 + 2 * DAY + HOUR)
    sweep_lifecycle(desk, now=MON_10 + 5 * DAY + HOUR)
    writes(desk, "another question", MON_10 + 5 * DAY + 2 * HOUR, 3)
    assert [t.status for t in Ticket.select().order_by(Ticket.number)] == ["closed", "open"]


def test_faq_verdicts_only_from_the_customer_and_only_once(desk):
    writes(desk, "how do I reset my 2fa?", MON_10, 1)
    faq = ticket()
    assert (faq.status, faq.waiting_reason, faq.next_check_at, faq.escalate_unresolved_at) == (
        "waiting", "faq", None, None)
    assert faq.lifecycle_due_at == MON_10 + DAY
    buttons = Outbox.get(Outbox.buttons.is_null(False)).buttons
    assert [b["data"] for b in buttons[0]] == ["faq:1:solved", "faq:1:help"]
    assert deflection.on_press(desk, ButtonPress("q0", User(666), 666, 5, "faq:1:solved"), MON_10 + HOUR)
    assert ticket().status == "waiting"  # a stranger's press changes nothing
    assert deflection.on_press(desk, ButtonPress("q1", User(ALICE), ALICE, 5, "faq:1:help"), MON_10 + HOUR)
    helped = ticket()
    assert (helped.status, helped.clocks_started_at) == ("open", MON_10 + HOUR)
    # the front line's own five-minute target (shorter than medium's two hours), from the press on
    assert helped.first_response_due == MON_10 + HOUR + 5 * MINUTE and helped.escalate_unresolved_at is not None
    assert deflection.on_press(desk, ButtonPress("q2", User(ALICE), ALICE, 5, "faq:1:solved"), MON_10 + 2 * HOUR)
    assert ticket().status == "open"  # the ticket moved on: the older button does nothing
    notices = [o.text for o in Outbox.select().where(Outbox.kind == "answer-callback").order_by(Outbox.id)]
    assert notices == ["This button is for another customer.", "A person will answer you.",
                       "This request is no longer open."]
    assert not deflection.on_press(desk, ButtonPress("q3", User(ALICE), ALICE, 5, "survey:1:5"), MON_10)


def test_an_unanswered_faq_answer_resolves_without_a_survey(desk):
    writes(desk, "how do I reset my 2fa?", MON_10, 1)
    sweep_lifecycle(desk, now=MON_10 + DAY)
    assert kinds() == [("ticket.waiting", "faq"), ("ticket.resolved", "faq_silence")]
    assert Survey.select().count() == 0


def test_the_lifecycle_timings_are_escalation_configuration(desk):
    assert "[lifecycle]\nwaiting_remind_after = \"1d\"\nwaiting_resolve_after = \"3d\"" in export_toml(desk)
    apply_config(desk, parse_toml('[lifecycle]\nclose_after = "12h"\n', "t.toml"), source="t.toml", prune=False,
                 dry_run=False, actor="test", now=MON_10)
    policy = current(desk).lifecycle
    assert (policy.close_after, policy.waiting_remind_after) == (timedelta(hours=12), DAY)
    with pytest.raises(ConfigInvalid) as refused:
        apply_config(desk, parse_toml('[lifecycle]\nclose_after = "0s"\nreopen_window = "1d"\n', "bad.toml"),
                     source="bad.toml", prune=False, dry_run=False, actor="test", now=MON_10)
    assert refused.value.problems == [
        "lifecycle.reopen_window: unknown key (allowed: waiting_remind_after, waiting_resolve_after, "
        "faq_resolve_after, close_after)", "lifecycle.close_after: must be longer than 0s"]
    assert current(desk).lifecycle.close_after == timedelta(hours=12)  # nothing was applied

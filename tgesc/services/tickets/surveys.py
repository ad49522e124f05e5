"""Return-visit surveys (article, step 5): scheduled on resolve, sent, reminded, answered, expired.

Life of a survey row (`status`, and what `due_at` means in it — the one indexed timer the sweep reads):

    scheduled  due_at: when it goes out (resolution + delay, moved into the customer's daytime)
    sent       due_at = remind_at: when the one reminder goes out
    reminded   due_at = expires_at: when it expires unanswered
    answered · expired · cancelled   (final)

The survey sweep (tgesc.services.sweeps.surveys) finds what is `due` and takes each survey's `step` in its own
transaction, with a conditional UPDATE on its status: two sweeps at once, or a sweep re-run after a crash, act on
a survey once (the outbox rows also carry a unique dedupe key). At send time a survey is
cancelled (with an event) when the customer has another open ticket, the ticket was reopened, or the
customer cannot be reached.

A press on a star button (`on_press`) records the answer once, only from the ticket's customer, and answers
the press with a short notice; a press by anyone else changes nothing, is logged as a warning and recorded on
the ticket (event `survey.press_refused`). 1-3 stars reopen the ticket with a second escalation (trigger
"survey") to the configured tier, tell the staff in the ticket's thread and ask the customer what went wrong:
their next message (`take_comment`) becomes the survey's comment. 4-5 stars are a success: the review
invitation.

The settings (`SurveyPolicy`) come from the caller; without one, from this process's settings
(`configured_policy`: flags aside, the same environment and .env file the process runs with).
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import peewee

from tgesc.db import by_id, count_up_to, stream_by_id, write_transaction
from tgesc.domain.errors import DomainError, NotFound, UsageError
from tgesc.domain.humanize import LANGUAGE_ZONES, language_of, zone_for
from tgesc.domain.survey_time import survey_due
from tgesc.domain.surveys import (
    AWAITING_ANSWER,
    PENDING,
    STATUSES,
    SurveyPolicy,
    is_low,
    parse_button,
    press_notice,
    star_buttons,
    stars_text,
)
from tgesc.domain.telegram import ButtonPress
from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import Customer, Survey, Ticket, database
from tgesc.services.config.current import current
from tgesc.services.customers.directory import banned
from tgesc.services.outbox import rows as outbox
from tgesc.services.tickets import lifecycle
from tgesc.services.tickets import store as tickets
from tgesc.services.tickets.escalation import escalate

log = logging.getLogger(__name__)
_policy_cache: dict[str, Any] = {}  # configured_policy: the settings it was read from, and the policy
SYSTEM = "system"
SENDABLE = ("resolved", "closed")  # a ticket reopened since its resolution gets no survey


def configured_policy() -> SurveyPolicy:
    """The survey settings of this process (environment, .env file, defaults): read again only when the
    environment or the .env file changed (resolving every setting costs more than a staff command's work)."""
    from tgesc.settings import ENV_PREFIX, load_settings

    env_file = Path(os.environ.get(ENV_PREFIX + "ENV_FILE") or ".env")
    try:
        stamp = env_file.resolve(), env_file.stat().st_mtime_ns
    except OSError:
        stamp = env_file.resolve(), None
    key = (stamp, tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIX))))
    if _policy_cache.get("key") != key:
        _policy_cache.update(key=key, policy=load_settings().survey_policy)
    return _policy_cache["policy"]


def customer_zone(customer: Customer) -> ZoneInfo:
    """The customer's zone; the usual zone of their language when none (or an unknown one) is stored."""
    return _zone(customer.timezone, customer.language)


def _zone(timezone: str | None, language: str | None) -> ZoneInfo:
    try:
        return zone_for(timezone, language)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(LANGUAGE_ZONES[language_of(language)])


# --- scheduling (actions.resolve) -------------------------------------------------------------------


def schedule(ticket: Ticket, *, now: datetime, policy: SurveyPolicy | None = None) -> Survey:
    """The next survey round of a ticket being resolved now, due after the delay in the customer's daytime."""
    policy = policy or configured_policy()
    rounds = tickets.survey_rounds(database, ticket.id)
    due = survey_due(now, policy.delay, customer_zone(ticket.customer), policy.daytime)
    survey = Survey(ticket=ticket, round=rounds + 1, due_at=due)
    tickets.add(database, survey)
    return survey


# --- the steps the survey sweep takes -----------------------------------------------------------------------


def _load(survey_id: int) -> Survey | None:
    """The survey with its ticket and customer (one query)."""
    survey, ticket, customer = tickets.survey_with_ticket(database, survey_id)
    if survey is None:
        return None
    tickets.attach(ticket, "customer", customer)
    tickets.attach(survey, "ticket", ticket)
    return survey


def step(survey_id: int, now: datetime, policy: SurveyPolicy) -> dict[str, Any] | None:
    """The survey's due step (in the caller's transaction: a dry run rolls it back): sent, reminded, expired, or
    cancelled when it should not go out; what was done, or None when it is not due (any more)."""
    survey = _load(survey_id)
    if survey is None or survey.status not in PENDING or survey.due_at > now:
        return None  # another sweep got there first
    if survey.status == "reminded":
        return _expire(survey, now)
    reason = _why_not_send(survey, now)
    if reason:
        return _cancel(survey, reason, now)
    if survey.status == "scheduled":
        return _send(survey, now, policy)
    return _remind(survey, now, policy)


def _why_not_send(survey: Survey, now: datetime) -> str | None:
    """Why the survey (or its reminder) must not go out now; None when it may."""
    ticket, customer = survey.ticket, survey.ticket.customer
    if ticket.status not in SENDABLE:
        return f"ticket #{ticket.number} is {ticket.status} again"
    other = tickets.other_open_number(database, customer.id, ticket.id)
    if other is not None:
        return f"the customer has another open ticket, #{other}"
    if customer.unreachable_at is not None:
        return "the customer cannot be reached (Telegram refused to deliver to them)"
    if banned(customer, now):
        return "the customer is banned (`tgesc customer show` says until when)"
    return None


def _item(survey: Survey, action: str, **extra: Any) -> dict[str, Any]:
    return {"survey": survey.id, "ticket": survey.ticket.number, "round": survey.round, "action": action,
            "due_at": survey.due_at.isoformat(), **extra}


def _move(survey: Survey, to: str, **values: Any) -> bool:
    """Take the survey from its current status to `to` unless someone else moved it first; whether it was ours."""
    moved = Survey.update(status=to, **values).where((Survey.id == survey.id) & (Survey.status == survey.status))
    if not moved.execute():
        return False
    survey.status = to
    for name, value in values.items():
        setattr(survey, name, value)
    return True


def _cancel(survey: Survey, reason: str, now: datetime) -> dict[str, Any] | None:
    item = _item(survey, "cancelled", reason=reason)
    if not _move(survey, "cancelled"):
        return None
    tickets.event(survey.ticket, "survey.cancelled", SYSTEM, now, survey=survey.id, round=survey.round,
                  reason=reason)
    return item


def _questionnaire(survey: Survey, now: datetime, key: str, dedupe: str) -> None:
    """The survey (or reminder) message with its 1-5 ★ buttons, to the customer in their language."""
    ticket, customer = survey.ticket, survey.ticket.customer
    text = outbox.render_template(key, customer.language, {"ticket": ticket.number})
    outbox.queue(ticket, customer.telegram_id, text, now=now, buttons=star_buttons(survey.id),
                 payload={"template": key, "survey": survey.id}, dedupe_key=dedupe)


def _send(survey: Survey, now: datetime, policy: SurveyPolicy) -> dict[str, Any] | None:
    remind_at = now + policy.remind_after
    item = _item(survey, "sent", remind_at=remind_at.isoformat())
    if not _move(survey, "sent", sent_at=now, remind_at=remind_at, due_at=remind_at):
        return None
    _questionnaire(survey, now, "survey", f"survey-{survey.id}")
    tickets.event(survey.ticket, "survey.sent", SYSTEM, now, survey=survey.id, round=survey.round)
    return item


def _remind(survey: Survey, now: datetime, policy: SurveyPolicy) -> dict[str, Any] | None:
    expires_at = now + policy.expire_after
    item = _item(survey, "reminded", expires_at=expires_at.isoformat())
    if not _move(survey, "reminded", expires_at=expires_at, due_at=expires_at):
        return None
    _questionnaire(survey, now, "survey_reminder", f"survey-{survey.id}-reminder")
    tickets.event(survey.ticket, "survey.reminded", SYSTEM, now, survey=survey.id, round=survey.round)
    return item


def _expire(survey: Survey, now: datetime) -> dict[str, Any] | None:
    item = _item(survey, "expired")
    if not _move(survey, "expired"):
        return None
    tickets.event(survey.ticket, "survey.expired", SYSTEM, now, survey=survey.id, round=survey.round)
    return item


# --- staff: send one now ----------------------------------------------------------------------------


def send_now(db: peewee.Database, number: int, *, actor: str, now: datetime,
             policy: SurveyPolicy | None = None) -> dict[str, Any]:
    """`tgesc survey send TICKET --now`: send the ticket's scheduled survey at once (whatever the customer's
    time of day). Refused, changing nothing, when it may not go out (another open ticket, ...)."""
    policy = policy or configured_policy()
    with write_transaction(db):
        ticket = tickets.find(number)
        scheduled = (Survey.select().where((Survey.ticket == ticket) & (Survey.status == "scheduled"))
                     .order_by(Survey.round.desc()).first())
        if scheduled is None:
            raise DomainError(f"ticket #{number} has no scheduled survey (`tgesc survey list --ticket {number}` "
                              "shows its surveys; resolving a ticket schedules one unless --no-survey)")
        survey = _load(scheduled.id)
        reason = _why_not_send(survey, now)
        if reason:
            raise DomainError(f"the survey of ticket #{number} was not sent: {reason}")
        sent = _send(survey, now, policy)
        if sent is None:
            raise DomainError(f"the survey of ticket #{number} was sent meanwhile; nothing was done")
        tickets.event(ticket, "survey.sent_now", actor, now, survey=survey.id)
        return describe(survey)


# --- the customer's answer --------------------------------------------------------------------------


def on_press(db: peewee.Database, press: ButtonPress, now: datetime, *,
             policy: SurveyPolicy | None = None) -> bool:
    """Handle a press on a survey button, answering it (an 'answer-callback' row) in the same transaction;
    False when the press is not on a survey button (the caller handles it). A press by someone other than the
    ticket's customer changes nothing but is recorded (`survey.press_refused`) and logged as a warning, once
    however often the update is delivered."""
    parsed = parse_button(press.data)
    if parsed is None:
        return False
    survey_id, stars = parsed
    with write_transaction(db):
        outcome, language, shown = answer(db, survey_id, stars, user_id=press.sender.id, now=now, policy=policy)
        first = outbox.answer_press(press, press_notice(outcome, language, shown), now=now)
        if outcome == "not_yours" and first:
            _refused(survey_id, stars, press.sender.id, now)
    return True


def _refused(survey_id: int, stars: int, user_id: int, now: datetime) -> None:
    """Record on the survey's ticket that Telegram user `user_id`, not its customer, pressed a star button."""
    survey = _load(survey_id)
    log.warning("survey %s of ticket #%s: a press by Telegram user %s, who is not the ticket's customer, "
                "was refused", survey_id, survey.ticket.number, user_id)
    tickets.event(survey.ticket, "survey.press_refused", f"telegram:{user_id}", now, survey=survey.id,
                  round=survey.round, user=user_id, stars=stars, reason="not the ticket's customer")


def answer(db: peewee.Database, survey_id: int, stars: int, *, user_id: int, now: datetime,
           policy: SurveyPolicy | None = None) -> tuple[str, str, int | None]:
    """Record `stars` from Telegram user `user_id` (in the caller's transaction). Returns the outcome
    (`recorded`, `already`, `not_yours`, `closed`), the language to tell them in and the stars to show."""
    survey = _load(survey_id)
    if survey is None:
        return "closed", _language_of_user(user_id), None
    customer = survey.ticket.customer
    language = language_of(customer.language)
    if user_id != customer.telegram_id:
        return "not_yours", _language_of_user(user_id), None
    if survey.status == "answered":
        return "already", language, survey.stars
    if survey.status not in AWAITING_ANSWER:
        return "closed", language, None
    if not _move(survey, "answered", stars=stars, answered_at=now, answered_by=user_id):
        fresh = Survey.get_by_id(survey_id)
        return ("already", language, fresh.stars) if fresh.status == "answered" else ("closed", language, None)
    _answered(db, survey, now, policy or configured_policy())
    return "recorded", language, stars


def _language_of_user(user_id: int) -> str:
    someone = Customer.get_or_none(Customer.telegram_id == user_id)
    return language_of(someone.language if someone else None)


def _answered(db: peewee.Database, survey: Survey, now: datetime, policy: SurveyPolicy) -> None:
    """What a recorded answer sets off: thanks, then the review invitation or the low-score follow-up."""
    ticket, stars = survey.ticket, survey.stars
    actor = f"customer:{ticket.customer.telegram_id}"
    low = is_low(stars)
    tickets.event(ticket, "survey.answered", actor, now, survey=survey.id, round=survey.round, stars=stars,
                  outcome="low-score" if low else "success")
    outbox.to_customer(ticket, "survey_thanks", {"stars": stars}, now=now, dedupe_key=f"survey-{survey.id}-thanks")
    if not low:
        outbox.to_customer(ticket, "review_invitation", {}, now=now, dedupe_key=f"survey-{survey.id}-review")
        return
    outbox.to_customer(ticket, "low_score_followup", {}, now=now, dedupe_key=f"survey-{survey.id}-followup")
    _second_escalation(db, ticket, survey, now, policy, actor)


def _second_escalation(db: peewee.Database, ticket: Ticket, survey: Survey, now: datetime, policy: SurveyPolicy,
                       actor: str) -> None:
    """Reopen the ticket and escalate it to the low-score tier (when it is not there or above already); tell the
    staff in its thread."""
    reason = f"return-visit survey: the customer rated {survey.stars}/5"
    if ticket.status not in OPEN_STATUSES:
        lifecycle.reopen_in_place(db, ticket, actor=actor, now=now, reason=reason)
    source = ticket.tier
    target = current(db).tier_codes.get(policy.low_score_tier)
    if target is None:
        log.warning("survey_low_score_tier %r is not a tier; ticket #%s stays at %s", policy.low_score_tier,
                    ticket.number, source.code)
        where = f"it stays at {source.code} (the configured tier {policy.low_score_tier!r} does not exist)"
    elif target.level > source.level:
        escalate(db, ticket, to=target.code, reason=reason, actor=actor, now=now, trigger="survey", quick=True)
        where = f"escalated {source.code} → {target.code}"
    else:
        where = f"it stays at {source.code}"
    tickets.save(ticket, now)
    if ticket.staff_chat_id is not None:
        outbox.queue(ticket, ticket.staff_chat_id, _staff_notice(ticket, survey, where), now=now,
                     payload={"ticket_thread": True, "survey": survey.id})


def _staff_notice(ticket: Ticket, survey: Survey, where: str) -> str:
    customer = ticket.customer
    who = html.escape(customer.first_name or (f"@{customer.username}" if customer.username else "the customer"))
    return (f"⚠ Return visit: {who} rated ticket #{ticket.number} {stars_text(survey.stars)} ({survey.stars}/5). "
            f"The ticket is reopened; {html.escape(where)}. Contact the customer personally to learn what went "
            "wrong: they were asked, and their next message is stored as the survey comment.")


def take_comment(ticket: Ticket, text: str, now: datetime) -> bool:
    """Store a customer's message as the comment of the low-score answer that reopened `ticket`, when it is the
    first message since (in the caller's transaction: ingest's, for the message just stored); whether it was.
    Only a reopened ticket is asked (one UPDATE); a new one has clocks_started_at == created_at."""
    if ticket.clocks_started_at is None or ticket.clocks_started_at == ticket.created_at:
        return False
    stored = Survey.update(comment=text).where(
        (Survey.ticket == ticket.id) & (Survey.status == "answered") & (Survey.stars <= 3)
        & Survey.comment.is_null() & (Survey.answered_at >= ticket.clocks_started_at)).execute()
    if stored:
        tickets.event(ticket, "survey.commented", f"customer:{ticket.customer.telegram_id}", now, comment=text)
    return bool(stored)


# --- reading ----------------------------------------------------------------------------------------


def describe(survey: Survey) -> dict[str, Any]:
    """One survey as a document (instants aware UTC); `next` says what the sweep does next (send, remind,
    expire) and `next_at` when (the row's due_at)."""
    ticket, customer = survey.ticket, survey.ticket.customer
    return _document((survey.id, ticket.number, survey.round, survey.status, customer.telegram_id, customer.language,
                      customer.timezone, survey.sent_at, survey.remind_at, survey.expires_at, survey.stars,
                      survey.comment, survey.answered_at, survey.answered_by, survey.due_at))


_LISTED = (Survey.id, Ticket.number, Survey.round, Survey.status, Customer.telegram_id, Customer.language,
           Customer.timezone, Survey.sent_at, Survey.remind_at, Survey.expires_at, Survey.stars, Survey.comment,
           Survey.answered_at, Survey.answered_by, Survey.due_at)


def _document(values: tuple) -> dict[str, Any]:
    """`describe`'s document from the values of _LISTED, in its order."""
    (survey_id, number, round_, status, telegram_id, language, zone, sent_at, remind_at, expires_at, stars, comment,
     answered_at, answered_by, due_at) = values
    following = {"scheduled": "send", "sent": "remind", "reminded": "expire"}.get(status)
    return {"id": survey_id, "ticket": number, "round": round_, "status": status, "customer": telegram_id,
            "language": language_of(language), "zone": _zone(zone, language).key, "sent_at": sent_at,
            "remind_at": remind_at, "expires_at": expires_at, "stars": stars, "comment": comment,
            "answered_at": answered_at, "answered_by": answered_by, "next": following,
            "next_at": due_at if following else None}


def _listed(statuses: tuple[str, ...], ticket: int | None) -> peewee.ModelSelect:
    """The surveys `list_surveys` reads: only `statuses` (any) and only ticket number `ticket` when given."""
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown:
        raise UsageError(f"unknown survey status {unknown[0]!r}; use {', '.join(STATUSES)}")
    query = Survey.select(*_LISTED).join(Ticket).join(Customer)
    if statuses:
        query = query.where(Survey.status.in_(list(statuses)))
    if ticket is not None:
        query = query.where(Ticket.id == tickets.find(ticket).id)
    return query


def list_surveys(db: peewee.Database, *, statuses: tuple[str, ...] = (), ticket: int | None = None,
                 limit: int | None = None, before: int | None = None) -> list[dict[str, Any]]:
    """Surveys, newest first, read as tuples: only `statuses` (any) and only ticket number `ticket` when given;
    `before`: only those with a lower id (the next page)."""
    with db.atomic():
        return [_document(values) for values in by_id(_listed(statuses, ticket), Survey.id, descending=True,
                                                       after=before, limit=limit)]


def count_surveys(db: peewee.Database, *, statuses: tuple[str, ...] = (), ticket: int | None = None) -> int:
    """How many surveys `list_surveys` would list without a limit, counted up to COUNTED_UP_TO + 1."""
    with db.atomic():
        return count_up_to(_listed(statuses, ticket))


def stream_surveys(db: peewee.Database, *, statuses: tuple[str, ...] = (), ticket: int | None = None,
                   before: int | None = None) -> Iterator[dict[str, Any]]:
    """Every survey `list_surveys` would list, newest first, read in chunks inside one read snapshot."""
    query = _listed(statuses, ticket)
    return (_document(values) for values in stream_by_id(db, query, Survey.id, descending=True, after=before))


def show(db: peewee.Database, survey_id: int) -> dict[str, Any]:
    with db.atomic():
        survey = _load(survey_id)
        if survey is None:
            raise NotFound(f"there is no survey {survey_id}; `tgesc survey list` shows the surveys")
        return describe(survey)

"""peewee models: the storage of the whole desk (configuration, customers, tickets, audit, outbox, surveys).

Storage only: no behaviour beyond (de)serialising values. All timestamps are stored as UTC and come
back as aware UTC datetimes. Tables are created by the versioned migrations in `tgesc/migrations/`,
never by `create_tables` at run time; a change here needs a new migration file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import peewee
from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    IntegerField,
    Model,
    TextField,
)

from tgesc.store.statements import RelatedRow

database = DatabaseProxy()


class JSONField(TextField):
    """JSON in a text column (portable across SQLite and PostgreSQL), keys sorted for stable diffs."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class UTCDateTimeField(DateTimeField):
    """Takes aware datetimes, stores naive UTC, returns aware UTC. Naive input is a programming error."""

    def db_value(self, value):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to {self.name}; pass an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def python_value(self, value):
        if isinstance(value, str):  # SQLite: ISO text; fromisoformat is far quicker than peewee's strptime loop
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                value = super().python_value(value)
        else:
            value = super().python_value(value)
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


class ForeignKeyField(peewee.ForeignKeyField):
    accessor_class = RelatedRow  # `ticket.customer` loads its row by a statement built once


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Meta(BaseModel):
    """Key/value facts about this database (e.g. when the shipped defaults were loaded)."""

    key = CharField(primary_key=True, max_length=64)
    value = TextField()


# --- escalation configuration ------------------------------------------------------------------


class Calendar(BaseModel):
    """Business hours: weekday intervals in local time, holidays and per-date overrides."""

    name = CharField(unique=True, max_length=64)
    timezone = CharField(max_length=64)
    hours = JSONField(default=dict)  # {"mon": ["09:00-12:00", ...], ...}
    holidays = JSONField(default=list)  # ["2026-12-25", ...]
    overrides = JSONField(default=dict)  # {"2026-12-24": ["09:00-12:00"]}
    deadline_at_close = CharField(max_length=16, default="close")  # close | next-open


class Tier(BaseModel):
    """A support line (L1, L2, L3): its order, staff chat, calendar, own first-response target and names."""

    code = CharField(unique=True, max_length=16)
    name = CharField(max_length=128)
    level = IntegerField(unique=True)
    staff_chat_id = BigIntegerField(null=True)
    is_forum = BooleanField(default=False)
    calendar = ForeignKeyField(Calendar, null=True, on_delete="RESTRICT", backref="tiers")
    description = TextField(default="")
    first_response_s = IntegerField(null=True)  # its own first-response target (applies when shorter)
    names = JSONField(default=dict)  # {"zh": "…", "ru": "…"}: the name customers read in that language
    assign = CharField(max_length=16, null=True)  # round-robin | least-open; None: manual (services.tickets.assignment)


class Staff(BaseModel):
    """A staff member, known by Telegram user id."""

    handle = CharField(unique=True, max_length=64)  # how config, CLI (--as) and scenarios name them
    telegram_id = BigIntegerField(unique=True)
    name = CharField(max_length=128, default="")
    username = CharField(max_length=64, null=True)
    role = CharField(max_length=8, default="agent")  # agent | lead | admin
    language = CharField(max_length=8, default="en")
    active = BooleanField(default=True)
    capacity = IntegerField(null=True)  # open tickets assigned to them at most (None: no limit)
    calendar = ForeignKeyField(Calendar, null=True, on_delete="RESTRICT", backref="staff")  # their shift


class StaffTier(BaseModel):
    """Which tiers a staff member works in."""

    staff = ForeignKeyField(Staff, on_delete="CASCADE", backref="tier_links")
    tier = ForeignKeyField(Tier, on_delete="RESTRICT", backref="staff_links")

    class Meta:
        indexes = ((("staff", "tier"), True),)


class SlaPolicy(BaseModel):
    """The SLA of one priority: budgets in seconds, the calendar they run on, warnings and breach action."""

    priority = CharField(unique=True, max_length=8)  # urgent | high | medium | low
    first_response_s = IntegerField()
    next_response_s = IntegerField(null=True)
    resolution_s = IntegerField()
    calendar = ForeignKeyField(Calendar, null=True, on_delete="RESTRICT", backref="sla_policies")
    warn_at = JSONField(default=lambda: [50, 80])  # percentages of each budget
    pause_when_waiting = BooleanField(default=True)
    breach_action = CharField(max_length=16)  # notify-admins | notify-leads | remind-tier | none | escalate
    escalate_to = ForeignKeyField(Tier, null=True, on_delete="RESTRICT", backref="+")


class TriggerRule(BaseModel):
    """A rule that tags, prioritises, replies to or escalates a ticket (see the config reference)."""

    name = CharField(unique=True, max_length=64)
    kind = CharField(max_length=24)  # keyword | repeated-request | unresolved-for | emotion | urgent-reply
    enabled = BooleanField(default=True)
    position = IntegerField(default=0)
    phrases = JSONField(default=dict)  # {"en": [...], "zh": [...]}
    tags = JSONField(default=list)
    priority = CharField(max_length=8, null=True)
    escalate_to = ForeignKeyField(Tier, null=True, on_delete="RESTRICT", backref="+")
    reply = CharField(max_length=64, null=True)  # template key
    count = IntegerField(null=True)
    after_s = IntegerField(null=True)
    emotions = JSONField(default=list)


class Template(BaseModel):
    """A reply template that overrides the shipped default of the same key and language."""

    key = CharField(max_length=64)
    language = CharField(max_length=8)
    body = TextField()

    class Meta:
        indexes = ((("key", "language"), True),)


class FaqEntry(BaseModel):
    """Phrases that, in a customer's message, are answered automatically with a template."""

    name = CharField(unique=True, max_length=64)
    phrases = JSONField(default=dict)
    answer = CharField(max_length=64)  # template key
    enabled = BooleanField(default=True)


class Snippet(BaseModel):
    """A canned reply staff send with /r KEY: its text per language (Telegram HTML with the templates' variables)."""

    name = CharField(unique=True, max_length=64)
    texts = JSONField(default=dict)


# --- customers, tickets and their history ------------------------------------------------------


class Customer(BaseModel):
    telegram_id = BigIntegerField(unique=True)
    access_hash = BigIntegerField(null=True)
    username = CharField(max_length=64, null=True, index=True)
    first_name = CharField(max_length=128, default="")
    last_name = CharField(max_length=128, default="")
    language = CharField(max_length=8, default="en")
    timezone = CharField(max_length=64, null=True)
    throttled_until = UTCDateTimeField(null=True)
    unreachable_at = UTCDateTimeField(null=True)  # Telegram refused for good (blocked the bot, deleted)
    language_chosen = BooleanField(default=False)  # set with /language: Telegram's language code no longer counts
    banned_at = UTCDateTimeField(null=True)  # banned by staff since then (None: not banned)
    banned_until = UTCDateTimeField(null=True)  # the ban ends then (None while banned: until it is lifted)
    ban_reason = TextField(default="")
    tags = JSONField(default=list)  # the portrait's tags, shown on every card of the customer's
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class Ticket(BaseModel):
    number = IntegerField(unique=True)
    customer = ForeignKeyField(Customer, on_delete="RESTRICT", backref="tickets")
    status = CharField(max_length=16, default="open")  # open | waiting | resolved | closed
    tier = ForeignKeyField(Tier, on_delete="RESTRICT", backref="tickets")
    priority = CharField(max_length=8, default="medium")
    assignee = ForeignKeyField(Staff, null=True, on_delete="SET NULL", backref="tickets")
    assigned_at = UTCDateTimeField(null=True)  # when it was last assigned (round-robin orders by it)
    tags = JSONField(default=list)
    emotion = CharField(max_length=16, default="calm")  # calm | dissatisfied | angry | threatening
    emotion_set_by_staff = BooleanField(default=False)
    problem = TextField(default="")  # the customer's own first words
    first_occurred_at = UTCDateTimeField(null=True)  # handover checklist
    evidence_provided = BooleanField(default=False)
    expected_resolution_by = UTCDateTimeField(null=True)
    manager_requests_in_row = IntegerField(default=0)
    urgent_reply_used = BooleanField(default=False)
    version = IntegerField(default=0)  # bumped by every change: a stale writer is refused, not lost
    staff_chat_id = BigIntegerField(null=True)
    topic_id = IntegerField(null=True)
    card_message_id = IntegerField(null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    clocks_started_at = UTCDateTimeField(null=True)  # a reopened ticket's clocks start again (else created_at)
    last_customer_message_at = UTCDateTimeField(null=True)
    awaiting_reply_since = UTCDateTimeField(null=True)  # a customer message no staff reply has answered yet
    resolved_at = UTCDateTimeField(null=True)
    closed_at = UTCDateTimeField(null=True)
    # SLA clocks (UTC); the sweep reads next_check_at, the earliest instant something may fire.
    sla_policy = JSONField(null=True)  # the policy (and calendar) the clocks run on, as of when it was taken
    first_response_due = UTCDateTimeField(null=True)
    first_responded_at = UTCDateTimeField(null=True)
    next_response_due = UTCDateTimeField(null=True)
    resolution_due = UTCDateTimeField(null=True)
    paused_since = UTCDateTimeField(null=True)
    sla_paused = JSONField(default=list)  # [[start_iso, end_iso], ...] waiting-on-customer periods
    next_check_at = UTCDateTimeField(null=True)
    escalate_unresolved_at = UTCDateTimeField(null=True)
    # The lifecycle (domain.ticket_rules.next_step): why a waiting ticket waits, when its next automatic step is due
    waiting_reason = CharField(max_length=8, null=True)  # staff | faq (None unless waiting)
    lifecycle_due_at = UTCDateTimeField(null=True)  # a reminder, a resolution or a closing; the lifecycle sweep's
    # The earliest deadline of a running clock (domain.sla.next_breach; None when none runs): the queue's order,
    # and `ticket list --breaching` is the (status, next_breach_at) range up to now
    next_breach_at = UTCDateTimeField(null=True)
    # SQLite: when a sweep job's claim on the ticket ends, one column per sweep (services.sweeps.store)
    sla_lease_until = UTCDateTimeField(null=True)
    unresolved_lease_until = UTCDateTimeField(null=True)
    lifecycle_lease_until = UTCDateTimeField(null=True)

    class Meta:
        indexes = (
            (("status", "next_check_at"), False),
            (("status", "escalate_unresolved_at"), False),
            (("status", "lifecycle_due_at"), False),
            (("customer", "status"), False),
            (("tier", "status"), False),
            (("status", "next_breach_at", "number"), False),
            (("status", "tier", "assignee"), False),  # the assignment sweep: whose tickets go back, the pool
            (("created_at",), False),  # reports: the tickets opened in a period
            (("status", "created_at"), False),  # `ticket list --since / --until`: the tickets opened in a window
        )


# The queue's tickets without a running deadline, by number (a partial index: PostgreSQL cannot read
# (status, next_breach_at, number) in number order for next_breach_at IS NULL)
NO_BREACH_INDEX = "ticket_status_number_no_breach"
Ticket.add_index(Ticket.index(Ticket.status, Ticket.number, name=NO_BREACH_INDEX,
                              where=Ticket.next_breach_at.is_null()))


class Message(BaseModel):
    """Every message in or out of a ticket's conversation, idempotent on (chat id, message id)."""

    ticket = ForeignKeyField(Ticket, null=True, on_delete="CASCADE", backref="messages")
    chat_id = BigIntegerField()
    message_id = BigIntegerField()
    direction = CharField(max_length=4)  # in | out
    sender = CharField(max_length=8)  # customer | staff | bot
    staff = ForeignKeyField(Staff, null=True, on_delete="SET NULL", backref="+")
    text = TextField(default="")
    media_type = CharField(max_length=16, null=True)  # photo | document | voice | video | sticker ...
    file_id = CharField(max_length=256, null=True)
    is_key = BooleanField(default=False)
    is_internal = BooleanField(default=False)
    sent_at = UTCDateTimeField()
    created_at = UTCDateTimeField()

    class Meta:
        indexes = ((("chat_id", "message_id"), True), (("ticket", "sent_at"), False))


class MessageEdit(BaseModel):
    message = ForeignKeyField(Message, on_delete="CASCADE", backref="edits")
    edited_at = UTCDateTimeField()
    text = TextField(default="")

    class Meta:
        indexes = ((("message", "edited_at"), True),)


class CustomerNote(BaseModel):
    """What staff noted about a customer (the portrait), newest last; shown on every card of theirs."""

    customer = ForeignKeyField(Customer, on_delete="CASCADE", backref="notes")
    text = TextField()
    actor = CharField(max_length=128)
    at = UTCDateTimeField()

    class Meta:
        indexes = ((("customer", "at"), False),)


class TriedSolution(BaseModel):
    ticket = ForeignKeyField(Ticket, on_delete="CASCADE", backref="tried")
    text = TextField()
    staff = ForeignKeyField(Staff, null=True, on_delete="SET NULL", backref="+")
    actor = CharField(max_length=128)
    at = UTCDateTimeField()


class Event(BaseModel):
    """The audit log: who did what to which ticket (or configuration), when, with details."""

    ticket = ForeignKeyField(Ticket, null=True, on_delete="CASCADE", backref="events")
    kind = CharField(max_length=48)
    actor = CharField(max_length=128)  # "staff:5001 (Bob)", "system", "cli"
    at = UTCDateTimeField(index=True)
    details = JSONField(default=dict)

    class Meta:
        # reports read a period's events of a kind from the second index alone (counts, by actor, their tickets)
        indexes = ((("ticket", "at"), False), (("kind", "at", "actor", "ticket"), False))


class Firing(BaseModel):
    """Once-only marker: an escalation, warning, breach notice or survey per (ticket, kind, level)."""

    ticket = ForeignKeyField(Ticket, on_delete="CASCADE", backref="firings")
    kind = CharField(max_length=32)
    level = CharField(max_length=32)
    at = UTCDateTimeField()

    class Meta:
        indexes = ((("ticket", "kind", "level"), True),)


class ClockRun(BaseModel):
    """A run of an SLA clock that ended, measured when it ended (reports add these up, never recompute calendars):
    its wall-clock and business-time length, its deadline and whether it held, where the ticket stood then."""

    ticket = ForeignKeyField(Ticket, on_delete="CASCADE", backref="clock_runs")
    clock = CharField(max_length=16)  # first_response | next_response | resolution
    started_at = UTCDateTimeField()
    stopped_at = UTCDateTimeField()
    due_at = UTCDateTimeField(null=True)  # None: it ended while paused before any deadline
    budget_s = IntegerField()
    wall_s = IntegerField()
    business_s = IntegerField()  # the SLA's own count: business hours, waits on the customer left out
    met = BooleanField()  # ended by what it measures (a staff answer, the resolution), not by the ticket ending first
    breached = BooleanField()  # ended after its deadline
    escalated = BooleanField(default=False)  # the ticket had been escalated when it ended (the follow-up rate)
    tier = ForeignKeyField(Tier, on_delete="CASCADE")  # the ticket's tier when it ended
    priority = CharField(max_length=16)
    by = CharField(max_length=128, null=True)  # who ended it (the staff member answering or resolving), if anyone

    class Meta:
        table_name = "clock_run"
        # reports read a clock's runs of a period from an index alone: counts by the end, percentiles by the value (a
        # rank is an offset along it, never a sort)
        indexes = ((("ticket", "clock", "started_at"), True),
                   (("clock", "stopped_at", "met", "breached", "escalated", "ticket"), False),
                   (("clock", "wall_s", "stopped_at", "met"), False),
                   (("clock", "business_s", "stopped_at", "met"), False))


class Outbox(BaseModel):
    """An outbound Telegram message, written in the same transaction as the change that caused it."""

    ticket = ForeignKeyField(Ticket, null=True, on_delete="SET NULL", backref="outbox")
    chat_id = BigIntegerField()
    thread_id = IntegerField(null=True)
    reply_to = BigIntegerField(null=True)
    kind = CharField(max_length=32)  # message | card | copy | edit | card-edit | answer-callback | rights (/bind's)
    text = TextField(default="")
    buttons = JSONField(null=True)
    payload = JSONField(default=dict)
    dedupe_key = CharField(max_length=128, null=True, unique=True)
    status = CharField(max_length=12, default="pending")  # pending | sent | failed | dead | cancelled
    attempts = IntegerField(default=0)
    not_before = UTCDateTimeField()
    created_at = UTCDateTimeField()
    sent_at = UTCDateTimeField(null=True)
    telegram_message_id = BigIntegerField(null=True)
    error = TextField(null=True)

    class Meta:
        indexes = ((("status", "not_before"), False),)


class SentMessage(BaseModel):
    """A Telegram message the bot sent for an outbox row (a long text is sent in several parts)."""

    outbox = ForeignKeyField(Outbox, on_delete="CASCADE", backref="sent")
    part = IntegerField(default=0)
    chat_id = BigIntegerField()
    message_id = BigIntegerField()
    sent_at = UTCDateTimeField()

    class Meta:
        indexes = ((("chat_id", "message_id"), True), (("outbox", "part"), True))


class Survey(BaseModel):
    """A return-visit survey of a resolved ticket (one per resolution round)."""

    ticket = ForeignKeyField(Ticket, on_delete="CASCADE", backref="surveys")
    round = IntegerField(default=1)
    status = CharField(max_length=12, default="scheduled")  # scheduled|sent|reminded|answered|expired|cancelled
    due_at = UTCDateTimeField()  # the sweep's next step: send (scheduled), remind (sent), expire (reminded)
    sent_at = UTCDateTimeField(null=True)
    remind_at = UTCDateTimeField(null=True)
    expires_at = UTCDateTimeField(null=True)
    stars = IntegerField(null=True)
    comment = TextField(null=True)
    answered_at = UTCDateTimeField(null=True)
    answered_by = BigIntegerField(null=True)
    lease_until = UTCDateTimeField(null=True)  # SQLite: a survey sweep job's claim on it ends (services.sweeps.store)

    class Meta:
        indexes = ((("ticket", "round"), True), (("status", "due_at"), False),
                   (("sent_at",), False), (("answered_at", "stars"), False),  # reports: the surveys of a period,
                   (("ticket", "stars"), False))  # and whether a ticket's customer rated it


class DeadLetter(BaseModel):
    """An inbound Telegram update whose handling failed for good (a bug, not an outage), kept to be replayed."""

    kind = CharField(max_length=16)  # message | edit | press | unreadable
    chat_id = BigIntegerField(null=True)
    update_key = CharField(max_length=64)  # the update's identity: message id, or the press's query id
    item = JSONField(null=True)  # tgesc.domain.telegram.as_record of the update (None: it could not be read)
    raw = TextField()  # the update as the Telegram library received it
    error = TextField()  # the last failure's traceback
    failures = IntegerField(default=1)
    status = CharField(max_length=12, default="failed")  # failed | replayed
    failed_at = UTCDateTimeField()  # the first failure
    last_failed_at = UTCDateTimeField()
    replayed_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("kind", "chat_id", "update_key"), True), (("status", "failed_at"), False))


MODELS = (
    Meta, Calendar, Tier, Staff, StaffTier, SlaPolicy, TriggerRule, Template, FaqEntry, Snippet,
    Customer, CustomerNote, Ticket, Message, MessageEdit, TriedSolution, Event, Firing, Outbox, SentMessage, Survey,
    DeadLetter,
)

"""Ticket use cases for staff (CLI and, later, Telegram): every change audited, clocks kept current.

Each function runs in one write transaction: it loads the ticket, applies the change, recomputes its SLA
clocks, records an event with the actor, and saves the row only if nobody else changed it meanwhile
(the `version` check: of two concurrent changes exactly one wins, the other is told to look again).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import peewee
from peewee import fn

from tgesc import prepared
from tgesc.db import write_transaction
from tgesc.domain.errors import DomainError, NotFound, UsageError
from tgesc.domain.ticket_rules import Checklist, transition
from tgesc.domain.vocabulary import EMOTIONS, OPEN_STATUSES, PRIORITIES
from tgesc.models import Customer, Event, Firing, Staff, Survey, Ticket, Tier, TriedSolution, TriggerRule
from tgesc.services.clocks import sla
from tgesc.services.config.current import snapshot

if TYPE_CHECKING:
    from tgesc.domain.rules import Rule
    from tgesc.domain.surveys import SurveyPolicy

DEFAULT_PRIORITY = "medium"


def find(number: int) -> Ticket:
    ticket = prepared.first(Ticket._meta.database, Ticket, "tickets: ticket by number",
                            lambda: Ticket.select().where(Ticket.number == number), [number])
    if ticket is None:
        raise NotFound(f"there is no ticket #{number}; `tgesc ticket list` shows the tickets")
    return ticket


def staff_member(handle: str) -> Staff:
    person = Staff.get_or_none(Staff.handle == handle)
    if person is None:
        raise NotFound(f"there is no staff member {handle!r}; `tgesc staff list` shows them")
    return person


def event(ticket: Ticket | None, kind: str, actor: str, now: datetime, **details: Any) -> None:
    """Record an audit event (a prepared INSERT: ingest writes several per message)."""
    prepared.insert(Event._meta.database, Event, "event",
                    {"ticket": ticket, "kind": kind, "actor": actor, "at": now, "details": details})


def set_changed(ticket: Ticket, **values: Any) -> None:
    """Set the columns in `values` that differ (`save` writes only what was set: unchanged stays unwritten)."""
    for name, value in values.items():
        if getattr(ticket, name) != value:
            setattr(ticket, name, value)


def attach(ticket: Ticket, relation: str, row: peewee.Model) -> None:
    """Give the ticket its already loaded `relation` row (spares a lazy query); the column is marked changed
    only when `row` is another row than the one it refers to."""
    if ticket.__data__.get(relation) == row.id:
        ticket.__rel__[relation] = row  # what peewee's foreign-key accessor reads first
    else:
        setattr(ticket, relation, row)


def save(ticket: Ticket, now: datetime) -> None:
    """Write the ticket if its version is still the one read; otherwise refuse (DomainError).
    Only the columns assigned since it was read or last saved are written (with version and updated_at)."""
    seen = ticket.version
    ticket.version, ticket.updated_at = seen + 1, now
    if ticket.id is None:
        prepared.insert_instance(Ticket._meta.database, ticket, "ticket insert")
        return
    changed = [field for field in Ticket._meta.sorted_fields if field.name in ticket._dirty and field.name != "id"]
    values = {field: ticket.__data__[field.name] for field in changed}
    params = [*(field.db_value(value) for field, value in values.items()), ticket.id, seen]
    written = prepared.execute(Ticket._meta.database, "ticket update " + ",".join(f.name for f in changed),
                               lambda: Ticket.update(values).where((Ticket.id == ticket.id) & (Ticket.version == seen)),
                               params)
    if not written:
        raise DomainError(f"ticket #{ticket.number} was changed by someone else meanwhile; nothing was done. "
                          f"Look at it again (tgesc ticket show {ticket.number}) and retry")
    ticket._dirty.clear()


def next_number() -> int:
    """The number the next new ticket gets."""
    highest = prepared.scalar(Ticket._meta.database, "highest ticket number",
                              lambda: Ticket.select(fn.MAX(Ticket.number)), [])
    return (highest or 0) + 1


def front_line(db: peewee.Database) -> Tier:
    """The lowest tier, from the configuration snapshot (DomainError when none is configured)."""
    tier = snapshot(db).front_line
    if tier is None:
        raise DomainError("no tier is configured; run `tgesc init` or add one with `tgesc tier add`")
    return tier


def create(db: peewee.Database, customer: Customer, problem: str, now: datetime,
           priority: str = DEFAULT_PRIORITY) -> Ticket:
    """A new ticket at the front line, its clocks started (the caller saves and audits it)."""
    ticket = Ticket(number=next_number(), customer=customer, tier=front_line(db), priority=priority,
                    problem=problem, created_at=now, updated_at=now, clocks_started_at=now)
    sla.take_policy(db, ticket)
    return ticket


def schedule_unresolved(db, ticket: Ticket, fired: Iterable[str] | None = None,
                        rules: tuple[Rule, ...] | None = None) -> None:
    """Store when an unresolved-for rule could next fire (the sweep's column), or None. `fired` (the names
    of the rules fired on the ticket) and `rules` (the configured rules): when the caller has them already."""
    from tgesc.domain.rules import unresolved_check_at

    if ticket.status not in OPEN_STATUSES:
        set_changed(ticket, escalate_unresolved_at=None)
        return
    if fired is None:
        fired = {level for (level,) in prepared.tuples(db, "tickets: rules fired on a ticket", lambda: Firing.select(
            Firing.level).where((Firing.ticket == ticket.id) & (Firing.kind == "rule")), [ticket.id, "rule"])}
    set_changed(ticket, escalate_unresolved_at=unresolved_check_at(
        snapshot(db).rules if rules is None else rules, ticket.clocks_started_at or ticket.created_at, fired))


def checklist(ticket: Ticket, *, tried: int | None = None) -> Checklist:
    """The ticket's handover checklist (`tried`: the number of tried solutions, when the caller has them)."""
    if tried is None:
        tried = prepared.scalar(TriedSolution._meta.database, "tried solutions of a ticket, count", lambda: (
            TriedSolution.select(fn.COUNT(TriedSolution.id)).where(TriedSolution.ticket == ticket.id)), [ticket.id])
    return Checklist(ticket.first_occurred_at, ticket.evidence_provided, tried, ticket.expected_resolution_by)


# --- staff actions ------------------------------------------------------------------------------------


def _change(db: peewee.Database, number: int, now: datetime, apply) -> Ticket:
    with write_transaction(db):
        ticket = find(number)
        apply(ticket)
        save(ticket, now)
        return ticket


def _text(value: str, what: str) -> str:
    if not value or not value.strip():
        raise UsageError(f"{what} must not be empty")
    return value.strip()


def add_tried(db, number: int, text: str, *, actor: str, now: datetime) -> Ticket:
    """Record a solution the front line tried (who and when): a checklist item."""
    text = _text(text, "the solution tried")

    def apply(ticket):
        staff = Staff.get_or_none(Staff.handle == actor)
        TriedSolution.create(ticket=ticket, text=text, staff=staff, actor=actor, at=now)
        event(ticket, "ticket.tried", actor, now, text=text)

    return _change(db, number, now, apply)


def add_note(db, number: int, text: str, *, actor: str, now: datetime) -> Ticket:
    text = _text(text, "the note")
    return _change(db, number, now, lambda t: event(t, "ticket.note", actor, now, text=text))


def assign(db, number: int, handle: str | None, *, actor: str, now: datetime) -> Ticket:
    """Assign to a staff member (None: unassign)."""
    person = staff_member(handle) if handle else None

    def apply(ticket):
        ticket.assignee = person
        event(ticket, "ticket.assigned", actor, now, to=handle)

    return _change(db, number, now, apply)


def set_priority(db, number: int, priority: str, *, actor: str, now: datetime, reason: str = "") -> Ticket:
    """A new priority takes the SLA policy now configured for it."""
    if priority not in PRIORITIES:
        raise UsageError(f"unknown priority {priority!r}; use {', '.join(PRIORITIES)}")

    def apply(ticket):
        if ticket.priority == priority:
            raise DomainError(f"ticket #{number} already has priority {priority}")
        event(ticket, "ticket.priority", actor, now, old=ticket.priority, new=priority, reason=reason)
        ticket.priority = priority
        sla.take_policy(db, ticket, now)

    return _change(db, number, now, apply)


def known_tags() -> set[str]:
    """Tags the configuration's rules can set, and every tag already on a ticket."""
    found = {tag for rule in TriggerRule.select(TriggerRule.tags) for tag in rule.tags}
    return found | {tag for ticket in Ticket.select(Ticket.tags) for tag in ticket.tags}


def retag(db, number: int, add: Iterable[str], remove: Iterable[str], *, allow_new: bool, actor: str,
          now: datetime) -> Ticket:
    """Add and remove tags; a tag nobody uses yet needs `allow_new` (typos are refused)."""
    add, remove = sorted(set(add)), sorted(set(remove))

    def apply(ticket):
        unknown = [tag for tag in add if tag not in known_tags() and not allow_new]
        absent = [tag for tag in remove if tag not in ticket.tags]
        if unknown or absent:
            raise DomainError(f"ticket #{number} was not retagged:", problems=[
                *(f"unknown tag {t!r} (no rule sets it and no ticket has it); pass --new to create it"
                  for t in unknown), *(f"ticket #{number} has no tag {t!r}" for t in absent)])
        ticket.tags = sorted((set(ticket.tags) | set(add)) - set(remove))
        event(ticket, "ticket.tags", actor, now, added=add, removed=remove)

    return _change(db, number, now, apply)


def set_checklist(db, number: int, *, first_occurred_at: datetime | None = None,
                  expected_resolution_by: datetime | None = None, evidence: bool | None = None,
                  actor: str, now: datetime) -> Ticket:
    given = {"first_occurred_at": first_occurred_at, "expected_resolution_by": expected_resolution_by,
             "evidence_provided": evidence}
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        raise UsageError("nothing to record: give --first-occurred, --expected-by or --evidence/--no-evidence")

    def apply(ticket):
        for name, value in given.items():
            setattr(ticket, name, value)
        event(ticket, "ticket.checklist", actor, now,
              **{k: v.isoformat() if isinstance(v, datetime) else v for k, v in given.items()})

    return _change(db, number, now, apply)


def set_emotion(db, number: int, emotion: str, *, actor: str, now: datetime) -> Ticket:
    """Staff override the assessed emotion (later messages no longer change it)."""
    if emotion not in EMOTIONS:
        raise UsageError(f"unknown emotion {emotion!r}; use {', '.join(EMOTIONS)}")

    def apply(ticket):
        event(ticket, "ticket.emotion", actor, now, old=ticket.emotion, new=emotion)
        ticket.emotion, ticket.emotion_set_by_staff = emotion, True

    return _change(db, number, now, apply)


def resolve(db, number: int, *, survey: bool, actor: str, now: datetime,
            survey_policy: SurveyPolicy | None = None) -> Ticket:
    """Resolve; unless told otherwise, a return-visit survey is scheduled (article, step 5): after the survey
    delay, in the customer's daytime (`survey_policy`: the process settings when not given)."""

    def apply(ticket):
        ticket.status = transition(ticket.status, "resolve", number)
        ticket.resolved_at, ticket.escalate_unresolved_at = now, None
        sla.end_wait(ticket, now)  # a wait on the customer ends here: it stays a pause of the clocks
        if survey:
            from tgesc.services.tickets.surveys import schedule

            schedule(ticket, now=now, policy=survey_policy)
        event(ticket, "ticket.resolved", actor, now, survey=survey)

    return _change(db, number, now, apply)


def reopen(db, number: int, *, actor: str, now: datetime, reason: str = "") -> Ticket:
    """Reopen a resolved or closed ticket: its clocks start again under the current policy."""

    return _change(db, number, now, lambda ticket: reopen_in_place(db, ticket, actor=actor, now=now, reason=reason))


def reopen_in_place(db, ticket: Ticket, *, actor: str, now: datetime, reason: str) -> None:
    """Reopen (by staff, or by the customer writing again): clocks restart, pending surveys are cancelled."""
    ticket.status = transition(ticket.status, "reopen", ticket.number)
    restart_clocks(db, ticket, now)
    schedule_unresolved(db, ticket)
    prepared.execute(db, "tickets: scheduled surveys cancelled", lambda: Survey.update(status="cancelled").where(
        (Survey.ticket == ticket.id) & (Survey.status == "scheduled")), ["cancelled", ticket.id, "scheduled"])
    event(ticket, "ticket.reopened", actor, now, reason=reason)


def restart_clocks(db, ticket: Ticket, now: datetime) -> None:
    ticket.resolved_at = ticket.closed_at = ticket.first_responded_at = ticket.awaiting_reply_since = None
    ticket.paused_since, ticket.sla_paused, ticket.clocks_started_at = None, [], now
    sla.take_policy(db, ticket)


def close(db, number: int, *, actor: str, now: datetime) -> Ticket:
    def apply(ticket):
        ticket.status = transition(ticket.status, "close", number)
        ticket.closed_at, ticket.escalate_unresolved_at = now, None
        sla.end_wait(ticket, now)
        event(ticket, "ticket.closed", actor, now)

    return _change(db, number, now, apply)


"""What staff do to a ticket (the CLI's `tgesc ticket ...`, the staff commands in Telegram): every change in one
write transaction, audited with its actor, the SLA clocks kept current, saved only if nobody changed the ticket
meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import peewee

from tgesc.db import write_transaction
from tgesc.domain.errors import DomainError, UsageError
from tgesc.domain.ticket_rules import transition
from tgesc.domain.vocabulary import EMOTIONS, PRIORITIES
from tgesc.models import Staff, Ticket, TriedSolution
from tgesc.services.clocks import sla
from tgesc.services.tickets.lifecycle import begin_waiting, close_in_place, reopen_in_place, resolve_in_place
from tgesc.services.tickets.store import event, find, known_tags, save, staff_member
from tgesc.services.tickets.surveys import schedule
from tgesc.services.tickets.threads import relay_reply

if TYPE_CHECKING:
    from tgesc.domain.surveys import SurveyPolicy


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
        ticket.assignee, ticket.assigned_at = person, now if person else ticket.assigned_at
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

def retag(db, number: int, add: Iterable[str], remove: Iterable[str], *, allow_new: bool, actor: str,
          now: datetime, new_hint: str = "pass --new to create it") -> Ticket:
    """Add and remove tags; a tag nobody uses yet needs `allow_new` (typos are refused, with `new_hint`)."""
    add, remove = sorted(set(add)), sorted(set(remove))

    def apply(ticket):
        unknown = [tag for tag in add if tag not in known_tags() and not allow_new]
        absent = [tag for tag in remove if tag not in ticket.tags]
        if unknown or absent:
            raise DomainError(f"ticket #{number} was not retagged:", problems=[
                *(f"unknown tag {t!r} (no rule sets it and no ticket has it); {new_hint}"
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
            survey_policy: SurveyPolicy | None = None, reason: str = "staff") -> Ticket:
    """Resolve (`reason`: staff, or customer when they close it themselves); the customer is told how to reopen
    it. Unless told otherwise, a return-visit survey is scheduled (article, step 5): after the survey delay, in
    the customer's daytime (`survey_policy`: the process settings when not given)."""

    def apply(ticket):
        resolve_in_place(db, ticket, reason=reason, actor=actor, now=now, survey=survey)
        if survey:
            schedule(ticket, now=now, policy=survey_policy)

    return _change(db, number, now, apply)

def reopen(db, number: int, *, actor: str, now: datetime, reason: str = "") -> Ticket:
    """Reopen a resolved or closed ticket: its clocks start again under the current policy."""

    return _change(db, number, now, lambda ticket: reopen_in_place(db, ticket, actor=actor, now=now, reason=reason))

def close(db, number: int, *, actor: str, now: datetime) -> Ticket:
    return _change(db, number, now, lambda ticket: close_in_place(db, ticket, reason="staff", actor=actor, now=now))


def wait(db, number: int, *, reply: str | None, actor: str, now: datetime, in_thread: bool = False) -> Ticket:
    """The ticket waits on the customer (staff asked them something): `reply`, when given, is relayed to the
    customer first, as a staff answer (the first or next response); then the SLA clocks pause as the policy says
    until the customer writes, who is reminded, and then the ticket resolved, when they do not. `in_thread`: typed
    in the ticket's staff thread (`/wait TEXT`), where the text is already shown."""
    text = None if reply is None else _text(reply, "the reply")

    def apply(ticket):
        if ticket.status != "open":
            transition(ticket.status, "wait", number)  # refused with the reason
        if text is not None:
            relay_reply(ticket, text, actor=actor, now=now, mirror=not in_thread)
        begin_waiting(db, ticket, "staff", actor=actor, now=now)

    return _change(db, number, now, apply)

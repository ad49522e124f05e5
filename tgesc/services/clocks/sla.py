"""SLA clocks on tickets: take a policy snapshot, store due instants and the next check, report, recompute.

Ticket use cases call these whenever a ticket opens, changes priority, is escalated, starts or stops
waiting on the customer, or is answered; the row then carries `first_response_due`, `next_response_due`,
`resolution_due`, `next_breach_at` (the earliest of them that runs: the queue's order) and `next_check_at`, so
the sweep is one indexed query. The caller saves the row, in
the same transaction as the change that caused it.

Moving a ticket onto another policy (a priority change, `tgesc sla recompute`) never rewrites what already
happened: a run of a clock that has stopped, passed its deadline or fired its breach keeps its deadline
and warnings; only deadlines still to come move (`adopt`). Firings and events are never deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import peewee

from tgesc.db import write_transaction
from tgesc.domain.business_time import BusinessCalendar
from tgesc.domain.durations import parse_duration
from tgesc.domain.sla import Clock, Policy, TicketTimes, clocks, keep_history, next_breach, next_check, report
from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import Event, Ticket, Tier, database
from tgesc.services.clocks import store as firings
from tgesc.services.clocks.calendars import calendar_or_always_open
from tgesc.services.config.current import current

DUE_FIELDS = {"first_response": "first_response_due", "next_response": "next_response_due",
              "resolution": "resolution_due"}
# The ticket columns `refresh` reads (with the ticket's SLA firings, which only the clocks' own milestones
# are: a rule, reply, FAQ or notice firing never moves a clock). While none of them changes, the due
# instants and next check stored by the last refresh stay what a refresh would compute.
CLOCK_INPUTS = frozenset({"sla_policy", "priority", "clocks_started_at", "created_at", "first_responded_at",
                          "awaiting_reply_since", "resolved_at", "closed_at", "sla_paused", "paused_since",
                          "status", "waiting_reason"})


def current_policy(db: peewee.Database, priority: str, tier: Tier | None = None) -> Policy:
    """The configured SLA of `priority` as a ticket in `tier` runs on it (NotFound if unconfigured): on the
    policy's own calendar, else on the tier's (so the time promised to the customer, which is counted on the
    tier's calendar, and the deadline are one instant; 24/7 when neither has one), with the tier's own
    first-response target when that is shorter than the priority's."""
    config = current(db)
    entry = config.entry("sla", priority)
    tier_entry = config.entry("tiers", tier.code) if tier is not None else {}
    name = entry.get("calendar") or tier_entry.get("calendar")
    policy = Policy.from_entry(priority, {**entry, "calendar": name},
                               config.entry("calendars", name) if name else None)
    target = tier_entry.get("first_response")
    if target and timedelta(seconds=parse_duration(target)) < policy.first_response:
        return replace(policy, first_response=timedelta(seconds=parse_duration(target)))
    return policy


def tier_of(db: peewee.Database, ticket: Ticket) -> Tier:
    """The ticket's tier, from the configuration in force when it is there (no query)."""
    return current(db).tiers.get(ticket.tier_id) or ticket.tier


def calendar_for(policy: Policy) -> BusinessCalendar:
    return calendar_or_always_open(policy.calendar_name, policy.calendar)


def ticket_times(ticket: Ticket) -> TicketTimes:
    return TicketTimes(
        opened_at=ticket.clocks_started_at or ticket.created_at, first_responded_at=ticket.first_responded_at,
        awaiting_reply_since=ticket.awaiting_reply_since, resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        pauses=[(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in ticket.sla_paused or []],
        paused_since=ticket.paused_since)


def ticket_clocks(ticket: Ticket) -> list[Clock]:
    policy = Policy.from_json(ticket.sla_policy)
    return clocks(policy, ticket_times(ticket), calendar_for(policy))


def take_policy(db: peewee.Database, ticket: Ticket, now: datetime | None = None) -> dict[str, str]:
    """Snapshot the current policy of the ticket's priority in its tier: on opening and reopening (every clock
    starts afresh), and, given `now`, on a priority change or a move to another tier (then as `adopt`: what
    happened stays). Returns why each kept clock was kept, by name."""
    policy = current_policy(db, ticket.priority, tier_of(db, ticket))
    if now is not None and ticket.sla_policy:
        return adopt(ticket, policy, now)
    ticket.sla_policy = policy.as_json()
    refresh(ticket)
    return {}


def adopt(ticket: Ticket, policy: Policy, now: datetime,
          fired: Collection[tuple[str, str]] | None = None) -> dict[str, str]:
    """Move the ticket onto `policy` at `now`: each run of a clock that has stopped, passed its deadline or
    fired its breach keeps its deadline and warnings; the others follow `policy`. Returns why each kept
    clock was kept, by name. `fired` as for `refresh`."""
    fired = firings_of(ticket) if fired is None else fired
    snapshot, reasons = keep_history(policy, ticket_clocks(ticket), fired, now)
    ticket.sla_policy = snapshot.as_json()
    refresh(ticket, fired)
    return reasons


def firings_of(ticket: Ticket) -> set[tuple[str, str]]:
    """The ticket's (kind, level) firings (none for a ticket not saved yet)."""
    return set() if ticket.id is None else firings.pairs_of(database, ticket.id)


def refresh(ticket: Ticket, fired: Collection[tuple[str, str]] | None = None) -> list[Clock]:
    """Recompute the ticket's clocks from its policy snapshot and store due instants and the next check.
    `fired`: the ticket's (kind, level) firings when the caller has them already (else they are read)."""
    found = ticket_clocks(ticket)
    by_name = {clock.name: clock for clock in found}
    for name, column in DUE_FIELDS.items():
        setattr(ticket, column, by_name[name].due if name in by_name else None)
    ticket.next_breach_at = next_breach(ticket)
    if fired is None:
        fired = firings_of(ticket)
    runs = ticket.status in OPEN_STATUSES and ticket.waiting_reason != "faq"  # an FAQ answer's wait runs no clock
    ticket.next_check_at = next_check(found, fired) if runs else None
    return found


def refresh_if_moved(ticket: Ticket, fired: Collection[tuple[str, str]] | None = None) -> None:
    """`refresh`, unless no column in CLOCK_INPUTS was assigned since the ticket was read or last saved
    (then the stored due instants and next check are still current). `fired` as for `refresh`; the
    caller must not have recorded SLA milestone firings since then."""
    if not CLOCK_INPUTS.isdisjoint(field.name for field in ticket.dirty_fields):
        refresh(ticket, fired)


def promised_response(ticket: Ticket, now: datetime) -> datetime:
    """When the customer may expect the desk's next response, as the comfort reply and the escalation notice
    promise it: the deadline of the response clock that runs (the first response, else the next response),
    which is the deadline the desk is held to; when none runs or its deadline has passed already, the policy's
    first-response budget from `now` on the same calendar."""
    ahead = [clock.due for clock in ticket_clocks(ticket)
             if clock.name != "resolution" and clock.running and clock.due > now]
    if ahead:
        return min(ahead)
    policy = Policy.from_json(ticket.sla_policy)
    return calendar_for(policy).due(now, policy.first_response)


def begin_wait(ticket: Ticket, now: datetime) -> None:
    """The ticket now waits on the customer: its clocks stop if the policy says so."""
    if ticket.paused_since is None:
        ticket.paused_since = now
    refresh(ticket)


def end_wait(ticket: Ticket, now: datetime) -> None:
    """The wait is over (the customer wrote, or staff took it back): the pause is recorded, clocks run."""
    if ticket.paused_since is not None:
        wait = [ticket.paused_since.astimezone(UTC).isoformat(), now.astimezone(UTC).isoformat()]
        ticket.sla_paused = [*(ticket.sla_paused or []), wait]
        ticket.paused_since = None
    refresh(ticket)


def clock_report(ticket: Ticket, now: datetime) -> list[dict[str, Any]]:
    """Each clock's state at `now` (domain.sla.report: running, paused, breached, met, met late, stopped,
    stopped late), whether it runs, time used and left."""
    policy = Policy.from_json(ticket.sla_policy)
    calendar = calendar_for(policy)
    times = ticket_times(ticket)
    pauses = times.pauses if policy.pause_when_waiting else ()
    paused_since = times.paused_since if policy.pause_when_waiting else None
    return [report(clock, now, calendar, pauses, paused_since) for clock in clocks(policy, times, calendar)]


@dataclass(frozen=True)
class Recomputed:
    """One line of a recompute: what of a ticket's SLA the current policy changes, or would change but
    does not (`action` "keep": that run of the clock is history, `reason` says why)."""

    ticket: int
    what: str  # a clock name, or "warnings" / "breach action" when only those change
    old: Any
    new: Any
    action: str = "change"  # or "keep"
    reason: str = ""

    def describe(self) -> str:
        def shown(value: Any) -> str:
            return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else str(value)

        change = f"{self.what}: {shown(self.old)} -> {shown(self.new)}"
        return change if self.action == "change" else f"{change} (kept: {self.reason})"


STILL_TO_COME = "deadline still to come"


def recompute(db: peewee.Database, *, now: datetime, actor: str, dry_run: bool,
              progress: Callable[[Iterable[Ticket], int], Iterable[Ticket]] = lambda rows, total: rows,
              ) -> list[Recomputed]:
    """Move every open ticket onto the policy now configured for its priority and tier, as `adopt` does: deadlines
    still to come move, what already happened stays. Lists what changes and what is kept (and why)."""
    changes: list[Recomputed] = []
    with (db.atomic() if dry_run else write_transaction(db)) as txn:
        query = Ticket.select().where(Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.number)
        policies: dict[tuple[str, int], Policy] = {}
        for ticket in progress(query, query.count()):
            key = (ticket.priority, ticket.tier_id)
            policy = policies.get(key) or policies.setdefault(
                key, current_policy(db, ticket.priority, tier_of(db, ticket)))
            if _runs_on(ticket, policy):
                continue
            fired = firings_of(ticket)
            found = _differences(ticket, policy, now, fired)
            if not dry_run:
                adopt(ticket, policy, now, fired)
                ticket.save()
                Event.create(ticket=ticket, kind="sla.recompute", actor=actor, at=now, details=_audit(found))
            changes += found
        if dry_run:
            txn.rollback()
    return changes


def _audit(found: list[Recomputed]) -> dict[str, list[str]]:
    kept = [c.describe() for c in found if c.action == "keep"]
    return {"changes": [c.describe() for c in found if c.action == "change"], **({"kept": kept} if kept else {})}


def _runs_on(ticket: Ticket, policy: Policy) -> bool:
    """Whether the ticket's snapshot is `policy` already (whatever runs it keeps from earlier ones)."""
    return bool(ticket.sla_policy) and Policy.from_json(ticket.sla_policy).base == policy


def _differences(ticket: Ticket, policy: Policy, now: datetime, fired: set[tuple[str, str]]) -> list[Recomputed]:
    """What moving the ticket onto `policy` at `now` changes and keeps (at least one line: the snapshot)."""
    old_policy = Policy.from_json(ticket.sla_policy) if ticket.sla_policy else None
    current = ticket_clocks(ticket) if old_policy else []
    _, kept = keep_history(policy, current, fired, now)
    old = {c.name: c.due for c in current}
    new = {c.name: c.due for c in clocks(policy, ticket_times(ticket), calendar_for(policy))}
    found = [Recomputed(ticket.number, name, old.get(name), new.get(name),
                        *(("keep", kept[name]) if name in kept else ("change", _moves(new.get(name), now))))
             for name in DUE_FIELDS if old.get(name) != new.get(name)]
    if old_policy and old_policy.warn_at != policy.warn_at:
        found.append(Recomputed(ticket.number, "warnings", list(old_policy.warn_at), list(policy.warn_at),
                                reason=_warnings_fired(current, kept, fired)))
    if old_policy and (old_policy.on_breach, old_policy.escalate_to) != (policy.on_breach, policy.escalate_to):
        found.append(Recomputed(ticket.number, "breach action", old_policy.on_breach, policy.on_breach,
                                reason="breaches still to come"))
    return found or [Recomputed(ticket.number, "policy", "(snapshot)", "(current)")]


def _moves(new: datetime | None, now: datetime) -> str:
    """Why a deadline moves (and what follows when it moves into the past)."""
    if new is not None and new <= now:
        return f"{STILL_TO_COME}; the new one has passed: the next sweep fires the breach"
    return STILL_TO_COME


def _warnings_fired(current: list[Clock], kept: dict[str, str], fired: set[tuple[str, str]]) -> str:
    """The warnings of the clock runs that move which fired already (recorded; not sent again)."""
    done = [f"{c.name} {m.level}" for c in current if c.name not in kept for m in c.milestones
            if not m.is_breach and (c.name, m.key) in fired]
    return f"already fired: {', '.join(done)}" if done else "warnings still to come"

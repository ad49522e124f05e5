"""The timer sweeps: SLA warnings and breaches, and the unresolved-for rules, for every open ticket that is due.

Each sweep job claims a batch of the tickets that are due (`next_check_at` or `escalate_unresolved_at` at or
before `now`, status open or waiting: the `(status, column)` indexes, however many tickets are open) that no
other job holds, and hands the rest to a follow-up job, so that many workers share a backlog (batches.py);
each claimed ticket is handled in a savepoint of the batch's write transaction, read again (and on PostgreSQL
locked, `SELECT ... FOR UPDATE`), so a ticket that another sweep, or a staff reply, moved on meanwhile is left
alone. `tgesc worker cron` enqueues them every few seconds; `tgesc sla sweep --once` and `tgesc rule sweep
--once` run them once, batch after batch until nothing is due.

What an SLA milestone does (the ticket's policy snapshot decides, `on_breach`):

- a warning (each `warn_at` percentage of a clock) reminds the tier: a `sla_warning` notice in the
  ticket's thread in the tier's staff chat, whatever the priority;
- a breach does the policy's action: notify-admins (a `sla_breach` notice to every active admin's private
  chat), notify-leads (to the active leads of the ticket's tier; the admins when it has none),
  remind-tier (the notice in the ticket's thread), escalate (to the policy's tier, trigger `sla:<clock>`;
  a ticket already at or above it gets the thread notice instead), none (nothing is sent). Every action
  but none also notes the breach in the ticket's thread (after an escalation: in the new tier's thread);
- a resolution breach also sends the customer one `breach_update` saying what was done (escalated to the
  tier now handling it, the admins or team leads alerted, the tier reminded, or still being worked on) with
  a new expected time: the policy's resolution budget again from now, on the calendar of the ticket's
  policy (the tier's, unless the policy has its own), in the customer's zone.

Quiet hours: a low or medium priority ticket whose tier is closed now fires nothing; its next check moves
to the tier's next opening. Urgent and high priority never wait. A sweep that comes late (after an outage,
or at the end of quiet hours) acts on the latest due milestone of each clock only: the earlier ones are
recorded as passed, so nobody gets a warning together with the breach it warned of.

Once only: before acting, the milestone's firing, (ticket, clock, `<level>@<clock start>`), is inserted
with conflicts ignored in the same transaction, and only an inserted row acts. Two sweeps at once, or a
sweep run again after a crash, fire nothing twice; a new run of a clock (the next response after a later
customer message, every clock of a reopened ticket) fires again. Staff notices are in each recipient's
language (the thread: the language most of the tier's active staff have, English on a tie).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import Any

import peewee

from tgesc.domain.humanize import elapsed_text, eta_text, progress_text, zone_for
from tgesc.domain.sla import DueMilestone, Milestone, Policy, due_milestones, waits_for_business_hours
from tgesc.domain.sla_notices import notice_key, notice_variables
from tgesc.domain.vocabulary import OPEN_STATUSES
from tgesc.models import Staff, StaffTier, Ticket, Tier, database
from tgesc.services.clocks import sla
from tgesc.services.clocks import store as firing_store
from tgesc.services.clocks.calendars import tier_calendar
from tgesc.services.clocks.once import Firings
from tgesc.services.config.current import current
from tgesc.services.outbox import rows as outbox
from tgesc.services.sweeps import store
from tgesc.services.sweeps.batches import Sweep, on_locked_ticket
from tgesc.services.tickets.escalation import escalate, tier_name
from tgesc.services.tickets.reactions import react_to_time, ticket_tier
from tgesc.services.tickets.store import event, save, set_changed

log = logging.getLogger(__name__)
ACTOR = "sla"


# --- the one query each sweep starts with ----------------------------------------------------------------


def due_for_sla(db: peewee.Database, *, now: datetime, limit: int | None = None) -> list[int]:
    """The ids of the open tickets whose next SLA check is due at `now`, most overdue first (at most `limit`)."""
    return store.due_ids(db, store.SLA, now, limit)


def due_for_rules(db: peewee.Database, *, now: datetime, limit: int | None = None) -> list[int]:
    """The ids of the open tickets an unresolved-for rule may fire on at `now`, most overdue first."""
    return store.due_ids(db, store.UNRESOLVED, now, limit)


# --- the SLA sweep ---------------------------------------------------------------------------------------


def sweep_sla(db: peewee.Database, *, now: datetime, dry_run: bool = False,
              limit: int | None = None) -> list[dict[str, Any]]:
    """Fire the SLA warnings and breaches due at `now` (see the module's description); what fired, one dict
    per milestone: ticket (number), priority, clock, level, due, action, recipients, note. `dry_run`: do
    the same work in a transaction that is rolled back (what would fire; nothing changes). `limit`: handle
    at most that many due tickets (the most overdue); the next sweep takes the rest."""
    return SLA_SWEEP.run(db, now=now, dry_run=dry_run, limit=limit).done


def _handle_sla(db: peewee.Database, ticket: Ticket, now: datetime) -> list[dict[str, Any]]:
    if ticket.status not in OPEN_STATUSES or ticket.next_check_at is None or ticket.next_check_at > now:
        return []  # another sweep, or a change to the ticket, moved it on meanwhile
    firings = Firings.load(ticket)
    due = due_milestones(sla.ticket_clocks(ticket), firings.pairs, now)
    if not due:  # the stored next check was stale: store the current one
        sla.refresh(ticket, firings.pairs)
        save(ticket, now)
        return []
    policy = Policy.from_json(ticket.sla_policy)
    tier = ticket_tier(current(db), ticket)
    calendar = tier_calendar(db, tier)
    if waits_for_business_hours(policy.priority) and not calendar.is_open(now):
        opening = calendar.next_open(now)
        set_changed(ticket, next_check_at=opening)
        save(ticket, now)
        return [_row(ticket, policy, d.milestone, "wait", [], f"quiet hours: {tier.code} opens at "
                     f"{opening.astimezone(calendar.zone).isoformat(timespec='minutes')}") for d in due]
    firing = _Firing(db, ticket, tier, policy, now)
    rows = [firing.fire(item) for item in due if _record(db, ticket, firings, item.milestone, now)]
    sla.refresh(ticket, firings.pairs)
    save(ticket, now)
    return rows


def _record(db: peewee.Database, ticket: Ticket, firings: Firings, milestone: Milestone, now: datetime) -> bool:
    """Insert the milestone's firing unless it exists; whether this call inserted it (then, and only then, act:
    otherwise another sweep got there first)."""
    inserted = firing_store.record_once(db, ticket.id, milestone.clock, milestone.key, now)
    firings.pairs.add((milestone.clock, milestone.key))
    return inserted


class _Firing:
    """What one ticket's due milestones do, in the sweep's transaction."""

    def __init__(self, db: peewee.Database, ticket: Ticket, tier: Tier, policy: Policy, now: datetime) -> None:
        self.db, self.ticket, self.tier, self.policy, self.now = db, ticket, tier, policy, now

    def fire(self, item: DueMilestone) -> dict[str, Any]:
        """Act on one milestone whose firing was just recorded, audit it (`sla.warning` / `sla.breach`)."""
        milestone = item.milestone
        if not item.acts:
            row = self._row(milestone, "skipped", [], "passed: a later milestone of this clock is due too")
        elif not milestone.is_breach:
            row = self._row(milestone, "remind-tier", self._to_thread(self.tier, item), "")
        else:
            row = self._breach(item)
        event(self.ticket, "sla.breach" if milestone.is_breach else "sla.warning", ACTOR, self.now,
              clock=milestone.clock, level=milestone.level, run=milestone.key, due=milestone.at.isoformat(),
              action=row["action"], recipients=row["recipients"], note=row["note"])
        return row

    def _breach(self, item: DueMilestone) -> dict[str, Any]:
        milestone = item.milestone
        action, recipients, note, done = self.policy.on_breach, [], "", "none"
        if action in ("notify-admins", "notify-leads"):
            people, done = _active(Staff.role == "admin"), "admins"
            if action == "notify-leads":
                leads = _active((Staff.role == "lead") & Staff.id.in_(
                    StaffTier.select(StaffTier.staff).where(StaffTier.tier == self.tier.id)))
                if not leads:
                    note = f"{self.tier.code} has no active lead: the admins were notified"
                people, done = leads or people, "leads" if leads else "admins"
            if not people:
                note = "nobody to notify: there is no active admin"
            recipients = [self._to_staff(person, item) for person in people]
            thread = self._to_thread(self.tier, item)
            recipients += thread
            done = done if people else "tier" if thread else "none"
        elif action == "escalate":
            recipients, note = self._escalate(item)
            done = "escalated" if recipients[:1] and recipients[0].startswith("tier:") else \
                "tier" if recipients else "none"
        elif action == "remind-tier":
            recipients = self._to_thread(self.tier, item)
            done = "tier" if recipients else "none"
        if milestone.clock == "resolution":
            recipients.append(self._update_customer(done))
        return self._row(milestone, action, recipients, note)

    def _escalate(self, item: DueMilestone) -> tuple[list[str], str]:
        """Escalate to the policy's tier (the thread there is told why); a ticket at or above it: remind its tier."""
        milestone = item.milestone
        target = current(self.db).tier_codes.get(self.policy.escalate_to or "")
        if target is None or target.level <= self.tier.level:
            why = (f"already at {self.tier.code}, not below {target.code}" if target is not None
                   else "the policy names no tier to escalate to")
            return self._to_thread(self.tier, item), f"{why}: the tier was reminded instead"
        late = elapsed_text(self.now - milestone.at, "en")
        escalate(self.db, self.ticket, to=target.code, reason=f"SLA: the {milestone.clock.replace('_', ' ')} "
                 f"deadline passed {late} ago", actor=ACTOR, now=self.now, trigger=f"sla:{milestone.clock}")
        return [f"tier:{target.code}", *self._to_thread(target, item, "escalated")], ""

    def _to_staff(self, person: Staff, item: DueMilestone) -> str:
        """The breach notice in a lead's or admin's private chat, in their language."""
        outbox.template_to(person.telegram_id, person.language, notice_key(True),
                           self._variables(self.tier, item, "manager", person.language),
                           now=self.now, ticket=self.ticket)
        return f"staff:{person.handle}"

    def _to_thread(self, tier: Tier, item: DueMilestone, audience: str = "thread") -> list[str]:
        """The notice in the ticket's thread in `tier`'s staff chat (nothing when the tier has no chat)."""
        chat = tier.staff_chat_id if audience == "escalated" or self.ticket.staff_chat_id is None \
            else self.ticket.staff_chat_id
        if chat is None:
            return []
        language = thread_language(tier)
        key = notice_key(item.milestone.is_breach)
        text = outbox.render_template(key, language, self._variables(tier, item, audience, language))
        outbox.queue(self.ticket, chat, text, now=self.now, payload={"ticket_thread": True, "template": key})
        return [f"chat:{chat}"]

    def _variables(self, tier: Tier, item: DueMilestone, audience: str, language: str) -> dict[str, str]:
        milestone = item.milestone
        return notice_variables(ticket=self.ticket.number, priority=self.ticket.priority, tier=tier.code,
                                clock=milestone.clock, due=item.deadline, now=self.now, breach=milestone.is_breach,
                                audience=audience, zone=tier_calendar(self.db, tier).zone, language=language)

    def _update_customer(self, done: str) -> str:
        """The customer's one proactive update on a resolution breach: what was done about it (`done`, a
        `humanize.progress_text` kind: escalated, admins or leads alerted, the tier reminded, none) and a new
        expected time (the resolution budget again from now, on the calendar of the ticket's policy in the tier
        now handling it), in the customer's zone."""
        customer = self.ticket.customer
        policy = Policy.from_json(self.ticket.sla_policy)
        expected = sla.calendar_for(policy).due(self.now, policy.resolution)
        tier = tier_name(ticket_tier(current(self.db), self.ticket), customer.language)
        outbox.to_customer(self.ticket, "breach_update", {
            "eta": eta_text(self.now, expected, zone_for(customer.timezone, customer.language), customer.language),
            "progress": progress_text(done, customer.language, tier)}, now=self.now)
        return f"customer:{customer.telegram_id}"

    def _row(self, milestone: Milestone, action: str, recipients: list[str], note: str) -> dict[str, Any]:
        return _row(self.ticket, self.policy, milestone, action, recipients, note)


def _active(condition: peewee.Expression) -> list[Staff]:
    return list(Staff.select().where(condition & (Staff.active == True)).order_by(Staff.handle))  # noqa: E712


def thread_language(tier: Tier) -> str:
    """The language of notices in a tier's chat: the one most of its active staff have (English on a tie)."""
    configuration = current(database)
    counts = Counter(person.language for person in configuration.staff.values()
                     if (person.id, tier.id) in configuration.staff_tiers)
    leaders = [language for language, count in counts.items() if count == max(counts.values())]
    return leaders[0] if len(leaders) == 1 else "en"


def _row(ticket: Ticket, policy: Policy, milestone: Milestone, action: str, recipients: list[str],
         note: str) -> dict[str, Any]:
    return {"ticket": ticket.number, "priority": policy.priority, "clock": milestone.clock,
            "level": milestone.level, "due": milestone.at, "action": action, "recipients": recipients,
            "note": note}


# --- the unresolved-for sweep ----------------------------------------------------------------------------


def sweep_unresolved(db: peewee.Database, *, now: datetime, dry_run: bool = False,
                     limit: int | None = None) -> list[dict[str, Any]]:
    """Fire the unresolved-for rules due at `now` (`reactions.react_to_time`); one dict per ticket something
    fired on: ticket (number), rules, escalated_to (a tier code or None), priority. `dry_run` and `limit` as for
    `sweep_sla`."""
    return UNRESOLVED_SWEEP.run(db, now=now, dry_run=dry_run, limit=limit).done


def _handle_unresolved(db: peewee.Database, ticket: Ticket, now: datetime) -> list[dict[str, Any]]:
    due = ticket.escalate_unresolved_at
    if ticket.status not in OPEN_STATUSES or due is None or due > now:
        return []
    before, tier = Firings.load(ticket).of("rule"), ticket.tier_id
    react_to_time(db, ticket, now=now)
    save(ticket, now)
    rules = sorted(Firings.load(ticket).of("rule") - before)
    if not rules:
        return []
    escalated = current(db).tiers[ticket.tier_id].code if ticket.tier_id != tier else None
    return [{"ticket": ticket.number, "rules": rules, "escalated_to": escalated, "priority": ticket.priority,
             "due": due}]


SLA_SWEEP = Sweep(store.SLA, on_locked_ticket(_handle_sla))
UNRESOLVED_SWEEP = Sweep(store.UNRESOLVED, on_locked_ticket(_handle_unresolved))

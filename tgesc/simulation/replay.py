"""The what-if replay (`tgesc simulate --replay`): the customer messages of the user's database, played again on
two temporary desks, under the current configuration and under a candidate one, and what would have changed.

`history_scenario` reads the database the models are bound to (SELECTs only): every customer who wrote in the
window with their messages, the staff replies relayed to them, and the resolutions, closings and survey answers
of their tickets, all at their original instants. Tickets are numbered afresh in a replay, so those steps address
"the customer's latest ticket": `ReplayDesk` resolves that when the step runs, and lets a step that no longer fits
(a reply in a thread that is not there, a survey never sent) be skipped and counted in `notes` instead of failing.

`replay` exports the current configuration, plays the history under it (applied with pruning over the shipped
defaults: exactly the current configuration) and under it plus the candidate (applied as `tgesc config apply
CANDIDATE` would, with or without --prune), and compares escalations, SLA warnings and breaches, and surveys: the
inputs are the same, so every difference comes from the configuration. Tickets are matched by customer and the
order of their tickets, and shown with the number of the ticket in the user's database.
"""

from __future__ import annotations

import shlex
import tempfile
from collections import Counter
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import peewee

from tgesc.adapters.telegram.wire import MEDIA_KINDS
from tgesc.domain.errors import ConfigInvalid, DomainError, TgescError, UsageError
from tgesc.domain.limits import LimitError, read_text_file
from tgesc.domain.scenario import Scenario, ScenarioCustomer, Step
from tgesc.models import Customer, Event, Message, Staff, StaffTier, Ticket, database
from tgesc.services.config.apply import apply_config, current_document, export_toml, parse_toml
from tgesc.services.tickets import actions
from tgesc.services.tickets.permissions import may_work
from tgesc.simulation.desk import ACTOR, SimulatedDesk
from tgesc.simulation.runner import Simulation, redis_for_run

LIFECYCLE = {"ticket.resolved": "resolve", "ticket.closed": "close"}
FAQ_VERDICTS = {("ticket.resolved", "faq_solved"): "solved", ("ticket.resumed", "help"): "help"}
Origins = dict[tuple[int, int], int]  # (customer's Telegram id, Unix second of a message) -> the ticket's number


# --- the history ----------------------------------------------------------------------------------------------


def history_scenario(since: datetime, until: datetime) -> Scenario:
    """The customers who wrote between `since` and `until` and what happened in their conversations, as a
    scenario starting at `since` (instants in its zone) and waiting until `until`."""
    return read_history(since, until)[0]


def read_history(since: datetime, until: datetime) -> tuple[Scenario, Origins]:
    """The history scenario, and the ticket each customer message belonged to."""
    staff_ids = {row.telegram_id for row in Staff.select(Staff.telegram_id)}
    inbound = [m for m in (Message.select(Message, Ticket, Customer).join(Ticket).join(Customer)
                           .where((Message.sender == "customer") & (Message.direction == "in")
                                  & (Message.sent_at >= since) & (Message.sent_at <= until))
                           .order_by(Message.sent_at, Message.id))
               if m.ticket.customer.telegram_id not in staff_ids]  # staff trying the bot are no customers
    customers = _customers([m.ticket.customer for m in inbound])
    keys = {person.id: key for key, person in customers.items()}
    timed = [(m.sent_at, 0, m.id, _customer_step(keys[m.ticket.customer.telegram_id], m)) for m in inbound]
    timed += [(m.sent_at, 0, m.id, step) for m, step in _staff_replies(since, until, keys)]
    timed += [(e.at, 1, e.id, step) for e, step in _lifecycle(since, until, keys)]
    timed.sort(key=lambda item: item[:3])
    zone = since.tzinfo
    steps = [replace(step, number=n, at=at.astimezone(zone)) for n, (at, _, _, step) in enumerate(timed, 1)]
    steps.append(Step(number=len(steps) + 1, at=max([until, *(s.at for s in steps)]).astimezone(zone)))
    origins = {(m.ticket.customer.telegram_id, int(m.sent_at.timestamp())): m.ticket.number for m in inbound}
    scenario = Scenario(name="replay", path=None, start=since, config=None, customers=customers, staff={},
                        steps=tuple(steps), description=f"the customer messages from {since} to {until}")
    return scenario, origins


def _customers(rows: list[Customer]) -> dict[str, ScenarioCustomer]:
    """Each customer once, named `@username` when that names one customer, else `customer:ID`."""
    unique = {row.telegram_id: row for row in rows}
    usernames = Counter(row.username for row in unique.values() if row.username)
    people = {}
    for row in unique.values():
        key = f"@{row.username}" if row.username and usernames[row.username] == 1 else f"customer:{row.telegram_id}"
        people[key] = ScenarioCustomer(key=key, id=row.telegram_id, name=row.first_name or row.username or key,
                                       language=row.language or "en", timezone=row.timezone, username=row.username)
    return people


def _customer_step(key: str, message: Message) -> Step:
    attachment = None
    if message.media_type:
        attachment = message.media_type if message.media_type in MEDIA_KINDS else "document"
    return Step(number=0, at=message.sent_at, customer=key, text=message.text or None, attachment=attachment)


def _staff_replies(since: datetime, until: datetime, keys: dict[int, str]) -> list[tuple[Message, Step]]:
    """The staff messages relayed to the customers (not notes, commands or refused ones), as staff steps
    addressing the customer's latest ticket (`ticket` None)."""
    query = (Message.select(Message, Ticket, Customer, Staff).join(Ticket).join(Customer)
             .switch(Message).join(Staff, peewee.JOIN.LEFT_OUTER)
             .where((Message.sender == "staff") & (Message.is_internal == False)  # noqa: E712 (SQL)
                    & (Message.sent_at >= since) & (Message.sent_at <= until)))
    return [(m, Step(number=0, at=m.sent_at, customer=keys[m.ticket.customer.telegram_id],
                     staff=m.staff.handle if m.staff else "", text=m.text or f"[{m.media_type or 'message'}]"))
            for m in query if m.ticket.customer.telegram_id in keys]


def _lifecycle(since: datetime, until: datetime, keys: dict[int, str]) -> list[tuple[Event, Step]]:
    """Resolutions and closings by people (command-line steps without a number: the latest ticket's is added when
    they run; the automatic ones the replay's own lifecycle sweep does again), survey answers (a press on the
    survey's star button) and verdicts on FAQ answers (a press on "that solved it" or "I still need help")."""
    query = (Event.select(Event, Ticket, Customer).join(Ticket).join(Customer)
             .where(Event.kind.in_([*LIFECYCLE, "survey.answered", "ticket.resumed"]) & (Event.at >= since)
                    & (Event.at <= until)))
    steps = []
    for event in query:
        key = keys.get(event.ticket.customer.telegram_id)
        if key is None:
            continue
        details = event.details or {}
        verdict = FAQ_VERDICTS.get((event.kind, details.get("reason")))
        if verdict is not None:
            steps.append((event, Step(number=0, at=event.at, customer=key, press=verdict)))
            continue
        if event.actor == "lifecycle" or event.kind == "ticket.resumed":
            continue
        if event.kind == "survey.answered":
            if details.get("stars") is None:
                continue
            steps.append((event, Step(number=0, at=event.at, customer=key, press=str(details.get("stars")))))
            continue
        words = ("ticket", LIFECYCLE[event.kind])
        if event.kind == "ticket.resolved" and not details.get("survey", True):
            words += ("--no-survey",)
        steps.append((event, Step(number=0, at=event.at, customer=key, cli=words, cli_line=shlex.join(words))))
    return steps


# --- a desk that replays ----------------------------------------------------------------------------------------


class ReplayDesk(SimulatedDesk):
    """A simulated desk with the current configuration exactly (`base`, pruned) and the candidate over it;
    steps without a ticket number act on the customer's latest ticket, or are skipped and noted."""

    def __init__(self, scenario: Scenario, *, base: Path, candidate: Path | None, prune: bool = False,
                 redis_url: str | None = None) -> None:
        super().__init__(scenario, config=base, redis_url=redis_url)
        self.candidate, self.prune = candidate, prune
        self.notes: Counter[str] = Counter()

    def _apply_config(self) -> None:
        for path, prune in ((self.config_path, True), (self.candidate, self.prune)):
            if path is not None:
                apply_config(self.db, parse_toml(path.read_text(encoding="utf-8"), str(path)), source=str(path),
                             prune=prune, dry_run=False, actor=ACTOR, now=self.clock())

    def latest_ticket(self, key: str) -> Ticket | None:
        """The newest ticket of the scenario's customer `key` on this desk."""
        return (Ticket.select().join(Customer).where(Customer.telegram_id == self.scenario.customers[key].id)
                .order_by(Ticket.number.desc()).first())

    def staff_says(self, step: Step) -> None:
        if step.ticket is not None:
            return super().staff_says(step)
        ticket = self.latest_ticket(step.customer)
        if ticket is None or ticket.staff_chat_id is None or not (ticket.topic_id or ticket.card_message_id):
            self.notes["staff replies skipped: the ticket had no staff thread"] += 1
            return None
        who = self.replier(step.staff, ticket)
        if who is None:
            self.notes["staff replies skipped: nobody works in the ticket's tier"] += 1
            return None
        if who != step.staff:
            self.notes["staff replies given by another member of the ticket's tier"] += 1
        return super().staff_says(replace(step, ticket=ticket.number, staff=who))

    def replier(self, handle: str, ticket: Ticket) -> str | None:
        """Who answers in `ticket`'s thread: the original author when they may work in its tier now, else the
        first staff member of that tier (by handle), else the first admin."""
        active = Staff.active == True  # noqa: E712 (SQL)
        staff = Staff.get_or_none((Staff.handle == handle) & active)
        if staff is not None and handle in self.staff_keys and may_work(staff, ticket.tier):
            return handle
        in_tier = Staff.select().join(StaffTier).where((StaffTier.tier == ticket.tier_id) & active)
        admins = Staff.select().where((Staff.role == "admin") & active)
        found = in_tier.order_by(Staff.handle).first() or admins.order_by(Staff.handle).first()
        return found.handle if found is not None and found.handle in self.staff_keys else None

    def cli(self, step: Step) -> str:
        """A resolution or closing of the history: done to the customer's latest ticket through the service
        (`ticket resolve` / `ticket close` would call it), or skipped when that ticket cannot take it."""
        if step.customer is None:
            return super().cli(step)
        ticket, verb = self.latest_ticket(step.customer), step.cli[1]
        try:
            if ticket is None:
                raise DomainError("no ticket")
            if verb == "resolve":
                actions.resolve(self.db, ticket.number, survey="--no-survey" not in step.cli, actor=ACTOR,
                                now=self.clock(), survey_policy=self.settings.survey_policy)
            else:
                actions.close(self.db, ticket.number, actor=ACTOR, now=self.clock())
        except TgescError:
            self.notes[f"{verb} skipped: the ticket could not be {verb}d then"] += 1
        return ""

    def press(self, step: Step, sent: list[dict[str, Any]]) -> str:
        """The customer's survey answer (a press on the star button of the latest survey sent to them) or verdict
        on an FAQ answer (solved, help: its button on the latest FAQ answer sent to them)."""
        kind = "faq:" if step.press in ("solved", "help") else "survey:"
        user = self.users[step.customer]
        for message in reversed(sent):
            if not (message["outgoing"] and message["chat_id"] == user.id):
                continue
            for label, data in (pair for row in message["buttons"] or [] for pair in row):
                if data.startswith(kind) and data.endswith(f":{step.press}"):
                    self.connection.feed(self.wire.callback(user, user.id, message["message_id"], data))
                    return label
        if kind == "faq:":
            self.notes["FAQ verdicts skipped: no FAQ answer was sent"] += 1
            return "(no FAQ answer)"
        self.notes["survey answers skipped: no survey was sent"] += 1
        return "(no survey)"


def play(scenario: Scenario, *, base: Path, candidate: Path | None, prune: bool = False,
         redis_url: str | None = None) -> dict[str, Any]:
    """Run the history on a replay desk: the simulation's result, with `first_messages` (ticket number ->
    (customer id, Unix second of its first customer message)) and the `notes` of skipped steps."""
    desk = ReplayDesk(scenario, base=base, candidate=candidate, prune=prune, redis_url=redis_url)
    try:
        desk.open()
        result = Simulation(desk, scenario).run()
        return {**result, "first_messages": _first_messages(), "notes": dict(desk.notes)}
    finally:
        desk.close()


def _first_messages() -> dict[int, tuple[int, int]]:
    first: dict[int, tuple[int, int]] = {}
    query = (Message.select(Message.sent_at, Ticket.number, Customer.telegram_id).join(Ticket).join(Customer)
             .where(Message.sender == "customer").order_by(Message.id).objects())
    for row in query:
        first.setdefault(row.number, (row.telegram_id, int(row.sent_at.timestamp())))
    return first


# --- the what-if ---------------------------------------------------------------------------------------------


def replay(since: datetime, until: datetime, candidate: Path, redis_url: str | None = None, *,
           prune: bool = False) -> dict[str, Any]:
    """Replay the window's history under the current configuration and under the candidate applied over it
    (`prune`: entries the candidate leaves out are removed, as `config apply --prune` does); the comparison:
    {since, until, messages, customers, current, candidate (counts), changes, notes}."""
    check_candidate(candidate, prune=prune)
    scenario, origins = read_history(since, until)
    messages = sum(1 for step in scenario.steps if step.kind == "customer")
    document: dict[str, Any] = {"since": since.isoformat(timespec="seconds"),
                                "until": until.isoformat(timespec="seconds"),
                                "messages": messages, "customers": len(scenario.customers)}
    if not messages:
        return {**document, "current": {}, "candidate": {}, "changes": [], "notes": {}}
    bound = database.obj
    with tempfile.TemporaryDirectory(prefix="tgesc-replay-") as tmp, redis_for_run(redis_url) as url:
        base = Path(tmp) / "current.toml"
        base.write_text(export_toml(database), encoding="utf-8")
        try:
            runs = {name: play(scenario, base=base, candidate=layer, prune=prune, redis_url=url)
                    for name, layer in (("current", None), ("candidate", candidate))}
        finally:
            database.initialize(bound)  # the desks bound the models to theirs
    return {**document, **compare(runs["current"], runs["candidate"], origins)}


def check_candidate(path: Path, *, prune: bool = False) -> None:
    """UsageError when the candidate cannot be read, ConfigInvalid when applying it over the current
    configuration (the database the models are bound to) would be refused: before any replay runs."""
    from tgesc.domain.config_document import cross_problems, overlay, validate_document

    try:
        text = read_text_file(Path(path))
    except LimitError as error:
        raise UsageError(f"--config: {error}") from None
    desired, problems = validate_document(parse_toml(text, str(path)), whole=prune)
    if not problems and not prune:
        problems = cross_problems(overlay(current_document(database), desired))
    if problems:
        raise ConfigInvalid(f"{path}: {len(problems)} problem(s):", problems=problems)


# --- the comparison -------------------------------------------------------------------------------------------


def compare(current: dict[str, Any], candidate: dict[str, Any], origins: Origins) -> dict[str, Any]:
    """Counts of each run and the changes ticket by ticket (matched by customer and the order of their tickets)."""
    before, after = _Outcome(current, origins), _Outcome(candidate, origins)
    changes: list[dict[str, Any]] = []
    for ticket in sorted(before.items.keys() | after.items.keys()):
        changes += _ticket_changes(ticket, before, after)
    changes.sort(key=lambda change: (change["at"] or "", change["customer"]))
    return {"current": before.counts, "candidate": after.counts, "changes": changes,
            "notes": {"current": current["notes"], "candidate": candidate["notes"]}}


class _Outcome:
    """One run's counts, and per ticket (customer, ordinal) its escalations, breaches and surveys."""

    def __init__(self, result: dict[str, Any], origins: Origins) -> None:
        self.ticket_of: dict[int, tuple[str, int]] = {}
        self.original: dict[tuple[str, int], int | None] = {}
        seen: Counter[str] = Counter()
        for row in result["tickets"]:
            seen[row["customer"]] += 1
            key = (row["customer"], seen[row["customer"]])
            self.ticket_of[row["number"]] = key
            self.original[key] = origins.get(result["first_messages"].get(row["number"], (0, 0)))
        self.items: dict[tuple[str, int], list[tuple[tuple, dict[str, Any]]]] = {key: [] for key in self.original}
        self.counts = _counts(result, len(result["tickets"]))
        for event in result["events"]:
            item = _item(event)
            if item is not None and event["ticket"] in self.ticket_of:
                self.items[self.ticket_of[event["ticket"]]].append((item, event))


def _counts(result: dict[str, Any], tickets: int) -> dict[str, Any]:
    counts: dict[str, Any] = {"tickets": tickets, "escalations": Counter(), "sla_warnings": Counter(),
                              "sla_breaches": Counter(), "surveys_sent": 0, "surveys_answered": 0}
    for event in result["events"]:
        kind, detail = event["kind"], event["detail"]
        if kind == "escalated":
            counts["escalations"][detail.get("trigger")] += 1
        elif kind in ("sla_warning", "sla_breach"):
            counts["sla_warnings" if kind == "sla_warning" else "sla_breaches"][detail.get("clock")] += 1
        elif kind in ("survey_sent", "survey_answered"):
            counts[kind.replace("survey_", "surveys_")] += 1
    return {key: dict(sorted(value.items())) if isinstance(value, Counter) else value for key, value in counts.items()}


def _item(event: dict[str, Any]) -> tuple | None:
    """What an event is compared by: (what, label, the rest that must match), None for events not compared."""
    kind, detail = event["kind"], event["detail"]
    if kind == "escalated":
        return ("escalation", detail.get("trigger"), detail.get("rule") or detail.get("clock"), detail.get("to"))
    if kind == "sla_breach":
        return ("breach", detail.get("clock"))
    if kind == "survey_sent":
        return ("survey", None, detail.get("round"))
    return None


def _ticket_changes(ticket: tuple[str, int], before: _Outcome, after: _Outcome) -> list[dict[str, Any]]:
    customer = ticket[0]
    number = before.original.get(ticket) or after.original.get(ticket)
    if (ticket in before.original) != (ticket in after.original):
        which = "added" if ticket in after.original else "removed"
        return [{"kind": f"ticket {which}", "customer": customer, "ticket": number, "at": None, "detail": {}}]
    changes = []
    old, new = before.items[ticket], after.items[ticket]
    for item in dict.fromkeys(item for item, _ in old + new):
        mine = [event for key, event in old if key == item]
        theirs = [event for key, event in new if key == item]
        for a, b in zip(mine, theirs, strict=False):
            if a["at"] != b["at"]:
                changes.append(_change(item, "moved", customer, number, a, candidate_at=b["at"]))
        changes += [_change(item, "removed", customer, number, a) for a in mine[len(theirs):]]
        changes += [_change(item, "added", customer, number, b) for b in theirs[len(mine):]]
    return changes


def _change(item: tuple, how: str, customer: str, ticket: int | None, event: dict[str, Any],
            **more: Any) -> dict[str, Any]:
    what, label = item[0], item[1]
    detail = {key: value for key, value in event["detail"].items() if key in ("rule", "clock", "to", "due", "round")}
    labelled = {"escalation": {"trigger": label}, "breach": {"clock": label}}.get(what, {})
    return {"kind": f"{what} {how}", **labelled, "customer": customer, "ticket": ticket, "at": event["at"],
            "detail": {**detail, **more}}

"""Scenario files for `tgesc simulate`: a virtual clock's start, customers, staff and timed steps.

    start = "2026-03-02T09:00:00+01:00"  # the clock's start, with an offset (a string or a TOML datetime)
    config = "policy.toml"                # optional, relative to the scenario file; description: free text
    [customers.alice]                     # id (required), name, language ("en"), timezone, username
    [staff.bob]                           # id (required), name, role (agent|lead|admin), tiers, language,
                                          # capacity (open tickets at most), calendar (their shifts: a name)
    [[steps]]                             # at least one; `at`: +90s, +2m, +1h30m, +2d after start, or an instant
    at = "+2m"                            # with offset; steps never go back in time. Then at most one action:
    customer = "alice"                    # text and/or attachment (photo|document|voice): alice writes;
                                          # or press = 2: she presses the button whose callback ends in 2
    # staff = "bob", ticket = 1, text = "...": bob writes in that ticket's staff topic / card thread
    # staff = "dave", chat = "L2" (a tier's staff chat) or "forum:Night desk" / "group:Sales" (a new group the
    #   bot is in, made at its first use), text = "/bind L3": a staff message outside any ticket's thread
    # cli = "ticket escalate 1 --to L2": a command as on-call staff would type it; nothing but `at`: a wait

`parse_scenario` checks a decoded document and returns a `Scenario` with every step's instant resolved,
or raises `ScenarioError` naming the file, the step and the field at fault; `load_scenario` reads a file.
Values have the ranges of docs/limits.md (`tgesc.domain.limits`): ids, ticket numbers, instants (the start
and every step), names and texts.
Staff names in steps are not checked here: staff may also come from the escalation config.
"""

from __future__ import annotations

import re
import reprlib
import shlex
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from tgesc.domain.durations import DurationError, parse_duration
from tgesc.domain.errors import TgescError
from tgesc.domain.instants import InstantError, parse_instant
from tgesc.domain.limits import (
    CAPACITY,
    MAX_DISPLAY_NAME,
    TELEGRAM_USER_ID,
    TICKET_NUMBER,
    LimitError,
    WholeNumbers,
    instant_problem,
    load_toml,
    name_problem,
    read_text_file,
    text_problem,
    zone_problem,
)

ROLES = ("agent", "lead", "admin")
ATTACHMENTS = ("photo", "document", "voice")
_TOP = ("start", "config", "description", "customers", "staff", "steps")
_CUSTOMER = ("id", "name", "language", "timezone", "username")
_STAFF = ("id", "name", "role", "tiers", "language", "capacity", "calendar")
_STEP = ("at", "customer", "staff", "ticket", "chat", "text", "press", "attachment", "cli")
_LANGUAGE = re.compile(r"[A-Za-z-]{1,8}", re.ASCII)  # the size of a customer's language column
_INSTANT_FORM = "an ISO 8601 instant with a UTC offset, e.g. 2026-03-02T09:00:00+01:00"
_AT_FORM = f"an offset from start such as +30m, +26h or +1h30m, or {_INSTANT_FORM}"
_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = 60


class ScenarioError(TgescError):
    """A scenario file cannot be read or is invalid; the message names the file, the step and the field."""

    exit_code = 1


@dataclass(frozen=True)
class ScenarioCustomer:
    key: str
    id: int
    name: str
    language: str
    timezone: str | None
    username: str | None


@dataclass(frozen=True)
class ScenarioStaff:
    key: str
    id: int
    name: str
    role: str
    tiers: tuple[str, ...]
    language: str
    capacity: int | None = None  # open tickets assigned at most (None: no limit)
    calendar: str | None = None  # the calendar of their shifts (None: their tiers')


@dataclass(frozen=True)
class Step:
    number: int
    at: datetime
    customer: str | None = None
    staff: str | None = None
    ticket: int | None = None
    chat: str | None = None  # a staff message outside any thread: a tier's staff chat, or "group:T" / "forum:T"
    text: str | None = None
    press: str | None = None
    attachment: str | None = None
    cli: tuple[str, ...] | None = None
    cli_line: str | None = None
    story: str | None = None  # played with other stories on one desk: its name (its ticket numbers are its own)

    @property
    def kind(self) -> str:
        """What the step does: cli, press, staff (a staff message), customer (a customer message) or wait."""
        if self.cli is not None:
            return "cli"
        if self.press is not None:
            return "press"
        if self.staff is not None:
            return "staff"
        return "customer" if self.customer is not None else "wait"


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path | None
    start: datetime
    config: Path | None
    customers: dict[str, ScenarioCustomer]
    staff: dict[str, ScenarioStaff]
    steps: tuple[Step, ...]
    description: str = ""

    def last_instant(self) -> datetime:
        """When its last step happens (its start when it has none)."""
        return max((step.at for step in self.steps), default=self.start)

    def in_week_before(self, now: datetime) -> Scenario:
        """The scenario moved on by whole weeks (weekdays and times of day kept) so that its last step falls in the
        week before `now`; as it is when it is that recent already, or later."""
        weeks = (now - self.last_instant()) // timedelta(days=7)
        if weeks <= 0:
            return self
        by = timedelta(days=7 * weeks)
        return replace(self, start=self.start + by, steps=tuple(replace(step, at=step.at + by) for step in self.steps))


class _Invalid(Exception):
    """A problem found while parsing; parse_scenario adds the file name (and the step number)."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason, self.step = field, reason, None

    def message(self, name: str) -> str:
        step = f"step {self.step}: " if self.step else ""
        return f"{name}: {step}" + (f"field '{self.field}': " if self.field else "") + self.reason


def _show(value: object) -> str:
    """A short repr for messages (TOML dates and times as written; never fails on huge ints or deep nesting)."""
    if isinstance(value, date | time):
        return value.isoformat()
    try:
        return _SHOW.repr(value)
    except (ValueError, RecursionError):
        return f"a value of type {type(value).__name__}"


def parse_offset(text: str) -> timedelta:
    """`+0m`, `+90s`, `+26h`, `+1h30m`: how far after the start; ValueError saying why otherwise."""
    stripped = text.strip() if isinstance(text, str) else ""
    if not stripped.startswith("+"):
        raise ValueError(f"{_show(text)} is not an offset: write + and a duration, e.g. +30m (never negative)")
    try:
        return timedelta(seconds=parse_duration(stripped[1:]))
    except DurationError as exc:
        raise ValueError(f"{_show(text)} is not an offset: {exc}") from None
    except OverflowError:
        raise ValueError(f"{_show(text)} is too far after the start") from None


def parse_scenario(document: dict, *, name: str, base: Path | None = None, path: Path | None = None) -> Scenario:
    """Check a decoded scenario document. `base` is the directory `config` is relative to (the directory of
    `path`, the scenario file, when only that is given). Any problem raises ScenarioError."""
    if base is None and path is not None:
        base = path.parent
    try:
        return _scenario(document, name, base, path)
    except _Invalid as problem:
        raise ScenarioError(problem.message(name)) from None


def load_scenario(path: Path) -> Scenario:
    """Read and check the scenario file at `path`."""
    path = Path(path)
    name = path.name or str(path)
    try:
        text = read_text_file(path)
    except LimitError as exc:
        raise ScenarioError(f"{name}: {exc}") from None
    try:
        document = load_toml(text)
    except (tomllib.TOMLDecodeError, LimitError) as exc:
        raise ScenarioError(f"{name}: not valid TOML: {exc}") from None
    return parse_scenario(document, name=name, path=path)


def _scenario(document: Any, name: str, base: Path | None, path: Path | None) -> Scenario:
    table = _table(document, None, "a table of scenario settings")
    _known(table, _TOP, "")
    if "start" not in table:
        raise _Invalid("start", f"required: the virtual clock's start, {_INSTANT_FORM}")
    start = _instant(table["start"], "start")
    customers = _people(table, "customers", _CUSTOMER, _customer)
    staff = _people(table, "staff", _STAFF, _staff)
    _unique_ids(customers, staff)
    config = _optional(table, "config", _text)
    description = _optional(table, "description", _string, "")
    return Scenario(name=name, path=path, start=start, customers=customers, staff=staff,
                    config=None if config is None else (base / config if base is not None else Path(config)),
                    steps=_steps(table, start, customers), description=description)


def _table(value: Any, field: str | None, what: str) -> dict:
    if not isinstance(value, dict):
        raise _Invalid(field, f"expected {what}, got {_show(value)}")
    return value


def _known(table: dict, allowed: tuple[str, ...], prefix: str) -> None:
    for key in table:
        if key not in allowed:
            shown = key if isinstance(key, str) else _show(key)
            raise _Invalid(f"{prefix}{shown}", f"unknown field; allowed: {', '.join(allowed)}")


def _optional(table: dict, key: str, check: Any, default: Any = None, prefix: str = "") -> Any:
    return check(table[key], prefix + key) if key in table else default


def _checker(accepts: Any, expected: str) -> Any:
    """A check(value, field) returning `value` if `accepts(value)`, else raising "expected ..., got ..."."""
    def check(value: Any, field: str) -> Any:
        if not accepts(value):
            raise _Invalid(field, f"expected {expected}, got {_show(value)}")
        return value
    return check


def _limited(check: Callable[[Any, str], Any], problem: Callable[[str], str | None]) -> Callable[[Any, str], str]:
    """`check`, then the range of tgesc.domain.limits: `problem` (its check of a kind of text) finds nothing."""
    def limited(value: Any, field: str) -> str:
        check(value, field)
        found = problem(value)
        if found:
            raise _Invalid(field, f"{_show(value)} {found}")
        return value
    return limited


_string = _limited(_checker(lambda v: isinstance(v, str), "a string"), text_problem)
_text = _limited(_checker(lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty string"), text_problem)
_name = _limited(_text, lambda v: name_problem(v, MAX_DISPLAY_NAME))
_username = _limited(_text, name_problem)
_language = _checker(lambda v: isinstance(v, str) and _LANGUAGE.fullmatch(v), "a language code such as en or pt-br")
_zone = _checker(lambda v: zone_problem(v) is None, "a time zone name such as Europe/Berlin")
_role = _checker(lambda v: isinstance(v, str) and v in ROLES, " | ".join(ROLES))
_attachment = _checker(lambda v: isinstance(v, str) and v in ATTACHMENTS, " | ".join(ATTACHMENTS))
_tier_list = _checker(lambda v: isinstance(v, list), 'a list of tier names such as ["L1"]')


def _whole(numbers: WholeNumbers) -> Callable[[Any, str], int]:
    """A check(value, field) of an integer in the range of `numbers`."""
    def check(value: Any, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _Invalid(field, f"expected a positive integer, got {_show(value)}")
        try:
            return numbers.check(value)
        except LimitError as exc:
            raise _Invalid(field, f"expected a positive integer up to {numbers.high}: {exc}") from None
    return check


_user_id = _whole(TELEGRAM_USER_ID)
_ticket_number = _whole(TICKET_NUMBER)


def _tiers(value: Any, field: str) -> tuple[str, ...]:
    return tuple(_text(tier, field) for tier in _tier_list(value, field))


def _instant(value: Any, field: str) -> datetime:
    """A string or TOML datetime with a UTC offset, as a datetime with a fixed offset."""
    if isinstance(value, str):
        try:
            parsed = parse_instant(value, UTC)
        except InstantError as exc:
            raise _Invalid(field, str(exc)) from None
        naive = datetime.fromisoformat(value.strip().replace(",", ".")).tzinfo is None
    elif isinstance(value, datetime):
        parsed, naive = value, value.utcoffset() is None
    else:
        raise _Invalid(field, f"expected {_INSTANT_FORM}, got {_show(value)}")
    if naive:
        raise _Invalid(field, "needs a UTC offset, e.g. 2026-03-02T09:00:00+01:00")
    problem = instant_problem(parsed)
    if problem:
        raise _Invalid(field, f"{_show(value)} {problem}")
    return parsed.replace(tzinfo=timezone(parsed.utcoffset()))


def _people(document: dict, section: str, allowed: tuple[str, ...], build: Any) -> dict:
    table = _table(document.get(section, {}), section, f"a table of tables ([{section}.NAME])")
    people = {}
    for key, entry in table.items():
        if not isinstance(key, str) or name_problem(key):
            raise _Invalid(section, f"names must be non-empty strings without control characters, up to 64 "
                                    f"characters, got {_show(key)}")
        where = f"{section}.{key}"
        _known(_table(entry, where, f"a table ([{where}])"), allowed, where + ".")
        if "id" not in entry:
            raise _Invalid(f"{where}.id", "required: the Telegram user id, a positive integer")
        people[key] = build(key, entry, where + ".")
    return people


def _customer(key: str, entry: dict, prefix: str) -> ScenarioCustomer:
    return ScenarioCustomer(
        key=key, id=_user_id(entry["id"], prefix + "id"),
        name=_optional(entry, "name", _name, key.title(), prefix),
        language=_optional(entry, "language", _language, "en", prefix),
        timezone=_optional(entry, "timezone", _zone, None, prefix),
        username=_optional(entry, "username", _username, key, prefix))


def _staff(key: str, entry: dict, prefix: str) -> ScenarioStaff:
    return ScenarioStaff(
        key=key, id=_user_id(entry["id"], prefix + "id"),
        name=_optional(entry, "name", _name, key.title(), prefix),
        role=_optional(entry, "role", _role, "agent", prefix),
        tiers=_optional(entry, "tiers", _tiers, (), prefix),
        language=_optional(entry, "language", _language, "en", prefix),
        capacity=_optional(entry, "capacity", _whole(CAPACITY), None, prefix),
        calendar=_optional(entry, "calendar", _text, None, prefix))


def _unique_ids(customers: dict, staff: dict) -> None:
    owners: dict[int, str] = {}
    for section, people in (("customers", customers), ("staff", staff)):
        for key, person in people.items():
            where = f"{section}.{key}"
            owner = owners.setdefault(person.id, where)
            if owner != where:
                raise _Invalid(f"{where}.id", f"{person.id} is already {owner}'s id; ids must be unique")


def _steps(document: dict, start: datetime, customers: dict) -> tuple[Step, ...]:
    entries = document.get("steps", [])
    if not isinstance(entries, list):
        raise _Invalid("steps", f"expected an array of tables ([[steps]]), got {_show(entries)}")
    if not entries:
        raise _Invalid("steps", "a scenario needs at least one [[steps]]")
    steps: list[Step] = []
    for number, entry in enumerate(entries, 1):
        try:
            steps.append(_step(number, entry, start, customers, steps[-1] if steps else None))
        except _Invalid as problem:
            problem.step = number
            raise
    return tuple(steps)


def _step(number: int, entry: Any, start: datetime, customers: dict, previous: Step | None) -> Step:
    _known(_table(entry, None, "a table ([[steps]])"), _STEP, "")
    if "at" not in entry:
        raise _Invalid("at", f"required: {_AT_FORM}")
    at = _at(entry["at"], start, previous)
    customer = _optional(entry, "customer", _text)
    if customer is not None and customer not in customers:
        known = ", ".join(customers) or "none"
        raise _Invalid("customer", f"{_show(customer)} is not in [customers] (they are: {known})")
    values = {field: _optional(entry, field, check) for field, check in _STEP_CHECKS.items()}
    _check_combination(set(entry))
    cli_line = values.pop("cli")
    return Step(number=number, at=at, customer=customer, cli_line=cli_line, **values,
                cli=None if cli_line is None else _split(cli_line))


def _at(value: Any, start: datetime, previous: Step | None) -> datetime:
    if isinstance(value, str) and value.strip().startswith(("+", "-")):
        try:
            at = start + parse_offset(value)
        except ValueError as exc:
            raise _Invalid("at", str(exc)) from None
        if instant_problem(at):
            raise _Invalid("at", f"{_show(value)} lands at {at.isoformat()}, which {instant_problem(at)}")
    elif isinstance(value, str | datetime):
        at = _instant(value, "at").astimezone(start.tzinfo)
    else:
        raise _Invalid("at", f"expected {_AT_FORM}, got {_show(value)}")
    if at < start:
        raise _Invalid("at", f"{at.isoformat()} is before the start {start.isoformat()}; time only goes forward")
    if previous is not None and at < previous.at:
        raise _Invalid("at", f"{at.isoformat()} is before step {previous.number}'s {previous.at.isoformat()}; "
                             "steps must not go back in time")
    return at


def _press(value: Any, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        return _text(value, field)
    if abs(value) >= 10**64:
        raise _Invalid(field, "the number is too long to end a button's callback data")
    return str(value)


def _split(line: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(line))
    except ValueError as exc:
        raise _Invalid("cli", f"cannot split {_show(line)} into words: {exc}") from None


_STEP_CHECKS = {"staff": _text, "ticket": _ticket_number, "chat": _text, "text": _text, "press": _press,
                "attachment": _attachment, "cli": _text}


def _check_combination(has: set) -> None:
    """Which fields may go together: one action (text, press, cli), by whom, where."""
    actions = [field for field in ("text", "press", "cli") if field in has]
    if len(actions) > 1:
        raise _Invalid(actions[1], f"a step does one thing: `{actions[0]}` and `{actions[1]}` cannot go together")
    action = actions[0] if actions else None
    for who in ("customer", "staff", "ticket", "chat"):
        if action == "cli" and who in has:
            raise _Invalid(who, "not allowed with `cli` (commands run as the on-call staff)")
    if "customer" in has and "staff" in has:
        raise _Invalid("staff", "a step comes from a `customer` or from `staff`, not both")
    for where in ("ticket", "chat"):
        if where in has and "staff" not in has:
            raise _Invalid(where, "only with `staff` (where staff writes)")
    if "ticket" in has and "chat" in has:
        raise _Invalid("chat", "a staff step writes in a `ticket`'s thread or in a `chat`, not both")
    if action == "press" and "staff" in has:
        raise _Invalid("staff", "not allowed with `press` (only customers press buttons)")
    if action == "press" and "customer" not in has:
        raise _Invalid("press", "needs `customer` (who presses)")
    if "attachment" in has and ("customer" not in has or action not in (None, "text")):
        raise _Invalid("attachment", "only on a customer's message (with `customer`, without `press` or `cli`)")
    if "staff" in has and action != "text":
        raise _Invalid("staff", "needs `text` (what staff writes) and `ticket` or `chat` (where)")
    if "staff" in has and not has & {"ticket", "chat"}:
        raise _Invalid("ticket", "required with `staff`: the ticket whose staff topic / card thread staff writes in "
                                 "(or `chat`: a tier's staff chat, or a new group \"group:TITLE\" / \"forum:TITLE\")")
    if action == "text" and not has & {"customer", "staff"}:
        raise _Invalid("text", "needs `customer`, or `staff` and `ticket` (who writes, and where)")
    if "customer" in has and action is None and "attachment" not in has:
        raise _Invalid("customer", "needs `text`, `attachment` or `press` (what the customer does)")

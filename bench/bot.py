"""The bot's two directions on a fake Telegram: updates in per second, and outbox delivery within Telegram's limits.

The real kurigram client runs offline on `tgesc/adapters/telegram/wire.py`'s FakeWire (a fake server at the library's
Session layer), assembled as `tgesc worker bot` assembles it (and as tests/bot/conftest.py does):
`TelegramConnection` (workers=1, the durable session file) → `BotDispatcher` → the services, and `Delivery`
with a `SendSchedule` for the way out. Telegram itself is the only fake.

Inbound: for each backend (SQLite in WAL mode with tgesc's pragmas in a temporary directory; PostgreSQL in a
throwaway database `tgesc_bench_<random>` created and dropped here, as bench/ingest.py does) the desk is initialised
with the shipped defaults and staff chats for its tiers. The wire builds one raw `Updates` per customer message, as
Telegram pushes them (built before the clock starts: that is the server's work), and `TelegramConnection.feed` hands
them over in batches of --batch; each batch returns once every update in it is handled. Messages queued together
reach the dispatcher as runs (`on_messages`, one transaction each, at most `RUN_MAX`), as a burst or a catch-up
would; `--batch 1` times one message at a time. So the timed path is `Client.handle_updates` (peers and update state
into the session file) → the library's parser, filters and dispatcher → our handler → `BotDispatcher` → ingest
(rules, replies as outbox rows) in the desk's database. The workload is bench/ingest.py's: 200 customers (en 70 %,
zh 15 %, ru 15 %), about 10 messages each, mostly plain questions, a few that fire rules (refund, angry, asking for
a manager), FAQ questions, photos, and here also a few /start and /status commands. A virtual clock moves 0.5-5 s
per message (the dispatcher's `now` is each message's date), each round with new customers and later hours, so every
round does the same work. Rounds after an untimed warm-up; the best counts. Where the time goes is taken with timers
around our handler (services: dispatcher, ingest, rules), the adapter's translation of the library's Message and the
session-file writes; the rest is the library (handle_updates, parsing, dispatching) and the hand-over between
threads. Cards are not delivered in this run, but an escalation moves the ticket's thread to the target's chat at
once, so the later messages of an escalated ticket are mirrored (outbox rows, not sent). On PostgreSQL the round
trips to the server per update are counted in one more round, untimed (libpq's trace:
tgesc.store.pipeline.RoundTrips). Goal: >= 1,000 updates/s on SQLite (PostgreSQL is printed for reference).
--profile adds a round under cProfile (on the client's thread, where all of this runs) and prints its top functions.

Outbound: --rows outbox rows (default 480) are queued at once for --chats private chats (default 100, 1 to
about 10 rows each) and --groups staff groups (default 4: basic groups and supergroups, --group-rows rows
each, default 15, with an inline keyboard), interleaved at random, and `Delivery.pump` sends them in real time
(real sleeping) with the configured global rate (--rate, default 25/s), 1/s per chat and 20/min per group. The
wire enforces Telegram's limits on wall time with sliding windows: a send when 30 were sent in the last second
in total, 1 to that chat in the last second, or 20 to that group in the last minute is answered FLOOD_WAIT_X
(X: the seconds until the window allows it), which the library raises and Delivery turns into a postponement.
Throughput is (sends - 1) / (last send - first send) on the wire: the sliding window lets the first second's
sends go at once, so a run that keeps the pipe full prints the rate or slightly above it. The sends per second
are printed too, and, when the rate fell off before the end, to how many chats the tail went (each at most
1/s; the schedule serves the longest queue first so that the chats with the most rows do not finish last). Goals:
throughput >= 95 % of the configured rate, no flood wait, each chat's texts on the wire in the order their
rows were queued (and every row sent once). The default run (both parts, both backends) takes about 50 s on a
2-core machine.

This is a benchmark, not a test: it prints PASS or MISS against each goal and exits 0 either way.

    python bench/bot.py [--part inbound|outbound|both] [--backend sqlite|postgres|both] [--messages 2000]
                        [--rounds 3] [--batch 100] [--budget 15] [--profile]
                        [--rate 25] [--rows 480] [--chats 100] [--groups 4] [--group-rows 15]
                        [--postgres-url postgresql://127.0.0.1/test] [--seed 1]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import io
import itertools
import logging
import math
import os
import platform
import pstats
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # bench/ingest.py's workload, bench/throwaway_postgres.py

import ingest as ingest_bench  # noqa: E402
import peewee  # noqa: E402
from pyrogram import __version__ as kurigram_version  # noqa: E402
from pyrogram import raw  # noqa: E402
from throwaway_postgres import throwaway_postgres  # noqa: E402

from tgesc.adapters.clock import utc_now  # noqa: E402
from tgesc.adapters.telegram import TelegramConnection  # noqa: E402
from tgesc.adapters.telegram.wire import FakeWire, rpc_error  # noqa: E402
from tgesc.db import SQLITE_PRAGMAS, open_database, write_transaction  # noqa: E402
from tgesc.domain.rates import Rate  # noqa: E402
from tgesc.domain.send_schedule import SendSchedule  # noqa: E402
from tgesc.models import Event, Firing, Message, Outbox, Ticket  # noqa: E402
from tgesc.services.config.apply import add_entry, set_entry  # noqa: E402
from tgesc.services.config.defaults import initialise  # noqa: E402
from tgesc.services.outbox import rows as outbox  # noqa: E402
from tgesc.services.telegram.customers import CustomerDesk  # noqa: E402
from tgesc.services.telegram.delivery import Delivery  # noqa: E402
from tgesc.services.telegram.dispatch import BotDispatcher  # noqa: E402
from tgesc.store.pipeline import RoundTrips  # noqa: E402

INBOUND_GOAL = 1000.0  # updates/s on SQLite
OUTBOUND_GOAL = 0.95  # of the configured global rate
CUSTOMERS = 200
WARMUP_MESSAGES = 200
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday morning; rounds move on through the day
DEFAULT_POSTGRES_URL = "postgresql://127.0.0.1/test"
# bench/ingest.py's mix, with a few bot commands taken from the plain questions
KINDS = (("plain", 0.86), ("refund", 0.02), ("angry", 0.02), ("faq", 0.03), ("manager", 0.01), ("photo", 0.03),
         ("command", 0.03))
COMMANDS = ("/start", "/status")
STAFF = {"bob": (5001, "agent", ["L1"]), "carol": (5002, "agent", ["L2"]), "dave": (5003, "admin", [])}
# Telegram's limits, as the fake wire enforces them
TELEGRAM_TOTAL, TELEGRAM_CHAT, TELEGRAM_GROUP = Rate(30, 1), Rate(1, 1), Rate(20, 60)
GROUP_ROWS = 15  # per staff group: more than a customer gets (it carries many tickets), under its 20/min
SENDS = (raw.functions.messages.SendMessage, raw.functions.messages.SendMedia, raw.functions.messages.ForwardMessages)


# --- inbound ------------------------------------------------------------------------------------------------


@dataclass
class VirtualClock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Step:
    customer: int
    kind: str
    text: str
    gap: float


def workload(rng: random.Random, n: int) -> tuple[list[str], list[Step]]:
    languages = [_pick(rng, ingest_bench.LANGUAGES) for _ in range(CUSTOMERS)]
    steps = []
    for _ in range(n):
        who = rng.randrange(CUSTOMERS)
        kind = _pick(rng, KINDS)
        text = rng.choice(COMMANDS) if kind == "command" else rng.choice(ingest_bench.TEXTS[kind][languages[who]])
        steps.append(Step(who, kind, text, rng.uniform(0.5, 5.0)))
    return languages, steps


def _pick(rng: random.Random, weighted) -> str:
    names, weights = zip(*weighted, strict=True)
    return rng.choices(names, weights)[0]


class Timers:
    """Seconds spent in the timed parts of the inbound path, by name (on the client's thread)."""

    def __init__(self) -> None:
        self.seconds: collections.Counter[str] = collections.Counter()

    def wrap(self, name: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - began
        return timed

    def wrap_async(self, name: str, fn: Callable) -> Callable:
        async def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - began
        return timed


@dataclass
class Desk:
    """A started bot on an initialised desk (the inbound side's harness)."""

    db: peewee.Database
    wire: FakeWire
    connection: TelegramConnection
    build_time: list[int]  # the wire's clock (seconds), moved while updates are built
    timers: Timers
    counts: collections.Counter[str] = field(default_factory=collections.Counter)


@contextlib.contextmanager
def started_desk(url: str, workdir: Path) -> Iterator[Desk]:
    db = open_database(url, create=True)
    build_time = [int(START.timestamp())]
    wire = FakeWire(clock=lambda: build_time[0])
    clock = VirtualClock(START - timedelta(days=1))
    initialise(db, now=clock(), actor="bench")
    chats = {"L1": wire.group("Staff L1"), "L2": wire.supergroup("Staff L2", forum=True),
             "L3": wire.supergroup("Staff L3", forum=True)}
    for code, chat in chats.items():
        set_entry(db, "tiers", code, {"staff_chat": chat, "forum": code != "L1"}, actor="bench", now=clock())
    staff = {}
    for handle, (user_id, role, tiers) in STAFF.items():
        add_entry(db, "staff", handle, {"id": user_id, "name": handle.title(), "role": role, "tiers": tiers},
                  actor="bench", now=clock())
        staff[handle] = wire.user(user_id, first_name=handle.title(), username=handle)
    desk = CustomerDesk(None, Rate(20, 60))
    dispatcher = BotDispatcher(db, desk, clock)
    timers = Timers()

    def on_message(message, raw) -> None:
        clock.now = message.sent_at + timedelta(seconds=1)  # the desk sees each message a second after it was sent
        dispatcher.on_message(message, raw)

    def on_messages(run) -> None:
        clock.now = run[-1][0].sent_at + timedelta(seconds=1)  # a second after the run's last was sent
        dispatcher.on_messages(run)

    handlers = SimpleNamespace(on_message=timers.wrap("services", on_message),
                               on_messages=timers.wrap("services", on_messages), on_press=dispatcher.on_press,
                               on_unreadable=dispatcher.on_unreadable)
    connection = TelegramConnection("bench", workdir, 12345, "api-hash", wire.bot_token, handlers=handlers,
                                    session_factory=wire.session_factory)
    connection._deliver = timers.wrap_async("adapter", connection._deliver)  # bound when the client is built
    connection.start()
    try:
        desk.bot_username = connection.bot.username
        storage = connection._client.storage
        for name in ("update_peers", "update_usernames", "set_update_state"):
            setattr(storage, name, timers.wrap_async("session", getattr(storage, name)))
        for chat in chats.values():  # the bot was added to each staff chat: the client knows them
            connection.feed(wire.service(chat, staff["dave"]))
        yield Desk(db, wire, connection, build_time, timers)
    finally:
        connection.stop()
        db.close()


def build_round(desk: Desk, number: int, languages: list[str], steps: list[Step]) -> list:
    """Round `number`'s raw Updates (0: the warm-up): its own customers and hours."""
    span = sum(s.gap for s in steps) + 3600
    now = START.timestamp() + number * span
    base = 6_000_000 + number * 10_000
    users: dict[int, raw.types.User] = {}
    updates = []
    for step in steps:
        now += step.gap
        desk.build_time[0] = int(now)
        user = users.get(step.customer)
        if user is None:
            lang = languages[step.customer]
            names = ingest_bench.FIRST_NAMES[lang]
            user = users[step.customer] = desk.wire.user(
                base + step.customer, first_name=names[step.customer % len(names)],
                username=f"cust{base + step.customer}", lang_code=lang)
        if step.kind == "photo":
            updates.append(desk.wire.private_media(user, "photo"))
        else:
            updates.append(desk.wire.private_text(user, step.text))
    return updates


def feed_round(desk: Desk, updates: list, batch: int) -> float:
    began = time.perf_counter()
    for start in range(0, len(updates), batch):
        desk.connection.feed(updates[start:start + batch])
    return time.perf_counter() - began


def tallies() -> dict[str, int]:
    return {"messages": Message.select().where(Message.sender == "customer").count(),
            "tickets": Ticket.select().count(), "rules": Firing.select().where(Firing.kind == "rule").count(),
            "faq": Firing.select().where(Firing.kind == "faq").count(),
            "escalations": Event.select().where(Event.kind == "ticket.escalated").count(),
            "outbox": Outbox.select().count()}


@dataclass
class InboundResult:
    backend: str
    detail: str
    rates: list[float]
    messages: int
    commands: int
    stored: int
    per_round: dict[str, int]
    timers: dict[str, float]  # seconds per update in the best round, by part
    statements: dict[str, float]
    round_trips: float | None = None  # per update, in a round counted after the timed ones (PostgreSQL)
    profile: str = ""


def measure_inbound(backend: str, url: str, detail: str, opts, languages, warmup, steps) -> InboundResult:
    with tempfile.TemporaryDirectory(prefix="tgesc-bench-bot-") as tmp, started_desk(url, Path(tmp)) as desk:
        feed_round(desk, build_round(desk, 0, languages, warmup), opts.batch)
        statements = ingest_bench.Statements(desk.db)
        desk.timers.seconds.clear()
        rates, spent, last, counted, per_round, stored, parts = [], 0.0, 0.0, 0, {}, 0, {}
        for number in range(1, opts.rounds + 1):
            if number > 1 and spent + last > opts.budget:
                break
            began = time.perf_counter()
            updates = build_round(desk, number, languages, steps)
            before, timers = tallies(), dict(desk.timers.seconds)
            statements.phase = "inbound"
            elapsed = feed_round(desk, updates, opts.batch)
            statements.phase = ""
            after = tallies()
            rates.append(len(updates) / elapsed)
            counted += len(updates)
            stored += after["messages"] - before["messages"]
            if number == 1:
                per_round = {k: v - before[k] for k, v in after.items()}
            if rates[-1] == max(rates):  # where the time went in the best round
                parts = {k: (v - timers.get(k, 0.0)) / len(updates) for k, v in desk.timers.seconds.items()}
                parts["total"] = elapsed / len(updates)
            last = time.perf_counter() - began
            spent += last
        commands = sum(s.kind == "command" for s in steps) * len(rates)
        result = InboundResult(backend, detail, rates, len(steps), commands, stored, per_round, parts,
                               statements.per_message("inbound", counted))
        if backend == "postgres":
            result.round_trips = count_round_trips(desk, opts, languages, steps, len(rates) + 1)
        if opts.profile:
            result.profile = profile_round(desk, opts, languages, steps, len(rates) + 1)
        return result


def count_round_trips(desk: Desk, opts, languages, steps, number: int) -> float:
    """The round trips to PostgreSQL per update in one more round, untimed (libpq's trace, on the client's
    thread, where the database is used)."""
    counter = RoundTrips(desk.db)

    async def switch(on: bool) -> None:
        counter.__enter__() if on else counter.__exit__(None, None, None)

    updates = build_round(desk, number, languages, steps)
    desk.connection._call(lambda: switch(True))
    feed_round(desk, updates, opts.batch)
    desk.connection._call(lambda: switch(False))
    return counter.count / len(updates)


def profile_round(desk: Desk, opts, languages, steps, number: int) -> str:
    """One more round under cProfile, enabled on the client's thread (where everything inbound runs)."""
    profiler = cProfile.Profile()

    async def switch(on: bool) -> None:
        profiler.enable() if on else profiler.disable()

    updates = build_round(desk, number, languages, steps)
    desk.connection._call(lambda: switch(True))
    elapsed = feed_round(desk, updates, opts.batch)
    desk.connection._call(lambda: switch(False))
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(25)
    return f"profiled round: {len(updates) / elapsed:,.0f} updates/s under cProfile\n{out.getvalue()}"


def run_inbound(opts) -> None:
    languages, everything = workload(random.Random(opts.seed), max(opts.messages, WARMUP_MESSAGES))
    warmup, steps = everything[:WARMUP_MESSAGES], everything[:opts.messages]
    kinds = collections.Counter(s.kind for s in steps)
    print(f"inbound: TelegramConnection.feed -> handle_updates -> parser -> BotDispatcher -> ingest, "
          f"batches of {opts.batch} updates (one raw Updates per message)")
    print(f"  workload per round: {len(steps):,} messages from {CUSTOMERS} new customers "
          f"({', '.join(f'{k} {kinds[k]}' for k, _ in KINDS)})")
    for backend in ("sqlite", "postgres"):
        if opts.backend not in (backend, "both"):
            continue
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="tgesc-bench-") as tmp:
                pragmas = ", ".join(f"{k}={v}" for k, v in SQLITE_PRAGMAS.items() if k != "busy_timeout")
                result = measure_inbound("sqlite", f"sqlite:///{Path(tmp) / 'tgesc.db'}",
                                         f"file in a temp dir, {pragmas}", opts, languages, warmup, steps)
        else:
            with throwaway_postgres(opts.postgres_url) as (url, detail):
                if url is None:
                    print(f"  postgres: {detail}")
                    continue
                result = measure_inbound("postgres", url, detail, opts, languages, warmup, steps)
        report_inbound(result)
        sys.stdout.flush()


def report_inbound(r: InboundResult) -> None:
    best = max(r.rates)
    shown = ", ".join(f"{x:,.0f}" for x in r.rates)
    t = r.timers
    total = t["total"]
    library = total - t.get("services", 0) - t.get("adapter", 0) - t.get("session", 0)
    verdict = (f"goal >= {INBOUND_GOAL:,.0f}   {'PASS' if best >= INBOUND_GOAL else 'MISS'}" if r.backend == "sqlite"
               else "[no goal: for reference]")
    expected = (r.messages * len(r.rates)) - r.commands
    print(f"  {r.backend}: {r.detail}")
    rounds = f"{len(r.rates)} round{'s' * (len(r.rates) != 1)}"
    print(f"    throughput {best:>8,.0f} updates/s   {verdict}   [best of {rounds}: {shown}]")
    print(f"    per update {1e3 * total:8.3f} ms in the best round: "
          f"services {1e3 * t.get('services', 0):.3f} ms ({t.get('services', 0) / total:.0%}: dispatcher, ingest, "
          f"rules, outbox), adapter {1e3 * t.get('adapter', 0):.3f} ms ({t.get('adapter', 0) / total:.0%}), "
          f"session file {1e3 * t.get('session', 0):.3f} ms ({t.get('session', 0) / total:.0%}), "
          f"library and thread hand-over {1e3 * library:.3f} ms ({library / total:.0%})")
    mix = ", ".join(f"{v:.2f} {k}" for k, v in r.statements.items())
    print(f"    SQL statements per update: {sum(r.statements.values()):.1f} ({mix})")
    if r.round_trips is not None:
        print(f"    round trips to the server per update: {r.round_trips:.2f} (counted in one more round, untimed)")
    p = r.per_round
    print(f"    one round: {p['messages']} customer messages stored, {p['tickets']} tickets opened, "
          f"{p['rules']} rules fired, {p['escalations']} escalations, {p['faq']} FAQ answers, "
          f"{p['outbox']} outbox rows; all rounds: {r.stored:,} of {expected:,} non-command messages stored "
          f"{'(ok)' if r.stored == expected else '(LOST SOME)'}")
    if r.profile:
        print(r.profile)


# --- outbound -----------------------------------------------------------------------------------------------


class LimitedWire(FakeWire):
    """A FakeWire that enforces Telegram's sending limits on wall time (sliding windows): a message sent when
    `total` were sent in the last window in all, `chat` to that chat, or `group` to that group (a negative
    chat id) is refused with FLOOD_WAIT_X, X the whole seconds until the window allows it (at least 1).
    Refused requests count for nothing. `sends` lists every message accepted: (time, chat id, text)."""

    def __init__(self, *, total: Rate = TELEGRAM_TOTAL, chat: Rate = TELEGRAM_CHAT, group: Rate = TELEGRAM_GROUP,
                 now: Callable[[], float] = time.time, **kwargs) -> None:
        super().__init__(**kwargs)
        self.limits = {"total": total, "chat": chat, "group": group}
        self.now = now
        self.sends: list[tuple[float, int, str]] = []
        self.floods: list[tuple[float, int, str, int]] = []  # (time, chat id, which limit, seconds)
        self._windows: dict[tuple[str, int], collections.deque[float]] = collections.defaultdict(collections.deque)

    def answer(self, query):
        inner = query.query if isinstance(query, raw.functions.InvokeWithoutUpdates) else query
        if not isinstance(inner, SENDS):
            return super().answer(query)
        with self._lock:
            peer = inner.to_peer if isinstance(inner, raw.functions.messages.ForwardMessages) else inner.peer
            chat_id = self._chat_of(peer)
            if chat_id is None:
                return super().answer(query)  # PEER_ID_INVALID
            count = len(inner.id) if isinstance(inner, raw.functions.messages.ForwardMessages) else 1
            now = self.now()
            scopes = [("total", 0), ("chat", chat_id)] + ([("group", chat_id)] if chat_id < 0 else [])
            for scope in scopes:
                wait = self._wait(scope, count, now)
                if wait:
                    query.write()
                    self.requests.append(query)
                    self.floods.append((now, chat_id, scope[0], wait))
                    return rpc_error(f"FLOOD_WAIT_{wait}")
            reply = super().answer(query)
            if not isinstance(reply, raw.types.RpcError):
                for scope in scopes:
                    self._windows[scope].extend([now] * count)
                text = getattr(inner, "message", "")
                self.sends.extend([(now, chat_id, text)] * count)
            return reply

    def _wait(self, scope: tuple[str, int], count: int, now: float) -> int:
        """0 when `count` more sends at `now` keep to the scope's limit, else the seconds to wait."""
        rate, times = self.limits[scope[0]], self._windows[scope]
        while times and times[0] <= now - rate.window_s:
            times.popleft()
        if len(times) + count <= rate.count:
            return 0
        frees_at = times[len(times) + count - rate.count - 1] + rate.window_s
        return max(1, math.ceil(frees_at - now))


@dataclass
class OutboundResult:
    rate: float
    rows: dict[int, int]  # chat id -> rows queued for it
    sends: list[tuple[float, int, str]]  # as the wire accepted them
    floods: list
    statuses: dict[str, int]
    elapsed: float  # the pump's run
    sleeping: float  # of which asleep
    telegram: float  # of which in TelegramConnection.send_message


def run_outbound(opts) -> OutboundResult:
    rng = random.Random(opts.seed)
    with tempfile.TemporaryDirectory(prefix="tgesc-bench-bot-") as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'tgesc.db'}", create=True)
        wire = LimitedWire()
        desk = CustomerDesk(None, Rate(20, 60))
        initialise(db, now=utc_now(), actor="bench")
        dispatcher = BotDispatcher(db, desk, utc_now)
        connection = TelegramConnection("bench", Path(tmp) / "session", 12345, "api-hash", wire.bot_token,
                                        handlers=dispatcher, session_factory=wire.session_factory)
        connection.start()
        try:
            users = [wire.user(7_000_000 + i, first_name=f"Customer {i}", username=f"c{i}") for i in range(opts.chats)]
            for user in users:  # customers the bot has seen: their peers (access hashes) are in the session
                connection.remember_peer(user.id, user.access_hash)
            groups = [wire.group(f"Staff {i}") if i % 2 == 0 else wire.supergroup(f"Staff {i}")
                      for i in range(opts.groups)]
            for chat in groups:  # the bot was added to the group
                connection.feed(wire.service(chat, users[0]))
            rows = plan_rows(rng, [u.id for u in users], groups, opts.rows, opts.group_rows)
            now = utc_now()
            with write_transaction(db):
                for chat_id, text, buttons in rows:
                    outbox.queue(None, chat_id, text, now=now, buttons=buttons)
            sleeping = [0.0]

            def sleep(seconds: float) -> None:
                began = time.perf_counter()
                time.sleep(seconds)
                sleeping[0] += time.perf_counter() - began

            telegram = Timers()
            connection.send_message = telegram.wrap("telegram", connection.send_message)
            schedule = SendSchedule(Rate(opts.rate, 1), TELEGRAM_CHAT, TELEGRAM_GROUP)
            delivery = Delivery(db, connection, schedule, clock=utc_now, sleep=sleep)
            began = time.perf_counter()
            deadline = began + opts.outbound_budget
            while time.perf_counter() < deadline and Outbox.select().where(Outbox.status == "pending").exists():
                delivery.pump(deadline - time.perf_counter())
            elapsed = time.perf_counter() - began
            statuses = dict(collections.Counter(status for (status,) in Outbox.select(Outbox.status).tuples()))
        finally:
            connection.stop()
            db.close()
    return OutboundResult(opts.rate, dict(collections.Counter(chat_id for chat_id, _, _ in rows)), list(wire.sends),
                          list(wire.floods), statuses, elapsed, sleeping[0], telegram.seconds["telegram"])


ROW_TAG = re.compile(r"\[row (\d+) for chat (-?\d+)\]")


def plan_rows(rng: random.Random, users: list[int], groups: list[int], total: int, per_group: int
              ) -> list[tuple[int, str, list | None]]:
    """(chat id, text, buttons) in the order they are queued: `per_group` rows per group, the rest over the
    private chats (each at least one, the rest at random), all interleaved at random. Each text ends with a tag
    "[row N for chat C]" (HTML markup does not reach the wire as text: the library turns it into entities)."""
    counts = collections.Counter(users)
    for _ in range(max(0, total - per_group * len(groups) - len(users))):
        counts[rng.choice(users)] += 1
    counts.update({g: per_group for g in groups})
    sequence = [c for c, n in counts.items() for _ in range(n)]
    rng.shuffle(sequence)
    numbers: collections.Counter[int] = collections.Counter()
    rows = []
    for chat_id in sequence:
        numbers[chat_id] += 1
        n = numbers[chat_id]
        tag = f"[row {n} for chat {chat_id}]"
        if chat_id < 0:
            text = (f"<b>Customer {n}</b> (#{n}): I was charged twice for my subscription, please check order "
                    f"{5000 + n}. {tag}")
            buttons = [[{"text": "Take", "data": f"take:{n}"}, {"text": "Resolve", "data": f"resolve:{n}"}]]
        else:
            text = (f"Thanks for waiting. Your invoice is under <i>Settings → Billing</i>; reply here if anything "
                    f"is unclear. {tag}")
            buttons = None
        rows.append((chat_id, text, buttons))
    return rows


def order_problems(r: OutboundResult) -> list[str]:
    """What is wrong with the order (or completeness) of each chat's texts on the wire; [] when nothing."""
    seen: dict[int, list[int]] = collections.defaultdict(list)
    problems = []
    for _, chat_id, text in r.sends:
        tag = ROW_TAG.search(text)
        if tag is None or int(tag[2]) != chat_id:
            problems.append(f"chat {chat_id} got {text[-40:]!r}")
        else:
            seen[chat_id].append(int(tag[1]))
    for chat_id, count in r.rows.items():
        if seen.get(chat_id) != list(range(1, count + 1)):
            problems.append(f"chat {chat_id}: rows {seen.get(chat_id)}, expected 1..{count}")
    return problems


def report_outbound(r: OutboundResult) -> None:
    group_rows = sum(n for c, n in r.rows.items() if c < 0)
    groups = sum(c < 0 for c in r.rows)
    total = sum(r.rows.values())
    most = max((n for c, n in r.rows.items() if c > 0), default=0)
    print(f"  {total} rows ({total - group_rows} to {len(r.rows) - groups} private chats, 1-{most} "
          f"each; {group_rows} to {groups} groups), queued at once; configured {r.rate:g}/s in total, 1/s per chat, "
          f"20/min per group; the wire allows {TELEGRAM_TOTAL.count}/s, {TELEGRAM_CHAT.count}/s per chat, "
          f"{TELEGRAM_GROUP.count}/min per group")
    times = [t for t, _, _ in r.sends]
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    throughput = (len(times) - 1) / span if span > 0 else 0.0
    ratio = throughput / r.rate
    print(f"    throughput {throughput:8.2f} msgs/s   {ratio:.1%} of {r.rate:g}/s   goal >= {OUTBOUND_GOAL:.0%}   "
          f"{'PASS' if ratio >= OUTBOUND_GOAL else 'MISS'}   [{len(times)} sends in {span:.2f} s on the wire, "
          f"pump {r.elapsed:.2f} s]")
    scopes = collections.Counter(scope for _, _, scope, _ in r.floods)
    print(f"    flood waits {len(r.floods):6d}              goal 0       {'PASS' if not r.floods else 'MISS'}"
          + (f"   [{', '.join(f'{k} {v}' for k, v in scopes.items())}]" if r.floods else ""))
    problems = order_problems(r)
    all_sent = r.statuses.get("sent", 0) == total and len(times) == total
    print(f"    order per chat {'kept' if not problems else 'BROKEN'}, every row sent once: "
          f"{'yes' if all_sent else f'NO {r.statuses}'}   {'PASS' if not problems and all_sent else 'MISS'}"
          + (f"   [{len(problems)} problems, e.g. {problems[0]}]" if problems else ""))
    if times:
        per_second = collections.Counter(int(t - times[0]) for t in times)
        shown = _runs([per_second[i] for i in range(int(span) + 1)])
        bound = max(total / r.rate, max(r.rows.values()) - 1)
        full = [i for i in range(int(span) + 1) if per_second[i] >= r.rate * OUTBOUND_GOAL]
        tail_from = (full[-1] + 1) if full else 0
        tail = [c for t, c, _ in r.sends if t - times[0] >= tail_from]
        print(f"    sends per second from the first: {shown}; the rates allow all in about {bound:.1f} s")
        if full and tail and span - tail_from > 1:
            print(f"    after {tail_from} s the last {len(tail)} sends went to only {len(set(tail))} chats "
                  f"({sum(c < 0 for c in set(tail))} of them groups), each at most 1/s")
        busy = r.elapsed - r.sleeping
        print(f"    per send: {1e3 * busy / len(times):.2f} ms busy (of which the send_message call "
              f"{1e3 * r.telegram / len(times):.2f} ms: thread hop, library, fake server; the rest database and "
              f"schedule), so about {len(times) / busy:,.0f} sends/s could go without sleeping")


def _runs(values: list[int]) -> str:
    """25, 25, 25, 16 -> "25×3, 16"."""
    out: list[str] = []
    for value, run in itertools.groupby(values):
        n = len(list(run))
        out.append(f"{value}×{n}" if n > 1 else str(value))
    return ", ".join(out)


# --- main ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("inbound", "outbound", "both"), default="both")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both",
                        help="inbound: the desk's database (default both)")
    parser.add_argument("--messages", type=int, default=2000, help="inbound: updates per round (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="inbound: at most this many rounds (best counts)")
    parser.add_argument("--batch", type=int, default=100, help="inbound: updates per feed() call (default 100)")
    parser.add_argument("--budget", type=float, default=15.0,
                        help="inbound: seconds per backend: no new round that would go past it (default 15)")
    parser.add_argument("--profile", action="store_true", help="inbound: add a round under cProfile")
    parser.add_argument("--rate", type=float, default=25.0, help="outbound: global sends per second (default 25)")
    parser.add_argument("--rows", type=int, default=480, help="outbound: outbox rows (default 480)")
    parser.add_argument("--chats", type=int, default=100, help="outbound: private chats (default 100)")
    parser.add_argument("--groups", type=int, default=4, help="outbound: groups (default 4)")
    parser.add_argument("--group-rows", type=int, default=GROUP_ROWS,
                        help=f"outbound: rows per group (default {GROUP_ROWS})")
    parser.add_argument("--outbound-budget", type=float, default=120.0,
                        help="outbound: give up after this many seconds (default 120)")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "TGESC_BENCH_POSTGRES_URL", os.environ.get("TGESC_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)),
        help="a server where this script may create and drop a database")
    parser.add_argument("--seed", type=int, default=1)
    opts = parser.parse_args(argv)
    if min(opts.messages, opts.rounds, opts.batch, opts.chats, opts.rows) < 1 or opts.groups < 0 or opts.rate <= 0:
        parser.error("counts must be at least 1 (--groups at least 0) and --rate positive")
    logging.basicConfig(level=logging.WARNING)  # a flood wait is logged at INFO by Delivery: not shown

    print(f"tgesc bot throughput, Python {platform.python_version()}, kurigram {kurigram_version}, "
          f"peewee {peewee.__version__}, on {platform.machine()} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory(prefix="tgesc-bench-cwd-") as cwd:
        previous = os.getcwd()
        os.chdir(cwd)  # kurigram appends unknown errors to ./unknown_errors.txt
        try:
            if opts.part in ("inbound", "both"):
                run_inbound(opts)
            if opts.part in ("outbound", "both"):
                print("outbound: Delivery.pump in real time against a wire enforcing Telegram's limits")
                sys.stdout.flush()
                report_outbound(run_outbound(opts))
        finally:
            os.chdir(previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())

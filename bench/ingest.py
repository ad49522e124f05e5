"""Customer messages per second through the ingest service, next to a one-row insert per transaction.

For each backend (SQLite in WAL mode with tgesc's pragmas, in a temporary directory; PostgreSQL, in a
throwaway database `tgesc_bench_<random>` created and dropped by this script) the database is
initialised with the shipped defaults (`tgesc.services.config.defaults.initialise`), then two rates are taken:

- raw: N single-row inserts of a `message` row, each in its own write transaction
  (`tgesc.db.write_transaction`, as ingest uses: BEGIN IMMEDIATE on SQLite, pipelined on PostgreSQL, so the
  row and the COMMIT go in one round trip) through the models (`db.execute(Message.insert(...))`). Each row
  is shaped like the one ingest writes: same table and indexes, the same text, a ticket foreign key that is
  checked. This is the floor of "store one customer message durably" with our driver, ORM and pragmas.
- ingest: N customer messages through `tgesc.services.tickets.ingest.ingest` with a virtual `now` that advances
  0.5-5 s per message: 200 customers (en 70 %, zh 15 %, ru 15 %), about 10 messages each, so most
  messages continue an open ticket; mostly plain questions, a few that fire rules (refund, angry
  customer, asking for a manager), FAQ questions (2FA) and photos. Each round uses new customers and
  later virtual hours, so every round does the same work (200 tickets opened, the same rules firing).

Within a round the two alternate in chunks of 200 messages, so that machine noise hits both alike; each
rate is the best of up to --rounds rounds (a round is not started when it would take the backend past
--budget seconds). An untimed warm-up pass comes first. The SQL statements each loop sends through
peewee (BEGIN and COMMIT aside) are counted per message, to show where ingest's time goes, and on
PostgreSQL the round trips to the server in one more pass, untimed (libpq's trace). Goal:
ingest ≥ 0.35 × raw on each backend. This is a benchmark, not a test: it prints PASS or MISS against
the goal and exits 0 either way.

    python bench/ingest.py [--backend sqlite|postgres|both] [--messages 2000] [--rounds 3]
                           [--budget 60] [--postgres-url postgresql://127.0.0.1/test] [--seed 1]
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee
from throwaway_postgres import throwaway_postgres

from tgesc.db import SQLITE_PRAGMAS, open_database, write_transaction
from tgesc.domain.telegram import IncomingMessage, User
from tgesc.models import Event, Firing, Message, Outbox, Ticket
from tgesc.services.config.defaults import initialise
from tgesc.services.tickets.ingest import ingest_message
from tgesc.store.pipeline import RoundTrips

GOAL = 0.35
CUSTOMERS = 200
WARMUP_MESSAGES = 200
CHUNK = 200  # raw and ingest alternate in chunks of this many messages within a round
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday morning; passes move on through the day
DEFAULT_POSTGRES_URL = "postgresql://127.0.0.1/test"
LANGUAGES = (("en", 0.70), ("zh", 0.15), ("ru", 0.15))
# What a message is about, and how often: mostly ordinary questions, a few that set rules off.
KINDS = (("plain", 0.89), ("refund", 0.02), ("angry", 0.02), ("faq", 0.03), ("manager", 0.01), ("photo", 0.03))
TEXTS = {
    "plain": {
        "en": ["Hi, how do I change the e-mail address on my account?",
               "Where can I download the invoice for last month?",
               "The app asks me to update, is the new version safe to install?",
               "Can I use the same subscription on my phone and my laptop?",
               "hello, my order still shows 'processing', when will it ship?",
               "Is there a way to export my chat history?",
               "Thanks, that worked. One more question: how do I turn off notifications at night?",
               "ok",
               "I tried restarting the app but the sync still does not start",
               "What are your opening hours on weekends?"],
        "zh": ["你好，请问怎么修改绑定的邮箱？", "上个月的发票在哪里下载？", "订单一直显示处理中，什么时候发货？",
               "同一个会员可以在手机和电脑上同时使用吗？", "好的，谢谢", "同步一直没有开始，我已经重启过应用了"],
        "ru": ["Здравствуйте, как поменять адрес почты в аккаунте?", "Где скачать счёт за прошлый месяц?",
               "Заказ всё ещё «в обработке», когда отправите?", "Можно ли пользоваться подпиской на двух устройствах?",
               "Спасибо, помогло", "Синхронизация не запускается, приложение уже перезапускал"],
    },
    "refund": {
        "en": ["I was charged twice for my subscription, I want a refund",
               "Please give me my money back for order 5531"],
        "zh": ["我被重复扣款了，请退款", "订单还没收到，我要退款"],
        "ru": ["Списали дважды за подписку, верните деньги", "Оформите, пожалуйста, возврат за заказ"],
    },
    "angry": {
        "en": ["This is a SCAM!!! Nothing works and nobody answers", "WHY DOES THIS STILL NOT WORK?! I PAID FOR IT!!"],
        "zh": ["你们就是骗子！！！", "什么破服务！！气死我了"],
        "ru": ["Это просто развод!!! Ничего не работает", "ПОЧЕМУ ДО СИХ ПОР НЕ РАБОТАЕТ?! Я ЖЕ ЗАПЛАТИЛ!!"],
    },
    "faq": {
        "en": ["I lost my phone, how do I reset 2FA?", "How do I turn off two-step verification?"],
        "zh": ["手机丢了，怎么重置两步验证？"],
        "ru": ["Как сбросить двухэтапную проверку? Телефон потерял"],
    },
    "manager": {
        "en": ["Can I speak to a manager please", "I want a real person, not a bot"],
        "zh": ["我要找经理", "转人工"],
        "ru": ["Позовите менеджера, пожалуйста", "Можно оператора?"],
    },
    "photo": {"en": [""], "zh": [""], "ru": [""]},
}
FIRST_NAMES = {"en": ["Alex", "Sam", "Maria", "John", "Priya"], "zh": ["伟", "芳", "Li"],
               "ru": ["Иван", "Ольга", "Дима"]}


@dataclass(frozen=True)
class Step:
    """One message of the workload: which customer (0..199) wrote what, and the virtual seconds since the last."""

    customer: int
    kind: str
    text: str
    gap: float


@dataclass(frozen=True)
class Pass:
    """The workload applied to one set of customers at one stretch of virtual time."""

    inbound: list[tuple[IncomingMessage, datetime]]  # (message, now)
    raw_rows: list[dict]  # a message row per workload step, for the raw inserts


def workload(rng: random.Random, n: int) -> tuple[list[str], list[Step]]:
    languages = [_pick(rng, LANGUAGES) for _ in range(CUSTOMERS)]
    steps = []
    for _ in range(n):
        who = rng.randrange(CUSTOMERS)
        kind = _pick(rng, KINDS)
        steps.append(Step(who, kind, rng.choice(TEXTS[kind][languages[who]]), rng.uniform(0.5, 5.0)))
    return languages, steps


def _pick(rng: random.Random, weighted) -> str:
    names, weights = zip(*weighted, strict=True)
    return rng.choices(names, weights)[0]


def make_pass(number: int, languages: list[str], steps: list[Step], ticket_id: int | None) -> Pass:
    """Pass `number` (0: warm-up): its own customers, its own hours, message ids counting per chat."""
    span = timedelta(seconds=sum(s.gap for s in steps)) + timedelta(hours=1)
    now = START + number * span
    base = 5_000_000 + number * 10_000
    next_id: collections.Counter[int] = collections.Counter()
    inbound, raw = [], []
    for step in steps:
        now += timedelta(seconds=step.gap)
        user = base + step.customer
        next_id[user] += 1
        lang = languages[step.customer]
        names = FIRST_NAMES[lang]
        photo = step.kind == "photo"
        sender = User(id=user, access_hash=user * 7919, username=f"cust{user}",
                      first_name=names[step.customer % len(names)], language_code=lang)
        message = IncomingMessage(chat_id=user, chat_type="private", message_id=next_id[user], sender=sender,
                                  sent_at=now - timedelta(seconds=1), text=step.text,
                                  media_type="photo" if photo else None,
                                  file_id=f"AgACAgIAAxk{user}_{next_id[user]}" if photo else None)
        inbound.append((message, now))
        raw.append({"ticket": ticket_id, "chat_id": -1_000_000 - number, "message_id": len(raw) + 1,
                    "direction": "in", "sender": "customer", "text": step.text, "media_type": message.media_type,
                    "file_id": message.file_id, "sent_at": message.sent_at, "created_at": now})
    return Pass(inbound, raw)


# --- the two timed loops ------------------------------------------------------------------------------


def run_raw(db: peewee.Database, rows: list[dict]) -> float:
    began = time.perf_counter()
    for row in rows:
        with write_transaction(db, pipelined=True):  # as ingest's: the row and the COMMIT in one round trip
            db.execute(Message.insert(**row))
    return time.perf_counter() - began


def run_ingest(db: peewee.Database, inbound: list[tuple[IncomingMessage, datetime]]) -> float:
    began = time.perf_counter()
    for message, now in inbound:
        ingest_message(db, message, now=now)
    return time.perf_counter() - began


class Statements:
    """Counts the statements `db` executes through peewee (by first SQL word), for the phase set in `phase`.

    BEGIN and COMMIT do not pass through `execute_sql` and are not counted. The wrapper costs well under
    a microsecond per statement, on both loops alike."""

    def __init__(self, db: peewee.Database) -> None:
        self.phase = ""
        self.counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        original = db.execute_sql

        def execute_sql(sql, params=None, *args, **kwargs):
            self.counts[self.phase][sql.split(None, 1)[0].upper()] += 1
            return original(sql, params, *args, **kwargs)

        db.execute_sql = execute_sql

    def per_message(self, phase: str, messages: int) -> dict[str, float]:
        return {word: count / messages for word, count in self.counts[phase].most_common()}


def tallies() -> dict[str, int]:
    return {"tickets": Ticket.select().count(), "rules": Firing.select().where(Firing.kind == "rule").count(),
            "faq": Firing.select().where(Firing.kind == "faq").count(),
            "escalations": Event.select().where(Event.kind == "ticket.escalated").count(),
            "outbox": Outbox.select().count(), "events": Event.select().count()}


# --- one backend ---------------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    detail: str
    raw_rates: list[float]
    ingest_rates: list[float]
    raw_statements: dict[str, float]
    statements: dict[str, float]
    per_pass: dict[str, int]
    messages: int
    round_trips: tuple[float, float] | None = None  # per message, raw and ingest, counted untimed (PostgreSQL)


def measure(backend: str, url: str, detail: str, opts, languages, warmup, steps) -> Result:
    db = open_database(url, create=True)
    try:
        initialise(db, now=START - timedelta(days=1), actor="bench")
        run_ingest(db, make_pass(0, languages, warmup, None).inbound)
        ticket_id = Ticket.select(Ticket.id).order_by(Ticket.id).scalar()
        statements = Statements(db)
        raw_rates, ingest_rates, per_pass = [], [], {}
        spent, last, counted = 0.0, 0.0, 0
        for number in range(1, opts.rounds + 1):
            if number > 1 and spent + last > opts.budget:
                break
            work = make_pass(number, languages, steps, ticket_id)
            began = time.perf_counter()
            before = tallies()
            raw_time = ingest_time = 0.0
            for start in range(0, len(steps), CHUNK):  # alternate, so that machine noise hits both alike
                statements.phase = "raw"
                raw_time += run_raw(db, work.raw_rows[start:start + CHUNK])
                statements.phase = "ingest"
                ingest_time += run_ingest(db, work.inbound[start:start + CHUNK])
            statements.phase = ""
            counted += len(steps)
            raw_rates.append(len(steps) / raw_time)
            ingest_rates.append(len(steps) / ingest_time)
            if number == 1:
                per_pass = {k: v - before[k] for k, v in tallies().items()}
            last = time.perf_counter() - began
            spent += last
        trips = count_round_trips(db, make_pass(opts.rounds + 1, languages, steps, ticket_id)) if (
            backend == "postgres") else None
        return Result(backend, detail, raw_rates, ingest_rates, statements.per_message("raw", counted),
                      statements.per_message("ingest", counted), per_pass, len(steps), trips)
    finally:
        db.close()


def count_round_trips(db: peewee.Database, work: Pass) -> tuple[float, float]:
    """The round trips to the server per message of both loops, on one more pass, untimed (libpq's trace)."""
    with RoundTrips(db) as raw:
        run_raw(db, work.raw_rows)
    with RoundTrips(db) as ingested:
        run_ingest(db, work.inbound)
    return raw.count / len(work.raw_rows), ingested.count / len(work.inbound)


def sqlite_backend(opts, languages, warmup, steps) -> Result:
    with tempfile.TemporaryDirectory(prefix="tgesc-bench-") as tmp:
        pragmas = ", ".join(f"{k}={v}" for k, v in SQLITE_PRAGMAS.items() if k != "busy_timeout")
        return measure("sqlite", f"sqlite:///{Path(tmp) / 'tgesc.db'}", f"file in a temp dir, {pragmas}",
                       opts, languages, warmup, steps)


def postgres_backend(opts, languages, warmup, steps) -> Result | str:
    """The result, or why PostgreSQL was skipped."""
    with throwaway_postgres(opts.postgres_url) as (url, detail):
        if url is None:
            return detail
        return measure("postgres", url, detail, opts, languages, warmup, steps)


# --- report ---------------------------------------------------------------------------------------------


def report(result: Result) -> None:
    raw, ing = max(result.raw_rates), max(result.ingest_rates)
    ratio = ing / raw
    rounds = len(result.raw_rates)
    shown = lambda rates: ", ".join(f"{r:,.0f}" for r in rates)  # noqa: E731
    total = sum(result.statements.values())
    mix = ", ".join(f"{v:.2f} {k}" for k, v in result.statements.items())
    raw_mix = ", ".join(f"{v:.2f} {k}" for k, v in result.raw_statements.items())
    p = result.per_pass
    print(f"{result.backend}: {result.detail}")
    print(f"  raw insert {raw:>9,.0f} msgs/s   "
          f"[one message row per write transaction; rounds: {shown(result.raw_rates)}]")
    print(f"  ingest     {ing:>9,.0f} msgs/s   [ingest(); rounds: {shown(result.ingest_rates)}]")
    print(f"  ratio      {ratio:>9.3f}          goal >= {GOAL}   {'PASS' if ratio >= GOAL else 'MISS'}"
          f"   [best of {rounds} round{'s' * (rounds != 1)} of {result.messages:,} messages each]")
    trips = result.round_trips
    print(f"  per message: ingest {1e3 / ing:6.2f} ms, {total:4.1f} SQL statements ({mix})"
          + (f", {trips[1]:.2f} round trips" if trips else ""))
    print(f"               raw    {1e3 / raw:6.2f} ms, {sum(result.raw_statements.values()):4.1f} SQL statements "
          f"({raw_mix})" + (f", {trips[0]:.2f} round trips" if trips else ""))
    if p:
        print(f"  one round: {p['tickets']} tickets opened, {p['rules']} rules fired, {p['escalations']} escalations, "
              f"{p['faq']} FAQ answers, {p['outbox']} outbox rows, {p['events']} events")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--messages", type=int, default=2000, help="messages per round and rate (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="at most this many rounds per backend (best counts)")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds per backend: no new round that would go past it (default 60)")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "TGESC_BENCH_POSTGRES_URL", os.environ.get("TGESC_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)),
        help="a server where this script may create and drop a database")
    parser.add_argument("--seed", type=int, default=1)
    opts = parser.parse_args(argv)
    if opts.messages < 1 or opts.rounds < 1:
        parser.error("--messages and --rounds must be at least 1")

    languages, everything = workload(random.Random(opts.seed), max(opts.messages, WARMUP_MESSAGES))
    warmup, steps = everything[:WARMUP_MESSAGES], everything[:opts.messages]
    kinds = collections.Counter(s.kind for s in steps)
    print(f"tgesc ingest throughput, Python {platform.python_version()}, peewee {peewee.__version__}, "
          f"on {platform.machine()} ({os.cpu_count()} CPUs)")
    print(f"workload per round: {len(steps):,} messages from {CUSTOMERS} new customers "
          f"({', '.join(f'{lang} {w:.0%}' for lang, w in LANGUAGES)}), 0.5-5 s apart in virtual time:")
    print(f"  {', '.join(f'{k} {kinds[k]}' for k, _ in KINDS)}")
    for backend in ("sqlite", "postgres"):
        if opts.backend not in (backend, "both"):
            continue
        run = sqlite_backend if backend == "sqlite" else postgres_backend
        result = run(opts, languages, warmup, steps)
        if isinstance(result, str):
            print(f"{backend}: {result}")
        else:
            report(result)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How fast the business-time engine answers the SLA questions: when is it due, how much time has run.

Measures `tgesc.domain.business_time.BusinessCalendar` directly (no database, no CLI) on a typical
office calendar: Europe/Berlin, Monday to Friday 09:00-12:00 and 13:00-17:00, with the German public
holidays of 2026 and 2027 and two short days (overrides).

- `due`, warm: calls per second for random starts over the year 2026 (any instant, open or closed) and
  random budgets from 15 minutes to 2 days, on one calendar object reused for every call (its day and
  week caches filled as it goes, as in the long-running worker). Goal: at least 50,000 calls/s.
- `elapsed`, warm: calls per second between a random start in 2026 and a random end up to 14 days
  later, on the same reused calendar. No goal; printed for reference.
- `due` with a 730-day budget (730 × 24 h of business time, about ten years of office hours): the
  median time of one call, cold (a new calendar object built for the call, its construction included)
  and warm (the object reused). Goal: at most 0.5 ms each.

A consistency check runs alongside: elapsed(start, due(start, budget)) must give back the budget.
Each rate is the best of several rounds (the least disturbed by the machine). This is a benchmark,
not a test: it prints PASS or MISS against each goal and exits 0 either way.

    python bench/sla_due.py [--calls 100000] [--rounds 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from tgesc.domain.business_time import BusinessCalendar

OFFICE = {
    "timezone": "Europe/Berlin",
    "hours": {day: ["09:00-12:00", "13:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14", "2026-05-25",
                 "2026-10-03", "2026-12-25", "2026-12-26", "2027-01-01", "2027-03-26", "2027-03-29",
                 "2027-05-01", "2027-05-06", "2027-05-17", "2027-10-03", "2027-12-25", "2027-12-26"],
    "overrides": {"2026-12-24": ["09:00-12:00"], "2026-12-31": ["09:00-12:00"]},
    "deadline_at_close": "close",
}
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_SECONDS = 365 * 86_400
GOAL_RATE = 50_000
GOAL_LONG_MS = 0.5
LONG_BUDGET = timedelta(days=730)


def starts(rng: random.Random, n: int) -> list[datetime]:
    return [YEAR_START + timedelta(seconds=rng.randrange(YEAR_SECONDS)) for _ in range(n)]


def best_rate(call, args: list[tuple], rounds: int) -> float:
    """Calls per second over `args`, best of `rounds`."""
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        for a in args:
            call(*a)
        best = min(best, time.perf_counter() - began)
    return len(args) / best


def median_ms(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000, help="calls per round for the rates")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per rate (the best one counts)")
    parser.add_argument("--repeats", type=int, default=201, help="calls for each 730-day median")
    parser.add_argument("--seed", type=int, default=1)
    opts = parser.parse_args()
    rng = random.Random(opts.seed)

    calendar = BusinessCalendar(OFFICE, "office")
    due_args = [(s, timedelta(minutes=rng.randint(15, 2 * 1440))) for s in starts(rng, opts.calls)]
    elapsed_args = [(s, s + timedelta(seconds=rng.randrange(14 * 86_400))) for s in starts(rng, opts.calls)]
    due_rate = best_rate(calendar.due, due_args, opts.rounds)
    elapsed_rate = best_rate(calendar.elapsed, elapsed_args, opts.rounds)

    long_starts = starts(rng, opts.repeats)
    cold = iter(long_starts)
    cold_ms = median_ms(lambda: BusinessCalendar(OFFICE, "office").due(next(cold), LONG_BUDGET), opts.repeats)
    warm = iter(long_starts)
    warm_ms = median_ms(lambda: calendar.due(next(warm), LONG_BUDGET), opts.repeats)

    sample = due_args[:2000] + [(s, LONG_BUDGET) for s in long_starts[:50]]
    wrong = sum(calendar.elapsed(s, calendar.due(s, b)) != b for s, b in sample)

    print(f"tgesc business-time engine, Python {platform.python_version()} on {platform.machine()}")
    print("calendar: Europe/Berlin, Mon-Fri 09:00-12:00 + 13:00-17:00, "
          f"{len(OFFICE['holidays'])} holidays, {len(OFFICE['overrides'])} short days")
    print(f"due, warm      {due_rate:>12,.0f} calls/s   (goal >= {GOAL_RATE:,}/s)   {verdict(due_rate >= GOAL_RATE)}"
          f"   [{opts.calls:,} random starts in 2026, budgets 15 min - 2 days, best of {opts.rounds}]")
    print(f"elapsed, warm  {elapsed_rate:>12,.0f} calls/s"
          f"   [{opts.calls:,} random spans in 2026 of 0 - 14 days, best of {opts.rounds}]")
    print(f"due 730 d, cold {cold_ms:>10.3f} ms       (goal <= {GOAL_LONG_MS:g} ms)   "
          f"{verdict(cold_ms <= GOAL_LONG_MS)}   [new calendar object per call, median of {opts.repeats}]")
    print(f"due 730 d, warm {warm_ms:>10.3f} ms       (goal <= {GOAL_LONG_MS:g} ms)   "
          f"{verdict(warm_ms <= GOAL_LONG_MS)}   [calendar reused, median of {opts.repeats}]")
    print(f"check: elapsed(start, due(start, budget)) == budget for {len(sample) - wrong} of {len(sample)} samples"
          f"   {verdict(not wrong)}")


if __name__ == "__main__":
    main()

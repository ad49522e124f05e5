"""How long `tgesc simulate` takes on a busy week: 1,000 customers over seven virtual days.

The scenario is generated (seeded, so every run plays the same week) and played by `run_scenario` exactly as
`tgesc simulate` plays a file: a fresh SQLite desk with the shipped defaults, the real bot in the real kurigram
client on the in-memory wire, the sweeps as RQ jobs on an embedded Redis at their intervals of virtual time.

Each customer writes once at a random instant of the week (a tenth about a refund, which L2 takes at once;
a twentieth about an outage, straight to L3), most write a follow-up, and one staff member of every tier
(a lead in L1, L2 and L3) answers in the ticket's thread after 2-20 minutes and resolves 80 % of the tickets
shortly after; the rest stay open, so their SLA warnings, breaches and unresolved escalations fire all week.
Two days after a resolution the customer presses a star (1-5) on the return-visit survey (when that is
still within the week).

Goal (issue 7): under a minute on this machine. A benchmark, not a test: it prints the figures and PASS or
MISS, and exits 0 either way.

    python bench/simulate.py [--customers 1000] [--days 7] [--seed 7] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tgesc.cli.main import run
from tgesc.domain.scenario import load_scenario
from tgesc.simulation.runner import run_scenario

START = datetime.fromisoformat("2026-03-02T00:00:00+00:00")  # a Monday
GOAL_S = 60.0
TEXTS = ("Where is my order? It was due on Friday.", "How do I change the e-mail on my account?",
         "The app crashes when I open my invoices.", "Can I pay with a bank transfer?")


def scenario_text(customers: int, days: int, seed: int) -> str:
    """The generated week as a scenario file (TOML)."""
    rng = random.Random(seed)
    lines = [f'start = "{START.isoformat()}"', "",
             '[staff.lina]\nid = 9001\nrole = "lead"\ntiers = ["L1"]', "",
             '[staff.lars]\nid = 9002\nrole = "lead"\ntiers = ["L2"]', "",
             '[staff.lena]\nid = 9003\nrole = "lead"\ntiers = ["L3"]', ""]
    firsts = sorted((rng.uniform(0, days * 86400 - 7200), n) for n in range(customers))
    steps: list[tuple[float, str]] = []
    for number, (at, n) in enumerate(firsts, start=1):
        lines += [f"[customers.c{n}]", f"id = {100_000 + n}", f'name = "Customer {n}"', ""]
        steps += _conversation(rng, f"c{n}", number, at)
    steps = sorted((step for step in steps if step[0] < days * 86400), key=lambda item: item[0])
    for at, body in steps:
        lines += ["[[steps]]", f'at = "+{int(at)}s"', body, ""]
    lines += ["[[steps]]", f'at = "+{days}d"', ""]
    return "\n".join(lines)


def _conversation(rng: random.Random, customer: str, ticket: int, at: float) -> list[tuple[float, str]]:
    roll = rng.random()
    text, tier = (("I was charged twice, I want a refund", "L2") if roll < 0.10 else
                  ("The service is down, outage for everyone", "L3") if roll < 0.15 else
                  (rng.choice(TEXTS), "L1"))
    steps = [(at, f'customer = "{customer}"\ntext = "{text}"')]
    if rng.random() < 0.7:
        steps.append((at + rng.uniform(20, 90), f'customer = "{customer}"\ntext = "Any news?"'))
    answer = _clear_of_the_move(at, at + rng.uniform(120, 1200))
    steps.append((answer, f'staff = "{_staff(tier, at, answer)}"\nticket = {ticket}\ntext = "We are on it."'))
    if rng.random() < 0.8:
        resolved = _clear_of_the_move(at, answer + rng.uniform(60, 600))
        steps.append((resolved, f'staff = "{_staff(tier, at, resolved)}"\nticket = {ticket}\ntext = "/resolve"'))
        steps.append((resolved + 2 * 86400, f'customer = "{customer}"\npress = {rng.randint(1, 5)}'))
    return steps


def _clear_of_the_move(opened: float, at: float) -> float:
    """`at`, or a minute later when it falls in the sweep tick that moves an unanswered L1 ticket to L2
    (the unresolved-for rule: 15 minutes after opening, at the next 15 s tick)."""
    return opened + 960 if opened + 880 <= at <= opened + 960 else at


def _staff(tier: str, opened: float, at: float) -> str:
    """Who works the ticket at `at`: its tier's lead (an L1 ticket is L2's after 15 minutes unresolved)."""
    if tier == "L1" and at - opened > 900:
        tier = "L2"
    return {"L1": "lina", "L2": "lars", "L3": "lena"}[tier]


def main(argv: list[str] | None = None) -> None:
    options = _options(argv)
    with tempfile.TemporaryDirectory(prefix="tgesc-bench-simulate-") as folder:
        path = Path(folder) / "week.toml"
        path.write_text(scenario_text(options.customers, options.days, options.seed), encoding="utf-8")
        scenario = load_scenario(path)
        print(f"scenario: {options.customers} customers, {len(scenario.steps)} steps over {options.days} "
              f"virtual days (seed {options.seed})")
        started = time.perf_counter()
        profiler = cProfile.Profile() if options.profile else None
        if profiler:
            profiler.enable()
        result = run_scenario(scenario, run_command=run)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - started
    _report(result, elapsed)
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def _report(result: dict, elapsed: float) -> None:
    kinds: dict[str, int] = {}
    for event in result["events"]:
        kinds[event["kind"]] = kinds.get(event["kind"], 0) + 1
    print(f"messages on the wire: {len(result['messages'])}; tickets: {len(result['tickets'])}; "
          f"events: {len(result['events'])}")
    for kind in ("escalated", "sla_warning", "sla_breach", "survey_sent", "survey_answered", "review_invited"):
        print(f"  {kind:<16} {kinds.get(kind, 0)}")
    verdict = "PASS" if elapsed < GOAL_S else "MISS"
    print(f"wall time: {elapsed:.1f} s (goal < {GOAL_S:.0f} s): {verdict}")


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="print the 30 most expensive calls")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main(sys.argv[1:])

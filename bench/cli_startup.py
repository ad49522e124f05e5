"""How long a DB-only command takes to start, next to the bare imports it cannot avoid.

Measures the wall time of `tgesc sla list` (a command that only reads the database) as a fresh
process, against `python -c "import typer, peewee, tabulate, dotenv"` (the floor: interpreter start
plus the libraries every command needs). The two are run alternately, N times each, so that machine
noise hits both alike; the medians and their ratio are printed. The goal is a ratio of at most 1.3:
tgesc's own code (settings, the lazy imports of one command module, opening SQLite, one query) must
cost little next to the floor, and in particular never pull in rq, redis or pyrogram.

The data directory is a temporary one, initialised once with `tgesc init` (SQLite). This is a
benchmark, not a test: it prints PASS or MISS against the goal and exits 0 either way.

    python bench/cli_startup.py [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 1.3
BASELINE = [sys.executable, "-c", "import typer, peewee, tabulate, dotenv"]


def tgesc_command() -> list[str]:
    """The console script next to this interpreter (what a user types), else `python -m tgesc`."""
    script = Path(sys.executable).parent / "tgesc"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tgesc"]


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each command (default 21)")
    args = parser.parse_args(argv)

    tgesc = tgesc_command()
    with tempfile.TemporaryDirectory(prefix="tgesc-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TGESC_")}
        (Path(tmp) / "empty.env").touch()  # a named settings file must exist
        env.update(TGESC_HOME=str(Path(tmp) / "home"), TGESC_ENV_FILE=str(Path(tmp) / "empty.env"))
        init = subprocess.run([*tgesc, "init"], env=env, capture_output=True, text=True, cwd=tmp)
        if init.returncode != 0:
            sys.exit(f"tgesc init failed ({init.returncode}):\n{init.stderr}")
        command = [*tgesc, "sla", "list"]

        for _ in range(2):  # warm the page cache and the .pyc files of both
            timed(BASELINE, env)
            timed(command, env)
        base, cli = [], []
        for _ in range(args.runs):
            base.append(timed(BASELINE, env))
            cli.append(timed(command, env))

    base_ms, cli_ms = statistics.median(base) * 1000, statistics.median(cli) * 1000
    ratio = cli_ms / base_ms
    print(f"baseline  {'python -c ' + repr(BASELINE[2]):52} median {base_ms:7.1f} ms  (n={args.runs})")
    print(f"tgesc     {'tgesc sla list':52} median {cli_ms:7.1f} ms  (n={args.runs})")
    print(f"ratio     {ratio:.2f}  goal <= {GOAL}  {'PASS' if ratio <= GOAL else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

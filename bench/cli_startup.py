"""How long a DB-only command takes to start, next to the bare imports it cannot avoid.

Measures the wall time of `tgesc sla list` (a command that only reads the database) as a fresh
process, against `python -c "import typer, peewee, tabulate, dotenv"` (the floor: interpreter start
plus the libraries every command needs). The two are run alternately, N times each, so that machine
noise hits both alike; the medians of wall time and CPU time and their ratios are printed. The goal
(issue 16) is a wall-time ratio of at most 1.2: tgesc's own code (settings, the lazy imports of one
command module, opening SQLite, one query) must cost little next to the floor, and in particular never
pull in rq, redis or pyrogram. On a busy machine every figure drifts; `--instructions` also counts the
instructions of one run of each under valgrind's callgrind (when valgrind is installed): that ratio
does not depend on what else the machine is doing.

The data directory is a temporary one, initialised once with `tgesc init` (SQLite). This is a
benchmark, not a test: it prints PASS or MISS against the goal and exits 0 either way.

    python bench/cli_startup.py [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 1.2
BASELINE = [sys.executable, "-c", "import typer, peewee, tabulate, dotenv"]


def tgesc_command() -> list[str]:
    """The console script next to this interpreter (what a user types), else `python -m tgesc`."""
    script = Path(sys.executable).parent / "tgesc"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tgesc"]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """The wall time and the CPU time (user + system) of one run of `cmd`, in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each command (default 21)")
    parser.add_argument("--instructions", action="store_true",
                        help="also count each command's instructions once under valgrind --tool=callgrind")
    args = parser.parse_args(argv)

    tgesc = tgesc_command()
    with tempfile.TemporaryDirectory(prefix="tgesc-bench-") as tmp:
        # Without PYTHONDONTWRITEBYTECODE: an installed tgesc runs from compiled .pyc files, as the libraries do.
        env = {k: v for k, v in os.environ.items() if not k.startswith("TGESC_") and k != "PYTHONDONTWRITEBYTECODE"}
        (Path(tmp) / "empty.env").touch()  # a named settings file must exist
        env.update(TGESC_HOME=str(Path(tmp) / "home"), TGESC_ENV_FILE=str(Path(tmp) / "empty.env"))
        init = subprocess.run([*tgesc, "init"], env=env, capture_output=True, text=True, cwd=tmp)
        if init.returncode != 0:
            sys.exit(f"tgesc init failed ({init.returncode}):\n{init.stderr}")
        command = [*tgesc, "sla", "list"]

        counts = [instructions(cmd, env, tmp) for cmd in (BASELINE, command)] if args.instructions else []
        for _ in range(2):  # warm the page cache and the .pyc files of both
            timed(BASELINE, env)
            timed(command, env)
        base, cli = [], []
        for _ in range(args.runs):
            base.append(timed(BASELINE, env))
            cli.append(timed(command, env))

    base_ms, cli_ms = (statistics.median(wall for wall, _cpu in runs) * 1000 for runs in (base, cli))
    base_cpu, cli_cpu = (statistics.median(cpu for _wall, cpu in runs) * 1000 for runs in (base, cli))
    ratio = cli_ms / base_ms
    print(f"baseline  {'python -c ' + repr(BASELINE[2]):52} median {base_ms:7.1f} ms, CPU {base_cpu:6.1f} ms"
          f"  (n={args.runs})")
    print(f"tgesc     {'tgesc sla list':52} median {cli_ms:7.1f} ms, CPU {cli_cpu:6.1f} ms  (n={args.runs})")
    verdict = "PASS" if ratio <= GOAL else "MISS"
    print(f"ratio     {ratio:.2f} (CPU time {cli_cpu / base_cpu:.2f})  goal <= {GOAL}  {verdict}")
    if counts:
        print(f"instructions  baseline {counts[0]:,}  tgesc {counts[1]:,}  ratio {counts[1] / counts[0]:.2f}")
    return 0


def instructions(cmd: list[str], env: dict[str, str], tmp: str) -> int:
    """The instructions one run of `cmd` executes, counted by valgrind's callgrind (after a first run that
    writes the .pyc files)."""
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    out = Path(tmp) / "callgrind.out"
    proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    refs = [line for line in proc.stderr.splitlines() if "refs:" in line]
    return int(refs[-1].split("refs:")[1].replace(",", "").strip())


if __name__ == "__main__":
    sys.exit(main())

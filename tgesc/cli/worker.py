"""`tgesc worker ...`: the long-running processes (systemd or a supervisor runs them)."""

from __future__ import annotations

import typer

from tgesc.cli.context import state

app = typer.Typer(help="Worker processes: the Telegram bot, the job worker and the scheduler.", no_args_is_help=True)


@app.callback()
def worker() -> None:
    """Worker processes: `bot` (Telegram), `run` (RQ jobs: sweeps, relay, housekeeping), `cron` (schedules them)."""


def _logging(settings, process: str) -> None:
    """Log lines to stderr at the configured level and format, no secret of the settings in any of them
    (invariant 7)."""
    from tgesc.adapters.log_lines import configure

    configure(settings.get("log_level"), settings.get("log_format"), process, state().secrets())


@app.command("bot")
def bot() -> None:
    """Hold the Telegram connection: receive every update, deliver the outbox (the `telegram` queue).

    Needs TGESC_API_ID, TGESC_API_HASH and TGESC_BOT_TOKEN (exit 78 when one is missing, or when Telegram
    refuses them) and Redis (TGESC_REDIS_URL, or the embedded one in the data directory); Telegram unreachable
    exits 69. Only one bot runs per token: a second one waits and takes over within 30 s when the first dies.
    A database outage is waited out (no message lost); `tgesc dead-letter list` shows updates whose handling
    failed for good. SIGTERM stops it cleanly (exit 0).

    Examples:

      TGESC_API_ID=12345 TGESC_API_HASH=0123abcd TGESC_BOT_TOKEN=123:ABC tgesc worker bot

      systemctl start tgesc-bot   # see systemd/tgesc-bot.service
    """
    settings = state().settings()
    _logging(settings, "bot")
    settings.require("api_id", "api_hash", "bot_token", purpose="tgesc worker bot")
    from tgesc.worker.bot import run_bot

    run_bot(settings)


@app.command("run")
def run(
    queues: list[str] = typer.Argument(None, metavar="[QUEUES]...", help="Queues to work, in priority order "
                                       "(default: default)."),
    simple: bool = typer.Option(False, "--simple", help="Run jobs in this process (RQ's SimpleWorker) instead of "
                                "a forked child per job."),
    burst: bool = typer.Option(False, "--burst", help="Stop once the queues are empty."),
) -> None:
    """Execute the jobs `tgesc worker cron` enqueues: sweeps, outbox relay, housekeeping.

    Run as many as you like, on any machine that reaches the database and Redis. Each job runs in a forked
    child process (`--simple`: in this one). The database must be reachable (exit 69) and its schema
    current (exit 78). SIGTERM: the current job finishes, exit 0. `rq info` shows queues and workers.

    Examples:

      tgesc worker run

      tgesc worker run default --simple

      systemctl start tgesc-worker@1   # see systemd/tgesc-worker@.service
    """
    from tgesc.domain.errors import UsageError

    chosen = tuple(queues or ("default",))
    if "telegram" in chosen:
        raise UsageError("the telegram queue is worked by `tgesc worker bot` (it holds the Telegram connection); "
                         "leave it out")
    settings = state().settings()
    _logging(settings, "run")
    from tgesc.worker.run import run_worker

    run_worker(settings, chosen, simple=simple, burst=burst)


@app.command("cron")
def cron() -> None:
    """Schedule the periodic jobs `tgesc worker run` executes (one active scheduler).

    SLA sweep and unresolved-for sweep every 15 s, survey sweep every minute, outbox relay every 30 s,
    housekeeping hourly; change them with TGESC_SLA_SWEEP_EVERY, TGESC_UNRESOLVED_SWEEP_EVERY,
    TGESC_SURVEY_SWEEP_EVERY, TGESC_RELAY_EVERY, TGESC_HOUSEKEEPING_EVERY (durations: 15s, 2m, 1h).

    Exactly one cron process is active (a Redis lock): start a second one anywhere as a standby; it takes
    over within TGESC_CRON_LOCK_TTL (30 s) when the active one dies. SIGTERM: exit 0, the lock released.

    Examples:

      tgesc worker cron

      TGESC_SLA_SWEEP_EVERY=5s tgesc worker cron

      systemctl start tgesc-cron   # see systemd/tgesc-cron.service
    """
    settings = state().settings()
    _logging(settings, "cron")
    from tgesc.worker.cron import run_cron

    run_cron(settings)

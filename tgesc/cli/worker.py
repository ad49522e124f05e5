"""`tgesc worker ...`: the long-running processes (systemd or a supervisor runs them)."""

from __future__ import annotations

import logging

import typer

from tgesc.cli.context import state

app = typer.Typer(help="Worker processes: the Telegram bot (and, later, the job worker and the scheduler).",
                  no_args_is_help=True)


@app.callback()
def worker() -> None:
    """Worker processes (a group even while it has one command: `tgesc worker bot`)."""


@app.command("bot")
def bot() -> None:
    """Hold the Telegram connection: receive every update, deliver the outbox (the `telegram` queue).

    Needs TGESC_API_ID, TGESC_API_HASH and TGESC_BOT_TOKEN (exit 78 when one is missing) and Redis
    (TGESC_REDIS_URL, or the embedded one in the data directory). Only one bot runs per token: a second
    one waits and takes over within 30 s when the first dies. SIGTERM stops it cleanly (exit 0).

    Examples:

      TGESC_API_ID=12345 TGESC_API_HASH=0123abcd TGESC_BOT_TOKEN=123:ABC tgesc worker bot

      systemctl start tgesc-bot   # see systemd/tgesc-bot.service
    """
    settings = state().settings()
    logging.basicConfig(level=settings.get("log_level").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings.require("api_id", "api_hash", "bot_token", purpose="tgesc worker bot")
    from tgesc.worker.bot import run_bot

    run_bot(settings)

"""`tgesc worker bot` in a process of its own, on the test process's FakeWire (see tests/remote_wire.py).

    python tests/bot_process.py

Settings come from the environment as for the real command (TGESC_HOME, TGESC_DATABASE_URL, TGESC_REDIS_URL,
TGESC_API_ID, TGESC_API_HASH, TGESC_BOT_TOKEN, the rates ...); the wire from TGESC_TEST_WIRE (host:port) and
TGESC_TEST_WIRE_KEY (hex); TGESC_TEST_LOCK_TTL (seconds, default 30) is the single-bot lock's time to live.
Logs go to stderr. Exit codes as `tgesc worker bot` gives them: 0 after SIGTERM, a TgescError's (78, 69) with its
`Error: ...` line.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # remote_wire

from remote_wire import remote_session_factory_from_env  # noqa: E402

from tgesc.settings import load_settings  # noqa: E402


def main() -> None:
    settings = load_settings()
    logging.basicConfig(level=settings.get("log_level").upper(), stream=sys.stderr,
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    from tgesc.domain.errors import TgescError
    from tgesc.worker.bot import run_bot

    try:
        run_bot(settings, session_factory=remote_session_factory_from_env(),
                lock_ttl_s=float(os.environ.get("TGESC_TEST_LOCK_TTL", "30")))
    except TgescError as error:  # as tgesc.cli.main renders it
        print(f"Error: {error.render()}", file=sys.stderr)
        sys.exit(error.exit_code)


if __name__ == "__main__":
    main()

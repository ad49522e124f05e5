"""`TGESC_LOG_FORMAT=json`: the workers' log lines as one JSON object a line (time, level, process, logger, message,
ticket, exception), secrets redacted, in a process of its own as a worker configures it; a bad format refused."""

from __future__ import annotations

import json
import subprocess
import sys

SECRET = "123456:AAH-this-is-the-bot-token-xyz"
SCRIPT = f"""
import logging
from tgesc.adapters.log_lines import configure
configure("INFO", "json", "bot", [{SECRET!r}])
log = logging.getLogger("tgesc.services.telegram.delivery")
log.info("outbox row 7 of ticket #12 sent")
log.debug("not at INFO")
log.warning("the token {SECRET} leaked", extra={{"ticket": 3}})
try:
    raise RuntimeError("boom {SECRET}")
except RuntimeError:
    log.exception("a failure")
"""


def test_json_lines_carry_the_fields_and_never_a_secret():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(x["level"], x["logger"], x["ticket"]) for x in lines] == [
        ("INFO", "tgesc.services.telegram.delivery", 12), ("WARNING", "tgesc.services.telegram.delivery", 3),
        ("ERROR", "tgesc.services.telegram.delivery", None)]
    assert lines[0]["message"] == "outbox row 7 of ticket #12 sent" and lines[0]["process"].startswith("bot[")
    assert lines[0]["time"].endswith("+00:00") and "exception" not in lines[0]
    assert "RuntimeError: boom" in lines[2]["exception"] and "Traceback" in lines[2]["exception"]


def test_a_bad_log_format_is_refused(cli):
    result = cli("config", "show", env={"TGESC_LOG_FORMAT": "xml"})
    assert result.exit_code == 78 and "TGESC_LOG_FORMAT" in result.stderr and "use one of text, json" in result.stderr

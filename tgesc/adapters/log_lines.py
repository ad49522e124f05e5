"""The workers' log lines on stderr: text (`time LEVEL logger: message`), or with `TGESC_LOG_FORMAT=json` one JSON
object a line for a log collector: `time` (ISO 8601, UTC), `level`, `process` (the worker: bot, run or cron, and its
pid), `logger`, `message`, `ticket` (the ticket number the line is about, when there is one: a record's `ticket`
extra, else the first `#N` of its message) and `exception` (the traceback, when there is one). Secrets never
appear: the redacting filter runs on every record before it is written (invariant 7).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from tgesc.domain.redaction import RedactingFilter

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_TICKET = re.compile(r"#(\d+)\b")


class JsonLines(logging.Formatter):
    """One JSON object a line."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = f"{process}[{os.getpid()}]"

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "process": self.process, "logger": record.name, "message": message,
                "ticket": _ticket(record, message)}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def _ticket(record: logging.LogRecord, message: str) -> int | None:
    given = getattr(record, "ticket", None)
    if isinstance(given, int):
        return given
    found = _TICKET.search(message)
    return int(found.group(1)) if found else None


def configure(level: str, log_format: str, process: str, secrets: Iterable[str]) -> None:
    """Log to stderr at `level` in `log_format` (text or json), every handler redacting `secrets`."""
    logging.basicConfig(level=level.upper(), format=TEXT)
    redacting = RedactingFilter(secrets)
    for handler in logging.getLogger().handlers:
        if log_format == "json":
            handler.setFormatter(JsonLines(process))
        handler.addFilter(redacting)

"""The real clock. Only process entry points (cli, worker) read it; everything else is given `now`."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)

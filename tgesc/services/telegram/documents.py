"""What the bot attaches: the file an outbox row of kind `document` names, built when the row goes out.

A row names its file by what it is, not by its content: the weekly digest (services.reports.digest) queues
`{"report": "html", "since": ISO, "until": ISO, "zone": "Europe/Berlin", "filename": "tgesc-report-….html"}`, and
the HTML report of that period (`tgesc report html`'s page) is rendered from the database when the row is sent.
A past period's numbers do not change, so a row sent late, or built again after an interruption, carries the
same report (only its "generated" instant differs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import peewee

from tgesc.services.reports.scope import Scope


def attachment(db: peewee.Database, payload: Mapping[str, Any], now: datetime) -> tuple[str, bytes]:
    """The file a `document` row's payload names, built now: its name and bytes. ValueError when the payload names
    none (an unknown `report`, a field missing or malformed): such a row fails for good."""
    build = BUILDERS.get(payload.get("report"))
    if build is None:
        raise ValueError(f"a document row names an unknown report {payload.get('report')!r} (known: "
                         f"{', '.join(BUILDERS)})")
    if not isinstance(payload.get("filename"), str) or not payload["filename"]:
        raise ValueError(f"a document row names no file name: {payload.get('filename')!r}")
    return payload["filename"], build(db, payload, now)


def html_report(db: peewee.Database, payload: Mapping[str, Any], now: datetime) -> bytes:
    """The HTML report of [since, until), its days and instants in `zone`, titled with its dates; UTF-8."""
    from tgesc.services.reports.html import render  # (plotly: imported by the bot once it builds a report)
    from tgesc.services.reports.page import page

    zone, since, until = _period(payload)
    title = f"tgesc report {since.astimezone(zone):%Y-%m-%d} – {until.astimezone(zone):%Y-%m-%d}"
    with db.atomic():  # one snapshot of the database for the whole page
        document = page(Scope(since, until), zone, now, title=title)
    return render(document).encode("utf-8")


def _period(payload: Mapping[str, Any]) -> tuple[ZoneInfo, datetime, datetime]:
    """The zone, start and end a payload names; ValueError when one is missing or malformed."""
    try:
        zone = ZoneInfo(payload["zone"])
        since, until = (datetime.fromisoformat(payload[name]) for name in ("since", "until"))
    except (KeyError, TypeError) as exc:  # (an unknown zone is a KeyError too; a malformed one a ValueError)
        raise ValueError(f"a document row's period is missing or malformed: {exc!r}") from exc
    if since.tzinfo is None or until.tzinfo is None or since >= until:
        raise ValueError(f"a document row's period is no period: {payload['since']} – {payload['until']}")
    return zone, since, until


BUILDERS: dict[str, Callable[[peewee.Database, Mapping[str, Any], datetime], bytes]] = {"html": html_report}

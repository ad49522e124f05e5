"""The weekly digest: at `[reports] digest` (say `mon 09:00`, in the desk's zone) every active team lead and admin gets,
in private and in their language, the past week's summary (`weekly_digest`) and the HTML report of that week as a file.

When: `tgesc worker cron` runs `send_due` every `digest_check_every` (1 min); `tgesc simulate` runs it at each digest
instant of its timeline. It sends the digest of the latest digest instant at or before now, if that instant is
less than `LATE` ago (a desk down over a whole week does not send an old digest when it comes back). Exactly once
per week and person however many schedulers or runs: each message's outbox row has a dedupe key made of the week
and the person, so a second run (or a second scheduler) writes nothing. The audit log's `report.digest` says when a
week was done and who got it (`simulate --json`: `report_digest`). The HTML page is rendered when the bot
sends the file (kind `document`), from the week the row names.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import peewee

from tgesc.db import write_transaction
from tgesc.domain.humanize import duration_text
from tgesc.models import Event, Staff
from tgesc.services.config.current import current
from tgesc.services.outbox import rows as outbox
from tgesc.services.reports.scope import Scope
from tgesc.services.reports.summary import summary
from tgesc.services.tickets.store import event

LATE = timedelta(days=1)  # a digest instant further back than this is not sent any more
RECIPIENT_ROLES = ("lead", "admin")


def next_at(db: peewee.Database, now: datetime, zone: tzinfo) -> datetime | None:
    """When the digest is next due: the latest digest instant while it is less than LATE ago and its week was not
    done yet, else the next one (None: no digest is configured)."""
    weekly = current(db).digest
    if weekly is None:
        return None
    latest = weekly.latest(now, zone)
    if now - latest <= LATE and not _done(latest):
        return latest
    return latest + timedelta(days=7)  # the same wall-clock time in `zone` a week on


def send_due(db: peewee.Database, now: datetime, zone: tzinfo) -> list[str]:
    """Queue the digest of the latest digest instant to every lead and admin who has not had it; who got it now.
    The first run that does a week records `report.digest` (the week, and who was sent it)."""
    weekly = current(db).digest
    if weekly is None:
        return []
    end = weekly.latest(now, zone)
    if now - end > LATE:
        return []
    since, until = weekly.week_before(end)
    scope = Scope(since.astimezone(UTC), until.astimezone(UTC))
    numbers = summary(scope)
    people = list(Staff.select().where(Staff.role.in_(RECIPIENT_ROLES) & Staff.active).order_by(Staff.handle))
    with write_transaction(db):
        sent = [person.handle for person in people if _queued(person, scope, numbers, zone, now)]
        if sent or not _done(end):
            event(None, "report.digest", "system", now, since=scope.since.isoformat(), until=scope.until.isoformat(),
                  to=sent)
    return sent


def _done(end: datetime) -> bool:
    """Whether the week ending at `end` was done (its digest sent, or nobody there to send it to)."""
    return Event.select(Event.id).where((Event.kind == "report.digest") & (Event.at >= end)).exists()


def _queued(person: Staff, scope: Scope, numbers: dict[str, Any], zone: tzinfo, now: datetime) -> bool:
    """The digest's text and file to `person`, unless they were queued before; whether they were now."""
    key = f"digest-{scope.until:%Y%m%dT%H%M}-{person.id}"
    if not outbox.template_to(person.telegram_id, person.language, "weekly_digest",
                              variables(numbers, scope, zone, person.language), now=now, dedupe_key=key):
        return False
    outbox.queue(None, person.telegram_id, "", now=now, kind="document", dedupe_key=f"{key}-html", payload={
        "report": "html", "since": scope.since.isoformat(), "until": scope.until.isoformat(), "zone": str(zone),
        "filename": f"tgesc-report-{scope.since.astimezone(zone):%Y-%m-%d}.html"})
    return True


def variables(numbers: dict[str, Any], scope: Scope, zone: tzinfo, language: str | None) -> dict[str, Any]:
    """The `weekly_digest` template's variables from a summary document."""
    def spent(seconds: float) -> str:
        return duration_text(timedelta(seconds=round(seconds)), language) if seconds else "–"

    tickets, csat = numbers["tickets"], numbers["csat"]
    return {"since": f"{scope.since.astimezone(zone):%Y-%m-%d}", "until": f"{scope.until.astimezone(zone):%Y-%m-%d}",
            "opened": tickets["opened"], "resolved": tickets["resolved"], "open_now": tickets["open_now"],
            "first_response_median": spent(numbers["first_response"]["median_s"]),
            "resolution_median": spent(numbers["resolution"]["median_s"]),
            "sla_met": f"{numbers['sla']['first_response']['met_pct']} %",
            "escalations": numbers["escalations"]["total"], "csat_average": csat["average"] or "–",
            "csat_answered": csat["answered"], "follow_up_rate": f"{numbers['follow_up']['rate_pct']} %"}

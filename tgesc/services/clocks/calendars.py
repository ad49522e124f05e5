"""Business calendars as the services use them: built from the stored configuration and cached.

A `BusinessCalendar` caches its days and weeks, so one object per calendar definition is kept for the
life of the process; an edited calendar (a different definition) gets a new object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import peewee

from tgesc.domain.business_time import BusinessCalendar
from tgesc.domain.sla import ALWAYS_OPEN
from tgesc.services.config.apply import get_entry


@lru_cache(maxsize=256)
def _cached(name: str, spec_json: str) -> BusinessCalendar:
    return BusinessCalendar(json.loads(spec_json), name)


def calendar_from_spec(name: str, spec: Mapping[str, Any]) -> BusinessCalendar:
    """The (cached) calendar object for a canonical calendar definition."""
    return _cached(name, json.dumps(spec, sort_keys=True))


def calendar_or_always_open(name: str | None, spec: Mapping[str, Any] | None) -> BusinessCalendar:
    """The calendar with that definition, or a 24/7 one when there is none (a policy or tier without)."""
    return calendar_from_spec(name or "24/7", spec) if spec else calendar_from_spec("24/7", ALWAYS_OPEN)


def tier_calendar(db: peewee.Database, tier: Any) -> BusinessCalendar:
    """The business calendar of a tier (always open when it has none), from the configuration in force."""
    return named_or_always_open(db, tier.calendar.name if tier.calendar_id else None)


def named_or_always_open(db: peewee.Database, name: str | None) -> BusinessCalendar:
    """The calendar `name` of the configuration in force (a tier's, a staff member's shift); 24/7 for None."""
    from tgesc.services.config.current import current

    return calendar_or_always_open(name, current(db).entry("calendars", name) if name else None)


def business_calendar(db: peewee.Database, name: str) -> BusinessCalendar:
    """The stored calendar `name` (NotFound if there is none)."""
    return calendar_from_spec(name, get_entry(db, "calendars", name))


def due(db: peewee.Database, name: str, start: datetime, budget: timedelta,
        pauses: list[tuple[datetime, datetime]]) -> datetime:
    """When `budget` of business time on calendar `name` runs out, in the calendar's zone."""
    calendar = business_calendar(db, name)
    return calendar.due(start, budget, pauses).astimezone(calendar.zone)


def elapsed(db: peewee.Database, name: str, start: datetime, end: datetime,
            pauses: list[tuple[datetime, datetime]]) -> timedelta:
    """Business time on calendar `name` between two instants."""
    return business_calendar(db, name).elapsed(start, end, pauses)


def week(db: peewee.Database, name: str, monday: date) -> list[tuple[datetime, datetime]]:
    """The open intervals of the local week starting at `monday` (a Monday), in the calendar's zone."""
    return business_calendar(db, name).week(monday)

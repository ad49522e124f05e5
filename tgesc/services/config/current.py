"""The configuration the hot paths (ingest) need, parsed once per configuration generation.

`current(db)` checks the generation (one query) and returns the parsed rules and FAQ entries, the tiers by id and
code, the active staff by Telegram id (the bot asks for every private message) and the tiers each works in (asked
for every staff message), the SLA policies and calendars, the template overrides, the lifecycle timings and the
weekly digest's instant; it is rebuilt only after a configuration change, by any process. The configuration is shared
between calls: do not modify it, its tiers, staff or entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import peewee

from tgesc.domain.durations import parse_duration
from tgesc.domain.rules import FaqEntry, Rule, faq_from, rules_from
from tgesc.domain.ticket_rules import LifecyclePolicy
from tgesc.domain.weekly import Weekly
from tgesc.models import Staff, StaffTier, Tier
from tgesc.services.config import store as config_store
from tgesc.services.config.apply import entry_in


@dataclass(frozen=True)
class Configuration:
    """The configuration of one generation, parsed, ready to use."""

    generation: int
    rules: tuple[Rule, ...]
    faq: tuple[FaqEntry, ...]
    tiers: Mapping[int, Tier]  # by id
    tier_codes: Mapping[str, Tier]
    staff: Mapping[int, Staff]  # the active staff by Telegram id
    staff_tiers: frozenset[tuple[int, int]]  # (staff id, tier id): who works in which tier
    sections: Mapping[str, Mapping[str, dict[str, Any]]]  # PARSED_SECTIONS as stored

    def entry(self, section: str, key: str) -> dict[str, Any]:
        """One entry of a section in PARSED_SECTIONS, or NotFound (as `configuration.get_entry`)."""
        return entry_in(self.sections[section], section, key)

    @property
    def lowest_level(self) -> int | None:
        """The front line's level (None when no tier is configured)."""
        tier = self.front_line
        return None if tier is None else tier.level

    @property
    def lifecycle(self) -> LifecyclePolicy:
        """The `[lifecycle]` timings (a timing not set: its default)."""
        return LifecyclePolicy.from_seconds({key: parse_duration(value)
                                             for key, value in self.sections["lifecycle"].items()})

    @property
    def digest(self) -> Weekly | None:
        """When the weekly digest goes out (`[reports] digest`; None: no digest)."""
        text = self.sections["reports"].get("digest")
        return Weekly.parse(text) if text else None

    @property
    def front_line(self) -> Tier | None:
        """The lowest tier (None when no tier is configured)."""
        return min(self.tiers.values(), key=lambda tier: tier.level, default=None)


PARSED_SECTIONS = ("sla", "calendars", "templates", "tiers", "lifecycle", "reports")
_parsed: dict[str, Configuration] = {}
_checked: dict[str, tuple[Any, int]] = {}  # database → (its transaction, config_store.bumps) at the last check


def current(db: peewee.Database, *, generation: int | None = None) -> Configuration:
    """The configuration in force, parsed (read again only after a configuration change). Within one
    transaction the generation is checked once, again only after this process changed the configuration;
    `generation`: the caller read it already, in this transaction (ingest reads it with the ticket)."""
    key = str(db.database)
    hit = _parsed.get(key)
    state = (config_store.outermost_transaction(db), config_store.bumps)  # a later transaction: another object
    if generation is None and hit is not None and state[0] is not None and _checked.get(key, (None, -1)) == state:
        return hit
    if generation is None:
        generation = config_store.generation()
    _checked[key] = state
    if hit is None or hit.generation != generation:
        tiers = list(Tier.select())
        hit = _parsed[key] = Configuration(
            generation, rules_from(config_store.load_section("rules")), faq_from(config_store.load_section("faq")),
            {t.id: t for t in tiers}, {t.code: t for t in tiers},
            {s.telegram_id: s for s in Staff.select().where(Staff.active == True)},  # noqa: E712
            frozenset(StaffTier.select(StaffTier.staff, StaffTier.tier).tuples()),
            {section: config_store.load_section(section) for section in PARSED_SECTIONS})
    return hit

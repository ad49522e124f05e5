"""Per-invocation state of the CLI: the global flags, the settings they resolve to, the open database.

Settings and the database are loaded lazily, so `--help` and commands that need neither stay fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tgesc.settings import SPECS, Settings, load_settings, setting_secrets

if TYPE_CHECKING:
    import peewee


@dataclass
class CliState:
    flags: dict[str, str | None] = field(default_factory=dict)
    env_file: Path | None = None
    _settings: Settings | None = None
    _db: peewee.Database | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.flags, env_file=self.env_file)
        return self._settings

    def database(self, *, require_schema: bool = True, create: bool = False) -> peewee.Database:
        """The open database; unless told otherwise, refuse to work on a schema that is missing or behind.
        Only `create` (`tgesc init`, `tgesc db upgrade`) makes a SQLite database that does not exist."""
        if self._db is None:
            from tgesc.db import open_database, require_current

            self._db = open_database(self.settings().database_url, create=create)
            if require_schema:
                require_current(self._db)
        return self._db

    def now(self) -> datetime:
        """The current instant on the clock the `clock` setting names (real time, or a virtual clock's file)."""
        from tgesc.adapters.clock import clock_from

        return clock_from(self.settings())()

    def actor(self, as_: str | None) -> str:
        """Who a CLI change is recorded as: `--as` (which must name an active staff member), else the operator
        (`operator`)."""
        if as_ is None:
            return self.operator()
        from tgesc.services.tickets.permissions import active_staff

        return active_staff(self.database(), as_).handle

    def operator(self) -> str:
        """Who runs the CLI when no `--as` is given: the configured actor, else 'cli' (unchecked)."""
        return self.settings().get("actor") or "cli"

    def secrets(self) -> set[str]:
        """The secrets of this invocation's settings (those of the flags and environment when the settings
        could not be loaded), for taking out of any message shown."""
        if self._settings is not None:
            return setting_secrets({name: value.value for name, value in self._settings.values.items()})
        given = {spec.name: os.environ.get(spec.env, "") for spec in SPECS}
        return setting_secrets({**given, **{k: v for k, v in self.flags.items() if v}})

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


_state = CliState()


def state() -> CliState:
    return _state


def in_viewer_zone(record: dict[str, Any]) -> dict[str, Any]:
    """`record` (a document a command prints) with every instant, its lists' documents' too, written in the viewer's
    zone (--tz or TGESC_TIMEZONE) as ISO 8601 with the offset."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(_state.settings().timezone)

    def local(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(zone).isoformat(timespec="seconds")
        if isinstance(value, list):
            return [{k: local(v) for k, v in item.items()} if isinstance(item, dict) else item for item in value]
        return value

    return {key: local(value) for key, value in record.items()}


def current_time() -> datetime:
    """Now, for a change the command makes: `CliState.now` of this invocation."""
    return _state.now()


def reset(flags: dict[str, str | None], env_file: Path | None) -> CliState:
    """Start a fresh invocation (the root callback calls this once per command line)."""
    global _state
    _state.close()
    _state = CliState(flags=flags, env_file=env_file)
    return _state

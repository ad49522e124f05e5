"""Time zones as people name them: an IANA zone (`Europe/Berlin`, any case) or its city (`berlin`, `New York`), and
the zones offered as buttons to a customer of each language who does not name one (`/timezone`)."""

from __future__ import annotations

import functools
import zoneinfo

COMMON_ZONES: dict[str, tuple[str, ...]] = {
    "en": ("Europe/London", "America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Kolkata",
           "Australia/Sydney", "UTC"),
    "zh": ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore"),
    "ru": ("Europe/Kaliningrad", "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Vladivostok"),
}
_LEGACY = ("Etc/", "SystemV/", "US/", "Canada/", "Mexico/", "Brazil/", "Chile/")  # aliases, not places


@functools.cache
def _zones() -> dict[str, str]:
    """Every zone by its lowercased name, and by its city (the last part, `_` as a space) where that is unique
    among the canonical ones (the first in sorted order otherwise)."""
    names = sorted(zoneinfo.available_timezones())
    found = {name.lower(): name for name in names}
    for name in names:
        if "/" in name and not name.startswith(_LEGACY):
            found.setdefault(name.rsplit("/", 1)[1].replace("_", " ").lower(), name)
    return found


def find_zone(text: str) -> str | None:
    """The IANA zone `text` names (a zone or a city, any case, `_` or spaces), None when it names none."""
    wanted = " ".join(text.replace("_", " ").split()).lower()
    if not wanted or len(wanted) > 64:
        return None
    return _zones().get(wanted) or _zones().get(wanted.replace(" ", "_"))


def common_zones(language: str) -> tuple[str, ...]:
    """The zones offered to a customer of `language` (English's for the others)."""
    return COMMON_ZONES.get(language, COMMON_ZONES["en"])

"""The canonical TOML text of a configuration document, laid out for people who keep it in git.

One `[section.key]` table per entry (and `[lifecycle]`, a table of settings, last); nested tables as dotted keys
(`hours.mon = [...]`, `phrases.zh = [...]`, `overrides."2026-12-24" = [...]`), the shape docs/escalation-
configuration.md documents; arrays inline unless they get long. Strings are escaped by tomli-w (multi-line bodies
stay readable)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_INLINE = 100
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


FLAT_SECTIONS = ("lifecycle", "reports")  # tables of settings, not of entries (config_schema.FLAT_SECTIONS)


def dumps(document: Mapping[str, Mapping[str, Any]], header: str = "") -> str:
    tables = [_table(section, key, entry) for section, entries in document.items() if section not in FLAT_SECTIONS
              for key, entry in entries.items()]
    tables += [_settings(section, document[section]) for section in FLAT_SECTIONS if document.get(section)]
    return header + "\n".join(tables)


def _settings(section: str, values: Mapping[str, Any]) -> str:
    """`[section]` and one `key = value` line per setting."""
    return "\n".join([f"[{section}]", *(_assign(_key(key), value) for key, value in values.items())]) + "\n"


def _table(section: str, key: str, entry: Mapping[str, Any]) -> str:
    lines = [f"[{section}.{_key(key)}]"]
    for name, value in entry.items():
        if isinstance(value, Mapping):
            lines += [_assign(f"{_key(name)}.{_key(sub)}", item) for sub, item in value.items()]
        else:
            lines.append(_assign(_key(name), value))
    return "\n".join(lines) + "\n"


def _assign(key: str, value: Any) -> str:
    text = f"{key} = {_value(value)}"
    if isinstance(value, list) and len(text) > MAX_INLINE:
        items = "".join(f"    {_value(item)},\n" for item in value)
        return f"{key} = [\n{items}]"
    return text


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        import tomli_w

        return tomli_w.dumps({"v": value}, multiline_strings=True)[len("v = "):-1]
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} into the configuration file")


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _value(key)

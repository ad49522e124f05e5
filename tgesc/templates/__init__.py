"""Shipped default reply templates, one TOML file per language (`en.toml`, `zh.toml`, `ru.toml`).

Each file maps a template key to its body; loaded by `tgesc.domain.templates.shipped` through
importlib.resources. Every file holds the same keys.
"""

"""Storage mechanics the per-noun stores share (tgesc.store.statements)."""

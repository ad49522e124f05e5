"""The escalation configuration: stored in tables (store), applied from a document or edited entry by entry (apply,
edits), exported as TOML (toml), reply templates, the shipped defaults (defaults), and the configuration in force
parsed once per change for the hot paths (current)."""

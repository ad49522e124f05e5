"""Bans: a customer staff banned (`tgesc customer ban`, `/ban` in a ticket's thread) carries when the ban began, when
it ends (NULL: until it is lifted) and why. Their messages are still stored but open no ticket and trigger nothing
(services.customers.bans). Existing customers are not banned (NULL), so nothing needs filling in."""
from peewee import DateTimeField, TextField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("customer", "banned_at", DateTimeField(null=True)),
        migrator.add_column("customer", "banned_until", DateTimeField(null=True)),
        migrator.add_column("customer", "ban_reason", TextField(default="")),
    )


def down(migrator, db):
    migrator.migrate(*(migrator.drop_column("customer", name) for name in ("ban_reason", "banned_until", "banned_at")))

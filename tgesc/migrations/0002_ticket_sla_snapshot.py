"""Tickets remember the SLA policy their clocks run on, and since when a customer awaits a reply."""
from peewee import DateTimeField, TextField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("ticket", "awaiting_reply_since", DateTimeField(null=True)),
        migrator.add_column("ticket", "sla_policy", TextField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("ticket", "sla_policy"),
        migrator.drop_column("ticket", "awaiting_reply_since"),
    )

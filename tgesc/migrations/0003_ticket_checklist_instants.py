"""Checklist instants (first occurred, expected resolution), a ticket version, and when clocks (re)started."""
from peewee import DateTimeField, IntegerField


def up(migrator, db):
    migrator.migrate(
        migrator.drop_column("ticket", "first_occurred"),
        migrator.drop_column("ticket", "expected_resolution"),
        migrator.add_column("ticket", "first_occurred_at", DateTimeField(null=True)),
        migrator.add_column("ticket", "expected_resolution_by", DateTimeField(null=True)),
        migrator.add_column("ticket", "version", IntegerField(default=0)),
        migrator.add_column("ticket", "clocks_started_at", DateTimeField(null=True)),
    )


def down(migrator, db):
    from peewee import CharField

    migrator.migrate(
        migrator.drop_column("ticket", "clocks_started_at"),
        migrator.drop_column("ticket", "version"),
        migrator.drop_column("ticket", "expected_resolution_by"),
        migrator.drop_column("ticket", "first_occurred_at"),
        migrator.add_column("ticket", "first_occurred", CharField(max_length=128, null=True)),
        migrator.add_column("ticket", "expected_resolution", CharField(max_length=128, null=True)),
    )

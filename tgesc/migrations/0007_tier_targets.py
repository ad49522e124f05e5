"""A tier's own first-response target (applies when shorter than the priority's) and its name per language."""
from peewee import IntegerField, TextField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("tier", "first_response_s", IntegerField(null=True)),
        migrator.add_column("tier", "names", TextField(default="{}")),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("tier", "names"),
        migrator.drop_column("tier", "first_response_s"),
    )

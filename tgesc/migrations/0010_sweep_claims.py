"""Sweeps that partition: a ticket or survey a sweep job has claimed carries the instant its claim (lease) ends,
so that other sweep jobs take other rows meanwhile (services.sweeps.claims). Existing rows are claimed by nobody
(NULL), so nothing needs filling in."""
from peewee import DateTimeField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("ticket", "sweep_lease_until", DateTimeField(null=True)),
        migrator.add_index("ticket", ("sweep_lease_until",), False),
        migrator.add_column("survey", "sweep_lease_until", DateTimeField(null=True)),
        migrator.add_index("survey", ("sweep_lease_until",), False),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("survey", "survey_sweep_lease_until"),
        migrator.drop_column("survey", "sweep_lease_until"),
        migrator.drop_index("ticket", "ticket_sweep_lease_until"),
        migrator.drop_column("ticket", "sweep_lease_until"),
    )

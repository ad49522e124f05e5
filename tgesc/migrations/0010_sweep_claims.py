"""Sweeps that partition: on SQLite a ticket or survey a sweep job has claimed carries the instant its claim (lease)
ends, so that other jobs of the same sweep take other rows meanwhile (services.sweeps.store). A ticket has one
lease column per sweep that works on tickets (SLA, unresolved-for, lifecycle), so that one sweep's claim never hides
a ticket from another. PostgreSQL claims with row locks and leaves these columns empty. Existing rows are claimed by
nobody (NULL), so nothing needs filling in; no index: a claim finds its rows by the due index, a release by id."""
from peewee import DateTimeField

TICKET_LEASES = ("sla_lease_until", "unresolved_lease_until", "lifecycle_lease_until")


def up(migrator, db):
    migrator.migrate(
        *(migrator.add_column("ticket", name, DateTimeField(null=True)) for name in TICKET_LEASES),
        migrator.add_column("survey", "lease_until", DateTimeField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("survey", "lease_until"),
        *(migrator.drop_column("ticket", name) for name in reversed(TICKET_LEASES)),
    )

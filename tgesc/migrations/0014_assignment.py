"""Assignment: a tier assigns the tickets that reach it by itself (`assign`: round-robin or least-open; NULL: manual,
as before), among its active staff on shift (a staff member's own `calendar`, else the tier's) and under their
`capacity` of open tickets (NULL: no limit); a ticket records when it was last assigned (`assigned_at`: what
round-robin orders by). Existing rows keep manual assignment and no limit."""
from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model


def up(migrator, db):
    class Calendar(Model):
        class Meta:
            table_name = "calendar"

    Calendar._meta.set_database(db)

    migrator.migrate(
        migrator.add_column("tier", "assign", CharField(max_length=16, null=True)),
        migrator.add_column("staff", "capacity", IntegerField(null=True)),
        migrator.add_column("staff", "calendar_id", ForeignKeyField(Calendar, field=Calendar.id, null=True,
                                                                    on_delete="RESTRICT")),
        migrator.add_column("ticket", "assigned_at", DateTimeField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("ticket", "assigned_at"),
        migrator.drop_index("staff", "staff_calendar_id"),
        migrator.drop_column("staff", "calendar_id"),
        migrator.drop_column("staff", "capacity"),
        migrator.drop_column("tier", "assign"),
    )

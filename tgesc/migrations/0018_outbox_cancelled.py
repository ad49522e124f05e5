"""`tgesc outbox cancel` leaves a row `cancelled`: the outbox's status column takes up to 12 characters (SQLite keeps
any length already; PostgreSQL's varchar(8) is widened). Nothing to fill in."""
from peewee import CharField


def up(migrator, db):
    migrator.migrate(migrator.alter_column_type("outbox", "status", CharField(max_length=12, default="pending")))


def down(migrator, db):
    db.execute_sql("UPDATE outbox SET status = 'dead' WHERE status = 'cancelled'")
    migrator.migrate(migrator.alter_column_type("outbox", "status", CharField(max_length=8, default="pending")))

"""The everyday lifecycle: why a waiting ticket waits (staff asked the customer, or an FAQ answer awaits a verdict)
and when its next automatic step is due (a reminder, a resolution, a closing): the lifecycle sweep's indexed timer.
A ticket resolved before this migration closes three days (the old reopen window) after its resolution."""
from datetime import datetime, timedelta

from peewee import CharField, DateTimeField

_STEP = {"resolved": ("resolved_at", timedelta(days=3)), "waiting": ("paused_since", timedelta(days=1))}


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("ticket", "waiting_reason", CharField(max_length=8, null=True)),
        migrator.add_column("ticket", "lifecycle_due_at", DateTimeField(null=True)),
        migrator.add_index("ticket", ("status", "lifecycle_due_at"), False),
    )
    for status, (column, after) in _STEP.items():
        rows = db.execute_sql(f"SELECT id, {column}, updated_at FROM ticket WHERE status = %s".replace(
            "%s", db.param), (status,)).fetchall()
        for ticket_id, since, updated in rows:
            since = _instant(since or updated)
            db.execute_sql("UPDATE ticket SET lifecycle_due_at = {p}, waiting_reason = {p} WHERE id = {p}".format(
                p=db.param), (since + after, "staff" if status == "waiting" else None, ticket_id))


def _instant(value):
    """A stored naive UTC instant (SQLite gives text)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("ticket", "ticket_status_lifecycle_due_at"),
        migrator.drop_column("ticket", "lifecycle_due_at"),
        migrator.drop_column("ticket", "waiting_reason"),
    )

"""The stored next breach of a ticket (`next_breach_at`: the earliest deadline of a running SLA clock, NULL when
none runs), so that `ticket list` pages by a keyset on (next_breach_at, number) and `--breaching` is one index
range: the index (status, next_breach_at, number), and a partial one (status, number) for the tickets without a
running deadline. Existing tickets are backfilled by one statement, as tgesc.domain.sla.next_breach computes it."""
from peewee import DateTimeField


def _earlier(a: str, b: str) -> str:
    """SQL for the earlier of two nullable instants, NULL only when both are (LEAST and MIN differ on NULLs)."""
    return f"CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} <= {b} THEN {a} ELSE {b} END"


BACKFILL = ("UPDATE ticket SET next_breach_at = " + _earlier(
    _earlier("CASE WHEN first_responded_at IS NULL THEN first_response_due END", "next_response_due"),
    "resolution_due") + " WHERE status IN ('open', 'waiting')")


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("ticket", "next_breach_at", DateTimeField(null=True)),
        migrator.add_index("ticket", ("status", "next_breach_at", "number"), False),
    )
    db.execute_sql("CREATE INDEX ticket_status_number_no_breach ON ticket (status, number) "
                   "WHERE next_breach_at IS NULL")
    db.execute_sql(BACKFILL)


def down(migrator, db):
    db.execute_sql("DROP INDEX ticket_status_number_no_breach")
    migrator.migrate(
        migrator.drop_index("ticket", "ticket_status_next_breach_at_number"),
        migrator.drop_column("ticket", "next_breach_at"),
    )

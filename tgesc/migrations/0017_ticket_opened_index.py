"""`ticket list --since / --until` (issue 18) keep the tickets opened in a window: the index (status, created_at)
makes the window of each status one range, so a page reads and orders only the tickets opened in it, and counts
them by that range. Nothing to fill in."""


def up(migrator, db):
    migrator.migrate(migrator.add_index("ticket", ("status", "created_at"), False))


def down(migrator, db):
    migrator.migrate(migrator.drop_index("ticket", "ticket_status_created_at"))

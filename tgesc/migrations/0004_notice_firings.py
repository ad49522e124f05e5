"""Escalation notices become once-only markers: a `firing` (kind "notice", level "escalation") per ticket
that was ever escalated, so ingest reads "was a notice sent?" with the ticket's other firings."""


def up(migrator, db):
    db.execute_sql("INSERT INTO firing (ticket_id, kind, level, at) "
                   "SELECT ticket_id, 'notice', 'escalation', MIN(at) FROM event "
                   "WHERE kind = 'ticket.escalated' AND ticket_id IS NOT NULL GROUP BY ticket_id")


def down(migrator, db):
    db.execute_sql("DELETE FROM firing WHERE kind = 'notice' AND level = 'escalation'")

"""Measures for reports: every run of an SLA clock that ended, with its wall-clock and business-time length, its
deadline and whether it held (`clock_run`, written when a clock ends: services.clocks.measures), and the indexes
that read a period: the audit log by kind and time (escalations, resolutions, reopenings), tickets by opening,
surveys by sending and by answer.

Existing tickets are backfilled from their own instants and policy snapshots: the first-response and resolution runs
that have ended (who ended them is not known then). Earlier next-response runs left no trace and stay uncounted."""
from types import SimpleNamespace

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model

from tgesc.models import ClockRun, Ticket
from tgesc.services.clocks.measures import ended_runs

BATCH = 500
COLUMNS = ("id", "tier_id", "priority", "sla_policy", "clocks_started_at", "created_at", "first_responded_at",
           "awaiting_reply_since", "resolved_at", "closed_at", "sla_paused", "paused_since")


def up(migrator, db):
    class Run(Model):
        ticket = ForeignKeyField(Ticket, on_delete="CASCADE")
        clock = CharField(max_length=16)
        started_at = DateTimeField()
        stopped_at = DateTimeField()
        due_at = DateTimeField(null=True)
        budget_s = IntegerField()
        wall_s = IntegerField()
        business_s = IntegerField()
        met = BooleanField()
        breached = BooleanField()
        escalated = BooleanField(default=False)
        tier = ForeignKeyField(Ticket.tier.rel_model, on_delete="CASCADE")
        priority = CharField(max_length=16)
        by = CharField(max_length=128, null=True)

        class Meta:
            table_name = "clock_run"
            indexes = ((("ticket", "clock", "started_at"), True),
                       (("clock", "stopped_at", "met", "breached", "escalated", "ticket"), False),
                       (("clock", "wall_s", "stopped_at", "met"), False),
                       (("clock", "business_s", "stopped_at", "met"), False))

    Run._meta.set_database(db)
    Run.create_table()
    migrator.migrate(migrator.add_index("event", ("kind", "at", "actor", "ticket_id"), False),
                     migrator.add_index("ticket", ("created_at",), False),
                     migrator.add_index("survey", ("sent_at",), False),
                     migrator.add_index("survey", ("answered_at", "stars"), False),
                     migrator.add_index("survey", ("ticket_id", "stars"), False))
    _backfill(db)
    _mark_escalated(db)


def _backfill(db):
    """The ended runs of every ticket that had an answer or an end, a batch at a time."""
    fields = [getattr(Ticket, name if name != "tier_id" else "tier") for name in COLUMNS]
    ended = (Ticket.first_responded_at.is_null(False) | Ticket.resolved_at.is_null(False)
             | Ticket.closed_at.is_null(False))
    after = 0
    while True:
        batch = list(Ticket.select(*fields).where(ended & (Ticket.id > after)).order_by(Ticket.id).limit(BATCH)
                     .bind(db))
        if not batch:
            return
        rows = [row for ticket in batch for row in ended_runs(_columns(ticket), None, escalated=False)]
        if rows:
            ClockRun.insert_many(rows).on_conflict_ignore().execute(db)
        after = batch[-1].id


def _mark_escalated(db):
    """The runs of tickets that had been escalated (before measures, their escalations are all in the past)."""
    db.execute_sql("UPDATE clock_run SET escalated = %s WHERE EXISTS (SELECT 1 FROM event WHERE event.ticket_id = "
                   "clock_run.ticket_id AND event.kind = 'ticket.escalated')" % ("true" if _postgres(db) else "1"))

def _postgres(db):
    return "postgres" in type(getattr(db, "obj", None) or db).__name__.lower()


def _columns(ticket):
    return SimpleNamespace(**{name: getattr(ticket, name) for name in COLUMNS})


def down(migrator, db):
    migrator.migrate(migrator.drop_index("event", "event_kind_at_actor_ticket_id"), migrator.drop_index("ticket", "ticket_created_at"),
                     migrator.drop_index("survey", "survey_sent_at"), migrator.drop_index("survey", "survey_answered_at_stars"),
                     migrator.drop_index("survey", "survey_ticket_id_stars"))
    db.execute_sql("DROP TABLE clock_run")

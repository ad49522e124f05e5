"""Dead letters: inbound Telegram updates whose handling failed for good, kept with the raw update so that
nothing a customer wrote is lost, and replayed with `tgesc dead-letter replay`."""
from peewee import BigIntegerField, CharField, DateTimeField, IntegerField, Model, TextField


def up(migrator, db):
    class DeadLetter(Model):
        kind = CharField(max_length=16)
        chat_id = BigIntegerField(null=True)
        update_key = CharField(max_length=64)
        item = TextField(null=True)
        raw = TextField()
        error = TextField()
        failures = IntegerField(default=1)
        status = CharField(max_length=12, default="failed")
        failed_at = DateTimeField()
        last_failed_at = DateTimeField()
        replayed_at = DateTimeField(null=True)

        class Meta:
            table_name = "dead_letter"
            indexes = ((("kind", "chat_id", "update_key"), True), (("status", "failed_at"), False))

    DeadLetter._meta.set_database(db)
    DeadLetter.create_table()


def down(migrator, db):
    db.execute_sql("DROP TABLE dead_letter")

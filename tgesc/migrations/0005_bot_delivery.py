"""The bot worker: every Telegram message sent for an outbox row (so a staff reply to a relayed message
finds its ticket), customers Telegram will not let the bot reach any more, and customers who chose their
language with /language (Telegram's language code no longer overrides it)."""
from peewee import BigIntegerField, BooleanField, DateTimeField, ForeignKeyField, IntegerField, Model


def up(migrator, db):
    class Outbox(Model):
        class Meta:
            table_name = "outbox"

    class SentMessage(Model):
        outbox = ForeignKeyField(Outbox, on_delete="CASCADE")
        part = IntegerField(default=0)
        chat_id = BigIntegerField()
        message_id = BigIntegerField()
        sent_at = DateTimeField()

        class Meta:
            table_name = "sent_message"
            indexes = ((("chat_id", "message_id"), True), (("outbox", "part"), True))

    SentMessage._meta.set_database(db)
    SentMessage.create_table()
    migrator.migrate(migrator.add_column("customer", "unreachable_at", DateTimeField(null=True)),
                     migrator.add_column("customer", "language_chosen", BooleanField(default=False)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("customer", "language_chosen"),
                     migrator.drop_column("customer", "unreachable_at"))
    db.execute_sql("DROP TABLE sent_message")

"""The customer's portrait (the article's "user portrait"): tags on the customer (JSON list, like a ticket's) and notes
staff keep about them (`customer_note`), shown on every card of theirs. Existing customers have no tags ('[]') and no
notes."""
from peewee import CharField, DateTimeField, ForeignKeyField, Model, TextField


def up(migrator, db):
    class Customer(Model):
        class Meta:
            table_name = "customer"

    class CustomerNote(Model):
        customer = ForeignKeyField(Customer, on_delete="CASCADE")
        text = TextField()
        actor = CharField(max_length=128)
        at = DateTimeField()

        class Meta:
            table_name = "customer_note"
            indexes = ((("customer", "at"), False),)

    migrator.migrate(migrator.add_column("customer", "tags", TextField(default="[]")))
    CustomerNote._meta.set_database(db)
    CustomerNote.create_table()


def down(migrator, db):
    db.execute_sql("DROP TABLE customer_note")
    migrator.migrate(migrator.drop_column("customer", "tags"))

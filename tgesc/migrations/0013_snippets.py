"""Canned replies (the article's "preset speech templates"): snippets of the escalation configuration, one row per key
with its text per language (JSON), sent by staff with /r KEY in a ticket's thread."""
from peewee import CharField, Model, TextField


def up(migrator, db):
    class Snippet(Model):
        name = CharField(unique=True, max_length=64)
        texts = TextField(default="{}")

        class Meta:
            table_name = "snippet"

    Snippet._meta.set_database(db)
    Snippet.create_table()


def down(migrator, db):
    db.execute_sql("DROP TABLE snippet")

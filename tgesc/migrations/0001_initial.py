"""Initial schema: every table of tgesc (frozen copies of the models, independent of tgesc.models)."""
from peewee import *


def up(migrator, db):
    class Calendar(Model):
        name = CharField(unique=True, max_length=64)
        timezone = CharField(max_length=64)
        hours = TextField()
        holidays = TextField()
        overrides = TextField()
        deadline_at_close = CharField(max_length=16, default='close')
        class Meta:
            database = db
            table_name = 'calendar'
    db.create_tables([Calendar])

    class Customer(Model):
        telegram_id = BigIntegerField(unique=True)
        access_hash = BigIntegerField(null=True)
        username = CharField(index=True, null=True, max_length=64)
        first_name = CharField(max_length=128, default='')
        last_name = CharField(max_length=128, default='')
        language = CharField(max_length=8, default='en')
        timezone = CharField(null=True, max_length=64)
        throttled_until = DateTimeField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'customer'
    db.create_tables([Customer])

    class Tier(Model):
        code = CharField(unique=True, max_length=16)
        name = CharField(max_length=128)
        level = IntegerField(unique=True)
        staff_chat_id = BigIntegerField(null=True)
        is_forum = BooleanField(default=False)
        calendar = ForeignKeyField(Calendar, null=True, on_delete='RESTRICT')
        description = TextField(default='')
        class Meta:
            database = db
            table_name = 'tier'
    db.create_tables([Tier])

    class Staff(Model):
        handle = CharField(unique=True, max_length=64)
        telegram_id = BigIntegerField(unique=True)
        name = CharField(max_length=128, default='')
        username = CharField(null=True, max_length=64)
        role = CharField(max_length=8, default='agent')
        language = CharField(max_length=8, default='en')
        active = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'staff'
    db.create_tables([Staff])

    class Ticket(Model):
        number = IntegerField(unique=True)
        customer = ForeignKeyField(Customer, on_delete='RESTRICT')
        status = CharField(max_length=16, default='open')
        tier = ForeignKeyField(Tier, on_delete='RESTRICT')
        priority = CharField(max_length=8, default='medium')
        assignee = ForeignKeyField(Staff, null=True, on_delete='SET NULL')
        tags = TextField()
        emotion = CharField(max_length=16, default='calm')
        emotion_set_by_staff = BooleanField(default=False)
        problem = TextField(default='')
        first_occurred = CharField(null=True, max_length=128)
        evidence_provided = BooleanField(default=False)
        expected_resolution = CharField(null=True, max_length=128)
        manager_requests_in_row = IntegerField(default=0)
        urgent_reply_used = BooleanField(default=False)
        staff_chat_id = BigIntegerField(null=True)
        topic_id = IntegerField(null=True)
        card_message_id = IntegerField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        last_customer_message_at = DateTimeField(null=True)
        resolved_at = DateTimeField(null=True)
        closed_at = DateTimeField(null=True)
        first_response_due = DateTimeField(null=True)
        first_responded_at = DateTimeField(null=True)
        next_response_due = DateTimeField(null=True)
        resolution_due = DateTimeField(null=True)
        paused_since = DateTimeField(null=True)
        sla_paused = TextField()
        next_check_at = DateTimeField(null=True)
        escalate_unresolved_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'ticket'
            indexes = ((('status', 'next_check_at'), False), (('status', 'escalate_unresolved_at'), False), (('customer', 'status'), False), (('tier', 'status'), False))
    db.create_tables([Ticket])

    class Event(Model):
        ticket = ForeignKeyField(Ticket, null=True, on_delete='CASCADE')
        kind = CharField(max_length=48)
        actor = CharField(max_length=128)
        at = DateTimeField(index=True)
        details = TextField()
        class Meta:
            database = db
            table_name = 'event'
            indexes = ((('ticket', 'at'), False),)
    db.create_tables([Event])

    class FaqEntry(Model):
        name = CharField(unique=True, max_length=64)
        phrases = TextField()
        answer = CharField(max_length=64)
        enabled = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'faq_entry'
    db.create_tables([FaqEntry])

    class Firing(Model):
        ticket = ForeignKeyField(Ticket, on_delete='CASCADE')
        kind = CharField(max_length=32)
        level = CharField(max_length=32)
        at = DateTimeField()
        class Meta:
            database = db
            table_name = 'firing'
            indexes = ((('ticket', 'kind', 'level'), True),)
    db.create_tables([Firing])

    class Message(Model):
        ticket = ForeignKeyField(Ticket, null=True, on_delete='CASCADE')
        chat_id = BigIntegerField()
        message_id = BigIntegerField()
        direction = CharField(max_length=4)
        sender = CharField(max_length=8)
        staff = ForeignKeyField(Staff, null=True, on_delete='SET NULL')
        text = TextField(default='')
        media_type = CharField(null=True, max_length=16)
        file_id = CharField(null=True, max_length=256)
        is_key = BooleanField(default=False)
        is_internal = BooleanField(default=False)
        sent_at = DateTimeField()
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'message'
            indexes = ((('chat_id', 'message_id'), True), (('ticket', 'sent_at'), False))
    db.create_tables([Message])

    class MessageEdit(Model):
        message = ForeignKeyField(Message, on_delete='CASCADE')
        edited_at = DateTimeField()
        text = TextField(default='')
        class Meta:
            database = db
            table_name = 'message_edit'
            indexes = ((('message', 'edited_at'), True),)
    db.create_tables([MessageEdit])

    class Meta(Model):
        key = CharField(primary_key=True, max_length=64)
        value = TextField()
        class Meta:
            database = db
            table_name = 'meta'
    db.create_tables([Meta])

    class Outbox(Model):
        ticket = ForeignKeyField(Ticket, null=True, on_delete='SET NULL')
        chat_id = BigIntegerField()
        thread_id = IntegerField(null=True)
        reply_to = BigIntegerField(null=True)
        kind = CharField(max_length=32)
        text = TextField(default='')
        buttons = TextField(null=True)
        payload = TextField()
        dedupe_key = CharField(unique=True, null=True, max_length=128)
        status = CharField(max_length=8, default='pending')
        attempts = IntegerField(default=0)
        not_before = DateTimeField()
        created_at = DateTimeField()
        sent_at = DateTimeField(null=True)
        telegram_message_id = BigIntegerField(null=True)
        error = TextField(null=True)
        class Meta:
            database = db
            table_name = 'outbox'
            indexes = ((('status', 'not_before'), False),)
    db.create_tables([Outbox])

    class SlaPolicy(Model):
        priority = CharField(unique=True, max_length=8)
        first_response_s = IntegerField()
        next_response_s = IntegerField(null=True)
        resolution_s = IntegerField()
        calendar = ForeignKeyField(Calendar, null=True, on_delete='RESTRICT')
        warn_at = TextField()
        pause_when_waiting = BooleanField(default=True)
        breach_action = CharField(max_length=16)
        escalate_to = ForeignKeyField(Tier, null=True, on_delete='RESTRICT')
        class Meta:
            database = db
            table_name = 'sla_policy'
    db.create_tables([SlaPolicy])

    class StaffTier(Model):
        staff = ForeignKeyField(Staff, on_delete='CASCADE')
        tier = ForeignKeyField(Tier, on_delete='RESTRICT')
        class Meta:
            database = db
            table_name = 'staff_tier'
            indexes = ((('staff', 'tier'), True),)
    db.create_tables([StaffTier])

    class Survey(Model):
        ticket = ForeignKeyField(Ticket, on_delete='CASCADE')
        round = IntegerField(default=1)
        status = CharField(max_length=12, default='scheduled')
        due_at = DateTimeField()
        sent_at = DateTimeField(null=True)
        remind_at = DateTimeField(null=True)
        expires_at = DateTimeField(null=True)
        stars = IntegerField(null=True)
        comment = TextField(null=True)
        answered_at = DateTimeField(null=True)
        answered_by = BigIntegerField(null=True)
        class Meta:
            database = db
            table_name = 'survey'
            indexes = ((('ticket', 'round'), True), (('status', 'due_at'), False))
    db.create_tables([Survey])

    class Template(Model):
        key = CharField(max_length=64)
        language = CharField(max_length=8)
        body = TextField()
        class Meta:
            database = db
            table_name = 'template'
            indexes = ((('key', 'language'), True),)
    db.create_tables([Template])

    class TriedSolution(Model):
        ticket = ForeignKeyField(Ticket, on_delete='CASCADE')
        text = TextField()
        staff = ForeignKeyField(Staff, null=True, on_delete='SET NULL')
        actor = CharField(max_length=128)
        at = DateTimeField()
        class Meta:
            database = db
            table_name = 'tried_solution'
    db.create_tables([TriedSolution])

    class TriggerRule(Model):
        name = CharField(unique=True, max_length=64)
        kind = CharField(max_length=24)
        enabled = BooleanField(default=True)
        position = IntegerField(default=0)
        phrases = TextField()
        tags = TextField()
        priority = CharField(null=True, max_length=8)
        escalate_to = ForeignKeyField(Tier, null=True, on_delete='RESTRICT')
        reply = CharField(null=True, max_length=64)
        count = IntegerField(null=True)
        after_s = IntegerField(null=True)
        emotions = TextField()
        class Meta:
            database = db
            table_name = 'trigger_rule'
    db.create_tables([TriggerRule])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('trigger_rule'))
    migrator.migrate(migrator.drop_table('tried_solution'))
    migrator.migrate(migrator.drop_table('template'))
    migrator.migrate(migrator.drop_table('survey'))
    migrator.migrate(migrator.drop_table('staff_tier'))
    migrator.migrate(migrator.drop_table('sla_policy'))
    migrator.migrate(migrator.drop_table('outbox'))
    migrator.migrate(migrator.drop_table('meta'))
    migrator.migrate(migrator.drop_table('message_edit'))
    migrator.migrate(migrator.drop_table('message'))
    migrator.migrate(migrator.drop_table('firing'))
    migrator.migrate(migrator.drop_table('faq_entry'))
    migrator.migrate(migrator.drop_table('event'))
    migrator.migrate(migrator.drop_table('ticket'))
    migrator.migrate(migrator.drop_table('staff'))
    migrator.migrate(migrator.drop_table('tier'))
    migrator.migrate(migrator.drop_table('customer'))
    migrator.migrate(migrator.drop_table('calendar'))

"""The assignment sweep (services.sweeps.assignment) looks, every minute, in each tier that assigns by itself, for the
open tickets nobody holds and for those held by someone off shift, inactive or no longer in the tier: the index
(status, tier, assignee) makes each of those one range (or one scan of the tier's open tickets' index entries, the
assignee read from the index). Nothing to fill in."""


def up(migrator, db):
    migrator.migrate(migrator.add_index("ticket", ("status", "tier_id", "assignee_id"), False))


def down(migrator, db):
    migrator.migrate(migrator.drop_index("ticket", "ticket_status_tier_id_assignee_id"))

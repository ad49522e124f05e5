"""Sweep claims on real databases: on SQLite one sweep's lease never hides a ticket from another sweep; on
PostgreSQL a claim skips rows another transaction locks and says that they are still due; and a chain of
follow-up batches ends even when every row it claims fails."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from conftest import backend_params
from ticket_support import OPENED, open_ticket

from tgesc.db import write_transaction
from tgesc.domain.errors import DependencyUnavailable, DomainError
from tgesc.models import Ticket
from tgesc.services.config.defaults import initialise
from tgesc.services.sweeps import store
from tgesc.services.sweeps.batches import Sweep, SweepRowsFailed

NOW = OPENED + timedelta(days=1)  # every ticket's next SLA check and unresolved-for rule are due
TICKETS = 5


@pytest.fixture
def due_tickets(db) -> list[int]:
    initialise(db, now=OPENED, actor="test")
    for n in range(TICKETS):
        open_ticket(db, telegram_id=1001 + n, at=OPENED + timedelta(seconds=n))
    Ticket.update(escalate_unresolved_at=Ticket.created_at).execute()  # as if an unresolved-for rule were due
    ids = store.due_ids(db, store.SLA, NOW, None)
    assert len(ids) == TICKETS and ids == store.due_ids(db, store.UNRESOLVED, NOW, None)
    return ids


def claimed_ids(db, due: store.Due, size: int) -> list[int]:
    return [row_id for _, row_id in store.claim(db, due, NOW, size, None, NOW + timedelta(minutes=2))]


@pytest.mark.parametrize("db_url", backend_params("sqlite"), indirect=True)
def test_on_sqlite_one_sweeps_lease_hides_no_ticket_from_another(db, due_tickets):
    with write_transaction(db):
        assert claimed_ids(db, store.SLA, 3) == due_tickets[:3]
    with write_transaction(db):
        assert claimed_ids(db, store.UNRESOLVED, 10) == due_tickets  # the SLA sweep's lease is not its own
        assert claimed_ids(db, store.SLA, 10) == due_tickets[3:]  # its own jobs' leases are
    leased = Ticket.select().where(Ticket.sla_lease_until.is_null(False) & Ticket.unresolved_lease_until.is_null(False))
    assert Ticket.select().where(Ticket.lifecycle_lease_until.is_null(False)).count() == 0
    assert leased.count() == TICKETS


@pytest.mark.parametrize("db_url", backend_params("postgres"), indirect=True)
def test_on_postgres_a_claim_skips_locked_rows_writes_nothing_and_says_they_are_held(db, db_url, due_tickets):
    with psycopg.connect(db_url) as other:  # another sweep's batch, or a staff reply, holding two tickets
        other.execute("SELECT id FROM ticket WHERE id = ANY(%s) FOR UPDATE", (due_tickets[:2],))
        with write_transaction(db):
            assert claimed_ids(db, store.UNRESOLVED, 10) == due_tickets[2:]
            assert store.held(db, store.UNRESOLVED, NOW)
        other.rollback()
    with write_transaction(db):
        assert claimed_ids(db, store.UNRESOLVED, 10) == due_tickets
        assert not store.held(db, store.UNRESOLVED, NOW)
    assert Ticket.select().where(Ticket.sla_lease_until.is_null(False) | Ticket.unresolved_lease_until.is_null(
        False)).count() == 0  # nothing written to claim


def _failing(_db, _now):
    def handle(row_id: int) -> list:
        raise DomainError(f"ticket {row_id} cannot be handled")
    return handle


def test_a_chain_of_batches_ends_when_every_row_fails(db, due_tickets):
    sweep, after, batches = Sweep(store.SLA, _failing), None, []
    while len(batches) < 10:
        claim = sweep.batch(db, NOW, 2, after).claim
        batches.append(claim.ids)
        if not claim.full:
            break
        after = claim.next
    assert batches[:2] == [tuple(due_tickets[:2]), tuple(due_tickets[2:4])]
    # the short last batch: on PostgreSQL it takes the rows the chain left behind once more, on SQLite they keep
    # their leases; either way it asks for no follow-up
    assert len(batches) == 3 and set(batches[2]) <= set(due_tickets) and due_tickets[4] in batches[2]
    assert store.due_ids(db, store.SLA, NOW, None) == due_tickets  # nothing was handled


def _moving_on_except(bad: int, failure: Exception):
    """A handler that moves every ticket on (no longer due) but `bad`, on which it raises `failure`."""
    def handler(_db, _now):
        def handle(row_id: int) -> list:
            Ticket.update(next_check_at=None).where(Ticket.id == row_id).execute()
            if row_id == bad:
                raise failure
            return [{"ticket": row_id}]
        return handle
    return handler


def test_a_row_that_fails_unexpectedly_holds_back_no_other_row_and_fails_the_job(db, due_tickets, caplog):
    bad = due_tickets[1]
    sweep = Sweep(store.SLA, _moving_on_except(bad, KeyError("a bug")))
    with pytest.raises(SweepRowsFailed, match=f"ids {bad}\\b"):
        sweep.batch(db, NOW, 10)
    assert store.due_ids(db, store.SLA, NOW, None) == [bad]  # the others were committed; it stays due
    assert "KeyError: 'a bug'" in caplog.text  # its traceback is in the log


def test_a_failure_of_the_database_rolls_the_whole_batch_back(db, due_tickets):
    sweep = Sweep(store.SLA, _moving_on_except(due_tickets[1], DependencyUnavailable("the database went away")))
    with pytest.raises(DependencyUnavailable):
        sweep.batch(db, NOW, 10)
    assert store.due_ids(db, store.SLA, NOW, None) == due_tickets  # nothing committed: the job tries it all again

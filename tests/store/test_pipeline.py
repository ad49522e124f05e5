"""Pipelined write transactions (tgesc.db.write_transaction(pipelined=True), tgesc.store.pipeline), on SQLite and
PostgreSQL: what is read inside is what a plain transaction reads, rows and counts alike; a failure anywhere, of
a statement whose answer nobody waited for included, rolls everything back and is raised as peewee raises it,
and the connection goes on working; statements sent now and read later (`statements.later`) answer as read at
once; what a transaction notes (`statements.noted`) is its own. On PostgreSQL the round trips are counted."""

from __future__ import annotations

import peewee
import pytest

from tgesc.db import passing_failure, write_transaction
from tgesc.models import Meta
from tgesc.store import statements
from tgesc.store.pipeline import RoundTrips
from tgesc.store.statements import P


def _put(db, key: str, value: str) -> None:
    statements.insert(db, Meta, {"key": key, "value": value})  # its answer is not read


def _value(db, key: str) -> str | None:
    return statements.scalar(db, lambda: Meta.select(Meta.value).where(Meta.key == P.key), key=key)


def _keys() -> list[str]:
    return [key for (key,) in Meta.select(Meta.key).order_by(Meta.key).tuples()]


def test_reads_inside_see_every_write_before_them(db):
    with write_transaction(db, pipelined=True):
        _put(db, "a", "1")
        _put(db, "b", "1")
        changed = statements.execute(db, lambda: Meta.update(value=P.value).where(Meta.key.in_(["a", "b"])),
                                     value="2")
        assert changed == 2  # a count read waits for its answer: never "not known yet"
        _put(db, "c", "3")
        assert (_value(db, "a"), _value(db, "c")) == ("2", "3")
        assert Meta.update(value="4").where(Meta.key == "c").execute() == 1  # peewee's own queries alike
    assert [(m.key, m.value) for m in Meta.select().order_by(Meta.key)] == [("a", "2"), ("b", "2"), ("c", "4")]


def test_a_failed_write_nobody_waited_for_rolls_back_everything(db):
    _put(db, "taken", "0")
    with pytest.raises(peewee.IntegrityError) as failed, write_transaction(db, pipelined=True):
        _put(db, "before", "1")
        _put(db, "taken", "again")  # the primary key refuses it: on PostgreSQL known only at the COMMIT
        _put(db, "after", "1")
    assert failed.value.orig is not None and not passing_failure(failed.value)
    assert _keys() == ["taken"]
    with write_transaction(db, pipelined=True):  # the connection goes on working
        _put(db, "next", "1")
    assert _keys() == ["next", "taken"]


def test_a_failure_met_at_a_read_rolls_back_everything(db):
    _put(db, "taken", "0")
    with pytest.raises(peewee.IntegrityError), write_transaction(db, pipelined=True):
        _put(db, "before", "1")
        _put(db, "taken", "again")
        _value(db, "before")  # on PostgreSQL the failure before it is raised here
        _put(db, "never", "1")
    assert _keys() == ["taken"]
    assert _value(db, "taken") == "0"


def test_an_error_in_the_block_rolls_back_the_writes_sent_before(db):
    with pytest.raises(RuntimeError), write_transaction(db, pipelined=True):
        _put(db, "sent", "1")
        assert _value(db, "sent") == "1"
        _put(db, "unanswered", "1")
        raise RuntimeError("a bug after the writes")
    assert _keys() == []
    with write_transaction(db, pipelined=True):
        _put(db, "next", "1")
    assert _keys() == ["next"]


def test_inside_another_transaction_it_is_a_savepoint_of_it(db):
    with pytest.raises(RuntimeError), write_transaction(db, pipelined=True):
        _put(db, "outer", "1")
        with write_transaction(db, pipelined=True):
            _put(db, "inner", "1")
        assert _value(db, "inner") == "1"
        raise RuntimeError("the outer one fails")
    assert _keys() == []


def test_statements_sent_now_and_read_later_answer_as_read_at_once(db):
    with write_transaction(db, pipelined=True):
        _put(db, "a", "1")
        first = statements.later(db, lambda: Meta.select(Meta.key, Meta.value).where(Meta.key == P.key), key="a")
        statements.send(db, lambda: Meta.update(value=P.value).where(Meta.key == P.key), value="2", key="a")
        second = statements.later(db, lambda: Meta.select(Meta.value).where(Meta.key == P.key), key="a")
        assert (second(), first()) == ([("2",)], [("a", "1")])


def test_what_a_transaction_notes_is_its_own(db):
    assert statements.noted(db, "things") == set()
    statements.noted(db, "things").add(1)  # outside any transaction: a set thrown away
    with write_transaction(db):
        statements.noted(db, "things").add(2)
        assert statements.noted(db, "things") == {2} and statements.noted(db, "others") == set()
    with write_transaction(db):
        assert statements.noted(db, "things") == set()


def test_what_a_transaction_notes_is_its_own_beside_another_threads_transaction(db):
    # The bot's delivery thread runs transactions of its own while the handler's is open: neither may see, or
    # reset, what the other noted.
    import threading

    other_noted: list[set] = []

    def other_thread() -> None:
        with db.atomic():
            statements.noted(db, "things").add("other")
            other_noted.append(set(statements.noted(db, "things")))
        db.close()

    with write_transaction(db):
        statements.noted(db, "things").add("mine")
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join(30)
        assert other_noted == [{"other"}]
        assert statements.noted(db, "things") == {"mine"}


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_on_postgresql_begin_unread_writes_and_commit_wait_for_nothing(db):
    with RoundTrips(db) as plain:
        with write_transaction(db):
            _put(db, "a", "1")
            _value(db, "a")
            _put(db, "b", "1")
    with RoundTrips(db) as pipelined:
        with write_transaction(db, pipelined=True):
            _put(db, "c", "1")
            _value(db, "c")  # BEGIN and the write go with this read
            _put(db, "d", "1")  # and this one with the COMMIT
    assert (plain.count, pipelined.count) == (5, 2)
    assert _keys() == ["a", "b", "c", "d"]

"""Hot-path statements built by peewee once per database kind, then run from their SQL text.

Building a statement costs peewee far longer than running it costs the database, and ingest runs the
same few statements for every message. A statement is built the first time it is needed (checking that
the parameters given are exactly the built statement's, in order, so a call site cannot pass them
wrongly) and its SQL kept; from then on that SQL runs with the parameters given. A select's rows become
model instances straight from the driver's tuples, converted by the fields it selects as a built query's
would be (peewee's own raw query costs as much again as running the statement). The models load a related
row (`ticket.customer`) this way too, which is why this sits beside them rather than among the services.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import peewee

M = TypeVar("M", bound=peewee.Model)

_sql: dict[tuple[type, str], str] = {}
_selected: dict[tuple[type, str], tuple[peewee.Field, ...]] = {}  # a select's key -> the fields of its columns


def _key(db: peewee.Database, name: str) -> tuple[type, str]:
    return type(getattr(db, "obj", None) or db), name  # a models' DatabaseProxy stands for its database


def _statement(db: peewee.Database, name: str, build: Callable[[], peewee.Query], params: Sequence) -> str:
    key = _key(db, name)
    sql = _sql.get(key)
    if sql is None:
        query = build()
        sql, built = query.sql()
        if list(built) != list(params):
            raise ValueError(f"prepared statement {name!r}: parameters {list(params)!r} are not its {built!r}")
        if isinstance(query, peewee.ModelSelect) and _plain_columns(query):
            _selected[key] = tuple(query._returning)
        _sql[key] = sql
    return sql


def _plain_columns(query: peewee.ModelSelect) -> bool:
    """Whether every column the select reads is a field of the queried model (its rows can become instances)."""
    return all(isinstance(field, peewee.Field) and field.model is query.model for field in query._returning)


def first(db: peewee.Database, model: type[M], name: str, build: Callable[[], peewee.ModelSelect],
          params: Sequence) -> M | None:
    """The first row of `model`'s query `name` (what `build()` returns, given exactly `params`), or None."""
    found = rows(db, model, name, lambda: build().limit(1), [*params, 1])
    return found[0] if found else None


def rows(db: peewee.Database, model: type[M], name: str, build: Callable[[], peewee.ModelSelect],
         params: Sequence) -> list[M]:
    """The rows of `model`'s query `name` (what `build()` returns, given exactly `params`), as instances with
    the fields it selects."""
    sql = _statement(db, name, build, params)
    fields = _selected.get(_key(db, name))
    if fields is None:
        raise ValueError(f"prepared statement {name!r}: select only fields of {model.__name__} for its rows")
    return [_instance(model, fields, values) for values in db.execute_sql(sql, list(params)).fetchall()]


def tuples(db: peewee.Database, name: str, build: Callable[[], peewee.Query], params: Sequence) -> list[tuple]:
    """The rows of query `name` (what `build()` returns, given exactly `params`) as the driver gives them: for
    columns whose fields convert nothing on reading (text, integers), no model instances needed."""
    return db.execute_sql(_statement(db, name, build, params), list(params)).fetchall()


def first_joined(db: peewee.Database, models: Sequence[type[peewee.Model]], name: str,
                 build: Callable[[], peewee.ModelSelect], params: Sequence,
                 extra: Callable[[], Sequence] = tuple) -> list:
    """The first row of query `name` (what `build()` returns, given exactly `params`, joining `models`) as one
    instance per model, each with every field (None where an outer join found no row), followed by the
    values of the expressions `extra()` returns, selected after them (None when no row matched). Like
    `build`, `extra` is called only to build the statement the first time."""
    def built() -> peewee.ModelSelect:
        return build().select(*(field for model in models for field in model._meta.sorted_fields), *extra()).limit(1)

    cursor = db.execute_sql(_statement(db, name, built, [*params, 1]), [*params, 1])
    row = cursor.fetchone()
    found: list = []
    columns = 0
    for model in models:
        own = model._meta.sorted_fields
        columns += len(own)
        values, row = row[:len(own)] if row else None, row[len(own):] if row else None
        found.append(None if values is None or values[0] is None else _instance(model, own, values))
    return found + (list(row) if row else [None] * (len(cursor.description) - columns))


def _instance(model: type[M], fields: Sequence[peewee.Field], values: Sequence) -> M:
    """A model instance as a query's row becomes one (converted, nothing marked changed)."""
    instance = model(__no_default__=1)
    instance.__data__ = {f.name: f.python_value(v) for f, v in zip(fields, values, strict=True)}
    return instance


def execute(db: peewee.Database, name: str, build: Callable[[], peewee.Query], params: Sequence) -> int:
    """Run statement `name` (what `build()` returns, given exactly `params`); the number of rows it changed."""
    return db.execute_sql(_statement(db, name, build, params), list(params)).rowcount


def insert(db: peewee.Database, model: type[peewee.Model], name: str, row: dict) -> None:
    """Insert `row` (a value for every column but the primary key)."""
    execute(db, name, lambda: model.insert(row).as_rowcount(), _row_params(model, row))


def insert_returning_id(db: peewee.Database, model: type[peewee.Model], name: str, row: dict) -> int:
    """Insert `row` (a value for every column but the primary key); the new row's primary key."""
    params = _row_params(model, row)
    cursor = db.execute_sql(_statement(db, name, lambda: model.insert(row), params), params)
    return cursor.fetchone()[0] if cursor.description else cursor.lastrowid  # RETURNING where supported


def insert_instance(db: peewee.Database, instance: peewee.Model, name: str) -> int:
    """Insert a new, unsaved model instance (its defaults filled in, unset columns NULL), as `save()` would;
    its primary key is set, nothing is left marked changed, and the key is returned."""
    meta = type(instance)._meta
    row = {field.name: instance.__data__.get(field.name) for field in meta.sorted_fields
           if field is not meta.primary_key}
    key = insert_returning_id(db, type(instance), name, row)
    setattr(instance, meta.primary_key.name, key)
    instance._dirty.clear()
    return key


def scalar(db: peewee.Database, name: str, build: Callable[[], peewee.Query], params: Sequence):
    """The first column of the first row of statement `name` (what `build()` returns, given exactly `params`)."""
    row = db.execute_sql(_statement(db, name, build, params), list(params)).fetchone()
    return row[0] if row else None


def insert_new(db: peewee.Database, model: type[peewee.Model], name: str, row: dict) -> bool:
    """Insert `row` (a value for every column but the primary key) unless it conflicts with a unique index;
    whether it was inserted."""
    return bool(execute(db, name, lambda: model.insert(row).on_conflict_ignore().as_rowcount(),
                        _row_params(model, row)))


def _row_params(model: type[peewee.Model], row: dict) -> list:
    return [field.db_value(row[field.name]) for field in model._meta.sorted_fields if field.name in row]

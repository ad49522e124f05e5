"""Hot-path statements built by peewee once per database kind, then run from their SQL text.

Building a statement costs peewee far longer than running it costs the database, and ingest runs the
same few statements for every message. A statement is built the first time it is needed (checking that
the parameters given are exactly the built statement's, in order, so a call site cannot pass them
wrongly) and its SQL kept; from then on that SQL runs with the parameters given. Selects run as the
model's raw query: rows become model instances with the same column conversions as a built query's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import peewee

M = TypeVar("M", bound=peewee.Model)

_sql: dict[tuple[type, str], str] = {}


def _statement(db: peewee.Database, name: str, build: Callable[[], peewee.Query], params: Sequence) -> str:
    key = (type(getattr(db, "obj", None) or db), name)  # a models' DatabaseProxy stands for its database
    sql = _sql.get(key)
    if sql is None:
        sql, built = build().sql()
        if list(built) != list(params):
            raise ValueError(f"prepared statement {name!r}: parameters {list(params)!r} are not its {built!r}")
        _sql[key] = sql
    return sql


def first(db: peewee.Database, model: type[M], name: str, build: Callable[[], peewee.ModelSelect],
          params: Sequence) -> M | None:
    """The first row of `model`'s query `name` (what `build()` returns, given exactly `params`), or None."""
    sql = _statement(db, name, lambda: build().limit(1), [*params, 1])
    return next(iter(model.raw(sql, *params, 1)), None)


def rows(db: peewee.Database, model: type[M], name: str, build: Callable[[], peewee.ModelSelect],
         params: Sequence) -> list[M]:
    """The rows of `model`'s query `name` (what `build()` returns, given exactly `params`)."""
    return list(model.raw(_statement(db, name, build, params), *params))


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

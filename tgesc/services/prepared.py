"""Hot-path selects built by peewee once per database kind, then run from their SQL text.

Building a many-column query costs peewee far longer than running it costs the database, and ingest
runs the same few queries for every message. `first` builds a query the first time (checking that the
parameters given are exactly the built query's, in order, so a call site cannot pass them wrongly),
keeps its SQL, and from then on runs that SQL with the parameters given, as the model's raw query: rows
become model instances with the same column conversions as the built query's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import peewee

M = TypeVar("M", bound=peewee.Model)

_sql: dict[tuple[type, str], str] = {}


def first(db: peewee.Database, model: type[M], name: str, build: Callable[[], peewee.ModelSelect],
          params: Sequence) -> M | None:
    """The first row of `model`'s query `name` (what `build()` returns, given exactly `params`), or None."""
    key = (type(db), name)
    sql = _sql.get(key)
    if sql is None:
        sql, built = build().limit(1).sql()
        if list(built) != [*params, 1]:
            raise ValueError(f"prepared query {name!r}: parameters {list(params)!r} are not the query's {built!r}")
        _sql[key] = sql
    return next(iter(model.raw(sql, *params, 1)), None)

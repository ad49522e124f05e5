"""Hot-path statements: built by peewee once per database kind, then run from their SQL text.

Building a statement costs peewee far longer than running it costs the database, and ingest runs the same
few statements for every message. So a store module writes a query as a function that builds it, with its
values left as named parameters (`P.number`), and passes the values by name:

    statements.first(db, Ticket, lambda: Ticket.select().where(Ticket.number == P.number), number=7)

The first call builds the query and keeps its SQL; later calls run that SQL with the values given, each
converted as the column it is compared with or written to would convert it. Nothing names a statement by
hand: its key is the database kind, the building function's code and the values that function closes over
(which may only be parts of the query's shape: models, fields, column lists, flags), so two different
queries never share a statement, and a value that should have been a parameter is refused. The values
given must be exactly the statement's parameters.

A select's rows become model instances straight from the driver's tuples, converted by the fields it
selects as a built query's would be (peewee's own raw query costs as much again as running the statement).
The models load a related row (`ticket.customer`) this way too (`RelatedRow`). This is the one module that
reaches into peewee's private attributes, which is why peewee is pinned below its next major version.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import peewee

M = TypeVar("M", bound=peewee.Model)
Build = Callable[[], peewee.Query]


class Parameter(peewee.Node):
    """A named value of a statement, converted as the column it meets converts values (`converter`)."""

    def __init__(self, name: str, converter: Callable[[Any], Any] | None = None) -> None:
        super().__init__()
        self.name, self.converter = name, converter

    def __sql__(self, ctx: peewee.Context) -> peewee.Context:
        ctx._values.append(_Slot(self.name, self.converter or ctx.state.converter))
        return ctx.literal(ctx.state.param or "?")


class _Parameters:
    """`P.name` (or `P["name"]`): a named parameter, for use in a statement's query."""

    def __getattr__(self, name: str) -> Parameter:
        if name.startswith("__"):  # copy, pickle and friends probe for special methods
            raise AttributeError(name)
        return Parameter(name)

    def __getitem__(self, name: str) -> Parameter:
        return Parameter(name)


P = _Parameters()


@dataclass(frozen=True)
class _Slot:
    name: str
    converter: Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Statement:
    sql: str
    values: tuple  # per placeholder in order: (name, None, converter, the type it leaves as is) or a constant's
    # (None, value, None, None)
    names: frozenset[str]
    fields: tuple[peewee.Field, ...] | None  # a select of its model's own columns: the field of each

    def bind(self, params: Mapping[str, Any]) -> list:
        if params.keys() != self.names:
            raise ValueError(f"statement {self.sql!r} takes the parameters {sorted(self.names)}, "
                             f"not {sorted(params)}")
        return [value if name is None else (
            v if (v := params[name]) is None or type(v) is same else convert(v)) for name, value, convert, same in
            self.values]

    def run(self, db: peewee.Database, params: Mapping[str, Any]) -> Any:
        return db.execute_sql(self.sql, self.bind(params))


_built: dict[tuple, _Statement] = {}
_kept: set = set()  # the code objects statements were built from: their ids stay theirs
_SHAPES = (str, int, float, bool, type(None), type)  # what a building function may close over


def _shape(function: Callable) -> Any:
    """What identifies the query `function` builds: its code (by identity: the code object is kept alive once
    a statement is built from it, so no other code can take its id), and the query parts it closes over and
    defaults to."""
    code, closure, defaults = function.__code__, function.__closure__, function.__defaults__
    if closure is None and defaults is None:
        return id(code)
    return (id(code), tuple(_shape_value(cell.cell_contents) for cell in closure or ()),
            _shape_value(defaults or ()))


def _shape_value(value: Any) -> Any:
    """`value` as part of a key: a field as its model and name (a field's `==` builds an expression)."""
    if isinstance(value, peewee.Field):
        return "field", value.model, value.name
    if isinstance(value, (tuple, list, frozenset)):
        return type(value).__name__, tuple(_shape_value(v) for v in value)
    if isinstance(value, _SHAPES):
        return type(value), value  # True and 1 are equal, and hash alike
    raise TypeError(f"a statement's query closes over {value!r}: pass values as parameters (P.name), "
                    "close over the query's shape only (models, fields, flags)")


def _statement(db: peewee.Database, key: tuple, make: Build, *builders: Callable | None) -> _Statement:
    """The statement known by `key` (the shape of the `builders` it comes from, and how it is used) for `db`'s
    kind, compiled from `make()` the first time."""
    key = (type(getattr(db, "obj", None) or db), *key)  # a models' DatabaseProxy stands for its database
    found = _built.get(key)
    if found is None:
        _kept.update(builder.__code__ for builder in builders if builder is not None)
        found = _built[key] = _compile(make())
    return found


def _built_by(db: peewee.Database, build: Build) -> _Statement:
    return _statement(db, (_shape(build),), build, build)


def _compile(query: peewee.Query) -> _Statement:
    if isinstance(query, peewee.Update):  # a value assigned to a column is converted as that column converts
        for column, value in query._update.items():
            if isinstance(value, Parameter) and value.converter is None and isinstance(column, peewee.Field):
                value.converter = column.db_value
    sql, values = query.sql()
    fields = None
    if isinstance(query, peewee.ModelSelect) and all(
            isinstance(f, peewee.Field) and f.model is query.model for f in query._returning):
        fields = tuple(query._returning)
    names = frozenset(v.name for v in values if type(v) is _Slot)
    plan = tuple((v.name, None, v.converter or _same, _unchanged(v.converter)) if type(v) is _Slot
                 else (None, v, None, None) for v in values)
    return _Statement(sql, plan, names, fields)


def _same(value: Any) -> Any:
    return value


_PLAIN = ((peewee.IntegerField, int), (peewee.CharField, str), (peewee.TextField, str),
          (peewee.BooleanField, bool))


def _unchanged(converter: Callable[[Any], Any] | None) -> type | None:
    """The type of value `converter` gives back unchanged, when it is a plain column's (None: it may change
    any value): binding then skips the call for those values, most of a statement's."""
    field = getattr(converter, "__self__", None)
    if isinstance(field, peewee.ForeignKeyField):
        field = field.rel_field
    if not isinstance(field, peewee.Field) or type(field).db_value is not peewee.Field.db_value:
        return None
    return next((plain for kind, plain in _PLAIN if type(field).adapt is kind.adapt), None)


# --- reading --------------------------------------------------------------------------------------------


def rows(db: peewee.Database, model: type[M], build: Callable[[], peewee.ModelSelect], /, **params: Any) -> list[M]:
    """The rows of the query `build()` returns (selecting only fields of `model`), as instances of `model` with
    the fields it selects."""
    statement = _built_by(db, build)
    return _instances(statement, model, statement.run(db, params).fetchall())


def first(db: peewee.Database, model: type[M], build: Callable[[], peewee.ModelSelect], /,
          **params: Any) -> M | None:
    """The first row of `build()`'s query as `rows` gives it, or None."""
    statement = _statement(db, ("first", _shape(build)), lambda: build().limit(1), build)
    found = _instances(statement, model, statement.run(db, params).fetchall())
    return found[0] if found else None


def _instances(statement: _Statement, model: type[M], found: list[tuple]) -> list[M]:
    if statement.fields is None:
        raise ValueError(f"statement {statement.sql!r}: select only fields of {model.__name__} for its rows")
    return [_instance(model, statement.fields, values) for values in found]


def tuples(db: peewee.Database, build: Build, /, **params: Any) -> list[tuple]:
    """The rows of `build()`'s query as the driver gives them: for columns whose fields convert nothing on
    reading (text, integers), no model instances needed."""
    return _built_by(db, build).run(db, params).fetchall()


def scalar(db: peewee.Database, build: Build, /, **params: Any) -> Any:
    """The first column of the first row of `build()`'s query (None: no row)."""
    row = _built_by(db, build).run(db, params).fetchone()
    return row[0] if row else None


def first_joined(db: peewee.Database, models: Sequence[type[peewee.Model]], build: Callable[[], peewee.ModelSelect],
                 /, extra: Callable[[], Sequence[peewee.Node]] | None = None, **params: Any) -> list:
    """The first row of `build()`'s query (joining `models`) as one instance per model, each with every field
    (None where an outer join found no row), followed by the values of the expressions `extra()` returns,
    selected after them (None when no row matched). Like `build`, `extra` only builds the statement."""
    def built() -> peewee.ModelSelect:
        extras = extra() if extra is not None else ()
        return build().select(*(field for model in models for field in model._meta.sorted_fields), *extras).limit(1)

    key = ("first_joined", tuple(models), _shape(build), extra and _shape(extra))
    statement = _statement(db, key, built, build, extra)
    cursor = statement.run(db, params)
    row = cursor.fetchone()
    found: list = []
    columns = 0
    for model in models:
        own = model._meta.sorted_fields
        columns += len(own)
        values, row = (row[:len(own)], row[len(own):]) if row else (None, None)
        found.append(None if values is None or values[0] is None else _instance(model, own, values))
    return found + (list(row) if row else [None] * (len(cursor.description) - columns))


def _instance(model: type[M], fields: Sequence[peewee.Field], values: Sequence) -> M:
    """A model instance as a query's row becomes one (converted, nothing marked changed)."""
    instance = model(__no_default__=1)
    instance.__data__ = {f.name: f.python_value(v) for f, v in zip(fields, values, strict=True)}
    return instance


# --- writing --------------------------------------------------------------------------------------------


def execute(db: peewee.Database, build: Build, /, **params: Any) -> int:
    """Run `build()`'s statement; the number of rows it changed."""
    return _built_by(db, build).run(db, params).rowcount


def send(db: peewee.Database, build: Build, /, **params: Any) -> None:
    """Run `build()`'s statement, its outcome unread: in a pipelined PostgreSQL transaction
    (tgesc.db.write_transaction) it does not wait for the server, and a failure fails the transaction."""
    _built_by(db, build).run(db, params)


def later(db: peewee.Database, build: Build, /, **params: Any) -> Callable[[], list[tuple]]:
    """`tuples` in two steps: the statement is sent now, and its rows are what the function returned gives. In a
    pipelined PostgreSQL transaction a statement sent before another is read travels with it: one round trip."""
    return _built_by(db, build).run(db, params).fetchall


def insert(db: peewee.Database, model: type[peewee.Model], row: Mapping[str, Any]) -> None:
    """Insert `row` (field name -> value, for any of the model's columns but the primary key)."""
    _inserting(db, model, tuple(row), "", lambda query: query.as_rowcount()).run(db, row)


def insert_new(db: peewee.Database, model: type[peewee.Model], row: Mapping[str, Any]) -> bool:
    """Insert `row` as `insert` does, unless it conflicts with a unique index; whether it was inserted."""
    statement = _inserting(db, model, tuple(row), "new", lambda query: query.on_conflict_ignore().as_rowcount())
    return bool(statement.run(db, row).rowcount)


def insert_unless_taken(db: peewee.Database, model: type[peewee.Model], row: Mapping[str, Any]) -> None:
    """Insert `row` as `insert_new` does, its outcome unread as `insert`'s (a pipelined transaction does not wait)."""
    _inserting(db, model, tuple(row), "new", lambda query: query.on_conflict_ignore().as_rowcount()).run(db, row)


def insert_key(db: peewee.Database, model: type[peewee.Model], row: Mapping[str, Any], *, new: bool) -> int | None:
    """Insert `row` as `insert` does (`new`: as `insert_new` does); the new row's primary key (None: a unique
    index refused it)."""
    statement = _inserting(db, model, tuple(row), "key-new" if new else "key",
                           (lambda query: query.on_conflict_ignore()) if new else (lambda query: query))
    cursor = statement.run(db, row)
    if cursor.description:  # RETURNING where supported
        found = cursor.fetchone()
        return found[0] if found else None
    return cursor.lastrowid if cursor.rowcount else None


def insert_instance(db: peewee.Database, instance: peewee.Model) -> int:
    """Insert a new, unsaved model instance (its defaults filled in, unset columns NULL), as `save()` would;
    its primary key is set, nothing is left marked changed, and the key is returned."""
    model = type(instance)
    meta = model._meta
    row = {field.name: instance.__data__.get(field.name) for field in meta.sorted_fields
           if field is not meta.primary_key}
    cursor = _inserting(db, model, tuple(row), "returning", lambda query: query).run(db, row)
    key = cursor.fetchone()[0] if cursor.description else cursor.lastrowid  # RETURNING where supported
    setattr(instance, meta.primary_key.name, key)
    mark_saved(instance)
    return key


def _inserting(db: peewee.Database, model: type[peewee.Model], names: tuple[str, ...], how: str,
               finish: Callable[[peewee.Insert], peewee.Insert]) -> _Statement:
    """The INSERT of columns `names` into `model`'s table, each value a parameter named as its field;
    `finish` completes the query (what it does is told by `how`)."""
    fields = model._meta.fields
    return _statement(db, ("insert", how, model, names), lambda: finish(
        model.insert({fields[name]: Parameter(name, fields[name].db_value) for name in names})))


# --- model instances ------------------------------------------------------------------------------------


def changed_fields(instance: peewee.Model) -> tuple[peewee.Field, ...]:
    """The fields of `instance` assigned since it was read or last saved (its primary key aside), in column
    order: what an UPDATE of only what changed writes."""
    meta = type(instance)._meta
    return tuple(f for f in meta.sorted_fields if f.name in instance._dirty and f is not meta.primary_key)


def values_of(instance: peewee.Model, fields: Sequence[peewee.Field]) -> dict[str, Any]:
    """The values `instance` holds for `fields`, by field name."""
    return {field.name: instance.__data__.get(field.name) for field in fields}


def mark_saved(instance: peewee.Model) -> None:
    """Nothing of `instance` is marked changed any more (it was just written)."""
    instance._dirty.clear()


def attach(instance: peewee.Model, relation: str, row: peewee.Model) -> None:
    """Give `instance` its already loaded `relation` row (spares a lazy query); the column is marked changed
    only when `row` is another row than the one it refers to."""
    if instance.__data__.get(relation) == row.id:
        instance.__rel__[relation] = row  # what peewee's foreign-key accessor reads first
    else:
        setattr(instance, relation, row)


def outermost_transaction(db: peewee.Database) -> Any:
    """The outermost transaction `db` is in on this thread (None: none): an object no later transaction is."""
    transactions = (getattr(db, "obj", None) or db)._state.transactions
    return transactions[0] if transactions else None


_noted = threading.local()  # per thread, as peewee's transactions are: the latest one (kept alive) and its notes


def noted(db: peewee.Database, kind: str) -> set:
    """The things of `kind` the current transaction noted (the set to add to): empty in each new transaction,
    and a throwaway set outside any. What a store remembers of its own writes, so as not to ask the database.
    Kept per thread: the bot's delivery thread has transactions of its own beside the handler's."""
    transaction = outermost_transaction(db)
    if transaction is None:
        return set()
    if getattr(_noted, "transaction", None) is not transaction:  # a later one: never the same object (kept)
        _noted.transaction, _noted.kinds = transaction, {}
    return _noted.kinds.setdefault(kind, set())


class RelatedRow(peewee.ForeignKeyAccessor):
    """`ticket.customer`: the related row, the first time it is asked for, by a statement (peewee would build
    the select again for every instance: most of the cost of loading one row)."""

    def get_rel_instance(self, instance: peewee.Model) -> Any:
        key = instance.__data__.get(self.name)
        if key is not None and self.name not in instance.__rel__ and self.field.lazy_load:
            related, by = self.rel_model, self.field.rel_field
            found = first(related._meta.database, related, lambda: related.select().where(by == P.key), key=key)
            if found is None:
                raise related.DoesNotExist(f"there is no {related.__name__} with {by.name} {key!r}")
            instance.__rel__[self.name] = found
        return super().get_rel_instance(instance)

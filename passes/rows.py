"""Hand-written rows for the scan path: reads built into model instances, and inserts.

For the statements that run on every scan, where the ORM's query compilation and `save()`
machinery cost more CPU than the database took to answer (benchmarks/SCANS.md). SQL is compiled
once per process; every value goes through the field's own conversion to and from the
database, so the rows and instances are those the ORM would write and build, on PostgreSQL and
SQLite alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model, signals


def table(model: type[Model]) -> str:
    """The model's table name, quoted for SQL."""
    return connection.ops.quote_name(model._meta.db_table)


class RowShape:
    """A row made of some columns of several models (each under a table alias in the SQL),
    then extra values, each read as one model field's column.

    `parts`: (model, alias, columns), None for every column; `extras`: (model, column).
    """

    def __init__(
        self,
        parts: Sequence[tuple[type[Model], str, Sequence[str] | None]],
        extras: Sequence[tuple[type[Model], str]] = (),
    ) -> None:
        # In each model's own field order, as `Model.from_db` expects the values.
        self._parts = [
            (
                model,
                alias,
                [f for f in model._meta.concrete_fields if columns is None or f.column in columns],
            )
            for model, alias, columns in parts
        ]
        self._extras = [
            next(f for f in model._meta.concrete_fields if f.column == column)
            for model, column in extras
        ]
        self._readers: list[tuple[Any, list[Callable]]] | None = None

    @property
    def columns(self) -> str:
        """The select list of the parts, `alias.column, …` (the extras are the caller's)."""
        return ", ".join(
            f"{alias}.{connection.ops.quote_name(str(field.column))}"
            for _model, alias, fields in self._parts
            for field in fields
        )

    def read(self, row: Sequence[Any]) -> tuple[list[Model], list[Any]]:
        """The instances of the parts, in order, and the extras' values."""
        # Looked up once: `connection` is a proxy that finds the thread's connection at every
        # use (a hundred times a scan through the fields' conversions).
        db = connections[DEFAULT_DB_ALIAS]
        if self._readers is None:  # once per process: the converters never change
            fields = [field for _m, _a, fields in self._parts for field in fields] + self._extras
            self._readers = []
            for field in fields:
                column = field.get_col(field.model._meta.db_table)
                converters = db.ops.get_db_converters(column)
                self._readers.append((column, converters + field.get_db_converters(db)))
        values = list(row)
        for index, (column, converters) in enumerate(self._readers):
            for converter in converters:
                values[index] = converter(values[index], column, db)
        objects, start = [], 0
        for model, _alias, fields in self._parts:
            chunk = values[start : start + len(fields)]
            start += len(fields)
            objects.append(model.from_db(db.alias, [f.attname for f in fields], chunk))
        return objects, values[start:]


def insert(instance: Model) -> None:
    """Insert a new `instance` as `save()` would (each field's `pre_save` and its value prepared
    for the database by the field itself), in one `INSERT … RETURNING id`, and set its id.

    Without `save()`'s machinery (signals, the compiler): the scan path's three inserts cost
    a third of a scan's CPU through it. For models with an automatic id and no save() logic or
    signal receivers of their own.
    """
    # Looked up once: `connection` is a proxy that finds the thread's connection at every
    # use (a hundred times a scan through the fields' conversions).
    db = connections[DEFAULT_DB_ALIAS]
    model = type(instance)
    if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
        # A receiver added later would be skipped without a word: refuse instead.
        raise TypeError(f"{model.__name__} has save signal receivers: insert it with save()")
    meta = instance._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.pk]
    values = [field.get_db_prep_save(field.pre_save(instance, True), db) for field in fields]
    columns = ", ".join(db.ops.quote_name(str(field.column)) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    assert meta.pk is not None
    with db.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table(type(instance))} ({columns}) VALUES ({placeholders}) "  # noqa: S608
            f"RETURNING {db.ops.quote_name(str(meta.pk.column))}",
            values,
        )
        row = cursor.fetchone()
    assert row is not None
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, db.alias

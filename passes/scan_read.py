"""The one read of a scan: the pass a credential names, with everything the checks need.

One statement, written by hand and compiled once per process: building it with the ORM (ten
subqueries) cost more CPU than any other step of a scan (benchmarks/SCANS.md). Every join and
subquery is on a unique key, so it returns one row or none. The values go through Django's own
converters, so the objects are what the ORM would have built, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from coworking.models import Member
from spaces.models import Membership, Space

from . import codec
from .models import (
    AllowanceCounter,
    CounterUse,
    Network,
    NetworkSpace,
    Pass,
    SigningKey,
    Visit,
)
from .selectors import month_start

# (model, alias, columns) of the objects built, in the order of the row.
_OBJECTS: tuple[tuple[type[Model], str, tuple[str, ...]], ...] = (
    (Pass, "p", ("id", "status", "network_id", "member_id", "membership_id")),
    (Network, "n", ("id", "slug", "monthly_visits", "monthly_visits_per_host")),
    (Membership, "ms", ("id", "space_id", "status", "starts_on", "ends_on")),
    (Space, "home", ("id", "name", "timezone")),
    (Member, "m", ("id", "first_name", "photo", "is_active")),
    (SigningKey, "k", ("public_key", "not_before", "verify_until", "status")),
)
# Attributes set on the pass, with the column each is read from.
_EXTRAS: tuple[tuple[str, type[Model], str, str], ...] = (
    ("link_capacity", NetworkSpace, "ns", "daily_visitor_capacity"),
    ("visit_today", Visit, "v", "id"),
    ("network_used", AllowanceCounter, "an", "used"),
    ("host_used", AllowanceCounter, "ah", "used"),
    ("use_host", CounterUse, "cu", "host_id"),
    ("use_scan", CounterUse, "cu", "first_scan_id"),
)


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _field(model: type[Model], column: str) -> Field:
    return next(field for field in model._meta.concrete_fields if field.column == column)


def _object_fields(model: type[Model], columns: tuple[str, ...]) -> list[Field]:
    # In the model's own order, as `Model.from_db` expects them.
    return [field for field in model._meta.concrete_fields if field.column in columns]


@functools.cache
def _statement(vendor: str) -> tuple[str, list[tuple[Any, list[Callable]]]]:
    """The SQL, and for each selected column its expression and Django's converters from the
    database's value (all fixed for a process: computed once)."""
    selected: list[tuple[str, Field]] = [
        (alias, field)
        for model, alias, columns in _OBJECTS
        for field in _object_fields(model, columns)
    ]
    selected += [(alias, _field(model, column)) for _name, model, alias, column in _EXTRAS]
    objects = ", ".join(
        f"{alias}.{connection.ops.quote_name(field.column)}"
        for alias, field in selected[: -len(_EXTRAS)]
    )
    # The extras as scalar subqueries, not joins: PostgreSQL plans each on its own, where a
    # join of eleven tables cost it more to plan than to run (a read took 2.4 ms, now 1.0 ms).
    # Parameters, in order: host, host, day, month, month, host, counter, counter, kid, pass,
    # member, home space.
    sql = (
        f"SELECT {objects}, "  # noqa: S608 (table names from the models)
        f"(SELECT ns.daily_visitor_capacity FROM {_table(NetworkSpace)} ns "
        "WHERE ns.network_id = p.network_id AND ns.space_id = %s), "
        f"(SELECT v.id FROM {_table(Visit)} v "
        "WHERE v.member_id = p.member_id AND v.host_id = %s AND v.date = %s), "
        f"(SELECT an.used FROM {_table(AllowanceCounter)} an WHERE an.member_id = p.member_id "
        "AND an.network_id = p.network_id AND an.month = %s AND an.host_id IS NULL), "
        f"(SELECT ah.used FROM {_table(AllowanceCounter)} ah WHERE ah.member_id = p.member_id "
        "AND ah.network_id = p.network_id AND ah.month = %s AND ah.host_id = %s), "
        f"(SELECT cu.host_id FROM {_table(CounterUse)} cu "
        "WHERE cu.pass_id = p.id AND cu.counter = %s), "
        f"(SELECT cu.first_scan_id FROM {_table(CounterUse)} cu "
        "WHERE cu.pass_id = p.id AND cu.counter = %s) "
        f"FROM {_table(Pass)} p "
        f"JOIN {_table(Network)} n ON n.id = p.network_id "
        f"JOIN {_table(Membership)} ms ON ms.id = p.membership_id "
        f"JOIN {_table(Space)} home ON home.id = ms.space_id "
        f"JOIN {_table(Member)} m ON m.id = p.member_id "
        f"LEFT JOIN {_table(SigningKey)} k ON k.kid = %s "
        "WHERE p.id = %s AND p.member_id = %s AND ms.space_id = %s"
    )
    readers = []
    for _alias, field in selected:
        column = field.get_col(field.model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        readers.append((column, converters))
    return sql, readers


def pass_for_scan(claims: codec.Claims, host: Space, day: dt.date) -> Pass | None:
    """The pass named by `claims` (None if no pass matches all three ids), with its network,
    membership, home space and member, and as attributes: `signing_key` (the row of
    `claims.kid`, or None), `link_capacity` (None if the host is not in the pass's network),
    `visit_today` (the id of today's visit here), `network_used` and `host_used` (the month's
    counters, None if not created yet), `use_host` and `use_scan` (the first use of a rotating
    code: its host and Scan ids)."""
    sql, readers = _statement(connection.vendor)
    ops = connection.ops
    month = ops.adapt_datefield_value(month_start(day))
    counter = None if claims.is_static else claims.counter
    params = [
        host.pk,
        host.pk,
        ops.adapt_datefield_value(day),
        month,
        month,
        host.pk,
        counter,
        counter,
        claims.kid,
        claims.pass_id,
        claims.member_id,
        claims.home_space_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, (column, converters) in enumerate(readers):
        for converter in converters:
            values[index] = converter(values[index], column, connection)
    return _build(values)


def _build(values: list[Any]) -> Pass:
    objects: list[Model] = []
    start = 0
    for model, _alias, columns in _OBJECTS:
        fields = _object_fields(model, columns)
        chunk = values[start : start + len(fields)]
        start += len(fields)
        objects.append(model.from_db(connection.alias, [f.attname for f in fields], chunk))
    pass_obj, network, membership, home, member, key = objects
    membership.space = home
    pass_obj.network, pass_obj.membership, pass_obj.member = network, membership, member
    pass_obj.signing_key = key if key.public_key is not None else None
    for name, _model, _alias, _column in _EXTRAS:
        setattr(pass_obj, name, values[start])
        start += 1
    return pass_obj

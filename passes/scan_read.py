"""The one read of a scan: the pass a credential names, with everything the checks need.

One statement, written by hand and compiled once per process: building it with the ORM (ten
subqueries) cost more CPU than any other step of a scan (benchmarks/SCANS.md). Every join and
subquery is on a unique key, so it returns one row or none; the instances are built through
Django's own converters (passes/rows.py), on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import cast

from django.db import connection

from coworking.models import Member
from coworking.months import month_first
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
from .rows import RowShape, table

_ROW = RowShape(
    parts=[
        (Pass, "p", ("id", "status", "network_id", "member_id", "membership_id")),
        (Network, "n", ("id", "slug", "monthly_visits", "monthly_visits_per_host")),
        (Membership, "ms", ("id", "space_id", "status", "starts_on", "ends_on")),
        (Space, "home", ("id", "name", "timezone")),
        (Member, "m", ("id", "first_name", "photo", "is_active")),
        (SigningKey, "k", ("public_key", "not_before", "verify_until", "status")),
    ],
    extras=[
        (NetworkSpace, "daily_visitor_capacity"),
        (Visit, "id"),
        (AllowanceCounter, "used"),
        (AllowanceCounter, "used"),
        (CounterUse, "host_id"),
        (CounterUse, "first_scan_id"),
    ],
)


@dataclass(frozen=True)
class ScanRead:
    """What the checks of a scan read, beside the pass (its network, membership, home space and
    member are loaded on it)."""

    pass_obj: Pass
    signing_key: SigningKey | None  # the row of the credential's kid
    link_capacity: int | None  # None: the host is not in the pass's network
    visit_today: int | None  # the id of today's visit at this host
    network_used: int | None  # this month's counters; None: not created yet
    host_used: int | None
    use_host: int | None  # a rotating code's first use: its host and Scan ids
    use_scan: int | None


@functools.cache
def _statement(vendor: str) -> str:
    # The extras as scalar subqueries, not joins: PostgreSQL plans each on its own, where a
    # join of eleven tables cost it more to plan than to run (a read took 2.4 ms, now 1.0 ms).
    # Parameters, in order: host, host, day, month, month, host, counter, counter, kid, pass,
    # member, home space.
    return (
        f"SELECT {_ROW.columns}, "  # noqa: S608 (table names from the models)
        f"(SELECT ns.daily_visitor_capacity FROM {table(NetworkSpace)} ns "
        "WHERE ns.network_id = p.network_id AND ns.space_id = %s), "
        f"(SELECT v.id FROM {table(Visit)} v "
        "WHERE v.member_id = p.member_id AND v.host_id = %s AND v.date = %s), "
        f"(SELECT an.used FROM {table(AllowanceCounter)} an WHERE an.member_id = p.member_id "
        "AND an.network_id = p.network_id AND an.month = %s AND an.host_id IS NULL), "
        f"(SELECT ah.used FROM {table(AllowanceCounter)} ah WHERE ah.member_id = p.member_id "
        "AND ah.network_id = p.network_id AND ah.month = %s AND ah.host_id = %s), "
        f"(SELECT cu.host_id FROM {table(CounterUse)} cu "
        "WHERE cu.pass_id = p.id AND cu.counter = %s), "
        f"(SELECT cu.first_scan_id FROM {table(CounterUse)} cu "
        "WHERE cu.pass_id = p.id AND cu.counter = %s) "
        f"FROM {table(Pass)} p "
        f"JOIN {table(Network)} n ON n.id = p.network_id "
        f"JOIN {table(Membership)} ms ON ms.id = p.membership_id "
        f"JOIN {table(Space)} home ON home.id = ms.space_id "
        f"JOIN {table(Member)} m ON m.id = p.member_id "
        f"LEFT JOIN {table(SigningKey)} k ON k.kid = %s "
        "WHERE p.id = %s AND p.member_id = %s AND ms.space_id = %s"
    )


def pass_for_scan(claims: codec.Claims, host: Space, day: dt.date) -> ScanRead | None:
    """The pass named by `claims` and all the checks read at `host` on `day`, or None if no
    pass matches all three ids of the credential."""
    ops = connection.ops
    month = ops.adapt_datefield_value(month_first(day))
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
        cursor.execute(_statement(connection.vendor), params)
        row = cursor.fetchone()
    if row is None:
        return None
    objects, extras = _ROW.read(row)
    pass_obj, membership = cast(Pass, objects[0]), cast(Membership, objects[2])
    key = cast(SigningKey, objects[5])  # all its columns NULL: no key has this kid
    membership.space = cast(Space, objects[3])
    pass_obj.network, pass_obj.membership = cast(Network, objects[1]), membership
    pass_obj.member = cast(Member, objects[4])
    return ScanRead(pass_obj, key if key.public_key is not None else None, *extras)

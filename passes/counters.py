"""The counters a partner visit moves, written so that the database decides each limit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

from .models import AllowanceCounter, HostDayCounter, Visit


class AdmissionCounters:
    """The conditional writes of one admission: each limit is decided by the database.

    Plain SQL, the same on PostgreSQL and SQLite: the ORM writes no `ON CONFLICT … DO UPDATE …
    WHERE`. Table names come from the models; every value is a parameter.

    A limit is written `used < limit` in the statement that counts the visit, so that
    concurrent scans never exceed it. Refused, the visit and the counters this scan already
    wrote are taken back: their rows stay locked by this transaction until it ends, so no one
    saw them, and the refused Scan is still stored in the same transaction.
    """

    def __init__(self, visit: Visit) -> None:
        table = connection.ops.quote_name(Visit._meta.db_table)
        self._moved: list[tuple[str, list[Any]]] = [
            (f"DELETE FROM {table} WHERE id = %s", [visit.pk])  # noqa: S608
        ]

    def host_day(self, network_id: int, host_id: int, day: dt.date, limit: int | None) -> bool:
        table = connection.ops.quote_name(HostDayCounter._meta.db_table)
        where, params = "", [network_id, host_id, connection.ops.adapt_datefield_value(day)]
        if limit is not None:
            if limit <= 0:
                return False
            where, params = f" WHERE {table}.used < %s", [*params, limit]
        # An upsert: the day's first visitor creates the row, the others add to it.
        sql = (
            f"INSERT INTO {table} (network_id, host_id, date, used) VALUES (%s, %s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (network_id, host_id, date) DO UPDATE SET used = {table}.used + 1"
            f"{where} RETURNING used"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if cursor.fetchone() is None:
                return False
        self._moved.append(
            (
                f"UPDATE {table} SET used = used - 1 WHERE network_id = %s AND host_id = %s "  # noqa: S608
                "AND date = %s",
                params[:3],
            )
        )
        return True

    def allowance(
        self,
        member_id: int,
        network_id: int,
        month: dt.date,
        limits: dict[int | None, int | None],
        known: dict[int | None, int | None],
    ) -> dict[int | None, int] | None:
        """Add one to each counter of `limits` (host id, None for network-wide) under its limit,
        all or none: their `used` afterwards, or None if a limit is reached.

        `known` says which rows the read saw: the missing ones are inserted at 1 (a row created
        meanwhile by another scan conflicts and is then updated), the others updated."""
        if any(limit is not None and limit <= 0 for limit in limits.values()):
            return None
        table = connection.ops.quote_name(AllowanceCounter._meta.db_table)
        month_value = connection.ops.adapt_datefield_value(month)
        used: dict[int | None, int] = {}
        with connection.cursor() as cursor:
            missing = [host for host in limits if known.get(host) is None]
            if missing:
                rows = ", ".join(["(%s, %s, %s, %s, 1)"] * len(missing))
                params = [
                    value
                    for host in missing
                    for value in (member_id, network_id, month_value, host)
                ]
                cursor.execute(
                    f"INSERT INTO {table} (member_id, network_id, month, host_id, used) "  # noqa: S608
                    f"VALUES {rows} ON CONFLICT DO NOTHING RETURNING host_id, used",
                    params,
                )
                used.update(cursor.fetchall())
            rest = [host for host in limits if host not in used]
            if rest:
                conditions, params = [], [member_id, network_id, month_value]
                for host in rest:
                    row = "host_id IS NULL" if host is None else "host_id = %s"
                    params += [] if host is None else [host]
                    if limits[host] is not None:
                        row, params = f"{row} AND used < %s", [*params, limits[host]]
                    conditions.append(f"({row})")
                cursor.execute(
                    f"UPDATE {table} SET used = used + 1 WHERE member_id = %s AND network_id = %s "  # noqa: S608
                    f"AND month = %s AND ({' OR '.join(conditions)}) RETURNING host_id, used",
                    params,
                )
                used.update(cursor.fetchall())
        for host in used:
            self._moved.append(
                (
                    f"UPDATE {table} SET used = used - 1 WHERE member_id = %s AND network_id = %s"  # noqa: S608
                    " AND month = %s AND "
                    + ("host_id IS NULL" if host is None else "host_id = %s"),
                    [member_id, network_id, month_value] + ([] if host is None else [host]),
                )
            )
        return used if len(used) == len(limits) else None

    def undo(self) -> None:
        with connection.cursor() as cursor:
            for sql, params in self._moved:
                cursor.execute(sql, params)
        self._moved.clear()

"""How long do the monthly summaries' figures take for a large network, and in how many queries?

Run by hand (not a test); figures and findings are in SUMMARIES.md:

    .venv/bin/python benchmarks/monthly_summaries.py            # full size, ~4-7 minutes
    .venv/bin/python benchmarks/monthly_summaries.py --keep     # leave the database behind
    .venv/bin/python benchmarks/monthly_summaries.py --members 2000 --visits 100000 \
        --bookings 50000 --extra-members 2000                   # a quick smaller run

It creates the database `chtipass_summarybench` on 127.0.0.1:5432 (dropped at the end unless
`--keep`), migrates it and loads it with COPY (never the ORM row by row); the plain indexes of
the two big tables are dropped during their COPY and rebuilt from their own definitions, the
constraints (primary keys, unique, the bookings' exclusion constraint, foreign keys) stay on:

* 50 spaces (Europe/Paris) in one network, 20 resources each (14 hot desks, 4 rooms, 2 machines
  with their own opening hours), a Christmas closure for all, an August closure for half of
  them and a monthly maintenance day per machine;
* 20,000 members, one active membership each spread over the spaces (the first member of each
  space is its co-manager), a pass each; 5 % of them asked for a monthly recap;
* 500,000 confirmed bookings over the 12 months of 2025: slots are cut from fixed per-resource,
  per-day templates (so they never overlap: the exclusion constraint holds), and chosen by a
  seeded weighted sample (weekdays, seasons, desks more than machines);
* 1,000,000 visits over 2025, 50 per member, unique per (member, host, day), 55 % at home,
  the rest at nearby or random spaces of the network; 1.5 % of network visits flagged;
* the network-wide allowance counters derived from them; then VACUUM (ANALYZE).

Then, for the busiest month (most bookings + visits):

(a) `space_usage(space, month)` for all 50 spaces: one pass counting statements with
    CaptureQueriesContext, `--passes` timing passes (the median one reported in full: total,
    per-space median/p95, each statement of the sequence), a cProfile of the slowest space, and
    a serial pass (no parallel workers) whose CPU is accounted: Python + PostgreSQL backend,
    which hardly depends on what else the machine is doing, unlike wall time;
(b) `networks_settlement` of the network for the month;
(c) `summary_message` of every co-manager (figures + matplotlib chart + templates), with the
    share of the chart rendering, and of every other recipient (recap only);
(e) EXPLAIN (ANALYZE, BUFFERS) of every statement of the slowest space, in full for the slowest
    ones;
(d) 20,000 more members with bookings and visits in that month, then (a), (b) and (c) again:
    the statement counts must not move.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from common import (
    benchmark_database,
    benchmark_environment,
    database_url,
    machine_description,
    median,
    percentile,
    run_on_snapshot,
    setup_django,
    without_machine_paths,
)

DB_NAME = "chtipass_summarybench"
TZ_NAME = "Europe/Paris"
TZ = ZoneInfo(TZ_NAME)
UTC = dt.UTC
YEAR = 2025
NETWORK_ID = 1
LOADED_AT = "2026-01-02 08:00:00+00"
MEMBERS_SINCE = "2024-01-01"

# Seasons and weekdays: how busy a day is, relative to the others.
MONTH_WEIGHT = {
    1: 0.85,
    2: 0.95,
    3: 1.05,
    4: 1.0,
    5: 0.9,
    6: 1.0,
    7: 0.7,
    8: 0.45,
    9: 1.1,
    10: 1.25,
    11: 1.15,
    12: 0.75,
}
WEEKDAY_WEIGHT = (1.0, 1.15, 1.1, 1.2, 0.8, 0.15, 0.0)  # Monday … Sunday
KIND_WEIGHT = {"desk": 1.0, "room": 0.8, "machine": 0.6}

# Resources of every space: (name, kind, own opening hours?).
MACHINE_HOURS = {
    "mon": [["10:00", "18:00"]],
    "tue": [["10:00", "18:00"]],
    "wed": [["10:00", "18:00"]],
    "thu": [["10:00", "18:00"]],
    "fri": [["10:00", "18:00"]],
    "sat": [["10:00", "16:00"]],
    "sun": [],
}
RESOURCE_LAYOUT = (
    [(f"Poste {n:02d}", "desk") for n in range(1, 15)]
    + [(f"Salle {letter}", "room") for letter in "ABCD"]
    + [("Découpe laser", "machine"), ("Imprimante 3D", "machine")]
)

# Per-day slot templates, in local wall-clock time; the slots of one template never overlap.
DESK_HALF_DAYS = (("08:30", "13:00"), ("13:00", "19:00"))
DESK_FULL_DAY = (("08:30", "19:00"),)
ROOM_HOURLY = tuple((f"{h:02d}:00", f"{h + 1:02d}:00") for h in (9, 10, 11, 12, 14, 15, 16, 17))
ROOM_LONG = (("09:00", "11:00"), ("11:00", "12:30"), ("14:00", "16:00"), ("16:00", "18:30"))
MACHINE_WEEKDAY = (("10:00", "12:00"), ("13:00", "15:00"), ("15:00", "18:00"))
MACHINE_SATURDAY = (("10:00", "12:00"), ("13:00", "16:00"))
# The extra members of part (d) book evening slots, outside every template above.
EVENING = (("19:00", "20:00"), ("20:00", "21:00"), ("21:00", "22:00"))

SPACE_USAGE_LABELS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (
        "summary_message: the recipient's co-managed spaces",
        lambda sql: 'FROM "spaces_space" INNER JOIN "spaces_membership"' in sql,
    ),
    ("member_recap: bookings", lambda sql: '"spaces_booking"."member_id" = %s' in sql),
    ("member_recap: visits by host", lambda sql: 'AS "host__name"' in sql),
    ("member_recap: pass", lambda sql: 'FROM "passes_pass"' in sql),
    ("member_recap: allowance used", lambda sql: 'FROM "passes_allowancecounter"' in sql),
    (
        "booking_usage: bookings and hours by resource",
        lambda sql: 'FROM "spaces_resource"' in sql and "month_bookings" in sql,
    ),
    ("booking_usage: closures", lambda sql: 'FROM "spaces_closure"' in sql),
    (
        "booking_usage: members who booked",
        lambda sql: 'COUNT(DISTINCT "spaces_booking"."member_id")' in sql,
    ),
    ("distinct_active_members (UNION)", lambda sql: "UNION" in sql),
    (
        "booking_usage: heatmap slots",
        lambda sql: 'FROM "spaces_booking"' in sql and '"spaces_booking"."end"' in sql,
    ),
    ("settlement_lines: networks of the space", lambda sql: 'FROM "passes_network"' in sql),
    (
        "networks_settlement: spaces of the networks",
        lambda sql: 'FROM "passes_networkspace"' in sql,
    ),
    (
        "networks_settlement: visit matrix (whole network)",
        lambda sql: 'FROM "passes_visit"' in sql and '"passes_visit"."network_id"' in sql,
    ),
    ("visit_usage: hosted, by weekday", lambda sql: "EXTRACT" in sql.upper()),
    (
        "visit_usage: check-ins / flagged / visitors",
        lambda sql: 'COUNT(DISTINCT "passes_visit"."member_id")' in sql,
    ),
    (
        "visit_usage: hosted, by home",
        lambda sql: 'AS "home__slug"' in sql and 'AS "count"' in sql,
    ),
    (
        "visit_usage: made, by host",
        lambda sql: 'AS "host__slug"' in sql and 'AS "count"' in sql,
    ),
)

SETTLEMENT_LABEL = "networks_settlement: visit matrix"


def label_of(sql: str) -> str:
    for label, matches in SPACE_USAGE_LABELS:
        if matches(sql):
            return label
    return re.sub(r"\s+", " ", sql)[:70]


def load_average() -> str:
    import os

    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


@dataclass
class World:
    spaces: int
    members: int
    space_ids: list[int] = field(default_factory=list)
    # resource id -> (space id, kind, position in the space)
    resources: dict[int, tuple[int, str, int]] = field(default_factory=dict)
    resources_by_space: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    space_closed: set[tuple[int, dt.date]] = field(default_factory=set)
    resource_closed: set[tuple[int, dt.date]] = field(default_factory=set)

    def home_of(self, member_id: int) -> int:
        return (member_id - 1) % self.spaces + 1


class Copier:
    """COPY … FROM STDIN of pre-formatted text rows, in chunks."""

    def __init__(self, connection, table: str, columns: Iterable[str]) -> None:
        self.connection = connection
        self.sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        self.rows = 0

    def copy(self, rows: Iterable[Iterable[Any]]) -> int:
        with self.connection.cursor() as cursor, cursor.copy(self.sql) as copy:
            buffer: list[str] = []
            for row in rows:
                buffer.append("\t".join(_text(value) for value in row))
                if len(buffer) >= 50_000:
                    copy.write("\n".join(buffer) + "\n")
                    self.rows += len(buffer)
                    buffer = []
            if buffer:
                copy.write("\n".join(buffer) + "\n")
                self.rows += len(buffer)
        return self.rows


def _text(value: Any) -> str:
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def year_days() -> list[dt.date]:
    first = dt.date(YEAR, 1, 1)
    return [first + dt.timedelta(days=n) for n in range((dt.date(YEAR + 1, 1, 1) - first).days)]


def month_days(month: dt.date) -> list[dt.date]:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return [month + dt.timedelta(days=n) for n in range((following - month).days)]


_utc_cache: dict[tuple[dt.date, str], dt.datetime] = {}


def local_to_utc(day: dt.date, hhmm: str) -> dt.datetime:
    key = (day, hhmm)
    if key not in _utc_cache:
        hour, minute = (int(part) for part in hhmm.split(":"))
        local = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)
        _utc_cache[key] = local.astimezone(UTC)
    return _utc_cache[key]


def slot_template(resource_id: int, kind: str, day: dt.date) -> tuple[tuple[str, str], ...]:
    weekday = day.weekday()
    if kind == "machine":
        return MACHINE_WEEKDAY if weekday < 5 else MACHINE_SATURDAY if weekday == 5 else ()
    if weekday >= 5:
        return ()
    if kind == "desk":
        return DESK_FULL_DAY if (resource_id + day.toordinal()) % 5 == 0 else DESK_HALF_DAYS
    return ROOM_HOURLY if (resource_id + day.toordinal()) % 2 == 0 else ROOM_LONG


class Loader:
    def __init__(self, args: argparse.Namespace) -> None:
        import psycopg

        self.args = args
        self.rng = random.Random(args.seed)
        self.connection = psycopg.connect(database_url(args.db))
        self.world = World(spaces=args.spaces, members=args.members)
        self.timings: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def close(self) -> None:
        self.connection.close()

    def step(self, name: str, function: Callable[[], int | None]) -> None:
        started = time.perf_counter()
        count = function()
        self.connection.commit()
        self.timings[name] = time.perf_counter() - started
        if count is not None:
            self.counts[name] = count
        print(
            f"  loaded {name}: {count if count is not None else ''} in {secs(self.timings[name])}"
        )

    def without_plain_indexes(
        self, label: str, table: str, function: Callable[[], int]
    ) -> Callable[[], int]:
        """Run `function` with the table's plain indexes dropped, then rebuild them as they were.

        Indexes that back a constraint (primary key, unique, the bookings' exclusion constraint)
        stay: the rows are checked against them while they are copied. The rebuilt indexes are
        the ones the migrations created (same names, same definitions).
        """

        def wrapped() -> int:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    """
                    SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
                    JOIN pg_class i ON i.oid = x.indexrelid
                    WHERE x.indrelid = %s::regclass
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
                    """,
                    (table,),
                )
                plain = cursor.fetchall()
                for name, _definition in plain:
                    cursor.execute(f'DROP INDEX "{name}"')
            count = function()
            self.connection.commit()  # the deferred foreign keys are checked here
            started = time.perf_counter()
            with self.connection.cursor() as cursor:
                for _name, definition in plain:
                    cursor.execute(definition)
            self.timings[f"{label}: rebuilding {len(plain)} plain indexes"] = (
                time.perf_counter() - started
            )
            return count

        return wrapped

    def load(self) -> None:
        self.step("spaces, network, resources, closures", self.load_spaces)
        self.step("members", lambda: self.load_members(1, self.args.members))
        self.step("memberships", lambda: self.load_memberships(1, self.args.members))
        self.step("passes", lambda: self.load_passes(1, self.args.members))
        self.step(
            "bookings", self.without_plain_indexes("bookings", "spaces_booking", self.load_bookings)
        )
        self.step("visits", self.without_plain_indexes("visits", "passes_visit", self.load_visits))
        self.step("allowance counters", self.load_allowances)
        self.step("sequences", self.reset_sequences)
        self.vacuum_analyze()

    # -- spaces ---------------------------------------------------------------------------

    def load_spaces(self) -> int:
        import json

        from spaces.opening_hours import default_opening_hours

        world = self.world
        world.space_ids = list(range(1, world.spaces + 1))
        hours = json.dumps(default_opening_hours())
        Copier(
            self.connection,
            "spaces_space",
            [
                "id",
                "slug",
                "name",
                "address",
                "email",
                "website",
                "timezone",
                "opening_hours",
                "half_day_split",
                "min_booking_minutes",
                "max_booking_minutes",
                "booking_horizon_days",
                "cancellation_cutoff_minutes",
                "max_active_bookings",
                "created_at",
            ],
        ).copy(
            (
                space_id,
                f"lieu-{space_id:02d}",
                f"Lieu {space_id:02d}",
                "",
                f"contact@lieu-{space_id:02d}.example",
                "",
                TZ_NAME,
                hours,
                "13:00",
                30,
                600,
                60,
                60,
                10,
                LOADED_AT,
            )
            for space_id in world.space_ids
        )
        with self.connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO passes_network (id, slug, name, monthly_visits, "
                "monthly_visits_per_host, day_rate) VALUES (%s, %s, %s, 8, 4, 15.00)",
                (NETWORK_ID, "hauts-de-france", "Hauts-de-France"),
            )
        Copier(
            self.connection,
            "passes_networkspace",
            ("id", "daily_visitor_capacity", "joined_on", "network_id", "space_id"),
        ).copy((space_id, 200, MEMBERS_SINCE, NETWORK_ID, space_id) for space_id in world.space_ids)
        machine_hours = json.dumps(MACHINE_HOURS)
        resource_rows = []
        for space_id in world.space_ids:
            for position, (name, kind) in enumerate(RESOURCE_LAYOUT):
                resource_id = (space_id - 1) * len(RESOURCE_LAYOUT) + position + 1
                world.resources[resource_id] = (space_id, kind, position)
                world.resources_by_space[space_id].append(resource_id)
                resource_rows.append(
                    (
                        resource_id,
                        name,
                        kind,
                        "hot" if kind == "desk" else "",
                        8 if kind == "room" else 1,
                        "",
                        kind != "room",
                        True,
                        machine_hours if kind == "machine" else None,
                        space_id,
                    )
                )
        Copier(
            self.connection,
            "spaces_resource",
            [
                "id",
                "name",
                "kind",
                "desk_type",
                "capacity",
                "description",
                "members_only",
                "is_active",
                "opening_hours",
                "space_id",
            ],
        ).copy(resource_rows)

        closures = []
        for space_id in world.space_ids:
            closures.append((space_id, None, dt.date(YEAR, 12, 24), dt.date(YEAR, 12, 31), "Noël"))
            if space_id % 2 == 0:
                closures.append(
                    (space_id, None, dt.date(YEAR, 8, 4), dt.date(YEAR, 8, 15), "Congés d'été")
                )
            for resource_id in world.resources_by_space[space_id]:
                if world.resources[resource_id][1] != "machine":
                    continue
                for month in range(1, 13):
                    day = dt.date(YEAR, month, 10 + resource_id % 7)
                    closures.append((space_id, resource_id, day, day, "Maintenance"))
        for space_id, resource_id, starts_on, ends_on, _reason in closures:
            days = {starts_on + dt.timedelta(days=n) for n in range((ends_on - starts_on).days + 1)}
            target = world.resource_closed if resource_id else world.space_closed
            target.update(((resource_id or space_id), day) for day in days)
        Copier(
            self.connection,
            "spaces_closure",
            ("space_id", "resource_id", "starts_on", "ends_on", "reason"),
        ).copy(closures)
        self.counts["resources"] = len(resource_rows)
        self.counts["closures"] = len(closures)
        return len(world.space_ids)

    # -- members --------------------------------------------------------------------------

    def load_members(self, first_id: int, count: int) -> int:
        return Copier(
            self.connection,
            "coworking_member",
            [
                "id",
                "password",
                "is_superuser",
                "email",
                "first_name",
                "last_name",
                "photo",
                "language",
                "calendar_token",
                "is_active",
                "is_staff",
                "date_joined",
                "monthly_recap",
            ],
        ).copy(
            (
                member_id,
                "!benchmark",
                False,
                f"membre{member_id}@bench.example",
                f"Membre{member_id}",
                "Bench",
                "",
                "en" if member_id % 10 == 0 else "fr",
                f"bench-calendar-{member_id:08d}",
                True,
                False,
                MEMBERS_SINCE + " 00:00:00+00",
                member_id % 20 == 0,
            )
            for member_id in range(first_id, first_id + count)
        )

    def load_memberships(self, first_id: int, count: int) -> int:
        spaces = self.world.spaces
        return Copier(
            self.connection,
            "spaces_membership",
            ["id", "status", "role", "starts_on", "created_at", "member_id", "space_id"],
        ).copy(
            (
                member_id,
                "active",
                "co_manager" if member_id <= spaces else "member",
                MEMBERS_SINCE,
                LOADED_AT,
                member_id,
                self.world.home_of(member_id),
            )
            for member_id in range(first_id, first_id + count)
        )

    def load_passes(self, first_id: int, count: int) -> int:
        return Copier(
            self.connection,
            "passes_pass",
            [
                "id",
                "status",
                "issued_at",
                "status_reason",
                "member_id",
                "membership_id",
                "network_id",
            ],
        ).copy(
            (member_id, "active", LOADED_AT, "", member_id, member_id, NETWORK_ID)
            for member_id in range(first_id, first_id + count)
        )

    # -- bookings -------------------------------------------------------------------------

    def load_bookings(self) -> int:
        """A weighted sample, without replacement, of the slots of every resource's templates.

        Exponential keys (key = Exp(1) / weight, keep the smallest) give an exact count.
        """
        world, rng = self.world, self.rng
        started = time.perf_counter()
        candidates: list[tuple[float, int, int, int]] = []
        days = year_days()
        for resource_id, (space_id, kind, _position) in world.resources.items():
            kind_weight = KIND_WEIGHT[kind]
            for day_index, day in enumerate(days):
                if (space_id, day) in world.space_closed or (
                    resource_id,
                    day,
                ) in world.resource_closed:
                    continue
                weight = kind_weight * MONTH_WEIGHT[day.month] * WEEKDAY_WEIGHT[day.weekday()]
                if weight <= 0:
                    continue
                template = slot_template(resource_id, kind, day)
                for slot_index in range(len(template)):
                    slot_weight = weight * (0.85 if slot_index else 1.0)
                    candidates.append(
                        (rng.expovariate(1.0) / slot_weight, resource_id, day_index, slot_index)
                    )
        wanted = self.args.bookings
        if wanted > len(candidates):
            raise SystemExit(f"only {len(candidates)} booking slots for {wanted} bookings")
        candidates.sort()
        chosen = sorted(
            (
                (day_index, slot_index, resource_id)
                for _key, resource_id, day_index, slot_index in (candidates[:wanted])
            )
        )
        self.counts["booking slots (candidates)"] = len(candidates)
        members, spaces = self.args.members, world.spaces

        def rows() -> Iterator[tuple]:
            for booking_id, (day_index, slot_index, resource_id) in enumerate(chosen, start=1):
                space_id, kind, _position = world.resources[resource_id]
                day = days[day_index]
                opens, closes = slot_template(resource_id, kind, day)[slot_index]
                if rng.random() < 0.05:  # a network visitor
                    member_id = rng.randrange(1, members + 1)
                else:
                    member_id = space_id + spaces * rng.randrange(members // spaces)
                start = local_to_utc(day, opens)
                yield (
                    booking_id,
                    start,
                    local_to_utc(day, closes),
                    "confirmed",
                    "",
                    start - dt.timedelta(days=3),
                    member_id,
                    member_id,
                    resource_id,
                )

        self.timings["bookings: generating in Python"] = time.perf_counter() - started
        return Copier(
            self.connection,
            "spaces_booking",
            (
                "id",
                "start",
                '"end"',
                "status",
                "note",
                "created_at",
                "member_id",
                "created_by_id",
                "resource_id",
            ),
        ).copy(rows())

    # -- visits ---------------------------------------------------------------------------

    def load_visits(self) -> int:
        world, rng = self.world, self.rng
        started = time.perf_counter()
        days = year_days()
        cumulative, total = [], 0.0
        for day in days:
            closed_everywhere = all((space, day) in world.space_closed for space in (1, 2))
            total += (
                0.0
                if closed_everywhere
                else MONTH_WEIGHT[day.month] * WEEKDAY_WEIGHT[day.weekday()]
            )
            cumulative.append(total)
        per_member = self.args.visits // self.args.members
        remainder = self.args.visits - per_member * self.args.members
        spaces = world.spaces
        visits: list[tuple[int, int, int, int, bool]] = []  # day index, member, host, home, flag
        for member_id in range(1, self.args.members + 1):
            home = world.home_of(member_id)
            seen: set[tuple[int, int]] = set()
            wanted = per_member + (1 if member_id <= remainder else 0)
            while len(seen) < wanted:
                day_index = bisect.bisect_right(cumulative, rng.random() * total)
                draw = rng.random()
                if draw < 0.55:
                    host = home
                elif draw < 0.82:  # a neighbour
                    host = (home - 1 + rng.choice((-2, -1, 1, 2))) % spaces + 1
                else:
                    host = (home - 1 + rng.randrange(1, spaces)) % spaces + 1
                if (host, days[day_index]) in world.space_closed or (host, day_index) in seen:
                    continue
                seen.add((host, day_index))
                visits.append(
                    (day_index, member_id, host, home, host != home and rng.random() < 0.015)
                )
        visits.sort()
        self.timings["visits: generating in Python"] = time.perf_counter() - started
        return self.copy_visits(
            (days[day_index], member_id, host, home, flagged)
            for day_index, member_id, host, home, flagged in visits
        )

    def copy_visits(self, visits: Iterable[tuple[dt.date, int, int, int, bool]]) -> int:
        return Copier(
            self.connection,
            "passes_visit",
            [
                "date",
                "uses_allowance",
                "flagged",
                "flag_reason",
                "created_at",
                "home_id",
                "host_id",
                "member_id",
                "network_id",
                "pass_id",
            ],
        ).copy(
            (
                day,
                host != home,
                flagged,
                "host_full" if flagged else "",
                f"{day} 09:30:00+00",
                home,
                host,
                member_id,
                NETWORK_ID,
                member_id,
            )
            for day, member_id, host, home, flagged in visits
        )

    def load_allowances(self) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO passes_allowancecounter (member_id, network_id, month, host_id, used)
                SELECT member_id, network_id, date_trunc('month', date)::date, NULL, count(*)
                FROM passes_visit WHERE uses_allowance
                GROUP BY member_id, network_id, date_trunc('month', date)
                """
            )
            return cursor.rowcount

    def reset_sequences(self) -> None:
        tables = [
            "coworking_member",
            "spaces_space",
            "spaces_resource",
            "spaces_closure",
            "spaces_membership",
            "passes_network",
            "passes_networkspace",
            "passes_pass",
            "spaces_booking",
            "passes_visit",
        ]
        with self.connection.cursor() as cursor:
            for table in tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(max(id), 0) + 1 FROM {table}), false)"
                )

    def vacuum_analyze(self) -> None:
        started = time.perf_counter()
        self.connection.autocommit = True
        try:
            self.connection.execute("VACUUM (ANALYZE)")
        finally:
            self.connection.autocommit = False
        self.timings["VACUUM (ANALYZE)"] = time.perf_counter() - started
        print(f"  VACUUM (ANALYZE) in {secs(self.timings['VACUUM (ANALYZE)'])}")

    # -- part (d): more members, with bookings and visits in the measured month -----------

    def grow(self, month: dt.date, extra: int) -> dict[str, int]:
        world, rng = self.world, self.rng
        first = self.args.members + 1
        added = {
            "members": self.load_members(first, extra),
            "memberships": self.load_memberships(first, extra),
            "passes": self.load_passes(first, extra),
        }
        days = month_days(month)
        used: set[tuple[int, int, int]] = set()
        bookings = []
        for member_id in range(first, first + extra):
            resources = world.resources_by_space[world.home_of(member_id)]
            while True:
                key = (rng.choice(resources), rng.randrange(len(days)), rng.randrange(len(EVENING)))
                if key not in used:
                    used.add(key)
                    break
            resource_id, day_index, slot_index = key
            opens, closes = EVENING[slot_index]
            start = local_to_utc(days[day_index], opens)
            bookings.append(
                (
                    start,
                    local_to_utc(days[day_index], closes),
                    "confirmed",
                    "",
                    start - dt.timedelta(days=1),
                    member_id,
                    member_id,
                    resource_id,
                )
            )
        added["bookings"] = Copier(
            self.connection,
            "spaces_booking",
            (
                "start",
                '"end"',
                "status",
                "note",
                "created_at",
                "member_id",
                "created_by_id",
                "resource_id",
            ),
        ).copy(bookings)
        weekdays = [day for day in days if day.weekday() < 5]
        visits = []
        for member_id in range(first, first + extra):
            home = world.home_of(member_id)
            host = (home - 1 + rng.randrange(1, world.spaces)) % world.spaces + 1
            visits.append((rng.choice(weekdays), member_id, home, home, False))
            visits.append((rng.choice(weekdays), member_id, host, home, rng.random() < 0.015))
        added["visits"] = self.copy_visits(sorted(visits))
        self.connection.commit()
        self.connection.autocommit = True
        try:
            self.connection.execute("ANALYZE")
        finally:
            self.connection.autocommit = False
        return added


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


class SqlTimer:
    """A Django execute wrapper recording each statement, its parameters and its duration."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, float]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.calls.append((sql, params, time.perf_counter() - started))

    @property
    def total(self) -> float:
        return sum(duration for _sql, _params, duration in self.calls)


@dataclass
class SpaceRun:
    slug: str
    seconds: float
    queries: int
    calls: list[tuple[str, Any, float]]


@dataclass
class UsagePass:
    runs: list[SpaceRun]
    total: float
    cpu: float = 0.0  # CPU time of this Python process during the pass
    load: str = ""

    @property
    def query_counts(self) -> list[int]:
        return [run.queries for run in self.runs]

    def calls_of(self, label: str) -> list[tuple[str, Any, float]]:
        return [
            call for run in self.runs for call in run.calls if label_of(call[0]).startswith(label)
        ]

    def by_statement(self) -> list[tuple[str, list[float]]]:
        """(label, durations over the spaces) for each statement position of the sequence."""
        positions: dict[int, tuple[str, list[float]]] = {}
        for run in self.runs:
            for index, (sql, _params, duration) in enumerate(run.calls):
                _label, durations = positions.setdefault(index, (label_of(sql), []))
                durations.append(duration)
        return [positions[index] for index in sorted(positions)]


def measure_space_usage(spaces, month: dt.date, *, capture: bool = False) -> UsagePass:
    """One `space_usage` per space. With `capture`, statements are counted by Django's
    CaptureQueriesContext (whose debug cursor formats every statement: slower); without, by
    our execute wrapper alone, which sees the same statements."""
    from contextlib import nullcontext

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.usage import space_usage

    runs = []
    started, cpu = time.perf_counter(), time.process_time()
    for space in spaces:
        timer = SqlTimer()
        captured = CaptureQueriesContext(connection) if capture else nullcontext()
        with captured, connection.execute_wrapper(timer):
            begun = time.perf_counter()
            space_usage(space, month)
            elapsed = time.perf_counter() - begun
        queries = len(captured.captured_queries) if capture else len(timer.calls)
        if capture and queries != len(timer.calls):
            raise AssertionError(f"{queries} captured but {len(timer.calls)} executed")
        runs.append(SpaceRun(space.slug, elapsed, queries, timer.calls))
    return UsagePass(runs, time.perf_counter() - started, time.process_time() - cpu, load_average())


def report_usage_pass(name: str, usage: UsagePass) -> None:
    seconds = [run.seconds for run in usage.runs]
    sql = sum(sum(d for _s, _p, d in run.calls) for run in usage.runs)
    counts = Counter(usage.query_counts)
    slowest = max(usage.runs, key=lambda run: run.seconds)
    print(f"\n#### (a) space_usage, {len(usage.runs)} spaces — {name}\n")
    print(
        f"- total: **{secs(usage.total)}** (SQL round trips {secs(sql)}, "
        f"Python {secs(usage.total - sql)}; CPU of this process {secs(usage.cpu)}; "
        f"{usage.load} at the end)"
    )
    print(
        f"- per space: median {ms(median(seconds))}, p95 {ms(percentile(seconds, 0.95))}, "
        f"max {ms(max(seconds))} ({slowest.slug}), min {ms(min(seconds))}"
    )
    print(f"- SQL statements per space: {dict(sorted(counts.items()))}")
    print("\n| # | statement | median | p95 | max | sum over spaces | share of SQL |")
    print("|---|---|---|---|---|---|---|")
    for index, (label, durations) in enumerate(usage.by_statement(), start=1):
        print(
            f"| {index} | {label} | {ms(median(durations))} | {ms(percentile(durations, 0.95))} "
            f"| {ms(max(durations))} | {ms(sum(durations))} | {sum(durations) / sql:.0%} |"
        )


def profile_space_usage(space, month: dt.date, top: int = 12) -> str:
    """cProfile of one call: where the non-SQL time goes."""
    import cProfile
    import io
    import pstats

    from reports.usage import space_usage

    profiler = cProfile.Profile()
    profiler.runcall(space_usage, space, month)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    header = next(line for line in lines if "function calls" in line)
    return without_machine_paths("\n".join([header.strip(), "", *lines[start:]]).rstrip())


def profile_chart() -> str:
    """Where one occupancy chart's time goes (cProfile, cumulative times)."""
    import cProfile
    import pstats

    from reports.charts import occupancy_heatmap_png

    heatmap = [[(day * 24 + hour) % 9 * 1.5 for hour in range(24)] for day in range(7)]
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(occupancy_heatmap_png, heatmap, "Occupation — profil")
    total = time.perf_counter() - started
    stats = pstats.Stats(profiler).stats

    def cumulative(filename: str, function: str) -> float:
        return max(
            (
                values[3]
                for (path, _line, name), values in stats.items()
                if path.endswith(filename) and name == function
            ),
            default=0.0,
        )

    whole = cumulative("charts.py", "occupancy_heatmap_png") or total
    parts = {
        "figure.colorbar": cumulative("figure.py", "colorbar"),
        "figure.tight_layout (a full layout pass: every text measured)": cumulative(
            "figure.py", "tight_layout"
        ),
        "figure.savefig (draw again, then encode)": cumulative("figure.py", "savefig"),
        "  of which PNG encoding (Pillow)": cumulative("Image.py", "save"),
        "text layout, all calls (Text._get_layout)": cumulative("text.py", "_get_layout"),
    }
    lines = [f"one chart under cProfile: {ms(total)} (without the profiler it is faster)"]
    lines += [f"- {name}: {ms(value)} ({value / whole:.0%})" for name, value in parts.items()]
    return "\n".join(lines)


def measure_settlement(month: dt.date, repeat: int = 3) -> tuple[list[float], int, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from passes.models import Network
    from passes.settlement import networks_settlement

    durations, queries, result = [], 0, {}
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = networks_settlement(Network.objects.order_by("id"), month)[0]
            durations.append(time.perf_counter() - started)
        queries = len(captured.captured_queries)
    return durations, queries, result


@dataclass
class MessageRun:
    member_id: int
    seconds: float
    queries: int
    sql: float
    charts: float
    figures: float
    templates: float
    serialize: float
    size: int
    sections: int
    recap: float = 0.0
    calls: list[tuple[str, Any, float]] = field(default_factory=list)


class Instrumented:
    """Time the parts of `summary_message` by wrapping what reports.summary_email calls."""

    PARTS = ("occupancy_heatmap_png", "space_usage", "member_recap", "render_to_string")

    def __init__(self) -> None:
        import reports.summary_email as module

        self.module = module
        self.originals = {name: getattr(module, name) for name in self.PARTS}
        self.spent: dict[str, float] = defaultdict(float)

    def __enter__(self) -> Instrumented:
        for name, original in self.originals.items():
            setattr(self.module, name, self._timed(name, original))
        return self

    def __exit__(self, *exc_info) -> None:
        for name, original in self.originals.items():
            setattr(self.module, name, original)

    def _timed(self, name: str, function: Callable) -> Callable:
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[name] += time.perf_counter() - started

        return timed

    def take(self) -> dict[str, float]:
        spent, self.spent = dict(self.spent), defaultdict(float)
        return spent


def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def process_cpu(pid: int) -> float | None:
    """user + system CPU seconds of a process of this machine (PostgreSQL is local)."""
    import os
    from pathlib import Path

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Accounting:
    """Wall time, CPU of this process and CPU of our PostgreSQL backend during a block.

    CPU seconds hardly depend on what else runs on the machine, wall time does. Parallel query
    workers are other processes: their CPU is not in `backend` (see `serial_queries`).
    """

    def __enter__(self) -> Accounting:
        self.pid = backend_pid()
        self.backend_start = process_cpu(self.pid)
        self.wall_start, self.cpu_start = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc_info) -> None:
        self.wall = time.perf_counter() - self.wall_start
        self.cpu = time.process_time() - self.cpu_start
        end = process_cpu(self.pid)
        self.backend = (
            None if end is None or self.backend_start is None else end - self.backend_start
        )

    def describe(self) -> str:
        backend = "unknown" if self.backend is None else secs(self.backend)
        total = "" if self.backend is None else f" = {secs(self.cpu + self.backend)}"
        return (
            f"wall {secs(self.wall)}; CPU: Python {secs(self.cpu)} + PostgreSQL backend "
            f"{backend}{total}"
        )


def serial_queries():
    """No parallel query workers in this session, so that the backend's CPU is all of it."""
    from contextlib import contextmanager

    from django.db import connection

    @contextmanager
    def block():
        with connection.cursor() as cursor:
            cursor.execute("SET max_parallel_workers_per_gather = 0")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET max_parallel_workers_per_gather")

    return block()


def accounted_serial_pass(spaces, month: dt.date) -> tuple[UsagePass, Accounting]:
    with serial_queries(), Accounting() as accounting:
        usage = measure_space_usage(spaces, month)
    settlement = sum(duration for _sql, _params, duration in usage.calls_of(SETTLEMENT_LABEL))
    print(
        f"\nSerial pass (max_parallel_workers_per_gather = 0), CPU accounted: "
        f"{accounting.describe()} ({load_average()}); the settlement statement "
        f"{secs(settlement)} of it, {usage.query_counts[0]} statements per space."
    )
    return usage, accounting


def measure_messages(members, month: dt.date) -> tuple[list[MessageRun], float]:
    """Statements counted by our execute wrapper (no CaptureQueriesContext: no formatting
    overhead in the timings)."""
    from django.db import connection

    from reports.summary_email import summary_message

    runs = []
    started = time.perf_counter()
    with Instrumented() as parts:
        for member in members:
            timer = SqlTimer()
            with connection.execute_wrapper(timer):
                begun = time.perf_counter()
                message = summary_message(member, month)
                built = time.perf_counter()
            raw = message.message().as_bytes()
            serialized = time.perf_counter() - built
            spent = parts.take()
            runs.append(
                MessageRun(
                    member_id=member.pk,
                    seconds=built - begun,
                    queries=len(timer.calls),
                    sql=timer.total,
                    charts=spent.get("occupancy_heatmap_png", 0.0),
                    figures=spent.get("space_usage", 0.0),
                    recap=spent.get("member_recap", 0.0),
                    calls=timer.calls,
                    templates=spent.get("render_to_string", 0.0),
                    serialize=serialized,
                    size=len(raw),
                    sections=len(message.attachments),
                )
            )
    return runs, time.perf_counter() - started


def report_messages(name: str, runs: list[MessageRun], wall: float) -> None:
    if not runs:
        print(f"\n#### {name}: no recipient")
        return
    total = sum(run.seconds for run in runs)
    charts = sum(run.charts for run in runs)
    figures = sum(run.figures for run in runs)
    templates = sum(run.templates for run in runs)
    serialize = sum(run.serialize for run in runs)
    seconds = [run.seconds for run in runs]
    print(f"\n#### {name}: {len(runs)} messages\n")
    print(
        f"- building (summary_message): **{secs(total)}** — per message median "
        f"{ms(median(seconds))}, p95 {ms(percentile(seconds, 0.95))}, max {ms(max(seconds))}"
    )
    if total:
        print(f"  - figures (space_usage): {secs(figures)} ({figures / total:.0%})")
        print(
            f"  - charts (matplotlib PNG): {secs(charts)} ({charts / total:.0%}), "
            f"{sum(run.sections for run in runs)} charts, "
            f"{ms(charts / max(1, sum(run.sections for run in runs)))} each"
        )
        print(f"  - templates (text + HTML): {secs(templates)} ({templates / total:.0%})")
        recap = sum(run.recap for run in runs)
        print(f"  - member_recap: {secs(recap)} ({recap / total:.0%})")
        rest = total - charts - figures - templates - recap
        print(
            f"  - the rest (the recipient's co-managed spaces, i18n, the message object): "
            f"{secs(rest)} ({rest / total:.0%})"
        )
    print(f"  - SQL round trips: {secs(sum(run.sql for run in runs))}")
    print(
        f"- MIME serialization afterwards (message().as_bytes()): {secs(serialize)}, "
        f"median message {median([run.size for run in runs]) / 1024:.0f} KiB"
    )
    print(f"- wall time including serialization: {secs(wall)} ({load_average()} at the end)")
    print(f"- SQL statements per message: {dict(sorted(Counter(r.queries for r in runs).items()))}")
    by_label: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        for sql, _params, duration in run.calls:
            by_label[label_of(sql)].append(duration)
    print("\n| statement | executed | median | p95 | sum |\n|---|---|---|---|---|")
    for label, durations in sorted(by_label.items(), key=lambda item: -sum(item[1])):
        print(
            f"| {label} | {len(durations)} | {ms(median(durations))} "
            f"| {ms(percentile(durations, 0.95))} | {ms(sum(durations))} |"
        )


def explain(sql: str, params: Any) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


SCAN = re.compile(
    r"(Parallel )?(Seq Scan|Index Only Scan|Index Scan|Bitmap Index Scan|Bitmap Heap Scan)"
    r"(?: Backward)?(?: using (\S+))? on (\S+)"
)


def scans_of(plan: str) -> list[str]:
    found = []
    for match in SCAN.finditer(plan):
        parallel, kind, index, relation = match.groups()
        if kind == "Bitmap Index Scan":
            found.append(f"Bitmap Index Scan on {relation}")
        else:
            found.append(
                f"{parallel or ''}{kind} on {relation}" + (f" using {index}" if index else "")
            )
    return list(dict.fromkeys(found))


def execution_ms(plan: str) -> float:
    match = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return float(match.group(1)) if match else float("nan")


def busiest_month() -> tuple[dt.date, dict[str, int]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT month, sum(bookings)::int, sum(visits)::int FROM (
                SELECT date_trunc('month', start AT TIME ZONE %s)::date AS month,
                       count(*) AS bookings, 0 AS visits
                FROM spaces_booking WHERE status = 'confirmed' GROUP BY 1
                UNION ALL
                SELECT date_trunc('month', date)::date, 0, count(*) FROM passes_visit GROUP BY 1
            ) AS counts GROUP BY month ORDER BY sum(bookings) + sum(visits) DESC, month
            """,
            [TZ_NAME],
        )
        rows = cursor.fetchall()
    month, bookings, visits = rows[0]
    return month, {"bookings": bookings, "visits": visits}


def table_sizes() -> list[tuple[str, int, str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT relname, n_live_tup,
                   pg_size_pretty(pg_total_relation_size(relid))
            FROM pg_stat_user_tables
            WHERE relname IN ('coworking_member', 'spaces_membership', 'passes_pass',
                              'spaces_booking', 'passes_visit', 'passes_allowancecounter',
                              'spaces_resource', 'spaces_closure')
            ORDER BY pg_total_relation_size(relid) DESC
            """
        )
        return cursor.fetchall()


def postgres_settings() -> str:
    from django.db import connection

    names = (
        "server_version",
        "shared_buffers",
        "work_mem",
        "effective_cache_size",
        "max_parallel_workers_per_gather",
        "jit",
        "random_page_cost",
    )
    with connection.cursor() as cursor:
        values = []
        for name in names:
            cursor.execute(f"SHOW {name}")
            values.append(f"{name}={cursor.fetchone()[0]}")
    return ", ".join(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DB_NAME)
    parser.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--spaces", type=int, default=50)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--bookings", type=int, default=500_000)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--extra-members", type=int, default=20_000)
    parser.add_argument("--explain-top", type=int, default=4, help="statements to EXPLAIN")
    parser.add_argument("--passes", type=int, default=3, help="timing passes of (a)")
    parser.add_argument("--seed", type=int, default=20251)
    parser.add_argument(
        "--snapshot", metavar="REV", help="measure the committed tree REV, not the work tree"
    )
    args = parser.parse_args(argv)
    if args.snapshot:
        return run_on_snapshot(args.snapshot, __file__)
    if args.members < args.spaces:
        parser.error("--members must be at least --spaces (one co-manager per space)")

    print("# Monthly summaries benchmark\n")
    print(f"- machine: {machine_description()}")
    command = ["benchmarks/monthly_summaries.py", *(sys.argv[1:] if argv is None else argv)]
    print(f"- command: .venv/bin/python {' '.join(command)}")
    env = benchmark_environment(args.db)
    everything = time.perf_counter()
    with benchmark_database(args.db, keep=args.keep):
        started = time.perf_counter()
        setup_django(env)
        print(f"- migrate: {secs(time.perf_counter() - started)}")
        print(f"- PostgreSQL: {postgres_settings()}")
        run(args)
    print(
        f"\nWhole script: {secs(time.perf_counter() - everything)}"
        + (f" (database {args.db} kept)" if args.keep else f" (database {args.db} dropped)")
    )
    return 0


def run(args: argparse.Namespace) -> None:
    from django.db import connection

    from coworking.models import Member
    from reports.charts import occupancy_heatmap_png
    from reports.summaries import summary_recipients
    from spaces.models import Membership, Space

    # ---- load ----------------------------------------------------------------------------
    print("\n## Load\n")
    loader = Loader(args)
    started = time.perf_counter()
    try:
        loader.load()
    finally:
        loader.connection.commit()
    load_total = time.perf_counter() - started
    print(f"\n- **load total: {secs(load_total)}**")
    for name, seconds in loader.timings.items():
        if ": " in name:
            continue
        count = loader.counts.get(name)
        print(f"  - {name}: {secs(seconds)}" + (f" ({count:,} rows)" if count else ""))
        for part, part_seconds in loader.timings.items():
            if part.startswith(f"{name}: "):
                print(f"    - of which {part.split(': ', 1)[1]}: {secs(part_seconds)}")
    for name in ("resources", "closures", "booking slots (candidates)"):
        print(f"  - {name}: {loader.counts[name]:,}")
    print("\n| table | rows | size with indexes |\n|---|---|---|")
    for table, rows, size in table_sizes():
        print(f"| {table} | {rows:,} | {size} |")

    month, month_rows = busiest_month()
    print(
        f"\nBusiest month: **{month:%Y-%m}** ({month_rows['bookings']:,} confirmed bookings "
        f"starting in it, {month_rows['visits']:,} visits)"
    )
    spaces = list(Space.objects.order_by("id"))

    # ---- (a) ---------------------------------------------------------------------------
    print("\n## (a) space_usage for every space\n")
    first = measure_space_usage(spaces, month, capture=True)
    report_usage_pass(
        "pass 1, just after VACUUM ANALYZE, statements counted by CaptureQueriesContext",
        first,
    )
    second = timing_passes(spaces, month, args.passes)
    _serial, serial_cpu = accounted_serial_pass(spaces, month)

    slowest_space = next(
        space
        for space in spaces
        if space.slug == max(second.runs, key=lambda run: run.seconds).slug
    )
    print(f"\ncProfile of space_usage({slowest_space.slug}) (sorted by own time):\n")
    print("```\n" + profile_space_usage(slowest_space, month) + "\n```")

    # ---- (b) ---------------------------------------------------------------------------
    print("\n## (b) networks_settlement for the month\n")
    durations, settlement_queries, settlement = measure_settlement(month)
    print(
        f"- {len(durations)} runs: {', '.join(ms(d) for d in durations)}; "
        f"**{settlement_queries} SQL statements**"
    )
    print(
        f"- {len(settlement['spaces'])} spaces, {len(settlement['pairs'])} pairs, "
        f"{settlement['totals']['count']:,} network visits worth "
        f"{settlement['totals']['value']} EUR, {settlement['totals']['flagged']} flagged"
    )

    # ---- (c) ---------------------------------------------------------------------------
    print("\n## (c) summary_message of every co-manager\n")
    warm = time.perf_counter()
    occupancy_heatmap_png([[0.0] * 24] * 7, "warm-up")
    print(
        f"- matplotlib warm-up (first figure of the process, not counted): "
        f"{ms(time.perf_counter() - warm)}"
    )
    co_managers = list(
        Member.objects.filter(
            memberships__role=Membership.Role.CO_MANAGER,
            memberships__status=Membership.Status.ACTIVE,
        )
        .distinct()
        .order_by("id")
    )
    with Accounting() as accounting:
        message_runs, message_wall = measure_messages(co_managers, month)
    report_messages("co-managers", message_runs, message_wall)
    print(f"- {accounting.describe()} (parallel workers not counted)")
    print("\nWhere a chart's time goes:\n\n" + profile_chart())

    started = time.perf_counter()
    recipients = summary_recipients(month)
    recipients_time = time.perf_counter() - started
    recap_only = list(
        Member.objects.filter(pk__in=set(recipients) - {m.pk for m in co_managers}).order_by("id")
    )
    print(
        f"\n- summary_recipients({month:%Y-%m}): {len(recipients):,} recipients in "
        f"{ms(recipients_time)} ({len(co_managers)} co-managers, "
        f"{len(recap_only):,} members with a recap only)"
    )
    with Accounting() as accounting:
        recap_runs, recap_wall = measure_messages(recap_only, month)
    report_messages("recap-only recipients", recap_runs, recap_wall)
    print(f"- {accounting.describe()}")
    whole_run = sum(r.seconds + r.serialize for r in message_runs + recap_runs) + recipients_time
    print(
        f"\n**A whole monthly run in one process** (recipients + every message built and "
        f"serialized, no SMTP): {secs(whole_run)}"
    )

    # ---- (e) ---------------------------------------------------------------------------
    print("\n## (e) EXPLAIN ANALYZE of the slowest statements\n")
    statements = second.by_statement()
    ranked = sorted(range(len(statements)), key=lambda i: -sum(statements[i][1]))
    busiest_run = max(second.runs, key=lambda run: run.seconds)
    print(
        f"Plans for {busiest_run.slug} (the slowest space of the second pass). Scans of every "
        "statement:\n"
    )
    plans = {}
    for index, (sql, params, _duration) in enumerate(busiest_run.calls):
        plans[index] = (sql, params, explain(sql, params))
    print("| # | statement | execution | scans |\n|---|---|---|---|")
    for index, (sql, _params, plan) in plans.items():
        print(
            f"| {index + 1} | {label_of(sql)} | {execution_ms(plan):.1f} ms "
            f"| {'; '.join(scans_of(plan))} |"
        )
    for index in ranked[: args.explain_top]:
        sql, _params, plan = plans[index]
        print(
            f"\n#### #{index + 1} {label_of(sql)} "
            f"(sum over the spaces {ms(sum(statements[index][1]))})\n"
        )
        print("```sql\n" + connection.ops.compose_sql(sql, _params) + "\n```\n")
        print("```\n" + plan + "\n```")

    # ---- (d) ---------------------------------------------------------------------------
    print(
        f"\n## (d) {args.extra_members:,} more members, with bookings and visits in {month:%Y-%m}\n"
    )
    started = time.perf_counter()
    added = loader.grow(month, args.extra_members)
    loader.close()
    print(
        f"- added in {secs(time.perf_counter() - started)} (with ANALYZE): "
        + ", ".join(f"{count:,} {name}" for name, count in added.items())
    )
    _month, grown_rows = busiest_month()
    print(
        f"- {month:%Y-%m} now: {grown_rows['bookings']:,} bookings, {grown_rows['visits']:,} visits"
    )
    spaces = list(Space.objects.order_by("id"))
    grown_captured = measure_space_usage(spaces, month, capture=True)
    report_usage_pass(
        f"after adding {args.extra_members:,} members, CaptureQueriesContext", grown_captured
    )
    grown = timing_passes(spaces, month, 1)
    _grown_serial, grown_serial_cpu = accounted_serial_pass(spaces, month)
    grown_durations, grown_settlement_queries, _ = measure_settlement(month)
    # The charts run no SQL and do not depend on the data's size: stubbed here, to save time.
    import reports.summary_email as summary_email

    real_chart = summary_email.occupancy_heatmap_png
    summary_email.occupancy_heatmap_png = lambda heatmap, title: b"\x89PNG stub"
    try:
        with Accounting() as accounting:
            grown_messages, grown_wall = measure_messages(co_managers, month)
    finally:
        summary_email.occupancy_heatmap_png = real_chart
    report_messages("co-managers, after growth (charts stubbed)", grown_messages, grown_wall)
    print(f"- {accounting.describe()} (parallel workers not counted)")
    print("\n| | before | after | same? |\n|---|---|---|---|")
    same_usage = first.query_counts == grown_captured.query_counts == grown.query_counts
    print(
        f"| space_usage statements per space, CaptureQueriesContext (min–max) | "
        f"{min(first.query_counts)}–{max(first.query_counts)} | "
        f"{min(grown_captured.query_counts)}–{max(grown_captured.query_counts)} "
        f"| {'yes' if same_usage else '**NO**'} |"
    )
    print(
        f"| networks_settlement statements | {settlement_queries} | {grown_settlement_queries} "
        f"| {'yes' if settlement_queries == grown_settlement_queries else '**NO**'} |"
    )
    before_messages = [run.queries for run in message_runs]
    after_messages = [run.queries for run in grown_messages]
    print(
        f"| summary_message statements per co-manager (min–max) | {min(before_messages)}–"
        f"{max(before_messages)} | {min(after_messages)}–{max(after_messages)} "
        f"| {'yes' if before_messages == after_messages else '**NO**'} |"
    )
    print(f"| space_usage, {len(spaces)} spaces | {secs(second.total)} | {secs(grown.total)} | |")
    print(
        f"| space_usage, {len(spaces)} spaces, serial pass: CPU (Python + PostgreSQL) | "
        f"{secs(serial_cpu.cpu)} + {secs(serial_cpu.backend or 0)} | "
        f"{secs(grown_serial_cpu.cpu)} + {secs(grown_serial_cpu.backend or 0)} | |"
    )
    print(
        f"| networks_settlement (median) | {ms(median(durations))} | "
        f"{ms(median(grown_durations))} | |"
    )
    print(
        f"| co-managers' messages: the figures part | "
        f"{secs(sum(r.figures for r in message_runs))} | "
        f"{secs(sum(r.figures for r in grown_messages))} | |"
    )
    if not same_usage:
        for before, after in zip(first.runs, grown_captured.runs, strict=True):
            if before.queries != after.queries:
                print(f"  - {before.slug}: {before.queries} -> {after.queries}")


def timing_passes(spaces, month: dt.date, passes: int) -> UsagePass:
    """`passes` passes without CaptureQueriesContext; the median one is reported in full."""
    timed = [measure_space_usage(spaces, month) for _ in range(passes)]
    print(
        f"\n{passes} timing passes without CaptureQueriesContext: "
        + "; ".join(f"{secs(p.total)} (CPU here {secs(p.cpu)}, {p.load})" for p in timed)
    )
    chosen = sorted(timed, key=lambda p: p.total)[len(timed) // 2]
    what = f"median of {passes} passes" if passes > 1 else "one pass"
    report_usage_pass(f"{what} without CaptureQueriesContext", chosen)
    return chosen


if __name__ == "__main__":
    sys.exit(main())

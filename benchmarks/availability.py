"""How long does the availability of a busy space take to compute, and in how many queries?

In-process on PostgreSQL: a space with 200 resources (desks, rooms, machines) and 5,000 confirmed
bookings on the measured day (plus cancelled ones, and about as many bookings on each of
`--other-days` days around it), then times `spaces.availability.space_availability(space, day)`
and the whole HTTP view `GET /api/v1/spaces/<slug>/availability/?date=` through DRF's APIClient.

    .venv/bin/python benchmarks/availability.py [--runs 200] [--other-days 10] [--keep-db]
        [--dump body.json] [--snapshot REV]

It creates (and afterwards drops) the database `chtipass_bench_availability` on 127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    benchmark_database,
    benchmark_environment,
    code_description,
    machine_description,
    median,
    percentile,
    run_on_snapshot,
    seed_members,
    setup_django,
    wait_for_quiet,
)

DAY = dt.date(2026, 12, 2)  # a Wednesday, far from daylight-saving changes
DESKS, ROOMS, MACHINES = 20, 160, 20
BOOKINGS_ON_DAY = 5_000
CANCELLED_ON_DAY = 300
MEMBERS = 300
SEED = 20261202


@dataclass
class Fixture:
    space: Any
    viewer: Any
    token: str


@dataclass
class Timing:
    label: str
    runs: list[float]  # wall-clock seconds
    cpu: list[float]  # this process's CPU seconds (PostgreSQL's work is not in it)
    queries: int

    def line(self) -> str:
        return (
            f"{self.label:<46} median {median(self.runs) * 1000:6.2f} ms  "
            f"p95 {percentile(self.runs, 0.95) * 1000:6.2f} ms  "
            f"min {min(self.runs) * 1000:6.2f} ms  "
            f"(python cpu median {median(self.cpu) * 1000:6.2f} ms)  queries {self.queries}"
        )


def _day_bookings(
    rng: random.Random, resources: list[Any], day: dt.date, tz: Any
) -> list[tuple[Any, dt.datetime, dt.datetime]]:
    """Non-overlapping (resource, start, end) over one day: desks by (half) day, others by slots."""
    from spaces.models import Resource
    from spaces.opening_hours import local_datetime

    def at(minutes: int) -> dt.datetime:
        return local_datetime(day, dt.timedelta(minutes=minutes), tz)

    opens, split, closes = 8 * 60 + 30, 13 * 60, 19 * 60
    rows: list[tuple[Any, dt.datetime, dt.datetime]] = []
    for resource in resources:
        if resource.kind == Resource.Kind.DESK:
            shape = rng.choice(["day", "halves", "morning", "afternoon", "free"])
            if shape == "day":
                rows.append((resource, at(opens), at(closes)))
            if shape in {"halves", "morning"}:
                rows.append((resource, at(opens), at(split)))
            if shape in {"halves", "afternoon"}:
                rows.append((resource, at(split), at(closes)))
            continue
        cursor = opens
        while True:
            start = cursor + rng.choice([0, 0, 0, 0, 15])
            end = start + rng.choice([15, 15, 15, 30])
            if end > closes:
                break
            rows.append((resource, at(start), at(end)))
            cursor = end
    return rows


def other_days(count: int) -> list[dt.date]:
    """`count` days around DAY: the day after, the day before, two days after, and so on."""
    offsets = ((k + 1) // 2 * (1 if k % 2 else -1) for k in range(1, count + 1))
    return [DAY + dt.timedelta(days=offset) for offset in offsets]


def build_fixture(other_days_count: int = 10) -> Fixture:
    from coworking.tokens import token_issue
    from spaces.models import Booking, Closure, Resource, Space, Training

    rng = random.Random(SEED)
    space = Space.objects.create(slug="bench", name="Bench")
    tz = space.tz
    laser = Training.objects.create(space=space, name="Laser")
    members = seed_members([space], MEMBERS)
    viewer = members[0]
    resources = Resource.objects.bulk_create(
        [
            *(
                Resource(
                    space=space,
                    name=f"Poste {i:03}",
                    kind=Resource.Kind.DESK,
                    desk_type=Resource.DeskType.FIXED if i < 4 else Resource.DeskType.HOT,
                    assigned_to=members[i + 1] if i < 4 else None,
                )
                for i in range(DESKS)
            ),
            *(
                Resource(space=space, name=f"Salle {i:03}", kind=Resource.Kind.ROOM, capacity=6)
                for i in range(ROOMS)
            ),
            *(
                Resource(
                    space=space,
                    name=f"Machine {i:03}",
                    kind=Resource.Kind.MACHINE,
                    training=laser if i % 2 else None,
                    members_only=i % 3 != 0,
                )
                for i in range(MACHINES)
            ),
        ]
    )
    # One room closed on the measured day, and the whole space closed on another day.
    Closure.objects.create(space=space, resource=resources[DESKS], starts_on=DAY, ends_on=DAY)
    closed_day = DAY - dt.timedelta(days=7)
    Closure.objects.create(space=space, starts_on=closed_day, ends_on=closed_day)

    def booking(resource: Any, start: dt.datetime, end: dt.datetime, **extra: Any) -> Booking:
        member = viewer if rng.random() < 0.01 else rng.choice(members)
        return Booking(resource=resource, member=member, start=start, end=end, **extra)

    rows = _day_bookings(rng, resources, DAY, tz)
    if len(rows) < BOOKINGS_ON_DAY:
        raise RuntimeError(f"only {len(rows)} bookings fit on the day")
    rows = sorted(rng.sample(rows, BOOKINGS_ON_DAY), key=lambda row: (row[0].pk, row[1]))
    batch = [booking(*row) for row in rows]
    cancelled = rng.sample(_day_bookings(rng, resources, DAY, tz), CANCELLED_ON_DAY)
    batch += [booking(*row, status=Booking.Status.CANCELLED) for row in cancelled]
    Booking.objects.bulk_create(batch, batch_size=5_000)
    for day in other_days(other_days_count):
        Booking.objects.bulk_create(
            (booking(*row) for row in _day_bookings(rng, resources, day, tz)), batch_size=5_000
        )
    _token, key = token_issue(member=viewer)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return Fixture(space=space, viewer=viewer, token=key)


BATCH = 20  # runs between two checks that the machine is quiet


def measure(label: str, runs: int, call: Callable[[], object], quiet_timeout: float) -> Timing:
    """Time `runs` calls, in batches that each start when other processes are idle (or after
    `quiet_timeout` seconds of waiting), and count the queries of one call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(10):  # warm-up: imports, caches, the connection
        call()
    with CaptureQueriesContext(connection) as captured:
        call()
    # Read now: the next request's `request_started` signal empties the query log.
    queries = len(captured.captured_queries)
    times, cpu = [], []
    for done in range(runs):
        if done % BATCH == 0:
            wait_for_quiet(quiet_timeout)
        started, cpu_started = time.perf_counter(), time.process_time()
        call()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return Timing(label, times, cpu, queries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--other-days", type=int, default=10, help="days around the measured one with bookings"
    )
    parser.add_argument("--db-name", default="chtipass_bench_availability")
    parser.add_argument(
        "--quiet-timeout",
        type=float,
        default=30.0,
        help=f"before each batch of {BATCH} runs, wait up to this many seconds for other "
        "processes to be idle",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument("--dump", type=Path, help="write the view's JSON body to this file")
    parser.add_argument(
        "--snapshot",
        metavar="REV",
        help="measure the committed tree REV (e.g. the one before a change), not the work tree",
    )
    args = parser.parse_args(argv)
    if args.snapshot:
        return run_on_snapshot(args.snapshot, __file__)

    env = benchmark_environment(args.db_name)
    print(f"machine: {machine_description()}")
    print(f"code: {code_description()}")
    with benchmark_database(args.db_name, keep=args.keep_db):
        setup_django(env)
        from rest_framework.test import APIClient

        from spaces.availability import space_availability
        from spaces.models import Booking, Resource

        started = time.perf_counter()
        fixture = build_fixture(args.other_days)
        space, viewer = fixture.space, fixture.viewer
        confirmed = Booking.objects.filter(status=Booking.Status.CONFIRMED).count()
        print(
            f"fixture: {Resource.objects.count()} resources, {Booking.objects.count()} bookings "
            f"({confirmed} confirmed), {BOOKINGS_ON_DAY} confirmed on {DAY} "
            f"[{time.perf_counter() - started:.1f} s]"
        )
        url = f"/api/v1/spaces/{space.slug}/availability/?date={DAY.isoformat()}"
        forced = APIClient()
        forced.force_authenticate(viewer)
        with_token = APIClient()
        with_token.credentials(HTTP_AUTHORIZATION=f"Token {fixture.token}")

        def get(client: APIClient) -> bytes:
            response = client.get(url)
            assert response.status_code == 200, response.content[:500]
            return response.content

        body = get(forced)
        payload = json.loads(body)
        booked = sum(len(r["booked"]) for r in payload["resources"])
        assert booked == BOOKINGS_ON_DAY, booked
        print(
            f"response: {len(payload['resources'])} resources, {booked} booked intervals, "
            f"{len(body) / 1024:.0f} KiB, sha256 {hashlib.sha256(body).hexdigest()[:16]}"
        )
        if args.dump:
            args.dump.write_bytes(body)

        gc.collect()
        timings = [
            measure(
                "space_availability(space, day)",
                args.runs,
                lambda: space_availability(space, DAY),
                args.quiet_timeout,
            ),
            measure(
                "space_availability(space, day, member=viewer)",
                args.runs,
                lambda: space_availability(space, DAY, member=viewer),
                args.quiet_timeout,
            ),
            measure(
                "GET availability (force_authenticate)",
                args.runs,
                lambda: get(forced),
                args.quiet_timeout,
            ),
            measure(
                "GET availability (Token header)",
                args.runs,
                lambda: get(with_token),
                args.quiet_timeout,
            ),
        ]
        print(f"{args.runs} runs each:")
        for timing in timings:
            print("  " + timing.line())
    print(f"after: {machine_description()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How many bookings per second does `POST /api/v1/bookings/` take, and how fast does it answer?

Creates the PostgreSQL database `chtipass_bench` on 127.0.0.1:5432 (dropped at the end), migrates
it, adds a space with 400 rooms and a few thousand members (each with an active membership and an
API token), counts the SQL queries of one booking request in-process, then for each gunicorn shape
(sync workers, or gthread workers x threads as in the Dockerfile) starts gunicorn on 127.0.0.1 and
drives it from a loopback load generator (threads, one connection each) in two phases per
concurrency level:

- distinct: every request books a different free 30-minute slot (so they succeed with 201);
- collide: every request asks for the same slot (the first one wins, the others get 409).

Each phase stops after `--duration` seconds or `--max-requests` requests, whichever comes first.
The booking throttle is lifted (THROTTLE_BOOKING_WRITE=100000/min) and DEBUG is off.

    .venv/bin/python benchmarks/bookings_api.py [--servers 2,4,3x4] [--concurrency 1,4,16]
        [--duration 10] [--max-requests 4000] [--keep-db]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from common import (
    HOST,
    CpuMeter,
    Gunicorn,
    benchmark_database,
    benchmark_environment,
    code_description,
    machine_description,
    percentile,
    run_on_snapshot,
    seed_members,
    setup_django,
    wait_for_quiet,
)

PATH = "/api/v1/bookings/"
PARIS = ZoneInfo("Europe/Paris")
ROOMS = 400
SLOT = dt.timedelta(minutes=30)
OPENS, CLOSES = dt.time(8, 30), dt.time(19, 0)
MAX_ACTIVE_BOOKINGS = 10  # the space's default: each member books at most this many rooms

TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}

Request = tuple[bytes, str]  # JSON body, token


@dataclass
class Fixture:
    rooms: list[int]
    members: list[int]
    tokens: list[str]  # members[i]'s token
    horizon_days: int


@dataclass
class PhaseResult:
    name: str
    server: str
    concurrency: int
    elapsed: float
    latencies: list[float]
    statuses: Counter[int]
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds, see CpuMeter

    @property
    def created_per_second(self) -> float:
        return self.statuses[201] / self.elapsed

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies) / self.elapsed

    def cpu_ms_per_request(self, *names: str) -> float:
        return sum(self.cpu[name] for name in names) / max(len(self.latencies), 1) * 1000

    @property
    def cpu_ceiling(self) -> float:
        """Requests per second if this machine's CPUs did nothing else (CPU-bound estimate)."""
        per_request = self.cpu_ms_per_request("gunicorn", "postgres", "loadgen") / 1000
        return (os.cpu_count() or 1) / per_request if per_request else 0.0

    def line(self) -> str:
        statuses = " ".join(f"{code}x{count}" for code, count in sorted(self.statuses.items()))
        shares = " ".join(
            f"{name} {self.cpu[name] / self.cpu['machine']:.0%}"
            for name in ("gunicorn", "postgres", "loadgen", "other")
        )
        return (
            f"{self.name:<8} server={self.server:<4} c={self.concurrency:<3} "
            f"{len(self.latencies):>5} req in {self.elapsed:4.1f} s "
            f"{self.requests_per_second:6.1f} req/s {self.created_per_second:6.1f} created/s  "
            f"p50 {percentile(self.latencies, 0.5) * 1000:6.1f} ms  "
            f"p99 {percentile(self.latencies, 0.99) * 1000:6.1f} ms  [{statuses}]\n"
            f"{'':22}cpu per request: gunicorn {self.cpu_ms_per_request('gunicorn'):.1f} ms, "
            f"postgres {self.cpu_ms_per_request('postgres'):.1f} ms "
            f"-> ceiling {self.cpu_ceiling:.0f} req/s on an idle machine; "
            f"share of the machine: {shares}"
        )


# --- Fixture ------------------------------------------------------------------------------------


def build_fixture(members: int) -> Fixture:
    from django.utils import timezone

    from coworking.models import MemberToken
    from spaces.models import Resource, Space

    space = Space.objects.create(
        slug="bench", name="Bench", max_active_bookings=MAX_ACTIVE_BOOKINGS
    )
    Resource.objects.bulk_create(
        Resource(space=space, name=f"Salle {i:03}", kind=Resource.Kind.ROOM, capacity=6)
        for i in range(ROOMS)
    )
    people = seed_members([space], members)
    issued = [MemberToken.build(m, now=timezone.now()) for m in people]
    MemberToken.objects.bulk_create(token for token, _key in issued)
    rooms = list(Resource.objects.filter(space=space).order_by("pk").values_list("pk", flat=True))
    return Fixture(
        rooms=rooms,
        members=[m.pk for m in people],
        tokens=[key for _token, key in issued],
        horizon_days=space.booking_horizon_days,
    )


def free_slots(fixture: Fixture) -> Iterator[tuple[int, dt.datetime, dt.datetime]]:
    """Every 30-minute slot of every room on every bookable weekday, rooms varying fastest."""
    today = dt.datetime.now(PARIS).date()
    for offset in range(1, fixture.horizon_days + 1):
        day = today + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        start = dt.datetime.combine(day, OPENS, tzinfo=PARIS)
        while start + SLOT <= dt.datetime.combine(day, CLOSES, tzinfo=PARIS):
            for room in fixture.rooms:
                yield room, start, start + SLOT
            start += SLOT


def booking_body(room: int, start: dt.datetime, end: dt.datetime) -> bytes:
    return json.dumps(
        {"resource": room, "start": start.isoformat(), "end": end.isoformat()}
    ).encode()


class Workload:
    """Hands out requests; a member is given at most MAX_ACTIVE_BOOKINGS distinct slots."""

    def __init__(self, fixture: Fixture) -> None:
        self.fixture = fixture
        self.slots = free_slots(fixture)
        self.issued = 0
        days = [
            dt.datetime.now(PARIS).date() + dt.timedelta(days=d)
            for d in range(fixture.horizon_days, 0, -1)
        ]
        last_weekday = next(day for day in days if day.weekday() < 5)
        start = dt.datetime.combine(last_weekday, dt.time(12, 0), tzinfo=PARIS)
        # Taken by the first collide request, never handed out as a distinct slot.
        self.contested_slot = (fixture.rooms[-1], start)
        self.contested = booking_body(fixture.rooms[-1], start, start + SLOT)

    @property
    def capacity(self) -> int:
        return len(self.fixture.tokens) * MAX_ACTIVE_BOOKINGS - self.issued

    def distinct(self, count: int) -> list[Request]:
        tokens = self.fixture.tokens
        requests = []
        slots = (slot for slot in self.slots if slot[:2] != self.contested_slot)
        for room, start, end in itertools.islice(slots, count):
            requests.append((booking_body(room, start, end), tokens[self.issued % len(tokens)]))
            self.issued += 1
        return requests

    def collide(self, count: int) -> list[Request]:
        tokens = self.fixture.tokens
        return [(self.contested, tokens[i % len(tokens)]) for i in range(count)]


def count_queries(workload: Workload) -> None:
    """SQL queries of one booking request (201) and one refused request (409), in-process."""
    import logging

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    logging.getLogger("django.request").setLevel(logging.ERROR)  # no "Conflict: …" line
    [(body, token)] = workload.distinct(1)
    for label, payload in (("201 created", body), ("409 conflict", body)):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        with CaptureQueriesContext(connection) as captured:
            response = client.post(PATH, payload, content_type="application/json")
        queries = [q["sql"] for q in captured.captured_queries]
        control = sum(1 for sql in queries if sql.split()[0] in TRANSACTION_CONTROL)
        print(
            f"SQL per request, {label} (HTTP {response.status_code}): {len(queries)} round trips "
            f"= {len(queries) - control} statements + {control} BEGIN/SAVEPOINT/COMMIT/ROLLBACK"
        )
        for sql in queries:
            print(f"    {sql[:110]}")


# --- Load generator -------------------------------------------------------------------------


def drive(
    port: int, requests: list[Request], concurrency: int, duration: float
) -> tuple[float, list[float], Counter[int]]:
    """Send `requests` from `concurrency` threads until done or `duration` seconds have passed.

    Returns the elapsed seconds, the latency of each request and the count of each status.
    """
    lock = threading.Lock()
    cursor = iter(requests)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + duration

    def next_request() -> Request | None:
        with lock:
            return next(cursor, None) if time.monotonic() < deadline else None

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        mine: list[float] = []
        codes: Counter[int] = Counter()
        while (request := next_request()) is not None:
            body, token = request
            headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
            started = time.perf_counter()
            try:
                conn.request("POST", PATH, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                codes[response.status] += 1
            except (OSError, http.client.HTTPException):
                codes[0] += 1  # connection error
                conn.close()
            mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def run_phase(
    name: str,
    server: Gunicorn,
    db_name: str,
    requests: list[Request],
    concurrency: int,
    duration: float,
) -> PhaseResult:
    meter = CpuMeter(server, db_name)
    meter.start()
    elapsed, latencies, statuses = drive(server.port, requests, concurrency, duration)
    result = PhaseResult(name, server.shape, concurrency, elapsed, latencies, statuses)
    result.cpu = meter.stop()
    return result


def reset_bookings() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE spaces_booking")
        cursor.execute("VACUUM ANALYZE spaces_booking")


def print_table(results: list[PhaseResult]) -> None:
    print(
        "\n| phase | gunicorn | concurrency | requests | created/s | req/s | p50 ms | p99 ms "
        "| CPU ms/req gunicorn + postgres | CPU ceiling req/s | others' CPU |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.name} | {r.server} | {r.concurrency} | {len(r.latencies)} "
            f"| {r.created_per_second:.0f} | {r.requests_per_second:.0f} "
            f"| {percentile(r.latencies, 0.5) * 1000:.0f} "
            f"| {percentile(r.latencies, 0.99) * 1000:.0f} "
            f"| {r.cpu_ms_per_request('gunicorn'):.1f} + {r.cpu_ms_per_request('postgres'):.1f} "
            f"| {r.cpu_ceiling:.0f} | {r.cpu['other'] / r.cpu['machine']:.0%} |"
        )


def forget_throttle_history(fixture: Fixture) -> None:
    """Delete this run's rate-limit counters from the cache (they would expire within a minute)."""
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    keys = [
        ScopedRateThrottle.cache_format % {"scope": "booking_write", "ident": pk}
        for pk in fixture.members
    ]
    cache.delete_many(keys)


def forget_broker_messages(redis_url: str) -> None:
    """Delete the Celery queue of the benchmark's Redis database: each booking queued a
    confirmation email (through the outbox) for a worker that this benchmark does not run."""
    import redis

    queue = "celery"  # Celery's default queue; the project does not rename it
    keys = [queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"]
    redis.Redis.from_url(redis_url).delete(*keys)


def int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--servers",
        type=lambda text: [part for part in text.split(",") if part],
        default=["2", "4", "3x4"],
        help="gunicorn shapes: 4 = 4 sync workers, 3x4 = 3 gthread workers x 4 threads",
    )
    parser.add_argument("--concurrency", type=int_list, default=[1, 4, 16], help="e.g. 1,4,16")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--max-requests", type=int, default=4000, help="per phase")
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--db-name", default="chtipass_bench")
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/15",
        help="cache and Celery broker, as in production ('' for none); the benchmark deletes "
        "its throttle counters and queued tasks from it at the end",
    )
    parser.add_argument(
        "--quiet-timeout",
        type=float,
        default=30.0,
        help="before each phase, wait up to this many seconds for other processes to be idle",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--snapshot", metavar="REV", help="measure the committed tree REV, not the work tree"
    )
    args = parser.parse_args(argv)
    if args.snapshot:
        return run_on_snapshot(args.snapshot, __file__)

    env = benchmark_environment(args.db_name, redis_url=args.redis_url or None)
    print(f"machine: {machine_description()}")
    print(f"code: {code_description()}")
    results: list[PhaseResult] = []
    with (
        benchmark_database(args.db_name, keep=args.keep_db),
        tempfile.TemporaryDirectory(prefix="chtipass-bench-") as log_dir,
    ):
        setup_django(env)
        fixture = build_fixture(args.members)
        print(f"fixture: {len(fixture.rooms)} rooms, {len(fixture.tokens)} members with tokens")
        try:
            count_queries(Workload(fixture))
            for shape in args.servers:
                reset_bookings()
                workload = Workload(fixture)
                with Gunicorn.of(shape, env, Path(log_dir) / f"gunicorn-{shape}.log") as server:
                    # Warm-up (not reported): every worker imports, connects and compiles once.
                    slots = server.workers * server.threads
                    drive(server.port, workload.distinct(20 * slots), slots, args.duration)
                    for concurrency in args.concurrency:
                        count = min(args.max_requests, workload.capacity)
                        phases: list[tuple[str, Callable[[int], list[Request]]]] = [
                            ("distinct", workload.distinct),
                            ("collide", workload.collide),
                        ]
                        for name, make in phases:
                            wait_for_quiet(args.quiet_timeout)
                            result = run_phase(
                                name,
                                server,
                                args.db_name,
                                make(count),
                                concurrency,
                                args.duration,
                            )
                            results.append(result)
                            print(result.line(), flush=True)
        finally:
            forget_throttle_history(fixture)
            if args.redis_url:
                forget_broker_messages(args.redis_url)
    print(f"after: {machine_description()}")
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How many ch'tipass scans per second, at what latency, and where does the time go?

Three measurements, run by hand (not a test):

1. HTTP: `POST /api/v1/scans/` with `Authorization: Api-Key <key>` on PostgreSQL behind gunicorn
   (sync and gthread workers, several worker counts), driven over loopback by `wrk` with a Lua
   script (`apt-get install -y wrk`). Every request is the FIRST check-in of a distinct member at
   a network host that is not their home (the full path: capacity, allowances, Visit, Scan), so it
   must answer `accepted` with `already_checked_in: false`; the script checks that in the database.
   It reports accepted scans/s, p50/p99 latency, and the CPU used by the gunicorn workers,
   PostgreSQL, Redis, wrk itself and anything else on the machine.
2. `passes.codec.verify` per second, in-process, on one core.
3. In-process through DRF's APIClient: SQL statements per accepted scan (CaptureQueriesContext)
   and the round trips PostgreSQL actually sees (libpq protocol trace; Django's test client does
   not send `request_started`, so the `SELECT 1` of CONN_HEALTH_CHECKS that every gunicorn request
   adds is not in it), CPU time per scan, the CPU of one statement through the ORM and as constant
   SQL, and a cProfile of `scan_record`. With `--py-spy PATH`, one more HTTP run of the best
   configuration under py-spy.

Every scan goes through Django, DRF and `passes/scanning.py`: there is one scan engine.
Nothing outside benchmarks/ changes.

    .venv/bin/python benchmarks/scans.py --snapshot HEAD       # the committed code, everything
    .venv/bin/python benchmarks/scans.py --rotating            # also runs with rotating codes
    .venv/bin/python benchmarks/scans.py --parts codec,inprocess
    .venv/bin/python benchmarks/scans.py --configs gthread:2x8,gthread:3x8

It creates (and afterwards drops) the database `chtipass_scanbench` on 127.0.0.1:5432, uses Redis
database 13 on 127.0.0.1:6379 as the cache (flushed before and after), and starts gunicorn on
127.0.0.1 only; every run is bounded by `--duration` seconds and gunicorn is stopped after each.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    PROJECT_ROOT,
    benchmark_database,
    benchmark_environment,
    database_url,
    machine_description,
    median,
    percentile,
    setup_django,
)

DB_NAME = "chtipass_scanbench"
REDIS_URL = "redis://127.0.0.1:6379/13"
HOST = "127.0.0.1"


def _free_port() -> int:
    """A port nobody listens on now (other programs on this machine start servers too)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


PORT = _free_port()
SCAN_PATH = "/api/v1/scans/"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Tables written by scans: emptied between runs so that every run starts from the same state.
SCAN_TABLES = ("Scan", "Visit", "CounterUse", "AllowanceCounter", "HostDayCounter")

WRK_SCRIPT = r"""
-- One pre-built request per line of the file given after `--`: "<api key>\t<credential>".
local requests, next_index, exhausted = {}, 0, 0
accepted, first_checkins, non_200, answers = 0, 0, 0, 0

init = function(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local key, credential = line:match("^([^\t]+)\t(.+)$")
    requests[#requests + 1] = wrk.format("POST", "SCAN_PATH", {
      ["Authorization"] = "Api-Key " .. key,
      ["Content-Type"] = "application/json",
    }, '{"credential": "' .. credential .. '"}')
  end
  file:close()
end

request = function()
  next_index = next_index + 1
  if next_index > #requests then
    -- Out of distinct members: stop rather than send repeats (which would not be first check-ins).
    exhausted = 1
    wrk.thread:stop()
    return requests[#requests]
  end
  return requests[next_index]
end

response = function(status, headers, body)
  answers = answers + 1
  if status ~= 200 then
    non_200 = non_200 + 1
  elseif body:find('"decision":"accepted"', 1, true) then
    accepted = accepted + 1
    if body:find('"already_checked_in":false', 1, true) then
      first_checkins = first_checkins + 1
    end
  end
end

local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
end

done = function(summary, latency, requests_)
  local totals = {accepted = 0, first_checkins = 0, non_200 = 0, answers = 0, exhausted = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + (thread:get(name) or 0)
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, '
    .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "connect_errors": %d, '
    .. '"read_errors": %d, "write_errors": %d, "timeouts": %d, "status_errors": %d, '
    .. '"accepted": %d, "first_checkins": %d, "non_200": %d, "answers": %d, '
    .. '"exhausted": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, errors.connect, errors.read,
    errors.write, errors.timeout, errors.status, totals.accepted, totals.first_checkins,
    totals.non_200, totals.answers, totals.exhausted))
end
""".replace("SCAN_PATH", SCAN_PATH)


# --- Fixture ---------------------------------------------------------------------------------


@dataclass
class Fixture:
    network: Any
    spaces: list[Any]
    keys: dict[int, list[str]]  # space id -> raw partner keys
    key_objects: dict[str, Any]  # raw key -> PartnerKey
    passes: list[Any]  # with membership__space and member loaded
    home_of: dict[int, int] = field(default_factory=dict)

    def host_of(self, index: int) -> Any:
        """The host where member `index` checks in: the space after their home (never home)."""
        return self.spaces[(index + 1) % len(self.spaces)]

    def key_for(self, index: int) -> str:
        host = self.host_of(index)
        keys = self.keys[host.pk]
        return keys[(index // len(self.spaces)) % len(keys)]


def build_fixture(members: int, spaces: int, keys_per_space: int) -> Fixture:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from coworking.models import Member
    from passes.keys import signing_key_create
    from passes.models import Network, NetworkSpace, PartnerKey, Pass
    from spaces.models import Membership, Space

    started = time.perf_counter()
    unusable = make_password(None)
    with transaction.atomic():
        space_rows = [
            Space.objects.create(slug=f"bench-space-{i:02d}", name=f"Bench Space {i:02d}")
            for i in range(spaces)
        ]
        network = Network.objects.create(
            slug="bench",
            name="Bench network",
            monthly_visits=100_000,
            monthly_visits_per_host=100_000,
        )
        for space in space_rows:
            NetworkSpace.objects.create(
                network=network, space=space, daily_visitor_capacity=2_000_000_000
            )
        signing_key_create(not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        people = Member.objects.bulk_create(
            [
                Member(
                    email=f"bench{i}@scan.example",
                    first_name=f"Visiteur{i}",
                    last_name="Bench",
                    password=unusable,
                )
                for i in range(members)
            ],
            batch_size=2000,
        )
        memberships = Membership.objects.bulk_create(
            [
                Membership(
                    member=person, space=space_rows[i % spaces], starts_on=dt.date(2025, 1, 1)
                )
                for i, person in enumerate(people)
            ],
            batch_size=2000,
        )
        Pass.objects.bulk_create(
            [
                Pass(network=network, membership=membership, member_id=membership.member_id)
                for membership in memberships
            ],
            batch_size=2000,
        )
        keys: dict[int, list[str]] = {}
        key_objects: dict[str, Any] = {}
        for space in space_rows:
            for k in range(keys_per_space):
                partner_key, raw = PartnerKey.objects.create_key(name=f"Lecteur {k}", space=space)
                keys.setdefault(space.pk, []).append(raw)
                key_objects[raw] = partner_key
    passes = list(
        Pass.objects.select_related("membership__space", "member", "network").order_by("id")
    )
    print(
        f"fixture: {members} members with a pass, {spaces} spaces, "
        f"{spaces * keys_per_space} partner keys, built in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return Fixture(network, space_rows, keys, key_objects, passes)


def credentials(fixture: Fixture, indexes: range, *, rotating: bool) -> list[str]:
    from passes.services import credential_rotating, credential_static

    now = dt.datetime.now(dt.UTC)
    if rotating:
        return [credential_rotating(fixture.passes[i], now=now)[0][1] for i in indexes]
    return [credential_static(fixture.passes[i], now=now) for i in indexes]


def reset_scan_tables() -> None:
    """Empty what scans wrote, then VACUUM ANALYZE, so that every run starts alike."""
    import psycopg
    from django.apps import apps

    tables = ", ".join(apps.get_model("passes", name)._meta.db_table for name in SCAN_TABLES)
    url = database_url(DB_NAME).replace("postgres://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY")
        conn.execute(f"VACUUM ANALYZE {tables}")


def scan_outcomes(after_id: int = 0) -> Counter:
    from passes.models import Scan

    rows = Scan.objects.filter(id__gt=after_id).values_list(
        "decision", "reason", "already_checked_in"
    )
    return Counter(
        "accepted (first check-in)"
        if decision == "accepted" and not again
        else ("accepted (already checked in)" if decision == "accepted" else f"refused:{reason}")
        for decision, reason, again in rows
    )


def last_scan_id() -> int:
    from passes.models import Scan

    return Scan.objects.order_by("-id").values_list("id", flat=True).first() or 0


# --- 2. The codec alone ----------------------------------------------------------------------


def bench_codec(seconds: float = 3.0) -> dict[str, float]:
    """`codec.verify` (decode + Ed25519) and its parts, in this process, on one core."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from passes import codec

    private_key = Ed25519PrivateKey.generate()
    public_key = private_key.public_key()
    now = int(time.time())
    text = codec.encode(
        codec.Claims(
            kid=1,
            pass_id=123_456,
            member_id=654_321,
            home_space_id=42,
            issued_at=now,
            expires_at=now + 90,
            counter=codec.window_of(now),
        ),
        private_key,
    )
    claims, body, signature = codec.decode(text)

    def rate(function) -> float:
        count, deadline = 0, time.perf_counter() + seconds
        started_cpu = time.process_time()
        while time.perf_counter() < deadline:
            for _ in range(500):
                function()
            count += 500
        return count / (time.process_time() - started_cpu)

    results = {
        "verify_per_s": rate(lambda: codec.verify(text, lambda kid: public_key)),
        "decode_per_s": rate(lambda: codec.decode(text)),
        "ed25519_verify_per_s": rate(lambda: public_key.verify(signature, codec.DOMAIN + body)),
        "check_validity_per_s": rate(lambda: codec.check_validity(claims, now)),
    }
    print("\n== 2. codec (in-process, one core) ==")
    for name, value in results.items():
        print(f"{name:<24} {value:>10,.0f} /s   ({1e6 / value:6.1f} µs each)")
    return results


# --- 3. In-process: queries, round trips, CPU, profile ---------------------------------------


def _count_round_trips(trace_path: str) -> dict[str, int]:
    """Client messages in a libpq trace: simple Query messages and extended-protocol Syncs
    (one per statement run with parameters) are each one round trip to the server."""
    counts: Counter = Counter()
    for line in Path(trace_path).read_text(errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0] == "F":
            counts[parts[2].split(" ")[0]] += 1
    return dict(counts)


def bench_inprocess(fixture: Fixture, scans: int, profile_scans: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from psycopg import pq
    from rest_framework.test import APIClient

    from passes.scanning import ScanRequest, scan_record

    reset_scan_tables()
    client = APIClient()
    index = iter(range(len(fixture.passes)))

    def one_request(credential: str, i: int):
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {fixture.key_for(i)}")
        return client.post(SCAN_PATH, {"credential": credential}, format="json")

    result: dict[str, Any] = {}
    # Warm the process (imports, key registry, URL resolver) on a few scans.
    warm = [next(index) for _ in range(20)]
    warm_texts = credentials(fixture, warm_range(warm), rotating=False)
    for i, credential in zip(warm, warm_texts, strict=True):
        assert one_request(credential, i).json()["decision"] == "accepted"

    print("\n== 3. in-process (DRF APIClient, same PostgreSQL, Redis cache) ==")
    for label, rotating in (("static", False), ("rotating", True)):
        i = next(index)
        credential = credentials(fixture, range(i, i + 1), rotating=rotating)[0]
        with CaptureQueriesContext(connection) as captured:
            answer = one_request(credential, i).json()
        assert answer["decision"] == "accepted" and not answer["already_checked_in"], answer
        statements = [query["sql"] for query in captured.captured_queries]
        kinds = Counter(_statement_kind(sql) for sql in statements)
        # The same kind of scan again, with libpq's protocol trace on: what the server sees.
        i = next(index)
        credential = credentials(fixture, range(i, i + 1), rotating=rotating)[0]
        connection.ensure_connection()
        trace_path = Path(tempfile.mkdtemp(prefix="scanbench-trace-")) / "libpq.trace"
        descriptor = os.open(trace_path, os.O_WRONLY | os.O_CREAT, 0o600)
        pgconn = connection.connection.pgconn
        pgconn.trace(descriptor)
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        one_request(credential, i)
        pgconn.untrace()
        messages = _count_round_trips(trace_path)
        shutil.rmtree(trace_path.parent, ignore_errors=True)
        round_trips = messages.get("Query", 0) + messages.get("Sync", 0)
        result[f"queries_{label}"] = len(statements)
        result[f"round_trips_{label}"] = round_trips
        result[f"query_kinds_{label}"] = dict(kinds)
        result[f"statements_{label}"] = statements
        print(
            f"{label} credential, first check-in: {len(statements)} SQL statements through "
            f"Django ({_kinds_text(kinds)}); {round_trips} round trips to PostgreSQL "
            f"(libpq trace: {messages})"
        )
    # An already-checked-in answer, for contrast.
    credential = credentials(fixture, range(i, i + 1), rotating=False)[0]
    with CaptureQueriesContext(connection) as captured:
        answer = one_request(credential, i).json()
    assert answer["already_checked_in"], answer
    result["queries_already_checked_in"] = len(captured.captured_queries)
    print(f"static credential, second scan the same day: {len(captured)} SQL statements")

    # CPU per scan: the whole request through Django/DRF, then scan_record alone.
    indexes = [next(index) for _ in range(scans)]
    texts = credentials(fixture, warm_range(indexes), rotating=False)
    cpu, wall = [], []
    for i, credential in zip(indexes, texts, strict=True):
        started, started_cpu = time.perf_counter(), time.process_time()
        answer = one_request(credential, i)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    result["request_cpu_ms_median"] = median(cpu) * 1000
    result["request_cpu_ms_mean"] = sum(cpu) / len(cpu) * 1000
    result["request_wall_ms_median"] = median(wall) * 1000
    result["request_wall_ms_p99"] = percentile(wall, 0.99) * 1000
    print(
        f"whole request (APIClient, {scans} first check-ins, one at a time): CPU median "
        f"{result['request_cpu_ms_median']:.2f} ms, mean {result['request_cpu_ms_mean']:.2f} ms;"
        f" wall median {result['request_wall_ms_median']:.2f} ms, "
        f"p99 {result['request_wall_ms_p99']:.2f} ms"
    )

    indexes = [next(index) for _ in range(scans + profile_scans)]
    texts = credentials(fixture, warm_range(indexes), rotating=False)
    requests = [
        ScanRequest(
            host=fixture.host_of(i),
            credential=credential,
            partner_key=fixture.key_objects[fixture.key_for(i)],
        )
        for i, credential in zip(indexes, texts, strict=True)
    ]
    cpu, wall = [], []
    for request in requests[:scans]:
        started, started_cpu = time.perf_counter(), time.process_time()
        scan_record(request)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    result["scan_record_cpu_ms_median"] = median(cpu) * 1000
    result["scan_record_wall_ms_median"] = median(wall) * 1000
    print(
        f"scan_record alone: CPU median {result['scan_record_cpu_ms_median']:.2f} ms, "
        f"wall median {result['scan_record_wall_ms_median']:.2f} ms"
    )

    profiler = cProfile.Profile()
    profiler.enable()
    for request in requests[scans:]:
        scan_record(request)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
    result["cprofile_cumulative"] = out.getvalue()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    result["cprofile_tottime"] = out.getvalue()
    result["cprofile_buckets"] = _profile_buckets(stats, total, profile_scans)
    print(
        f"cProfile of scan_record over {profile_scans} scans "
        f"({total / profile_scans * 1000:.2f} ms each under the profiler):"
    )
    for name, share, per_scan in result["cprofile_buckets"]:
        print(f"  {name:<58} {share:5.1f} %  {per_scan:6.3f} ms/scan")
    print(_short_table(result["cprofile_tottime"], 25))
    result["statement_costs"] = _statement_costs(fixture)
    outcomes = scan_outcomes()
    result["outcomes"] = dict(outcomes)
    reset_scan_tables()
    return result


def _statement_costs(fixture: Fixture, runs: int = 1000) -> dict[str, float]:
    """CPU (µs) that this process spends per statement: a bare round trip, the same query as
    constant SQL, and through the ORM (compilation and model instances included)."""
    from django.db import connection

    from passes.models import Pass, Visit

    pass_obj = fixture.passes[-1]
    host = fixture.host_of(len(fixture.passes) - 1)
    day = dt.date(2026, 12, 2)
    visit_sql = (
        'SELECT "id", "member_id", "pass_id", "network_id", "host_id", "home_id", "date" '
        'FROM "passes_visit" WHERE "member_id" = %s AND "host_id" = %s AND "date" = %s '
        'ORDER BY "date" DESC, "id" DESC LIMIT 1'
    )

    def cost(function) -> float:
        function()
        started = time.process_time()
        for _ in range(runs):
            function()
        return (time.process_time() - started) / runs * 1e6

    with connection.cursor() as cursor:
        costs = {
            "round_trip_select_1_us": cost(lambda: cursor.execute("SELECT 1")),
            "visit_lookup_constant_sql_us": cost(
                lambda: cursor.execute(visit_sql, (pass_obj.member_id, host.pk, day))
            ),
        }
    costs["visit_lookup_orm_us"] = cost(
        lambda: Visit.objects.filter(member_id=pass_obj.member_id, host=host, date=day).first()
    )
    costs["pass_lookup_orm_select_related_us"] = cost(
        lambda: (
            Pass.objects.select_related("network", "membership__space", "member")
            .filter(pk=pass_obj.pk, member_id=pass_obj.member_id)
            .first()
        )
    )
    print("CPU of this process per statement (µs):")
    for name, value in costs.items():
        print(f"  {name:<36} {value:7.0f}")
    return costs


def warm_range(indexes: list[int]):
    """`credentials` takes a range; the in-process indexes are consecutive."""
    return range(indexes[0], indexes[-1] + 1)


def _statement_kind(sql: str) -> str:
    words = sql.split()
    head = words[0].upper() if words else "?"
    if head in {"SAVEPOINT", "RELEASE", "ROLLBACK"}:
        return "savepoint"
    if head == "SELECT":
        table = re.search(r'FROM "([a-z_]+)"', sql)
        lock = re.search(r"FOR (NO KEY )?UPDATE( OF [^ ]+)?", sql)
        suffix = f" {lock.group(0)}" if lock else ""
        return f"SELECT {table.group(1) if table else '?'}{suffix}"
    if head in {"INSERT", "UPDATE", "DELETE"}:
        table = re.search(r'(?:INTO|UPDATE|FROM) "([a-z_]+)"', sql)
        return f"{head} {table.group(1) if table else '?'}"
    return head


def _kinds_text(kinds: Counter) -> str:
    return ", ".join(f"{count}× {kind}" for kind, count in kinds.most_common())


# Where the time of a scan goes, by the innermost frame that matches (first match wins).
PROFILE_BUCKETS = [
    ("psycopg: waiting for PostgreSQL / network", ("psycopg/", "waiting.py", "generators.py")),
    ("Ed25519 verify (cryptography)", ("ed25519", "Ed25519")),
    ("Django ORM: SQL compilation", ("models/sql/compiler.py", "models/sql/query.py")),
    ("Django ORM: model instances, querysets", ("django/db/models/",)),
    ("Django DB backend wrappers (utils, base)", ("django/db/backends/", "django/db/transaction")),
    ("Redis cache (keys version)", ("redis/", "django/core/cache")),
    ("JSON encoding (Scan.response)", ("json/",)),
]


def _profile_buckets(
    stats: pstats.Stats, total: float, scans: int
) -> list[tuple[str, float, float]]:
    """Self time of every function, grouped by library; percentages of the profiled time."""
    buckets: dict[str, float] = defaultdict(float)
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        where = f"{filename}:{name}"
        for label, needles in PROFILE_BUCKETS:
            if any(needle in where for needle in needles):
                buckets[label] += tottime
                break
        else:
            if "/passes/" in filename:
                buckets["passes/ (scanning, codec, keys) own code"] += tottime
            elif "site-packages/django/" in filename:
                buckets["Django, other"] += tottime
            else:
                buckets["other (stdlib, builtins)"] += tottime
    return [
        (label, seconds / total * 100, seconds / scans * 1000)
        for label, seconds in sorted(buckets.items(), key=lambda item: -item[1])
    ]


def _short_table(text: str, limit: int) -> str:
    lines = text.splitlines()
    start = next((n for n, line in enumerate(lines) if "ncalls" in line), 0)
    keep = [re.sub(r"/work/main/\.venv/lib/python3\.11/site-packages/", "", line) for line in lines]
    keep = [line.replace("/work/main/", "") for line in keep]
    return "\n".join(keep[start : start + limit + 1])


# --- 1. HTTP through gunicorn ----------------------------------------------------------------


@dataclass
class ServerConfig:
    worker_class: str
    workers: int
    threads: int = 1

    @classmethod
    def parse(cls, text: str) -> ServerConfig:
        kind, _, size = text.partition(":")
        workers, _, threads = size.partition("x")
        return cls(kind, int(workers), int(threads or 1))

    def __str__(self) -> str:
        return f"{self.worker_class}:{self.workers}" + (
            f"x{self.threads}" if self.worker_class == "gthread" else ""
        )


def _proc_cpu(pid: int, *, system_only: bool = False) -> float:
    """utime + stime (or stime alone) of one process, in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[12]) + (0 if system_only else int(fields[11]))) / CLK_TCK


def _processes() -> dict[int, tuple[str, int]]:
    """pid -> (command name, parent pid) for every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        found[int(entry.name)] = (name, int(text.rsplit(")", 1)[1].split()[1]))
    return found


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLK_TCK, sum(values[:8]) / CLK_TCK


def _postgres_pids() -> set[int]:
    """PostgreSQL processes that work for this benchmark: the backends connected to its database
    and the shared ones (WAL writer, checkpointer…), not other databases' backends."""
    import psycopg

    url = database_url(DB_NAME).replace("postgres://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s"
            " OR (backend_type <> 'client backend' AND datname IS NULL)",
            (DB_NAME,),
        ).fetchall()
    return {pid for (pid,) in rows}


class CpuMeter:
    """CPU seconds per group of processes between `start()` and `stop()`."""

    def __init__(self, gunicorn_pid: int) -> None:
        self.gunicorn_pid = gunicorn_pid

    def _groups(self) -> dict[str, dict[int, float]]:
        groups: dict[str, dict[int, float]] = defaultdict(dict)
        ours = _postgres_pids()
        for pid, (name, parent) in _processes().items():
            if pid == self.gunicorn_pid or parent == self.gunicorn_pid:
                groups["gunicorn"][pid] = _proc_cpu(pid)
                groups["gunicorn_system"][pid] = _proc_cpu(pid, system_only=True)
            elif pid in ours:
                groups["postgres"][pid] = _proc_cpu(pid)
            elif name.startswith("redis"):
                groups["redis"][pid] = _proc_cpu(pid)
        return groups

    def start(self) -> None:
        self.before = self._groups()
        self.machine_before = _machine_busy()
        self.started = time.perf_counter()

    def stop(self) -> dict[str, float]:
        after = self._groups()
        busy_after, total_after = _machine_busy()
        wall = time.perf_counter() - self.started
        used = {
            group: sum(cpu - self.before.get(group, {}).get(pid, 0.0) for pid, cpu in pids.items())
            for group, pids in after.items()
        }
        used["machine_busy"] = busy_after - self.machine_before[0]
        used["machine_capacity"] = total_after - self.machine_before[1]
        used["wall"] = wall
        return used


def wait_for_quiet(max_cores: float, timeout: float) -> float:
    """Wait (at most `timeout` s) until other programs use under `max_cores` CPU over 2 s:
    the machine is shared, and a busy neighbour skews every figure. Returns the last sample."""
    deadline = time.monotonic() + timeout
    while True:
        busy, total = _machine_busy()
        time.sleep(2)
        busy_after, total_after = _machine_busy()
        cores = (busy_after - busy) / (total_after - total) * (os.cpu_count() or 1)
        if cores < max_cores or time.monotonic() > deadline:
            return cores
        print(f"   (machine busy: {cores:.2f} cores used by others; waiting)", flush=True)
        time.sleep(5)


def _wait_for_server(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Until gunicorn (this one: its master holds the socket) listens on PORT."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        if _listening(process.pid):
            return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not start listening")


def _listening(pid: int) -> bool:
    """Whether process `pid` holds a socket listening on HOST:PORT."""
    wanted = f"{socket.inet_aton(HOST)[::-1].hex().upper()}:{PORT:04X}"
    inodes = {
        line.split()[9]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[1] == wanted and line.split()[3] == "0A"  # 0A: LISTEN
    }
    sockets = {f"socket:[{inode}]" for inode in inodes}
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if os.readlink(descriptor) in sockets:
                return True
        except OSError:  # closed meanwhile
            continue
    return False


def start_gunicorn(config: ServerConfig, env: dict[str, str], log: Path) -> subprocess.Popen:
    app = "coworking.wsgi:application"
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        app,
        "--pythonpath",
        str(Path(__file__).resolve().parent),
        "--bind",
        f"{HOST}:{PORT}",
        "--workers",
        str(config.workers),
        "--worker-class",
        config.worker_class,
        "--log-level",
        "warning",
        "--backlog",
        "2048",
    ]
    if config.worker_class == "gthread":
        command += ["--threads", str(config.threads), "--keep-alive", "5"]
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env={**env, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _wait_for_server(process)
    return process


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _worker_pids(master: int) -> list[int]:
    return [pid for pid, (_name, parent) in _processes().items() if parent == master]


def run_wrk(
    lines_file: Path, script: Path, *, connections: int, threads: int, seconds: float
) -> tuple[dict[str, Any], float]:
    """Run wrk; returns its summary and the CPU seconds wrk itself used."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{int(seconds)}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://{HOST}:{PORT}{SCAN_PATH}",
        "--",
        str(lines_file),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    match = re.search(r"WRK-JSON (\{.*\})", output)
    if not match:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output}")
    return json.loads(match.group(1)), usage.ru_utime + usage.ru_stime


def write_requests(fixture: Fixture, indexes: range, texts: list[str], path: Path) -> None:
    with path.open("w") as file:
        for i, text in zip(indexes, texts, strict=True):
            file.write(f"{fixture.key_for(i)}\t{text}\n")


@dataclass
class RunResult:
    config: str
    connections: int
    credential: str
    rate: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    accepted_share: float
    outcomes: dict[str, int]
    errors: dict[str, int]
    cpu: dict[str, float]
    wrk_cpu_s: float
    db_rate: float
    exhausted: bool

    def line(self) -> str:
        wall = self.cpu["wall"]
        cores = {
            group: self.cpu.get(group, 0.0) / wall for group in ("gunicorn", "postgres", "redis")
        }
        ours = sum(self.cpu.get(group, 0.0) for group in ("gunicorn", "postgres", "redis"))
        other = max(self.cpu["machine_busy"] - ours - self.wrk_cpu_s, 0.0) / wall
        per_scan = self.cpu.get("gunicorn", 0.0) / max(self.requests, 1) * 1000
        # What 2 cores could do if this run's CPU per scan (web, PostgreSQL, Redis, wrk) had
        # them to itself: a ceiling that does not depend on what else the machine ran.
        used = ours + self.wrk_cpu_s
        ceiling = (os.cpu_count() or 1) * self.requests / used if used else 0.0
        system = self.cpu.get("gunicorn_system", 0.0) / max(self.cpu.get("gunicorn", 0.0), 1e-9)
        pg_per_scan = self.cpu.get("postgres", 0.0) / max(self.requests, 1) * 1000
        return (
            f"{self.config:<12} c={self.connections:<3} {self.credential:<8} "
            f"{self.rate:7.1f} scans/s  p50 {self.p50_ms:6.1f} ms  p99 {self.p99_ms:7.1f} ms  "
            f"accepted {self.accepted_share * 100:5.1f} % (non-200: {self.errors['non_200']})  "
            f"CPU cores: gunicorn {cores['gunicorn']:.2f}, postgres {cores['postgres']:.2f}, "
            f"redis {cores['redis']:.2f}, wrk {self.wrk_cpu_s / wall:.2f}, other {other:.2f} "
            f"| per scan: web {per_scan:.2f} ms CPU ({system * 100:.0f} % in the kernel), "
            f"postgres {pg_per_scan:.2f} ms CPU | CPU ceiling {ceiling:.0f} scans/s"
            + ("  [RAN OUT OF MEMBERS]" if self.exhausted else "")
        )


def bench_http(
    fixture: Fixture,
    env: dict[str, str],
    configs: list[ServerConfig],
    connection_counts: list[int],
    *,
    seconds: float,
    warmup_seconds: float,
    warmup_pool: int,
    wrk_threads: int,
    rotating: bool,
    rotating_configs: list[ServerConfig],
    py_spy: str | None,
    workdir: Path,
    quiet_cores: float,
    quiet_timeout: float,
) -> list[RunResult]:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    script = workdir / "scan.lua"
    script.write_text(WRK_SCRIPT)
    total = len(fixture.passes)
    warm_indexes = range(total - warmup_pool, total)
    main_indexes = range(0, total - warmup_pool)
    warm_file, main_file = workdir / "warm.txt", workdir / "main.txt"
    write_requests(
        fixture, warm_indexes, credentials(fixture, warm_indexes, rotating=False), warm_file
    )
    static_texts = credentials(fixture, main_indexes, rotating=False)
    write_requests(fixture, main_indexes, static_texts, main_file)
    log = workdir / "gunicorn.log"

    def one_run(config: ServerConfig, connections: int, kind: str, spy: bool) -> RunResult:
        wait_for_quiet(quiet_cores, quiet_timeout)
        reset_scan_tables()
        from django.core.cache import cache

        cache.clear()
        log.write_text("")
        server = start_gunicorn(config, env, log)
        try:
            # Warm every worker (imports, connections, key registry) on other members.
            run_wrk(
                warm_file,
                script,
                connections=connections,
                threads=wrk_threads,
                seconds=warmup_seconds,
            )
            if kind == "rotating":  # signed just now: valid for 60–90 s
                texts = credentials(fixture, main_indexes, rotating=True)
                write_requests(fixture, main_indexes, texts, main_file)
            first_id = last_scan_id()
            spies = _start_py_spy(py_spy, server.pid, workdir, seconds) if spy else []
            meter = CpuMeter(server.pid)
            meter.start()
            summary, wrk_cpu = run_wrk(
                main_file, script, connections=connections, threads=wrk_threads, seconds=seconds
            )
            cpu = meter.stop()
            if kind == "rotating":  # back to static lines for the next runs
                write_requests(fixture, main_indexes, static_texts, main_file)
            for process in spies:
                process.wait(timeout=seconds + 30)
        finally:
            stop_gunicorn(server)
        result = RunResult(
            config=str(config),
            connections=connections,
            credential=kind + (" (under py-spy)" if spy else ""),
            rate=summary["first_checkins"] / (summary["duration_us"] / 1e6),
            p50_ms=summary["p50_us"] / 1000,
            p90_ms=summary["p90_us"] / 1000,
            p99_ms=summary["p99_us"] / 1000,
            max_ms=summary["max_us"] / 1000,
            requests=summary["requests"],
            # Of every answer wrk received (a 500 stores no Scan): first check-ins accepted.
            accepted_share=summary["first_checkins"] / max(summary["answers"], 1),
            outcomes=dict(scan_outcomes(first_id)),
            errors={
                k: summary[k]
                for k in (
                    "connect_errors",
                    "read_errors",
                    "write_errors",
                    "timeouts",
                    "status_errors",
                    "non_200",
                )
            },
            cpu=cpu,
            wrk_cpu_s=wrk_cpu,
            db_rate=_database_rate(first_id),
            exhausted=bool(summary["exhausted"]),
        )
        print(result.line(), flush=True)
        if result.accepted_share < 0.99 or any(result.errors.values()):
            print(f"   outcomes {result.outcomes} errors {result.errors}", flush=True)
            errors = [line for line in log.read_text(errors="replace").splitlines() if line]
            print("   gunicorn log, last lines:\n     " + "\n     ".join(errors[-6:]), flush=True)
        if spies:
            print(_py_spy_report(workdir), flush=True)
        return result

    plan = [(config, c) for config in configs for c in connection_counts]
    print(
        f"\n== 1. HTTP: {len(plan)} runs of {seconds:.0f} s (+{warmup_seconds:.0f} s warm-up), "
        f"{len(main_indexes)} distinct members available per run ==",
        flush=True,
    )
    results = [one_run(config, c, "static", spy=False) for config, c in plan]
    best = max(zip(plan, results, strict=True), key=lambda item: item[1].rate)[0]
    if rotating:
        print("-- rotating credentials, signed just before each run --", flush=True)
        for config in rotating_configs or [best[0]]:
            results += [one_run(config, c, "rotating", spy=False) for c in connection_counts]
    if py_spy:
        print("-- profiling run (not a measurement: py-spy slows the workers) --", flush=True)
        results.append(one_run(best[0], best[1], "static", spy=True))
    reset_scan_tables()
    return results


def _database_rate(after_id: int) -> float:
    """Scans per second from the database's own timestamps (a cross-check of wrk's count)."""
    from django.db.models import Count, Max, Min

    from passes.models import Scan

    stats = Scan.objects.filter(id__gt=after_id).aggregate(
        n=Count("id"), first=Min("received_at"), last=Max("received_at")
    )
    if not stats["n"] or stats["last"] == stats["first"]:
        return 0.0
    return (stats["n"] - 1) / (stats["last"] - stats["first"]).total_seconds()


def _start_py_spy(binary: str, master: int, workdir: Path, seconds: float) -> list:
    spies = []
    for pid in _worker_pids(master):
        spies.append(
            subprocess.Popen(
                [
                    binary,
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(int(seconds) - 2),
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--output",
                    str(workdir / f"py-spy-{pid}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return spies


# Inclusive buckets for the py-spy stacks: a sample counts in the first bucket whose needle is
# in any frame of its stack, checked from the innermost frame outwards.
SPY_BUCKETS = [
    ("psycopg: sending queries, reading results (on CPU)", ("psycopg/",)),
    ("Redis round trips (throttle, keys version)", ("redis/connection.py", "redis/client.py")),
    ("Ed25519 verify", ("codec.py:verify",)),
    ("SQL compilation (Django ORM)", ("sql/compiler.py",)),
    ("DRF throttle (history pickling)", ("throttling.py",)),
]


def _py_spy_report(workdir: Path, top: int = 25) -> str:
    inclusive: Counter = Counter()
    own: Counter = Counter()
    buckets: Counter = Counter()
    total = 0
    for path in workdir.glob("py-spy-*.txt"):
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            samples = int(count)
            total += samples
            frames = [_frame_name(frame) for frame in stack.split(";")]
            for frame in set(frames):
                inclusive[frame] += samples
            own[frames[-1]] += samples
            for label, needles in SPY_BUCKETS:
                if any(needle in frame for frame in reversed(frames) for needle in needles):
                    buckets[label] += samples
                    break
            else:
                buckets["everything else (Django/DRF request path, ORM objects, …)"] += samples
        path.unlink()
    if not total:
        return "py-spy: no samples (is ptrace allowed?)"
    lines = [f"py-spy on the gunicorn workers: {total} samples (on-CPU only)", "  by area:"]
    lines += [f"    {n / total * 100:5.1f} %  {label}" for label, n in buckets.most_common()]
    lines.append("  top functions by inclusive share:")
    interesting = [
        (frame, n)
        for frame, n in inclusive.most_common()
        if not re.search(r"(gunicorn/|threading\.py|socketserver|wsgi\.py|<module>)", frame)
    ]
    lines += [f"    {n / total * 100:5.1f} %  {frame}" for frame, n in interesting[:top]]
    lines.append("  top functions by own (self) share:")
    lines += [f"    {n / total * 100:5.1f} %  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)


def _frame_name(frame: str) -> str:
    """`handle (gunicorn/workers/sync.py:135)` -> `gunicorn/workers/sync.py:handle`."""
    match = re.match(r"(.*) \((.*?):\d+\)$", frame)
    if not match:
        return frame
    name, path = match.groups()
    path = re.sub(r".*site-packages/", "", path).replace(str(PROJECT_ROOT) + "/", "")
    path = re.sub(r".*/lib/python3\.\d+/", "", path)
    return f"{path}:{name}"


def run_on_snapshot(revision: str) -> int:
    """Run this script again on `git archive <revision>` plus the current benchmarks/ folder."""
    folder = Path(tempfile.mkdtemp(prefix="scanbench-src-"))
    try:
        commit = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", revision],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        archive = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "archive", commit],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        shutil.copytree(Path(__file__).resolve().parent, folder / "benchmarks", dirs_exist_ok=True)
        (folder / "SNAPSHOT").write_text(commit + "\n")
        arguments, skip = [], False
        for argument in sys.argv[1:]:
            if skip or argument.startswith("--snapshot"):
                skip = argument == "--snapshot"
                continue
            arguments.append(argument)
        script = folder / "benchmarks" / "scans.py"
        child = subprocess.Popen([sys.executable, str(script), *arguments])
        try:
            return child.wait()
        finally:
            if child.poll() is None:  # stopped early: let the child clean up (gunicorn, database)
                child.send_signal(signal.SIGTERM)
                child.wait(timeout=60)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def code_description() -> str:
    """Which code is measured: the snapshot's commit, or the work tree's HEAD and whether the
    files that a scan runs through differ from it."""
    snapshot = PROJECT_ROOT / "SNAPSHOT"
    if snapshot.exists():
        return f"commit {snapshot.read_text().strip()} (git archive snapshot in {PROJECT_ROOT})"
    try:
        head = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--", "passes", "api"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"work tree {PROJECT_ROOT} (no git)"
    state = "with local changes in passes/ or api/" if changed else "clean in passes/ and api/"
    return f"work tree {PROJECT_ROOT} at {head}, {state}"


# --- Main ------------------------------------------------------------------------------------


def _stop(signum, frame) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    # A TERM (or INT, ignored in background jobs) runs the `finally` blocks: gunicorn is
    # stopped and the database dropped.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="codec,inprocess,http")
    parser.add_argument("--members", type=int, default=24_000)
    parser.add_argument("--spaces", type=int, default=10)
    parser.add_argument("--keys-per-space", type=int, default=4)
    parser.add_argument(
        "--configs",
        default="sync:2,sync:4,gthread:2x4,gthread:2x8,gthread:3x8",
        help="worker class:workers[xthreads], comma-separated",
    )
    parser.add_argument("--connections", default="16,32")
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--warmup-pool", type=int, default=2_000)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--rotating", action="store_true", help="also runs with rotating codes")
    parser.add_argument(
        "--rotating-configs", default="", help="configs for the rotating runs (default: best)"
    )
    parser.add_argument(
        "--throttle",
        default="1000000/min",
        help="THROTTLE_SCAN for gunicorn (high: the benchmark sends far more than a door would)",
    )
    parser.add_argument("--inprocess-scans", type=int, default=500)
    parser.add_argument("--profile-scans", type=int, default=1000)
    parser.add_argument(
        "--py-spy", default=None, help="path to py-spy: one more run of the best configuration"
    )
    parser.add_argument(
        "--quiet-cores",
        type=float,
        default=0.3,
        help="before each run, wait until other programs use fewer cores than this",
    )
    parser.add_argument("--quiet-timeout", type=float, default=180)
    parser.add_argument(
        "--snapshot",
        default=None,
        metavar="REV",
        help="measure the committed tree REV (git archive into a temporary folder, with this "
        "benchmarks/ folder), not a work tree that may be changing",
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--dump", default=None, help="write every figure to this JSON file")
    args = parser.parse_args()
    if args.snapshot:
        raise SystemExit(run_on_snapshot(args.snapshot))
    sys.path.insert(0, str(PROJECT_ROOT))
    parts = set(args.parts.split(","))

    print(machine_description(), flush=True)
    print(f"code measured: {code_description()}", flush=True)
    env = benchmark_environment(DB_NAME, redis_url=REDIS_URL)
    env["THROTTLE_SCAN"] = args.throttle
    report: dict[str, Any] = {"machine": machine_description(), "args": vars(args)}
    if "codec" in parts:
        wait_for_quiet(args.quiet_cores, args.quiet_timeout)
        report["codec"] = bench_codec()
    if not parts & {"inprocess", "http"}:
        return
    workdir = Path(tempfile.mkdtemp(prefix="scanbench-"))
    try:
        with benchmark_database(DB_NAME, keep=args.keep_db):
            setup_django(env)
            from django.core.cache import cache

            cache.clear()
            fixture = build_fixture(args.members, args.spaces, args.keys_per_space)
            if "inprocess" in parts:
                wait_for_quiet(args.quiet_cores, args.quiet_timeout)
                report["inprocess"] = bench_inprocess(
                    fixture, args.inprocess_scans, args.profile_scans
                )
            if "http" in parts:
                configs = [ServerConfig.parse(c) for c in args.configs.split(",")]
                results = bench_http(
                    fixture,
                    env,
                    configs,
                    [int(c) for c in args.connections.split(",")],
                    seconds=args.duration,
                    warmup_seconds=args.warmup,
                    warmup_pool=args.warmup_pool,
                    wrk_threads=args.wrk_threads,
                    rotating=args.rotating,
                    rotating_configs=[
                        ServerConfig.parse(c) for c in args.rotating_configs.split(",") if c
                    ],
                    py_spy=args.py_spy,
                    workdir=workdir,
                    quiet_cores=args.quiet_cores,
                    quiet_timeout=args.quiet_timeout,
                )
                report["http"] = [vars(r) for r in results]
                print("\n== summary: best configuration (static credentials) ==")
                runs = [r for r in results if r.credential == "static"]
                for connections in sorted({r.connections for r in runs}):
                    same = [r for r in runs if r.connections == connections]
                    print(max(same, key=lambda r: r.rate).line())
            cache.clear()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.dump:
        Path(args.dump).write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()

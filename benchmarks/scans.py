"""How many accepted scans per second, at what latency, and where does the time go?

Run by hand (not a test); the figures go in benchmarks/SCANS.md.

    apt-get install -y wrk                                  # the load generator (Debian package)
    .venv/bin/python benchmarks/scans.py                    # the work tree, both parts, ~1 min
    .venv/bin/python benchmarks/scans.py --snapshot HEAD    # the committed code, not the work tree
    .venv/bin/python benchmarks/scans.py --parts inprocess  # statements and CPU per scan only
    .venv/bin/python benchmarks/scans.py --duration 3 --members 3000   # a smoke run

Two parts, on PostgreSQL with Redis as the cache:

- `http`: `POST /api/v1/scans/` with `Authorization: Api-Key <key>` behind gunicorn (gthread,
  2 workers × 8 threads by default, as the Dockerfile), driven over loopback by `wrk` with a Lua
  script at 16 connections. Every request is the FIRST check-in of a distinct member at a network
  space that is not their home (capacity, allowances, Visit, Scan: the whole path), so it must
  answer `accepted` with `already_checked_in: false`; the Scan rows are counted afterwards. It
  prints accepted scans/s, p50/p99, and the CPU per scan of gunicorn and PostgreSQL.
- `inprocess`: through DRF's APIClient, one request at a time: the SQL statements of an accepted
  scan (CaptureQueriesContext) and the round trips PostgreSQL sees (libpq trace), the CPU per
  request, and a cProfile of whole requests grouped by library.

There is one scan engine: every scan goes through Django's middleware, DRF and
`passes/scanning.py`. The script creates (and drops) the database `--db-name` on 127.0.0.1:5432,
uses Redis database 13 on 127.0.0.1:6379 (flushed before and after) and starts gunicorn on
127.0.0.1 only; every run lasts `--duration` seconds and gunicorn is stopped after each.
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
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    HOST,
    PROJECT_ROOT,
    CpuMeter,
    Gunicorn,
    benchmark_database,
    benchmark_environment,
    code_description,
    database_url,
    machine_description,
    median,
    run_on_snapshot,
    seed_members,
    setup_django,
    wait_for_quiet,
    without_machine_paths,
)

REDIS_URL = "redis://127.0.0.1:6379/13"
SCAN_PATH = "/api/v1/scans/"
# The fixture's models in `passes`; every other table of the app is what scans write (scans,
# visits, counters…), emptied between runs so that every run starts from the same state. Named
# by what stays, so that a table the scan path gains is emptied too.
FIXTURE_MODELS = {"network", "networkspace", "pass", "signingkey", "partnerkey"}

WRK_SCRIPT = r"""
-- One pre-built request per line of the file given after `--`: "<api key>\t<credential>".
local requests, next_index = {}, 0
accepted, first_checkins, non_200, answers, exhausted = 0, 0, 0, 0, 0

init = function(args)
  for line in io.lines(args[1]) do
    local key, credential = line:match("^([^\t]+)\t(.+)$")
    requests[#requests + 1] = wrk.format("POST", "SCAN_PATH", {
      ["Authorization"] = "Api-Key " .. key,
      ["Content-Type"] = "application/json",
    }, '{"credential": "' .. credential .. '"}')
  end
end

request = function()
  next_index = next_index + 1
  if next_index > #requests then
    -- Out of distinct members: stop rather than send repeats (not first check-ins).
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
setup = function(thread) threads[#threads + 1] = thread end

done = function(summary, latency, requests_)
  local t = {accepted = 0, first_checkins = 0, non_200 = 0, answers = 0, exhausted = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(t) do t[name] = t[name] + (thread:get(name) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
    .. '"socket_errors": %d, "timeouts": %d, "accepted": %d, "first_checkins": %d, '
    .. '"non_200": %d, "answers": %d, "exhausted": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect + e.read + e.write, e.timeout, t.accepted, t.first_checkins,
    t.non_200, t.answers, t.exhausted))
end
""".replace("SCAN_PATH", SCAN_PATH)


# --- Fixture ---------------------------------------------------------------------------------


@dataclass
class Fixture:
    spaces: list[Any]
    keys: dict[int, list[str]]  # space id -> raw partner keys
    key_objects: dict[str, Any]  # raw key -> PartnerKey
    passes: list[Any]  # in member order, with membership__space, member and network loaded

    def key_for(self, index: int) -> str:
        """A key of the space where member `index` checks in: the one after their home."""
        keys = self.keys[self.spaces[(index + 1) % len(self.spaces)].pk]
        return keys[(index // len(self.spaces)) % len(keys)]


def build_fixture(members: int, spaces: int, keys_per_space: int) -> Fixture:
    from django.db import transaction

    from passes.keys import signing_key_create
    from passes.models import Network, NetworkSpace, PartnerKey, Pass
    from spaces.models import Membership, Space

    started = time.perf_counter()
    with transaction.atomic():
        space_rows = [
            Space.objects.create(slug=f"bench-space-{i:02d}", name=f"Bench Space {i:02d}")
            for i in range(spaces)
        ]
        network = Network.objects.create(
            slug="bench", name="Bench", monthly_visits=100_000, monthly_visits_per_host=100_000
        )
        for space in space_rows:
            NetworkSpace.objects.create(
                network=network, space=space, daily_visitor_capacity=2_000_000_000
            )
        signing_key_create(not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        seed_members(space_rows, members)
        Pass.objects.bulk_create(
            [
                Pass(network=network, membership=membership, member_id=membership.member_id)
                for membership in Membership.objects.order_by("member_id")
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
        Pass.objects.select_related("membership__space", "member", "network").order_by("member_id")
    )
    print(
        f"fixture: {members} members with a pass, {spaces} spaces, "
        f"{spaces * keys_per_space} partner keys, built in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return Fixture(space_rows, keys, key_objects, passes)


def credentials(fixture: Fixture, indexes: range) -> list[str]:
    """The members' static (card) credentials: valid for the whole run, unlike rotating codes."""
    from passes.services import credential_static

    now = dt.datetime.now(dt.UTC)
    return [credential_static(fixture.passes[i], now=now) for i in indexes]


def reset_scan_tables(db_name: str) -> None:
    """Empty what scans wrote, then VACUUM ANALYZE, so that every run starts alike."""
    import psycopg
    from django.apps import apps

    tables = ", ".join(
        model._meta.db_table
        for model in apps.get_app_config("passes").get_models()
        if model._meta.model_name not in FIXTURE_MODELS and model._meta.managed
    )
    url = database_url(db_name).replace("postgres://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY")
        conn.execute(f"VACUUM ANALYZE {tables}")


def scan_outcomes(after_id: int = 0) -> Counter:
    from passes.models import Scan

    rows = Scan.objects.filter(id__gt=after_id).values_list(
        "decision", "reason", "already_checked_in"
    )
    return Counter(
        ("accepted again" if again else "accepted") if decision == "accepted" else reason
        for decision, reason, again in rows
    )


def last_scan_id() -> int:
    from passes.models import Scan

    return Scan.objects.order_by("-id").values_list("id", flat=True).first() or 0


# --- In-process: statements, round trips, CPU, profile ---------------------------------------


def _count_round_trips(trace_path: Path) -> int:
    """Round trips in a libpq trace: each simple Query, and each Sync of the extended protocol
    (one per statement run with parameters)."""
    messages: Counter = Counter()
    for line in trace_path.read_text(errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0] == "F":
            messages[parts[2].split(" ")[0]] += 1
    return messages["Query"] + messages["Sync"]


def _statement_kind(sql: str) -> str:
    head = (sql.split() or ["?"])[0].upper()
    if head in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
        table = re.search(r'(?:FROM|INTO|UPDATE) "([a-z_]+)"', sql)
        return f"{head} {table.group(1) if table else '?'}"
    return head


# Where the CPU of a request goes, by the file of each function's own time (first match wins).
PROFILE_AREAS = [
    ("test client (not in a real request)", ("django/test/", "rest_framework/test")),
    ("psycopg (building, sending, reading)", ("psycopg/",)),
    ("Ed25519 and hashing (cryptography, hashlib)", ("cryptography", "Ed25519", "hashlib")),
    ("Django ORM: SQL compilation", ("models/sql/",)),
    ("Django ORM: models, querysets", ("django/db/models/",)),
    ("Django DB backend wrappers", ("django/db/backends/", "django/db/transaction", "db/utils")),
    ("Redis and the cache", ("redis/", "django/core/cache", "django_redis")),
    ("DRF (views, parsers, serializers, throttles)", ("rest_framework/",)),
    (
        "Django request/response, middleware, URLs",
        (
            "django/core/handlers",
            "django/http",
            "django/middleware",
            "django/urls",
            "django/contrib/",
        ),
    ),
    ("project code (passes/, api/, spaces/, coworking/)", (str(PROJECT_ROOT),)),
]


def _profile_areas(stats: pstats.Stats, requests: int) -> list[tuple[str, float, float]]:
    areas: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _line, name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():
        total += own
        where = f"{filename}:{name}"  # C functions have no file: `~:<method 'verify' of …>`
        label = next(
            (label for label, needles in PROFILE_AREAS if any(n in where for n in needles)),
            "other (stdlib, builtins)",
        )
        areas[label] += own
    return [
        (label, seconds / total * 100, seconds / requests * 1000)
        for label, seconds in sorted(areas.items(), key=lambda item: -item[1])
    ]


def bench_inprocess(fixture: Fixture, db_name: str, scans: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from psycopg import pq
    from rest_framework.test import APIClient

    reset_scan_tables(db_name)
    client = APIClient()
    taken = 0

    def scan(i: int, credential: str) -> dict[str, Any]:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {fixture.key_for(i)}")
        return client.post(SCAN_PATH, {"credential": credential}, format="json").json()

    def next_scans(count: int) -> list[tuple[int, str]]:
        """`count` members who have not scanned yet, with their credentials."""
        nonlocal taken
        indexes = range(taken, taken + count)
        taken += count
        return list(zip(indexes, credentials(fixture, indexes), strict=True))

    for i, credential in next_scans(20):  # warm: imports, key registry, URL resolver
        assert scan(i, credential)["decision"] == "accepted"
    print("\n== in-process (DRF APIClient, one request at a time) ==", flush=True)
    result: dict[str, Any] = {}

    [(i, credential)] = next_scans(1)
    with CaptureQueriesContext(connection) as captured:
        answer = scan(i, credential)
    assert answer["decision"] == "accepted" and not answer["already_checked_in"], answer
    statements = [query["sql"] for query in captured.captured_queries]
    kinds = Counter(_statement_kind(sql) for sql in statements)
    result["statements_per_scan"] = len(statements)
    result["statements"] = statements
    print(
        f"accepted first check-in: {len(statements)} SQL statements ("
        + ", ".join(f"{n}× {kind}" for kind, n in kinds.most_common())
        + ")"
    )
    # What the server sees. The test client sends no `request_started`, so the `SELECT 1` of
    # CONN_HEALTH_CHECKS that every gunicorn request adds is not in this count.
    [(i, credential)] = next_scans(1)
    connection.ensure_connection()
    workdir = Path(tempfile.mkdtemp(prefix="scanbench-trace-"))
    trace = workdir / "libpq.trace"
    descriptor = os.open(trace, os.O_WRONLY | os.O_CREAT, 0o600)
    pgconn = connection.connection.pgconn
    pgconn.trace(descriptor)
    pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
    scan(i, credential)
    pgconn.untrace()
    os.close(descriptor)
    result["round_trips_per_scan"] = _count_round_trips(trace)
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"round trips to PostgreSQL (libpq trace): {result['round_trips_per_scan']}")
    with CaptureQueriesContext(connection) as captured:
        assert scan(i, credential)["already_checked_in"]
    result["statements_already_checked_in"] = len(captured)
    print(f"the same member again the same day: {len(captured)} SQL statements")

    cpu, wall = [], []
    for i, credential in next_scans(scans):
        started, started_cpu = time.perf_counter(), time.process_time()
        scan(i, credential)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    result["request_cpu_ms_median"] = median(cpu) * 1000
    result["request_wall_ms_median"] = median(wall) * 1000
    print(
        f"whole request ({scans} first check-ins): CPU median "
        f"{result['request_cpu_ms_median']:.2f} ms, wall median "
        f"{result['request_wall_ms_median']:.2f} ms (test client included)"
    )

    batch = next_scans(scans)
    # CPU time, not wall time: waiting for PostgreSQL is not work this process could save.
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for i, credential in batch:
        scan(i, credential)
    profiler.disable()
    stats = pstats.Stats(profiler)
    result["profile_areas"] = _profile_areas(stats, scans)
    print(f"cProfile of {scans} requests, own CPU time by area (slower under the profiler):")
    for label, share, per_scan in result["profile_areas"]:
        print(f"  {label:<52} {share:5.1f} %  {per_scan:6.3f} ms/scan")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
    text = out.getvalue()
    table = text[text.find("ncalls") :] if "ncalls" in text else text
    table = without_machine_paths(table)
    result["profile_tottime"] = table = table.rstrip()
    print(table)
    result["outcomes"] = dict(scan_outcomes())
    reset_scan_tables(db_name)
    return result


# --- HTTP through gunicorn -------------------------------------------------------------------


@dataclass
class RunResult:
    config: str
    connections: int
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    first_checkins: int
    errors: dict[str, int]
    outcomes: dict[str, int]
    cpu: dict[str, float]
    exhausted: bool

    def line(self) -> str:
        machine = self.cpu["machine"] / (os.cpu_count() or 1)  # wall seconds
        per_scan = {
            name: self.cpu.get(name, 0.0) / max(self.requests, 1) * 1000
            for name in ("gunicorn", "postgres", "redis", "loadgen")
        }
        # What the CPUs could do if this run's CPU per scan had them to itself: a ceiling that
        # depends much less on what the neighbours ran meanwhile.
        ceiling = (os.cpu_count() or 1) * 1000 / max(sum(per_scan.values()), 1e-9)
        return (
            f"{self.config:<12} c={self.connections:<3} {self.rate:7.1f} accepted scans/s  "
            f"p50 {self.p50_ms:6.1f} ms  p99 {self.p99_ms:7.1f} ms  max {self.max_ms:7.1f} ms  "
            f"first check-ins {self.first_checkins}/{self.requests}  errors {self.errors}\n"
            f"{'':17}CPU per scan: gunicorn {per_scan['gunicorn']:.2f} ms, postgres "
            f"{per_scan['postgres']:.2f} ms, redis {per_scan['redis']:.2f} ms, wrk "
            f"{per_scan['loadgen']:.2f} ms; others used {self.cpu['other'] / machine:.2f} "
            f"cores meanwhile; CPU ceiling {ceiling:.0f} scans/s"
            + ("  [RAN OUT OF MEMBERS: raise --members]" if self.exhausted else "")
        )


def run_wrk(lines: Path, script: Path, port: int, connections: int, seconds: float) -> dict:
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s",
        "-s", str(script), f"http://{HOST}:{port}{SCAN_PATH}", "--", str(lines),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    match = re.search(r"WRK-JSON (\{.*\})", output)
    if not match:
        raise RuntimeError(f"wrk failed:\n{output}")
    return json.loads(match.group(1))


def write_requests(fixture: Fixture, indexes: range, path: Path) -> None:
    with path.open("w") as file:
        for i, text in zip(indexes, credentials(fixture, indexes), strict=True):
            file.write(f"{fixture.key_for(i)}\t{text}\n")


def bench_http(fixture: Fixture, env: dict[str, str], args: argparse.Namespace) -> list[RunResult]:
    from django.core.cache import cache

    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    workdir = Path(tempfile.mkdtemp(prefix="scanbench-"))
    script, warm_file, main_file = workdir / "scan.lua", workdir / "warm.txt", workdir / "main.txt"
    script.write_text(WRK_SCRIPT)
    total = len(fixture.passes)
    warm_pool = min(args.warmup_pool, total // 5)
    write_requests(fixture, range(total - warm_pool, total), warm_file)
    write_requests(fixture, range(0, total - warm_pool), main_file)
    log = workdir / "gunicorn.log"
    plan = [
        (config, int(c)) for config in args.configs.split(",") for c in args.connections.split(",")
    ]
    print(
        f"\n== HTTP: {len(plan)} run(s) of {args.duration:.0f} s (+{args.warmup:.0f} s warm-up), "
        f"{total - warm_pool} distinct members per run ==",
        flush=True,
    )
    results = []
    try:
        for config, connections in plan:
            wait_for_quiet(args.quiet_timeout, args.quiet_cores)
            reset_scan_tables(args.db_name)
            cache.clear()
            log.write_text("")
            with Gunicorn.of(config, env, log) as server:
                # Warm every worker (imports, connections, key registry) on other members.
                run_wrk(warm_file, script, server.port, connections, args.warmup)
                first_id = last_scan_id()
                meter = CpuMeter(server, args.db_name)
                meter.start()
                summary = run_wrk(main_file, script, server.port, connections, args.duration)
                cpu = meter.stop()
            result = RunResult(
                config=f"gthread {server.shape}" if server.threads > 1 else f"sync {server.shape}",
                connections=connections,
                rate=summary["first_checkins"] / (summary["duration_us"] / 1e6),
                p50_ms=summary["p50_us"] / 1000,
                p99_ms=summary["p99_us"] / 1000,
                max_ms=summary["max_us"] / 1000,
                requests=summary["answers"],
                first_checkins=summary["first_checkins"],
                errors={k: summary[k] for k in ("socket_errors", "timeouts", "non_200")},
                outcomes=dict(scan_outcomes(first_id)),
                cpu=cpu,
                exhausted=bool(summary["exhausted"]),
            )
            print(result.line(), flush=True)
            if result.first_checkins < result.requests or any(result.errors.values()):
                print(f"   stored scans: {result.outcomes}", flush=True)
                tail = [line for line in log.read_text(errors="replace").splitlines() if line]
                print("   gunicorn log, last lines:\n     " + "\n     ".join(tail[-6:]))
            results.append(result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    reset_scan_tables(args.db_name)
    return results


# --- Main -----------------------------------------------------------------------


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    # TERM (or INT, ignored in background jobs) runs the `finally` blocks: gunicorn is stopped
    # and the database dropped.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default="inprocess,http", help="inprocess, http or both")
    parser.add_argument(
        "--members", type=int, default=24_000, help="distinct members (each scans once per run)"
    )
    parser.add_argument("--spaces", type=int, default=10)
    parser.add_argument("--keys-per-space", type=int, default=4)
    parser.add_argument(
        "--configs",
        default="2x8",
        help="gunicorn WORKERSxTHREADS (gthread), or WORKERS alone (sync); comma-separated",
    )
    parser.add_argument("--connections", default="16", help="wrk connections, comma-separated")
    parser.add_argument("--duration", type=float, default=20, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per run")
    parser.add_argument("--warmup-pool", type=int, default=2_000, help="members kept for warm-ups")
    parser.add_argument(
        "--throttle",
        default="1000000/min",
        help="THROTTLE_SCAN for gunicorn (high: the benchmark sends far more than a door would)",
    )
    parser.add_argument(
        "--inprocess-scans", type=int, default=500, help="requests timed, then profiled"
    )
    parser.add_argument(
        "--quiet-cores",
        type=float,
        default=0.3,
        help="before each part, wait until other programs use fewer cores than this",
    )
    parser.add_argument("--quiet-timeout", type=float, default=180, help="…but at most this long")
    parser.add_argument(
        "--snapshot",
        default=None,
        metavar="REV",
        help="measure the committed tree REV (git archive into a temporary folder, with this "
        "benchmarks/ folder), not a work tree that may be changing",
    )
    parser.add_argument("--db-name", default="chtipass_scanbench", help="created, then dropped")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--dump", default=None, help="write every figure to this JSON file")
    args = parser.parse_args()
    if args.snapshot:
        raise SystemExit(run_on_snapshot(args.snapshot, __file__))
    parts = set(args.parts.split(","))
    needed = args.inprocess_scans * 2 + 50 if "inprocess" in parts else 0
    if args.members < needed:
        raise SystemExit(f"--members must be at least {needed} for --inprocess-scans")

    print(machine_description(), flush=True)
    print(f"code measured: {code_description()}", flush=True)
    env = benchmark_environment(args.db_name, redis_url=REDIS_URL)
    env["THROTTLE_SCAN"] = args.throttle
    report: dict[str, Any] = {"machine": machine_description(), "args": vars(args)}
    with benchmark_database(args.db_name, keep=args.keep_db):
        setup_django(env)
        from django.core.cache import cache

        cache.clear()
        try:
            fixture = build_fixture(args.members, args.spaces, args.keys_per_space)
            if "inprocess" in parts:
                wait_for_quiet(args.quiet_timeout, args.quiet_cores)
                report["inprocess"] = bench_inprocess(fixture, args.db_name, args.inprocess_scans)
            if "http" in parts:
                results = bench_http(fixture, env, args)
                report["http"] = [vars(r) for r in results]
        finally:
            cache.clear()
    if args.dump:
        Path(args.dump).write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()

"""Fault drill: stop PostgreSQL, then Redis, while bookings and scans flow; start them again.

Run by hand (not a test):

    .venv/bin/python benchmarks/fault_drill.py                 # ~2 min once PostgreSQL is free
    .venv/bin/python benchmarks/fault_drill.py --skip-postgres # the Redis part only

The stack is the morning rush's (benchmarks/morning_rush.py: same seed, database
`chtipass_drill` dropped at the end): gunicorn as in the Dockerfile (`-w 3 --threads 4`,
`config.wsgi` unchanged, DEBUG=0), a real Celery worker and beat (outbox sweep every 2 s),
and a PRIVATE redis-server (cache and broker, no persistence) that the drill kills and starts
again on the same port, so the shared Redis is never touched.

A steady light load runs throughout: a desk booking every 0.4 s (each a different free half-day,
so each must be created), a first check-in every 0.3 s (each a different member, with the rotating
code of the moment and a nonce, as the scanner page sends it), and GET /health/ every second.
Every answer is recorded with its phase:

    baseline 10 s | PostgreSQL stopped ~10 s | recovery 15 s | Redis killed ~10 s | recovery 20 s

PostgreSQL is the machine's shared cluster (`pg_ctlcluster ... stop|start`): before stopping it
the drill waits until no other pytest or benchmark runs (`pgrep -fa pytest`, `pgrep -fa
benchmarks/`, polling every 30 s for up to `--wait-minutes`), skips that part if they never stop,
and always starts it again in a `finally` block.

Afterwards, as the scanner page does, the scans that got no answer are uploaded with
`POST /api/v1/scans/batch/` under their original nonce (twice: the second upload must change
nothing), members retry the bookings that failed, the outbox is given time to send every
confirmation, and the database is checked: every 201 has its row and no row lacks its 201,
visits and allowance counters agree, one visit per (member, host, day), one email per booking.
Expected: 503 `{"code": "service_unavailable"}` while PostgreSQL is down (never a 500, never a
hang beyond the client's timeout); 201/200 while Redis is down; nothing lost or counted twice.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import create_database, drop_database, machine_description, setup_django
from morning_rush import (
    HOST,
    PARIS,
    WINDOW,
    PrivateRedis,
    ServerConfig,
    app_environment,
    check_invariants,
    emails_by_booking,
    seed,
    start_celery_beat,
    start_celery_worker,
    start_gunicorn,
    stop_process,
    wait_for_outbox,
    wait_until,
)

DB_NAME = "chtipass_drill"
TIMEOUT = 15.0  # the client's timeout: no request may take longer
PG_VERSION = sorted(os.listdir("/etc/postgresql"))[0] if os.path.isdir("/etc/postgresql") else ""


# --- The shared PostgreSQL ----------------------------------------------------------------------


def pg_ctl(action: str) -> float:
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", action],
        check=True,
        timeout=120,
    )
    return time.monotonic() - started


def pg_ready() -> bool:
    command = ["pg_isready", "-h", HOST, "-p", "5432", "-q", "-t", "2"]
    return subprocess.run(command, check=False).returncode == 0


def _own_tree() -> set[int]:
    """This process, its ancestors (e.g. a `timeout` wrapper) and its descendants."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    mine = {os.getpid()}
    pid = os.getpid()
    while parents.get(pid, 0) > 1:
        pid = parents[pid]
        mine.add(pid)
    changed = True
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in mine and child not in mine and parent != 1:
                mine.add(child)
                changed = True
    return mine


def others_running() -> list[str]:
    """Other people's test suites and benchmarks (they use the shared PostgreSQL)."""
    mine = _own_tree()
    found = []
    for pattern in ("pytest", "benchmarks/"):
        result = subprocess.run(["pgrep", "-fa", pattern], capture_output=True, text=True)
        for line in result.stdout.splitlines():
            pid = int(line.split()[0])
            if pid not in mine and "pgrep" not in line:
                found.append(line[:140])
    return sorted(set(found))


def wait_for_others(minutes: float) -> bool:
    """True once nobody else runs tests or benchmarks; False after `minutes` of waiting."""
    deadline = time.monotonic() + minutes * 60
    while True:
        others = others_running()
        if not others:
            return True
        if time.monotonic() > deadline:
            print("   still running after the wait:\n     " + "\n     ".join(others), flush=True)
            return False
        print(
            f"   {len(others)} other test/benchmark processes use PostgreSQL, e.g. "
            f"{others[0][:100]!r}; waiting 30 s",
            flush=True,
        )
        time.sleep(30)


# --- The light load -----------------------------------------------------------------------------


class Drill:
    """Shared by the load threads: the phase, what to send next, what came back."""

    def __init__(self, base: str, plan: dict[str, Any]) -> None:
        self.base = base
        self.plan = plan
        self.phase = "setup"
        self.started = time.monotonic()
        self.rows: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.next_booking = 0
        self.next_scan = 0

    def record(self, row: dict[str, Any]) -> None:
        with self.lock:
            self.rows.append(row)

    def call(self, method: str, path: str, body: dict | None, auth: str | None) -> dict:
        netloc = self.base.split("//")[1]
        connection = http.client.HTTPConnection(netloc, timeout=TIMEOUT)
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = auth
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        phase = self.phase
        at = time.monotonic() - self.started
        sent = time.perf_counter()
        status, answer, error = 0, None, None
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            status = response.status
            raw = response.read()
            with contextlib.suppress(ValueError):
                answer = json.loads(raw)
        except (OSError, http.client.HTTPException) as failure:
            error = failure.__class__.__name__
        finally:
            connection.close()
        return {
            "phase": phase,
            "phase_end": self.phase,
            "at": at,
            "latency": time.perf_counter() - sent,
            "status": status,
            "answer": answer,
            "error": error,
        }

    def book(self, retry_of: dict | None = None) -> dict:
        if retry_of is None:
            with self.lock:
                slot = self.plan["slots"][self.next_booking % len(self.plan["slots"])]
                self.next_booking += 1
        else:
            slot = retry_of["slot"]
        body = {"resource": slot["desk"], "date": slot["date"], "period": slot["period"]}
        row = self.call("POST", "/api/v1/bookings/", body, f"Token {slot['token']}")
        row.update({"kind": "booking", "slot": slot, "retry": retry_of is not None})
        self.record(row)
        return row

    def scan(self) -> dict:
        with self.lock:
            visit = self.plan["visits"][self.next_scan % len(self.plan["visits"])]
            self.next_scan += 1
        counter = int(time.time() // WINDOW)
        credential = visit["rotating"].get(str(counter)) or visit["static"]
        body = {
            "credential": credential,
            "scanned_at": dt.datetime.now(dt.UTC).isoformat(),
            "nonce": uuid.uuid4().hex,
        }
        row = self.call("POST", "/api/v1/scans/", body, f"Api-Key {visit['key']}")
        row.update({"kind": "scan", "visit": visit, "body": body})
        self.record(row)
        return row

    def health(self) -> dict:
        row = self.call("GET", "/health/", None, None)
        row["kind"] = "health"
        self.record(row)
        return row

    def loop(self, action, period: float) -> None:
        while not self.stopping.is_set():
            began = time.monotonic()
            action()
            self.stopping.wait(max(0.0, period - (time.monotonic() - began)))


def build_plan(world, keys: dict[str, list[str]], minutes: float) -> dict[str, Any]:
    """Free desk half-days for the bookings; one (member, host) first check-in per scan, with
    the member's rotating codes for every window of the next `minutes`."""
    from passes.models import Pass
    from passes.services import credential_rotating, credential_static
    from spaces.models import Booking

    rng = random.Random(11)
    taken = {
        (b.resource_id, b.start.astimezone(PARIS).date().isoformat())
        for b in Booking.objects.filter(resource_id__in=world.desks)
    }
    slots = [
        {"desk": desk, "date": day, "period": period}
        for day in world.days
        for desk in world.desks
        if (desk, day) not in taken
        for period in ("morning", "afternoon")
    ]
    rng.shuffle(slots)
    bookers = world.bookers[:]
    rng.shuffle(bookers)
    for n, slot in enumerate(slots):
        slot["member"], slot["token"] = bookers[n % len(bookers)]
    now = dt.datetime.now(dt.UTC)
    windows = int(minutes * 60 // WINDOW) + 2
    passes = {
        p.pk: p
        for p in Pass.objects.select_related("membership__space", "member", "network").filter(
            pk__in=[s["pass_id"] for s in world.scanners]
        )
    }
    visits = []
    hosts = list(keys)
    scanners = world.scanners[:]
    rng.shuffle(scanners)
    for scanner in scanners:
        host = rng.choice([h for h in hosts if h != scanner["home"]])
        pass_obj = passes[scanner["pass_id"]]
        visits.append(
            {
                "member": scanner["id"],
                "host": host,
                "key": keys[host][0],
                "static": credential_static(pass_obj, now=now),
                "rotating": {
                    str(c): text
                    for c, text in credential_rotating(pass_obj, now=now, windows=windows)
                },
            }
        )
    return {"slots": slots, "visits": visits}


# --- After the drill ----------------------------------------------------------------------------


def upload_unanswered_scans(drill: Drill, keys: dict[str, list[str]]) -> dict[str, Any]:
    """The scanner page keeps what got no answer and uploads it with its nonce (twice here)."""
    failed = [r for r in drill.rows if r["kind"] == "scan" and r["status"] != 200]
    by_host: dict[str, list[dict]] = defaultdict(list)
    for row in failed:
        by_host[row["visit"]["host"]].append(row)
    results: dict[str, Any] = {"queued": len(failed), "uploads": []}
    for attempt in (1, 2):
        answers: list[tuple[dict, dict]] = []
        statuses: Counter = Counter()
        for host, rows in by_host.items():
            body = {
                "scans": [
                    {
                        "credential": r["body"]["credential"],
                        "scanned_at": r["body"]["scanned_at"],
                        "nonce": r["body"]["nonce"],
                    }
                    for r in rows
                ]
            }
            answer = drill.call("POST", "/api/v1/scans/batch/", body, f"Api-Key {keys[host][1]}")
            statuses[answer["status"]] += 1
            for row, item in zip(rows, (answer["answer"] or {}).get("results", []), strict=False):
                answers.append((row, item))
        results["uploads"].append(
            {
                "attempt": attempt,
                "http": dict(statuses),
                "outcomes": dict(
                    Counter(
                        f"{item.get('decision')}"
                        + (f":{item.get('reason')}" if item.get("reason") else "")
                        + (" (flagged)" if item.get("flagged") else "")
                        for _row, item in answers
                    )
                ),
                "answers": answers,
            }
        )
    first, second = results["uploads"]
    same = [
        (a[1].get("decision"), (a[1].get("visit") or {}).get("id"))
        == (b[1].get("decision"), (b[1].get("visit") or {}).get("id"))
        for a, b in zip(first["answers"], second["answers"], strict=False)
    ]
    results["second_upload_identical"] = all(same) and len(same) == len(failed)
    return results


def retry_failed_bookings(drill: Drill) -> dict[str, Any]:
    failed = [r for r in drill.rows if r["kind"] == "booking" and not r["retry"]]
    failed = [r for r in failed if r["status"] not in {201}]
    outcomes: Counter = Counter()
    for row in failed:
        answer = drill.book(retry_of=row)
        outcomes[f"{answer['status']}:{(answer['answer'] or {}).get('code', '')}"] += 1
    return {"retried": len(failed), "outcomes": dict(outcomes)}


def as_records(drill: Drill, uploads: dict[str, Any]) -> list[list]:
    """The drill's answers in the morning rush's record format, for check_invariants."""
    records = []
    for row in drill.rows:
        answer = row["answer"] or {}
        if row["kind"] == "booking" and row["status"] == 201:
            details = {
                "id": answer["id"],
                "member": row["slot"]["member"],
                "resource": answer["resource"],
                "start": answer["start"],
                "end": answer["end"],
            }
            records.append(["booking:desk", 201, row["latency"], 0, None, details])
        elif row["kind"] == "scan" and row["status"] == 200:
            records.append(["scan:first", 200, row["latency"], 0, None, _scan_details(row, answer)])
    for row, item in uploads["uploads"][0]["answers"]:
        records.append(["scan:batch", 200, 0.0, 0, None, _scan_details(row, item)])
    return records


def _scan_details(row: dict, answer: dict) -> dict:
    return {
        "decision": answer.get("decision"),
        "reason": answer.get("reason"),
        "already": answer.get("already_checked_in"),
        "visit": (answer.get("visit") or {}).get("id"),
        "member": row["visit"]["member"],
        "host": row["visit"]["host"],
    }


def phase_table(drill: Drill) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for row in drill.rows:
        phase = (
            row["phase"]
            if row["phase"] == row["phase_end"]
            else (f"{row['phase']} -> {row['phase_end']}")
        )
        key = f"{phase} | {row['kind']}" + (" (retry)" if row.get("retry") else "")
        entry = table.setdefault(key, {"n": 0, "outcomes": Counter(), "max_ms": 0.0})
        entry["n"] += 1
        answer = row["answer"] or {}
        if row["status"] == 0:
            outcome = f"no answer ({row['error']})"
        elif row["kind"] == "health":
            outcome = f"{row['status']} {answer.get('status')}"
        elif row["kind"] == "scan" and row["status"] == 200:
            outcome = f"200 {answer.get('decision')}"
        else:
            outcome = f"{row['status']}" + (f" {answer['code']}" if answer.get("code") else "")
        entry["outcomes"][outcome] += 1
        entry["max_ms"] = max(entry["max_ms"], row["latency"] * 1000)
    return table


def verdicts(drill: Drill) -> dict[str, Any]:
    rows = [r for r in drill.rows if not r.get("retry")]
    work = [r for r in rows if r["kind"] in {"booking", "scan"}]

    def inside(phase: str) -> list[dict]:
        return [r for r in work if r["phase"] == phase and r["phase_end"] == phase]

    pg_down = inside("postgres down")
    redis_down = inside("redis down")
    return {
        "500 answers (anywhere)": sum(1 for r in rows if r["status"] >= 500 and r["status"] != 503),
        "requests without an answer within the timeout (anywhere)": sum(
            1 for r in rows if r["status"] == 0
        ),
        "longest request (ms)": max(r["latency"] for r in rows) * 1000 if rows else 0,
        "PostgreSQL down: requests": len(pg_down),
        "PostgreSQL down: 503 service_unavailable": sum(
            1
            for r in pg_down
            if r["status"] == 503 and (r["answer"] or {}).get("code") == "service_unavailable"
        ),
        "PostgreSQL down: any other answer": sum(
            1
            for r in pg_down
            if not (r["status"] == 503 and (r["answer"] or {}).get("code") == "service_unavailable")
        ),
        "PostgreSQL down: longest request (ms)": max((r["latency"] for r in pg_down), default=0)
        * 1000,
        "Redis down: requests": len(redis_down),
        "Redis down: bookings 201": sum(
            1 for r in redis_down if r["kind"] == "booking" and r["status"] == 201
        ),
        "Redis down: scans 200 accepted": sum(
            1
            for r in redis_down
            if r["kind"] == "scan"
            and r["status"] == 200
            and (r["answer"] or {}).get("decision") == "accepted"
        ),
        "Redis down: anything else": sum(
            1
            for r in redis_down
            if not (
                (r["kind"] == "booking" and r["status"] == 201)
                or (
                    r["kind"] == "scan"
                    and r["status"] == 200
                    and (r["answer"] or {}).get("decision") == "accepted"
                )
            )
        ),
        "Redis down: longest request (ms)": max((r["latency"] for r in redis_down), default=0)
        * 1000,
        # Requests that began while Redis was down, wherever they ended.
        "Redis down: slowest booking begun then (ms)": max(
            (r["latency"] for r in rows if r["kind"] == "booking" and r["phase"] == "redis down"),
            default=0,
        )
        * 1000,
        "Redis down: slowest scan begun then (ms)": max(
            (r["latency"] for r in rows if r["kind"] == "scan" and r["phase"] == "redis down"),
            default=0,
        )
        * 1000,
        "Redis down: bookings begun then (one is sent every 0.4 s)": sum(
            1 for r in rows if r["kind"] == "booking" and r["phase"] == "redis down"
        ),
    }


# --- Main ---------------------------------------------------------------------------------------


def _stop(signum, frame) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="gthread:3x4", help="gunicorn shape (Dockerfile's)")
    parser.add_argument("--pg-outage", type=float, default=10)
    parser.add_argument("--redis-outage", type=float, default=10)
    parser.add_argument("--wait-minutes", type=float, default=15)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument("--dump", default=None, help="write the results to this JSON file")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(machine_description(), flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="fault-drill-"))
    emails = workdir / "emails"
    emails.mkdir()
    redis = PrivateRedis(workdir)
    redis.start()
    processes: list[subprocess.Popen] = []
    pg_stopped = False
    drill: Drill | None = None
    threads: list[threading.Thread] = []
    report: dict[str, Any] = {"machine": machine_description(), "args": vars(args)}
    try:
        create_database(DB_NAME)
        env = app_environment(DB_NAME, redis.url, emails)
        env.update({"OUTBOX_SWEEP_SECONDS": "2", "OUTBOX_SWEEP_GRACE_SECONDS": "1"})
        setup_django(env)
        world = seed(
            random.Random(2026),
            home_members=300,
            partner_members=100,
            today=dt.datetime.now(PARIS).date(),
        )
        plan = build_plan(world, world.keys, minutes=20)
        from django.db import connections

        connections.close_all()
        processes.append(start_celery_worker(env, workdir / "worker.log"))
        processes.append(start_celery_beat(env, workdir / "beat.log", workdir))
        server, base = start_gunicorn(ServerConfig.parse(args.config), env, workdir / "web.log")
        processes.append(server)

        do_postgres = not args.skip_postgres and bool(PG_VERSION)
        if do_postgres:
            print("checking that no other test or benchmark uses PostgreSQL…", flush=True)
            do_postgres = wait_for_others(args.wait_minutes)
            if not do_postgres:
                print("PostgreSQL part SKIPPED: others kept using it.", flush=True)
        report["postgres_part"] = do_postgres

        drill = Drill(base, plan)
        drill.phase = "baseline"
        threads = [
            threading.Thread(target=drill.loop, args=(drill.book, 0.4), daemon=True),
            threading.Thread(target=drill.loop, args=(drill.scan, 0.3), daemon=True),
            threading.Thread(target=drill.loop, args=(drill.health, 1.0), daemon=True),
        ]
        for thread in threads:
            thread.start()
        time.sleep(10)
        timeline: list[tuple[str, float]] = []

        def mark(phase: str) -> None:
            drill.phase = phase
            timeline.append((phase, round(time.monotonic() - drill.started, 1)))
            print(f"[{time.monotonic() - drill.started:6.1f} s] {phase}", flush=True)

        if do_postgres:
            others = others_running()
            if others and not wait_for_others(args.wait_minutes):
                do_postgres = False
                report["postgres_part"] = False
                print("PostgreSQL part SKIPPED: others started using it.", flush=True)
        if do_postgres:
            mark("postgres stopping")
            pg_stopped = True
            report["pg_stop_seconds"] = pg_ctl("stop")
            mark("postgres down")
            time.sleep(args.pg_outage)
            mark("postgres starting")
            report["pg_start_seconds"] = pg_ctl("start")
            pg_stopped = False
            wait_until(pg_ready, timeout=60, what="PostgreSQL to accept connections")
            mark("postgres recovery")
            time.sleep(15)
        mark("redis down")
        redis.stop()
        time.sleep(args.redis_outage)
        mark("redis starting")
        redis.start()
        mark("redis recovery")
        time.sleep(20)
        mark("after")
        drill.stopping.set()
        for thread in threads:
            thread.join(timeout=TIMEOUT + 5)
        report["timeline"] = timeline

        drill.phase = "catch-up"
        report["scan_uploads"] = upload_unanswered_scans(drill, world.keys)
        report["booking_retries"] = retry_failed_bookings(drill)
        connections.close_all()
        pending, waited = wait_for_outbox(180)
        time.sleep(2)
        report["outbox"] = {"pending_after_wait": pending, "waited_seconds": waited}
        report["phases"] = {
            k: {**v, "outcomes": dict(v["outcomes"])} for k, v in phase_table(drill).items()
        }
        report["verdicts"] = verdicts(drill)
        report["checks"] = check_invariants(
            as_records(drill, report["scan_uploads"]), emails, world
        )
        sent = emails_by_booking(emails)
        report["emails"] = {"messages": sum(sent.values()), "bookings": len(sent)}
        log = (workdir / "web.log").read_text(errors="replace")
        report["web_log"] = {
            "tracebacks": log.count("Traceback"),
            "database unavailable lines": log.count("Database unavailable"),
        }
        worker_log = (workdir / "worker.log").read_text(errors="replace")
        report["worker_log"] = {
            "tracebacks": worker_log.count("Traceback"),
            "task errors": worker_log.count("ERROR"),
        }
    finally:
        if drill is not None:
            drill.stopping.set()
        if pg_stopped:
            print("starting PostgreSQL again", flush=True)
            with contextlib.suppress(Exception):
                pg_ctl("start")
            wait_until(pg_ready, timeout=60, what="PostgreSQL to accept connections")
        for process in reversed(processes):
            stop_process(process)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        redis.stop()
        with contextlib.suppress(Exception):
            drop_database(DB_NAME)
        if args.keep_logs:
            print(f"logs kept in {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print_report(report)
    if args.dump:
        for upload in report["scan_uploads"]["uploads"]:
            upload.pop("answers", None)
        Path(args.dump).write_text(json.dumps(report, indent=1, default=str))


def print_report(report: dict[str, Any]) -> None:
    print("\n== timeline (seconds since the load started) ==")
    print(", ".join(f"{phase} @{at}" for phase, at in report.get("timeline", [])))
    if "pg_stop_seconds" in report:
        print(
            f"pg_ctlcluster stop took {report['pg_stop_seconds']:.1f} s, "
            f"start {report.get('pg_start_seconds', 0):.1f} s"
        )
    print("\n== answers by phase ==")
    for key, entry in report.get("phases", {}).items():
        outcomes = ", ".join(f"{k} ×{v}" for k, v in sorted(entry["outcomes"].items()))
        print(f"{key:<50} n={entry['n']:<4} max {entry['max_ms']:7.0f} ms  {outcomes}")
    print("\n== verdicts ==")
    for name, value in report.get("verdicts", {}).items():
        print(f"  {name}: {value:.0f}" if isinstance(value, float) else f"  {name}: {value}")
    uploads = report.get("scan_uploads", {})
    print(
        f"\nscans without an answer, uploaded by batch: {uploads.get('queued')}; "
        + "; ".join(
            f"upload {u['attempt']}: http {u['http']} {u['outcomes']}"
            for u in uploads.get("uploads", [])
        )
        + f"; second upload identical: {uploads.get('second_upload_identical')}"
    )
    print(f"bookings retried by their members: {report.get('booking_retries')}")
    print(f"outbox: {report.get('outbox')}; emails: {report.get('emails')}")
    print(f"web log: {report.get('web_log')}; worker log: {report.get('worker_log')}")
    print("checks: " + json.dumps(report.get("checks", {}), ensure_ascii=False))


if __name__ == "__main__":
    main()

"""What the benchmarks share: a throw-away PostgreSQL database, Django set up on it, one way to
seed members, one gunicorn, one CPU meter and one wait for a quiet machine.

Benchmarks are run by hand (see README.md); nothing here is imported by the application or tests.
"""

from __future__ import annotations

import datetime as dt
import http.client
import math
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- Database and Django ---------------------------------------------------------------------


def database_url(name: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def _admin_execute(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(statement)


def create_database(name: str) -> None:
    """Drop (if left over by an interrupted run) and create the benchmark database."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected database name {name!r}")
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def project_module(name: str) -> str:
    """`settings` or `wsgi` of the project wiring: `config/` once it has its own package,
    `coworking/` before (the benchmarks measure either tree, see `scans.py --snapshot`)."""
    package = "config" if (PROJECT_ROOT / "config" / f"{name}.py").exists() else "coworking"
    return f"{package}.{name}"


def benchmark_environment(db_name: str, *, redis_url: str | None = None) -> dict[str, str]:
    """The environment the application runs with: PostgreSQL, DEBUG off, no production switch."""
    env = {key: value for key, value in os.environ.items() if key != "CHTIPASS_ENV"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": project_module("settings"),
            "DATABASE_URL": database_url(db_name),
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "THROTTLE_BOOKING_WRITE": "100000/min",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


def setup_django(env: dict[str, str]) -> None:
    """Configure this process from `env`, then migrate the (empty) benchmark database."""
    os.environ.clear()
    os.environ.update(env)
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    import django
    from django.core.management import call_command

    # A `git archive` snapshot has no collected static files; serving them is not measured.
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers")
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


@contextmanager
def benchmark_database(name: str, *, keep: bool = False) -> Iterator[None]:
    """Create the database for the duration of the block; drop it afterwards unless `keep`."""
    create_database(name)
    try:
        yield
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if not keep:
            drop_database(name)


def seed_members(spaces: Sequence[Any], count: int) -> list[Any]:
    """`count` members, each with an active membership of one of `spaces` (in turn), in bulk.
    Their password is unusable: the benchmarks authenticate with tokens or partner keys."""
    from django.contrib.auth.hashers import make_password

    from coworking.models import Member
    from spaces.models import Membership

    unusable = make_password(None)
    people = Member.objects.bulk_create(
        [
            Member(
                email=f"bench{i}@bench.example",
                first_name=f"Membre{i}",
                last_name="Bench",
                password=unusable,
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    Membership.objects.bulk_create(
        [
            Membership(member=person, space=spaces[i % len(spaces)], starts_on=dt.date(2025, 1, 1))
            for i, person in enumerate(people)
        ],
        batch_size=2000,
    )
    return people


# --- Figures and the machine -----------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` in [0, 1]) of a non-empty sample."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def without_machine_paths(text: str) -> str:
    """Profiler output with paths relative to site-packages, the standard library or the project:
    figures copied into the reports name no machine's folders."""
    import re

    text = re.sub(r"\S*/site-packages/", "", text)
    text = re.sub(r"\S*/lib/python3\.\d+/", "", text)
    return re.sub(r"\S*chtipass-bench-src-[^/]+/", "", text).replace(str(PROJECT_ROOT) + "/", "")


def code_description() -> str:
    """The commit measured, and whether the work tree differs from it (read-only git calls)."""
    snapshot = PROJECT_ROOT / "SNAPSHOT"
    if snapshot.exists():  # written by `scans.py --snapshot`
        return f"commit {snapshot.read_text().strip()} (git archive snapshot)"

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
        )
        return result.stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no").splitlines()
    return f"commit {git('rev-parse', '--short', 'HEAD')}, {len(changed)} tracked files modified"


def machine_description() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        memory = "unknown RAM"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory}, Python {platform.python_version()}, "
        f"load average {load}"
    )


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def wait_for_quiet(timeout: float, max_busy_cores: float = 0.3, window: float = 2.0) -> float:
    """Wait (at most `timeout` seconds) until the machine is nearly idle; return the busy cores
    seen last. On a shared machine other people's work would otherwise be measured too."""
    deadline = time.monotonic() + timeout
    while True:
        busy, total = machine_ticks()
        time.sleep(window)
        busy_after, total_after = machine_ticks()
        cores = (busy_after - busy) / max(total_after - total, 1) * (os.cpu_count() or 1)
        if cores <= max_busy_cores or time.monotonic() >= deadline:
            return cores
        print(f"   (machine busy: {cores:.2f} cores used by others; waiting)", flush=True)


def process_ticks(pid: int) -> int:
    """utime + stime of one process, in jiffies (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def children_of(parent: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.add(int(entry.name))
    return found


def postgres_pids(db_name: str) -> set[int]:
    """PostgreSQL processes that work for this benchmark: the backends connected to its database
    and the shared ones (WAL writer, checkpointer…), not other databases' backends."""
    import psycopg

    url = database_url(db_name).replace("postgres://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s"
            " OR (backend_type <> 'client backend' AND datname IS NULL)",
            (db_name,),
        ).fetchall()
    return {pid for (pid,) in rows}


def redis_pids() -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().startswith("redis"):
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


class CpuMeter:
    """CPU seconds used between `start()` and `stop()` by gunicorn (master and workers), this
    benchmark's PostgreSQL processes, Redis, the load generator (this process and the children
    it has waited for, e.g. wrk) and everything else ("other": the neighbours on a shared
    machine); "machine" is the capacity over the same time (elapsed time × CPUs).

    A process that exits during the run takes its ticks with it: the figures are lower bounds."""

    def __init__(self, server: Gunicorn, db_name: str) -> None:
        self.server, self.db_name = server, db_name

    def _snapshot(self) -> dict[str, dict[int, int]]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        waited = resource.getrusage(resource.RUSAGE_CHILDREN)
        loadgen = own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime
        busy, total = machine_ticks()
        return {
            "gunicorn": {pid: process_ticks(pid) for pid in self.server.pids()},
            "postgres": {pid: process_ticks(pid) for pid in postgres_pids(self.db_name)},
            "redis": {pid: process_ticks(pid) for pid in redis_pids()},
            "loadgen": {0: round(loadgen * CLOCK_TICKS)},
            "busy": {0: busy},
            "total": {0: total},
        }

    def start(self) -> None:
        self.before = self._snapshot()

    def stop(self) -> dict[str, float]:
        after = self._snapshot()
        seconds = {
            key: sum(
                max(0, ticks - self.before[key].get(pid, 0)) for pid, ticks in after[key].items()
            )
            / CLOCK_TICKS
            for key in after
        }
        machine, busy = max(seconds.pop("total"), 1 / CLOCK_TICKS), seconds.pop("busy")
        seconds["other"] = max(0.0, busy - sum(seconds.values()))
        seconds["machine"] = machine
        return seconds


# --- gunicorn --------------------------------------------------------------------------------


def free_port() -> int:
    """A port nobody listens on now (other programs on this machine start servers too)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Gunicorn:
    """The project's WSGI application under gunicorn on 127.0.0.1, as the Dockerfile runs it
    (`workers` × `threads`: gthread when threads > 1, else sync); stopped with its workers when
    the block ends."""

    def __init__(
        self, env: dict[str, str], log: Path, *, workers: int, threads: int = 1, port: int = 0
    ) -> None:
        self.env, self.log = env, log
        self.workers, self.threads = workers, threads
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def of(cls, shape: str, env: dict[str, str], log: Path) -> Gunicorn:
        """`4` is 4 sync workers; `2x8` is 2 gthread workers of 8 threads (`sync:4` and
        `gthread:2x8`, the older spelling, are read the same)."""
        workers, _, threads = shape.rpartition(":")[2].partition("x")
        return cls(env, log, workers=int(workers), threads=int(threads or 1))

    @property
    def shape(self) -> str:
        return f"{self.workers}x{self.threads}" if self.threads > 1 else str(self.workers)

    def __enter__(self) -> Gunicorn:
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            project_module("wsgi") + ":application",
            f"--bind={HOST}:{self.port}",
            f"--workers={self.workers}",
            "--log-level=warning",
            "--backlog=2048",
        ]
        if self.threads > 1:
            command += ["--worker-class=gthread", f"--threads={self.threads}", "--keep-alive=5"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env={**self.env, "PYTHONPATH": str(PROJECT_ROOT)},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        """Until the application answers an HTTP request (any status: it is up)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-2000:]}")
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=2)
                connection.request("GET", "/health/")
                connection.getresponse().read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready after {timeout} s")

    def pids(self) -> set[int]:
        """The master and its workers."""
        if self.process is None:
            return set()
        return {self.process.pid} | children_of(self.process.pid)

    def __exit__(self, *exc_info: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


# --- Measuring a commit, not the shared work tree --------------------------------------------


def run_on_snapshot(revision: str, script: str) -> int:
    """Run `script` again, with the same arguments but `--snapshot`, on `git archive <revision>`
    plus the current benchmarks/ folder: the work tree is shared and may change during a run."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="chtipass-bench-src-"))
    try:
        commit = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", revision],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        archive = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "archive", commit], check=True, capture_output=True
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
        copy = folder / "benchmarks" / Path(script).name
        # In the snapshot's folder: Celery's Django fixup puts the working directory first on
        # sys.path, which would otherwise import the work tree's packages over the snapshot's.
        child = subprocess.Popen([sys.executable, str(copy), *arguments], cwd=folder)
        try:
            return child.wait()
        finally:
            if child.poll() is None:  # stopped early: let the child stop servers, drop databases
                child.send_signal(signal.SIGTERM)
                child.wait(timeout=60)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

"""Shared plumbing of the benchmarks: a throw-away PostgreSQL database and Django set up on it.

Benchmarks are run by hand (see README.md); nothing here is imported by the application or tests.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


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


def benchmark_environment(db_name: str, *, redis_url: str | None = None) -> dict[str, str]:
    """The environment the application runs with: PostgreSQL, DEBUG off, no production switch."""
    env = {key: value for key, value in os.environ.items() if key != "CHTIPASS_ENV"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "coworking.settings",
            "DATABASE_URL": database_url(db_name),
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "THROTTLE_BOOKING_WRITE": "100000/min",
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


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` in [0, 1]) of a non-empty sample."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def code_description() -> str:
    """The commit measured, and whether the work tree differs from it (read-only git calls)."""
    import subprocess

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
    """(busy, total) jiffies of all CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def wait_for_quiet(timeout: float, max_busy_cores: float = 0.3, window: float = 1.0) -> float:
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

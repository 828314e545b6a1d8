"""Real processes for end-to-end tests: a private Redis, gunicorn, a Celery worker and beat.

They share the test database (pytest-django's, so tests using them need
`django_db(transaction=True)`) and write emails to files that the test reads.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(**overrides: str) -> dict[str, str]:
    """The environment of a child process that must use the test database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "postgresql":
        parts = urlsplit(env["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    else:
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = name
    env.update(overrides)
    return env


def wait_until(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll `predicate` until it returns something true, and return that; the timeout only
    bounds a test that would otherwise hang, no assertion rests on it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"Timed out after {timeout}s waiting for {what}.")


def is_stopped(process: subprocess.Popen) -> bool:
    """True once a SIGSTOP has taken effect (state "T" in /proc, Linux)."""
    stat = Path(f"/proc/{process.pid}/stat").read_text()
    return stat.rpartition(")")[2].split()[0] in {"T", "t"}


def other_sessions_idle() -> bool:
    """No other session is running a statement (a COMMIT on its way, say) in the test database.

    On SQLite a statement runs inside its own process: a stopped process runs none.
    """
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'"
        )
        return cursor.fetchone()[0] == 0


@contextlib.contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with open(log, "ab") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


class PrivateRedis:
    """A redis-server of the test's own, that the test can stop and start again."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("redis-server is required for this test (CI installs Redis).")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, timeout=10, what="redis-server")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        wait_until(lambda: not self._answers(), timeout=5, what="redis-server to stop")


@contextlib.contextmanager
def private_redis(workdir: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(workdir)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@contextlib.contextmanager
def web_server(env: dict[str, str], log: Path, probe: str = "/api/v1/spaces/") -> Iterator[str]:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "1",
        "--threads",
        "4",
        "--timeout",
        "60",
    ]
    with _process(args, env, log):
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                with urllib.request.urlopen(f"{base}{probe}", timeout=2):
                    return True
            except urllib.error.HTTPError:
                return True  # it answers, even if with an error status
            except OSError:
                return False

        wait_until(answers, timeout=30, what=f"gunicorn (see {log})")
        yield base


@contextlib.contextmanager
def celery_worker(env: dict[str, str], log: Path, queue: str = "celery"):
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "-Q",
        queue,
        "--without-gossip",
        "--without-mingle",
        "-l",
        "info",
    ]
    start = log.stat().st_size if log.exists() else 0
    with _process(args, env, log) as process:
        wait_until(
            lambda: b" ready." in log.read_bytes()[start:],
            timeout=60,
            what=f"the Celery worker (see {log})",
        )
        yield process


@contextlib.contextmanager
def celery_beat(env: dict[str, str], log: Path, workdir: Path):
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "beat",
        "-l",
        "info",
        "--schedule",
        str(workdir / "beat-schedule"),
    ]
    with _process(args, env, log) as process:
        yield process


def emails_in(directory: Path) -> list[str]:
    """Every message the file-based email backend wrote (one file may hold several)."""
    separator = "-" * 79
    messages = []
    for path in sorted(directory.glob("*.log")):
        for chunk in path.read_text(errors="replace").split(separator):
            if chunk.strip():
                messages.append(chunk)
    return messages

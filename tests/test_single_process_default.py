"""Without Redis the cache, and with it every throttle count, is each process's own memory: the
embedded default runs one process (threads as many as wanted), and gunicorn refuses to start
several without REDIS_URL rather than let each allow the whole rate (the attack run: 696 of 800
scans through a 600/min limit on two workers)."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from .processes import ROOT, _process, app_environment, free_port, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def gunicorn(port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        "2",
    ]


def test_gunicorn_refuses_several_processes_without_redis():
    env = app_environment()
    env.pop("REDIS_URL", None)

    started = subprocess.run(
        gunicorn(free_port(), 2), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert started.returncode != 0
    assert "REDIS_URL" in started.stderr and "--workers 1" in started.stderr


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@pytest.mark.parametrize(
    ("workers", "redis"),
    [(1, False), (2, True)],
    ids=["one process without Redis", "two processes with Redis"],
)
def test_gunicorn_starts_one_process_alone_or_several_with_redis(tmp_path, workers, redis):
    env = app_environment()
    env.pop("REDIS_URL", None)
    if redis:  # nobody listens there: the counts would be shared, were it up
        env["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
        env["CELERY_TASK_ALWAYS_EAGER"] = "1"
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with _process(gunicorn(port, workers), env, log) as server:
        wait_until(
            lambda: answers(f"http://127.0.0.1:{port}/health/") or server.poll() is not None,
            timeout=60,
            what=f"gunicorn (see {log})",
        )
        assert server.poll() is None, log.read_text()

"""`celery` with the broker reconnection intervals shortened, for tests: kombu waits 2, 4 … 30 s
between attempts, so Celery's default limit of 100 attempts is reached after ~47 minutes of
outage; here after a few seconds. Run as `python -m tests.fast_reconnect_celery <celery args>`.
"""

from __future__ import annotations

import sys

from kombu.connection import Connection

_ensure_connection = Connection.ensure_connection


def ensure_connection(self, *args, **kwargs):
    if len(args) <= 2:  # (errback, max_retries): the worker's consumer passes only these
        kwargs.update(interval_start=0.05, interval_step=0, interval_max=0.05)
    return _ensure_connection(self, *args, **kwargs)


Connection.ensure_connection = ensure_connection

if __name__ == "__main__":
    from celery.__main__ import main

    sys.exit(main())

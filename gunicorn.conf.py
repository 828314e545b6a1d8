"""gunicorn's settings: gunicorn reads `./gunicorn.conf.py` whatever command starts it from the
project directory (the image's, or one tuned for more cores), so what matters is here rather
than in a command line that can be overridden."""

import os

from gunicorn.glogging import Logger

from coworking.log_redaction import RedactSecrets


class RedactingLogger(Logger):
    """gunicorn's logger, with the iCal feed's secret cut out of its access and error logs
    (coworking/log_redaction.py)."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, RedactSecrets) for existing in log.filters):
                log.addFilter(RedactSecrets())


logger_class = RedactingLogger


def on_starting(server) -> None:
    """Without Redis the cache is each process's own memory (settings.CACHES), so every worker
    process would allow the whole rate of each throttle (the attack run: 696 of 800 scans
    through a 600/min limit on two workers), and Celery has no beat. The embedded default is
    one process, threads as many as wanted; several processes need REDIS_URL."""
    if not os.environ.get("REDIS_URL") and server.cfg.workers > 1:
        raise RuntimeError(
            f"{server.cfg.workers} worker processes need REDIS_URL (shared throttle counts): "
            "set it, or run one process (--workers 1, with --threads for more requests)."
        )

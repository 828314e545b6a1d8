"""gunicorn's settings: gunicorn reads `./gunicorn.conf.py` whatever command starts it from the
project directory (the image's, or one tuned for more cores), so what matters is here rather
than in a command line that can be overridden."""

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

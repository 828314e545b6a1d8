"""Secrets that travel in URLs, kept out of the logs.

Calendar apps poll the iCal feed at `/calendar/<token>.ics` and cannot send a header, so the
feed's secret is in the path: every access log (runserver's `django.server`, gunicorn's access
and error logs) and Django's request errors (`django.request`: "Not Found: /calendar/…") would
keep it. `RedactSecrets` is a logging filter that writes the record's message with the secret
cut out; settings.LOGGING puts it on those loggers and on the console handler, and
`gunicorn.conf.py` on gunicorn's.
"""

from __future__ import annotations

import logging
import re

# The token and anything a client puts in its place, up to the next delimiter; `.ics` is kept
# so that the line still says which resource it was.
_CALENDAR_SECRET = re.compile(r"(/calendar/)[^\s/?#\"']+?(\.ics)?(?=[\s/?#\"']|$)")
REDACTED = "…"


def redact(text: str) -> str:
    """The text with every secret a URL may carry replaced by `REDACTED`."""
    return _CALENDAR_SECRET.sub(rf"\g<1>{REDACTED}\g<2>", text)


class RedactSecrets(logging.Filter):
    """Writes the record's message (msg % args) with the secrets cut out; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let the handler report it as it would
            return True
        redacted = redact(message)
        if redacted != message:
            # Formatted once here: the arguments, which hold the secret, are dropped.
            record.msg, record.args = redacted, ()
        return True

"""An email backend for worker tests: it announces each send and waits for the test's go-ahead,
so that a test can act (stop the broker) while a task is running, without timing guesses.

GATED_EMAIL_DIR: `started-<n>` is written when a send begins; the send waits for `release`,
then writes the messages as the file backend does (EMAIL_FILE_PATH).
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend


class GatedEmailBackend(EmailBackend):
    def send_messages(self, email_messages) -> int:
        gate = Path(os.environ["GATED_EMAIL_DIR"])
        (gate / f"started-{uuid.uuid4().hex}").touch()
        deadline = time.monotonic() + 120
        while not (gate / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return super().send_messages(email_messages)

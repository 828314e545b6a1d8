"""What a secret resolved to (a scanner key, a member token), kept by one process for a moment."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SecretMemo(Generic[T]):
    """A per-process memo keyed by the SHA-256 of a secret (the secret itself is not kept).

    An entry is trusted for `seconds`; `forget` (wired to model signals by the caller) empties
    the memo at once in this process. A full memo is emptied rather than sorted.
    """

    def __init__(self, seconds: float, size: int) -> None:
        self.seconds, self.size = seconds, size
        self._lock = threading.Lock()
        self._entries: dict[bytes, tuple[float, T]] = {}

    def get(self, secret: str, load: Callable[[str], T]) -> T:
        """The value for `secret`: from memory if fresh, else `load(secret)` (which may raise)."""
        digest = hashlib.sha256(secret.encode()).digest()
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(digest)
        if found is not None and now - found[0] < self.seconds:
            return found[1]
        value = load(secret)
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[digest] = (now, value)
        return value

    def forget(self, **_signal: object) -> None:
        with self._lock:
            self._entries.clear()

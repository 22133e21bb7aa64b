"""Per-user token buckets: ``asks_per_minute`` questions a minute, refilled continuously.

A user may spend a whole minute's allowance at once (the bucket holds ``per_minute``
tokens) and then gets one more question every ``60 / per_minute`` seconds. Moderators are
exempt; the caller decides that. Buckets live in memory only: a restart forgives everyone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class RateLimiter:
    """Token buckets keyed by user id."""

    def __init__(self, per_minute: int, *, clock: Clock = time.monotonic, max_keys: int = 10_000) -> None:
        """Create a limiter.

        Args:
            per_minute: tokens refilled per minute, and the size of each bucket.
            clock: seconds, monotonic (tests pass a fake one).
            max_keys: forget full buckets once this many users are tracked, to bound memory.
        """
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: int) -> float:
        """Take a token for ``key``.

        Returns:
            0.0 when the request may go ahead, else the seconds until the next token.
        """
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > self._max_keys:
                    self._prune(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self._rate

    def _prune(self, now: float) -> None:
        cap = self.per_minute
        full = [k for k, (tokens, then) in self._buckets.items() if tokens + (now - then) * self._rate >= cap]
        for key in full:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)

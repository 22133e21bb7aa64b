"""Per-user token buckets: ``asks_per_minute`` questions a minute, refilled continuously.

A user may spend a whole minute's allowance at once (the bucket holds ``per_minute``
tokens) and then gets one more question every ``60 / per_minute`` seconds. Moderators are
exempt; the caller decides that. ``RateLimiter`` keeps the buckets in memory (one process: a
restart forgives everyone); ``StoreRateLimiter`` keeps them in the shared store's ``rate_limits``
table, so that they hold across the processes of a sharded bot and across restarts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from index.errors import StoreUnavailableError
from index.store import Store

Clock = Callable[[], float]
log = logging.getLogger(__name__)


class Limiter(Protocol):
    """What the desk asks of a rate limiter."""

    per_minute: int

    def acquire(self, key: int) -> float:
        """Take a token for ``key``: 0.0 to go ahead, else the seconds until the next token."""
        ...


class RateLimiter:
    """Token buckets keyed by user id, in this process's memory."""

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


# The bucket's level now: what it held at ``updated_at`` plus the refill since (never more than full,
# never less for a clock that went back). Parameters: now, now, rate.
_REFILL = "rate_limits.tokens + (CASE WHEN ? > rate_limits.updated_at THEN ? - rate_limits.updated_at ELSE 0 END) * ?"
_LEVEL = f"(CASE WHEN {_REFILL} > ? THEN ? ELSE {_REFILL} END)"
# A new bucket starts full less this token; a known one gives a token only when it holds one. Nothing
# returned: refused. One statement, so two processes never spend the same token.
_TAKE = (
    "INSERT INTO rate_limits (key, tokens, updated_at) VALUES (?, ?, ?)"
    f" ON CONFLICT (key) DO UPDATE SET tokens = {_LEVEL} - 1, updated_at = ? WHERE {_LEVEL} >= 1"
    " RETURNING tokens"
)


class StoreRateLimiter:
    """Token buckets in the store's ``rate_limits`` table, shared by every process and kept across restarts.

    When the store cannot be reached, ``fallback`` (in memory) decides for ``retry_after`` seconds
    before the store is tried again: a database outage never refuses everyone, nor makes every
    question wait for a connection timeout.
    """

    def __init__(
        self,
        store: Store,
        fallback: RateLimiter,
        *,
        prefix: str = "ask",
        clock: Clock = time.time,
        monotonic: Clock = time.monotonic,
        retry_after: float = 30.0,
        prune_every: int = 1000,
    ) -> None:
        """Create a limiter of ``fallback.per_minute`` tokens a minute.

        Args:
            store: the shared store.
            fallback: the in-memory limiter used while the store is unreachable.
            prefix: what the keys are limits of (``ask:<user id>``).
            clock: wall-clock seconds (buckets are shared between hosts, so not a monotonic clock).
            monotonic: seconds, for the outage timer.
            retry_after: seconds between attempts to reach the store again.
            prune_every: delete full buckets every this many acquisitions.
        """
        self.store = store
        self.fallback = fallback
        self.per_minute = fallback.per_minute
        self.prefix = prefix
        self._rate = self.per_minute / 60.0
        self._clock = clock
        self._monotonic = monotonic
        self._retry_after = retry_after
        self._prune_every = prune_every
        self._down_until: float | None = None
        self._count = 0

    def acquire(self, key: int) -> float:
        """Take a token for ``key`` (blocking: it asks the database).

        Returns:
            0.0 when the request may go ahead, else the seconds until the next token.
        """
        if self._down_until is not None and self._monotonic() < self._down_until:
            return self.fallback.acquire(key)
        try:
            wait = self._take(f"{self.prefix}:{key}", self._clock())
        except StoreUnavailableError as exc:
            if self._down_until is None:
                log.warning("rate limits fall back to this process's memory: %s", exc)
            self._down_until = self._monotonic() + self._retry_after
            return self.fallback.acquire(key)
        if self._down_until is not None:
            log.info("rate limits are shared through the store again")
            self._down_until = None
        return wait

    def _take(self, key: str, now: float) -> float:
        cap = float(self.per_minute)
        level = [now, now, self._rate, cap, cap, now, now, self._rate]
        db = self.store.db
        if db.execute(_TAKE, [key, cap - 1.0, now, *level, now, *level]).fetchone() is not None:
            self._count += 1
            if self._count % self._prune_every == 0:
                db.execute("DELETE FROM rate_limits WHERE updated_at < ?", (now - cap / self._rate,))
            return 0.0
        row = db.execute("SELECT tokens, updated_at FROM rate_limits WHERE key = ?", (key,)).fetchone()
        tokens = min(cap, float(row[0]) + max(0.0, now - float(row[1])) * self._rate) if row else 0.0
        return max((1.0 - tokens) / self._rate, 1e-3)

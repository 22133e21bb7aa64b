"""Questions answered since the bot started, and how long they took (``/stats``).

In memory only: a restart starts the count again, which is what "since start" means. The
latencies kept are bounded (the most recent ``window``), so percentiles stay cheap and memory
stays flat however long the bot runs.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

__all__ = ["AnswerMetrics", "MetricsSnapshot"]


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """Counts since ``started_at`` and latency percentiles in seconds (None before any question)."""

    started_at: datetime
    questions: int
    answered: int
    p50: float | None
    p95: float | None


class AnswerMetrics:
    """Counts and latencies of the questions the bot answered; used from the event loop only."""

    def __init__(self, *, window: int = 10_000, now: datetime | None = None) -> None:
        """Start counting now; percentiles cover the last ``window`` questions."""
        self.started_at = now or datetime.now(UTC)
        self.questions = 0
        self.answered = 0
        self._latencies: deque[float] = deque(maxlen=window)

    def record(self, seconds: float, *, answered: bool) -> None:
        """One question: how long it took to answer, and whether the answer quoted anything."""
        self.questions += 1
        self.answered += int(answered)
        self._latencies.append(seconds)

    def snapshot(self) -> MetricsSnapshot:
        """The counts so far and the p50 / p95 latency."""
        if not self._latencies:
            return MetricsSnapshot(self.started_at, self.questions, self.answered, None, None)
        p50, p95 = np.percentile(np.fromiter(self._latencies, dtype=np.float64), [50, 95]).tolist()
        return MetricsSnapshot(self.started_at, self.questions, self.answered, float(p50), float(p95))

"""Event-loop lag: how late the loop wakes a timer, i.e. how long other work (or blocking) held it.

While the bot is connected, ``LoopLagMonitor`` samples the lag and logs p50/p95/p99/max every
15 minutes, on ``SIGUSR1`` (``kill -USR1 <pid>``; the window then starts again) and at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
import time

log = logging.getLogger(__name__)


class LoopLagMonitor:
    """How late the event loop runs a timer: the time it spent on other work (or blocked) meanwhile.

    Samples every ``interval`` seconds; ``report`` logs the percentiles since the last report and
    starts a new window. A single lag over ``warn_after`` seconds is logged at once as a warning.
    """

    def __init__(
        self, *, interval: float = 0.05, report_every: float = 900.0, warn_after: float = 0.5, max_samples: int = 50_000
    ) -> None:
        self.interval, self.report_every, self.warn_after = interval, report_every, warn_after
        self.max_samples = max_samples
        self.samples: list[float] = []
        self.window_started = time.monotonic()

    def report(self) -> str | None:
        """Log (INFO) and return the lag percentiles of the window; ``None`` when it has no samples."""
        lags, started = sorted(self.samples), self.window_started
        self.samples, self.window_started = [], time.monotonic()
        if not lags:
            return None

        def pct(q: float) -> float:
            return lags[min(len(lags) - 1, max(0, math.ceil(q * len(lags)) - 1))] * 1000

        line = (
            f"event loop lag over the last {time.monotonic() - started:.1f} s: p50 {pct(0.5):.1f} ms, "
            f"p95 {pct(0.95):.1f} ms, p99 {pct(0.99):.1f} ms, max {lags[-1] * 1000:.1f} ms ({len(lags)} samples)"
        )
        log.info("%s", line)
        return line

    async def run(self) -> None:
        """Sample until cancelled; reports on SIGUSR1 (where signals can be handled) and every ``report_every``."""
        loop = asyncio.get_running_loop()
        usr1 = getattr(signal, "SIGUSR1", None)
        try:
            if usr1 is not None:
                loop.add_signal_handler(usr1, self.report)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            usr1 = None
        try:
            while True:
                expected = time.monotonic() + self.interval
                await asyncio.sleep(self.interval)
                lag = max(0.0, time.monotonic() - expected)
                if lag > self.warn_after:
                    log.warning("the event loop was blocked for %.0f ms", lag * 1000)
                if len(self.samples) < self.max_samples:
                    self.samples.append(lag)
                if time.monotonic() - self.window_started >= self.report_every:
                    self.report()
        finally:
            if usr1 is not None:
                loop.remove_signal_handler(usr1)

"""Following the shared store: ``LISTEN`` for new generations, with a periodic check as a fallback.

Every write to a PostgreSQL store notifies ``newsdesk_generation`` when it commits; a thread of each
process listens on a connection of its own (not one of the pool's, which it would hold forever) and
calls ``on_change`` at once. A notification can be missed (the connection was down, a proxy dropped
it), so ``on_change`` also runs every ``interval`` seconds and after every reconnection; it must be
cheap when nothing changed. When the server goes away the thread retries with a growing backoff and
the process keeps answering from what it has.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg
from psycopg import sql

from index.database.postgres import CONNECT_TIMEOUT_S, redact
from index.store import GENERATION_CHANNEL

log = logging.getLogger(__name__)

TICK_S = 0.25  # how often the thread looks at its stop flag
MAX_BACKOFF_S = 2.0  # a refused connection costs nothing; answering again within 2 s of the server's return does


class GenerationListener:
    """A daemon thread calling ``on_change`` on each notification, every ``interval`` seconds and on reconnecting."""

    def __init__(
        self,
        url: str,
        on_change: Callable[[], object],
        *,
        interval: float = 30.0,
        channel: str = GENERATION_CHANNEL,
        max_backoff: float = MAX_BACKOFF_S,
        on_lost: Callable[[BaseException], object] | None = None,
    ) -> None:
        """Listen to ``channel`` of the database at ``url`` (call ``start``).

        ``on_lost`` is told at once when the connection to the server breaks (the pool then stops waiting
        for connections that cannot come: ``PostgresDatabase.mark_down``).
        """
        self.url = url
        self.on_lost = on_lost
        self.on_change = on_change
        self.interval = interval
        self.channel = channel
        self.max_backoff = max_backoff
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="newsdesk-listener", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (it notices within ``TICK_S``, or when a running ``on_change`` returns)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        backoff, down = 0.5, False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT_S)) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    self.connected.set()
                    if down:
                        log.info("the database at %s is back: following its changes again", redact(self.url))
                    backoff, down = 0.5, False
                    self._changed()  # whatever was written while nobody listened
                    self._listen(conn)
            except psycopg.Error as exc:
                self.connected.clear()
                if self.on_lost is not None and not down:
                    self.on_lost(exc)
                if not down:
                    log.warning(
                        "lost the database at %s (%s): answering from the local replica, reconnecting",
                        redact(self.url),
                        str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                    )
                down = True
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
        self.connected.clear()

    def _listen(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        due = time.monotonic() + self.interval
        while not self._stop.is_set():
            notified = False
            for _ in conn.notifies(timeout=max(0.0, min(TICK_S, due - time.monotonic())), stop_after=1):
                notified = True
            if notified or time.monotonic() >= due:
                self._changed()
                due = time.monotonic() + self.interval

    def _changed(self) -> None:
        try:
            self.on_change()
        except Exception:  # the next notification or check tries again; the thread must not die
            log.warning("could not follow the store's latest generation", exc_info=True)

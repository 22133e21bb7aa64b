"""Progress of long writes (ingest, re-index), relayed from the worker thread to one status message."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.responders import Responder

log = logging.getLogger(__name__)


class ProgressTicker:
    """Relays ``(passages, articles)`` from the worker thread to a status message, at most every few seconds."""

    def __init__(self, responder: Responder, template: Callable[[int, int], str], every: float) -> None:
        self.responder, self.template, self.every = responder, template, every
        self.latest: tuple[int, int] | None = None
        self._task: asyncio.Task[None] | None = None

    def __call__(self, passages: int, articles: int) -> None:
        """Note the latest counts (called in the worker thread: rebinding one attribute is atomic)."""
        self.latest = (passages, articles)

    async def _run(self) -> None:
        shown: tuple[int, int] | None = None
        while True:
            await asyncio.sleep(self.every)
            latest = self.latest
            if latest is not None and latest != shown:
                shown = latest
                try:
                    await self.responder.update(self.template(*latest))
                except Exception:  # an expired interaction must not stop the work
                    log.warning("could not update a progress message", exc_info=True)

    async def __aenter__(self) -> ProgressTicker:
        self._task = asyncio.create_task(self._run(), name="newsdesk-progress")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

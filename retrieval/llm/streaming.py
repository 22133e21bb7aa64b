"""What a streaming answer yields, and pacing for a reader that may only update now and then.

While the model writes, the stream yields ``Draft``s: the sentences finished *and verified* so
far, so even a draft never shows an unchecked claim. The last item is always the final
``Answer`` (the model's verified sentences, or the extractive fallback). Discord allows a
message to be edited about once a second: ``throttled`` passes drafts no more often than that.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from retrieval.answer import Answer

EDIT_INTERVAL_S = 1.0


@dataclass(frozen=True, slots=True)
class Draft:
    """The verified part of an answer still being written: lines with ``[n]`` markers."""

    text: str


Update = Draft | Answer


async def throttled(
    updates: AsyncIterator[Update],
    *,
    interval: float = EDIT_INTERVAL_S,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[Update]:
    """Pass at most one draft per ``interval`` seconds, and always the final answer.

    A draft that comes too soon is skipped: drafts grow, so the next one shown includes it.
    """
    last = float("-inf")
    async for update in updates:
        if isinstance(update, Answer):
            yield update
            return
        now = clock()
        if now - last >= interval:
            last = now
            yield update

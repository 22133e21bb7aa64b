from __future__ import annotations

from collections.abc import AsyncIterator

from retrieval.answer import Answer
from retrieval.llm.streaming import Draft, Update, throttled

FINAL = Answer("q", True, "a [1]")


async def updates(items: list[Update]) -> AsyncIterator[Update]:
    for item in items:
        yield item


async def test_throttled_passes_one_draft_per_interval_and_the_answer():
    """should skip drafts that come within a second of the last one shown, but never the final answer."""
    times = iter([0.0, 0.4, 0.9, 1.0, 1.5, 2.6])
    drafts = [Draft(str(i)) for i in range(6)]
    shown = [u async for u in throttled(updates([*drafts, FINAL]), clock=lambda: next(times))]
    assert shown == [Draft("0"), Draft("3"), Draft("5"), FINAL]


async def test_throttled_stops_at_the_answer():
    """should end with the answer even if the source yields more."""
    shown = [u async for u in throttled(updates([FINAL, Draft("late")]), clock=lambda: 0.0)]
    assert shown == [FINAL]

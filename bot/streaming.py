"""A language model's answer, streamed into the deferred response: edits at most once a second, then the answer.

``Engine.ask`` in the bot returns a ``PendingAnswer`` when a model answers (``app/deferred.py``).
The model's verified sentences so far replace the "thinking…" message as they arrive, through
``throttled`` (Discord rate-limits message edits; a skipped draft is included in the next one),
and the final answer (embed, sources) replaces them, no sooner than a second after the last
edit. Model failures fall back inside ``LlmAnswerer.stream``; a model that keeps streaming past
``Pacing.deadline`` is cut off here, well inside the 15 minutes an interaction token lives, and
the extractive answer is shown instead, with its note. A moderator who asked is then told, in a
message only they see, which model sentences were left out and why (a mention's replies are
public, so there it is not sent).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.answerers import dropped_notes
from bot.render import render_answer, render_draft, render_why
from retrieval.answer import Answer
from retrieval.llm.client import TIMED_OUT
from retrieval.llm.streaming import EDIT_INTERVAL_S, Update, throttled

if TYPE_CHECKING:
    from app.deferred import PendingAnswer
    from bot.desk import Asker, Desk
    from bot.responders import Responder

log = logging.getLogger(__name__)

MODEL_DEADLINE_S = 600.0  # the model's whole answer; an interaction token lives 15 minutes


@dataclass(frozen=True)
class Pacing:
    """How often a streamed answer may edit its message, and how long the model may take (tests fake the clock)."""

    interval: float = EDIT_INTERVAL_S
    deadline: float = MODEL_DEADLINE_S
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


def _generator(updates: AsyncIterator[Update]) -> AsyncGenerator[Update, None]:
    """``stream`` and ``throttled`` are async generators (typed as iterators): closing one ends its HTTP stream."""
    assert isinstance(updates, AsyncGenerator)
    return updates


async def _drafts(
    responder: Responder, pending: PendingAnswer, pacing: Pacing, title: str
) -> tuple[Answer | None, float | None]:
    """Show the drafts as they come (paced); the model's final answer (None past the deadline) and the last edit."""
    last_edit: float | None = None
    deadline = asyncio.timeout(pacing.deadline)
    try:
        async with deadline:
            source = _generator(pending.updates())
            paced = _generator(throttled(source, interval=pacing.interval, clock=pacing.clock))
            async with aclosing(source), aclosing(paced) as updates:
                async for update in updates:
                    if isinstance(update, Answer):
                        return update, last_edit
                    last_edit = pacing.clock()
                    await responder.update(render_draft(update.text, title=title))
    except TimeoutError:
        if not deadline.expired():  # a timeout of Discord's, say: not the model's
            raise
        log.warning("the language model was still writing after %.0f s: answering extractively", pacing.deadline)
    return None, last_edit


async def deliver(desk: Desk, responder: Responder, asker: Asker, pending: PendingAnswer, *, title: str) -> Answer:
    """Stream the model's answer to ``pending`` into the responder's message, and return what was shown."""
    started = time.perf_counter()
    pacing = desk.pacing
    final, last_edit = await _drafts(responder, pending, pacing, title)
    if final is None:
        final = await desk.read(pending.fall_back, TIMED_OUT)
    answer = pending.completed(final, (time.perf_counter() - started) * 1000)
    replies = render_answer(answer, embeds=desk.use_embeds, title=title)
    if last_edit is None:
        await responder.send(replies)
    else:
        wait = pacing.interval - (pacing.clock() - last_edit)
        if wait > 0:
            await pacing.sleep(wait)
        await responder.finish(replies)
    if asker.is_moderator and (dropped := dropped_notes(answer)):
        await responder.whisper(render_why(dropped))
    return answer

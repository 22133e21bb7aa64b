"""Model answers the bot streams: the engine retrieves as always, the model writes later, on the event loop.

``Engine.ask`` retrieves in a worker thread, then calls its answerer. In the bot that answerer
is ``DeferredModel``: rather than ask the model there (holding a worker for the whole answer,
with nothing to show meanwhile), it returns a ``PendingAnswer`` that holds the question and the
passages, and the bot streams the model's answer from it (``LlmAnswerer.stream``), editing its
message as verified sentences arrive. ``Engine.ask`` itself is untouched: its notes (such as
"from undated articles") and its timing ride on the pending answer, and ``completed`` carries
them over to the final one exactly as ``Engine.ask`` adds them to any answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace

from index.lexical import LexicalIndex
from retrieval.answer import Answer, Answerer
from retrieval.hybrid import Hit
from retrieval.llm.answerer import LlmAnswerer, fallback_note
from retrieval.llm.streaming import Update
from retrieval.question import Question


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingAnswer(Answer):
    """Retrieval done, the model not asked yet; never shown as such (its ``text`` is empty).

    ``answered`` is true so that ``Engine.ask`` attaches its notes; ``completed`` keeps them
    only if the final answer answers, as ``Engine.ask`` does.
    """

    query: Question
    hits: tuple[Hit, ...]
    lexical: LexicalIndex
    model: LlmAnswerer

    def updates(self) -> AsyncIterator[Update]:
        """The model's answer: drafts of its verified sentences, then the final ``Answer`` (or the fallback's)."""
        return self.model.stream(self.query, self.hits, lexical=self.lexical)

    def fall_back(self, reason: str) -> Answer:
        """The extractive answer, with a note saying why (CPU-bound: call it in a worker thread)."""
        answer = self.model.fallback.answer(self.query, self.hits, lexical=self.lexical)
        return replace(answer, notes=(*answer.notes, fallback_note(reason)))

    def completed(self, final: Answer, model_ms: float) -> Answer:
        """``final`` with the engine's notes (when it answers) and the time of retrieval plus the model's."""
        notes = (*final.notes, *self.notes) if final.answered else final.notes
        return replace(final, notes=notes, latency_ms=self.latency_ms + model_ms)


class DeferredModel:
    """An answerer that leaves the model for later: it returns a ``PendingAnswer`` for the bot to stream."""

    def __init__(self, model: LlmAnswerer) -> None:
        """Defer to ``model``, whose ``stream`` the bot will call."""
        self.model = model

    def answer(self, question: Question, hits: Sequence[Hit], *, lexical: LexicalIndex) -> Answer:
        """What the model will answer from, as a ``PendingAnswer``."""
        return PendingAnswer(
            question.text, True, "", query=question, hits=tuple(hits), lexical=lexical, model=self.model
        )


def deferred(answerer: Answerer) -> Answerer:
    """``answerer`` as the bot uses it: an LLM answerer is deferred (streamed by the bot), any other kept."""
    return DeferredModel(answerer) if isinstance(answerer, LlmAnswerer) else answerer

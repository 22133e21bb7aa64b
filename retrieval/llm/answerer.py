"""An answerer that lets a language model write the answer, and shows only what checks out.

The model gets the question, the earlier conversation if any, and the retrieved passages
(``prompt.py``); it answers in sentences that cite passages and quote them (``schema.py``).
Every sentence is checked (``verify.py``); those that fail are left out with a note. When
none is left, or the model times out, fails or answers in an unreadable form, the injected
fallback answerer (the extractive one) answers instead, with a note that says why. The
result is an ``Answer`` like the extractive one: ``[n]`` markers in the text, and citations
whose quotes are the article's own text at their offsets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace

from index.lexical import LexicalIndex
from retrieval.answer import Answer, Answerer, Citation
from retrieval.hybrid import Hit
from retrieval.llm.client import ChatClient
from retrieval.llm.errors import LlmError
from retrieval.llm.prompt import Turn, build_messages
from retrieval.llm.schema import ModelSentence, complete_sentences, parse_reply
from retrieval.llm.streaming import Draft, Update
from retrieval.llm.verify import SUPPORT_THRESHOLD, DropReason, Verdict, Verifier
from retrieval.question import Question

log = logging.getLogger(__name__)

MAX_MODEL_SENTENCES = 6  # the prompt asks for at most 4; a longer reply is read this far
PASSAGES = 6
NO_ANSWER = "the language model found no answer in these passages"
NONE_VERIFIED = "none of the language model's sentences could be checked against the articles"
LEFT_OUT = "Left out "  # how a note on dropped model sentences begins
FALLBACK = "; this is newsdesk's extractive answer instead."  # how a note on a fallback ends
_DROPPED_BECAUSE = {
    "citation": "that did not cite a passage it was given",
    "quote": "whose quotation is not in the cited article",
    "support": "that the cited passage does not support",
    "injection": "that repeat instructions written inside an article",
}


@dataclass(frozen=True, slots=True)
class ModelAnswer(Answer):
    """An answer in the language model's words: each sentence checked, each citation still verbatim article text.

    Renderers tell it apart from the extractive answer (whose text is the quotes themselves) by type.
    """


def fallback_note(reason: str) -> str:
    """The note on an answer the fallback gave because of ``reason`` (e.g. "the language model failed")."""
    return f"{reason[:1].upper()}{reason[1:]}{FALLBACK}"


@dataclass(frozen=True, slots=True)
class LlmReport:
    """What became of one model answer: the benchmark's raw counts (also logged)."""

    sentences: int = 0
    quotes: int = 0
    verified_quotes: int = 0
    dropped: int = 0
    fallback: str | None = None  # why the fallback answered, or None when the model's answer was shown
    model_ms: float = 0.0


class _Composer:
    """Verifies the model's sentences one by one and writes the answer of those that pass."""

    def __init__(self, question: Question, hits: Sequence[Hit], lexical: LexicalIndex, min_support: float) -> None:
        self.question = question
        self.verifier = Verifier(hits, lexical, min_support=min_support)
        self.verdicts: list[Verdict] = []

    def add(self, sentences: Sequence[ModelSentence]) -> None:
        for sentence in sentences[len(self.verdicts) : MAX_MODEL_SENTENCES]:
            self.verdicts.append(self.verifier.check(sentence))

    @property
    def kept(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.dropped is None]

    def _numbered(self) -> tuple[list[str], list[Citation]]:
        """Lines with ``[n]`` markers and their citations, numbered by article in order of first use."""
        numbers: dict[str, int] = {}
        lines: list[str] = []
        citations: dict[tuple[str, int, int], Citation] = {}
        for verdict in self.kept:
            markers: list[int] = []
            for span in verdict.spans:
                article = span.hit.article
                n = numbers.setdefault(article.id, len(numbers) + 1)
                markers.append(n)
                quote = article.text[span.start : span.end]
                citation = Citation(
                    n,
                    article.id,
                    article.title,
                    article.source,
                    article.url,
                    article.published,
                    quote,
                    span.start,
                    span.end,
                )
                citations.setdefault((article.id, span.start, span.end), citation)
            lines.append(f"{verdict.text} " + " ".join(f"[{n}]" for n in dict.fromkeys(markers)))
        return lines, list(citations.values())

    def draft(self) -> str:
        return "\n".join(self._numbered()[0])

    def notes(self) -> list[str]:
        counts = Counter[DropReason](v.dropped for v in self.verdicts if v.dropped is not None)
        return [
            f"{LEFT_OUT}{count} model sentence{'s' if count > 1 else ''} {_DROPPED_BECAUSE[reason]}."
            for reason, count in counts.items()
        ]

    def answer(self) -> Answer | None:
        kept = self.kept
        if not kept:
            return None
        lines, citations = self._numbered()
        confidence = sum(v.support for v in kept) / len(kept)
        return ModelAnswer(
            self.question.text, True, "\n".join(lines), tuple(citations), confidence, notes=tuple(self.notes())
        )

    def report(self, model_ms: float, fallback: str | None = None) -> LlmReport:
        return LlmReport(
            sentences=len(self.verdicts),
            quotes=sum(v.quotes for v in self.verdicts),
            verified_quotes=sum(v.verified for v in self.verdicts),
            dropped=sum(v.dropped is not None for v in self.verdicts),
            fallback=fallback,
            model_ms=model_ms,
        )


class LlmAnswerer:
    """Answers with a language model over an OpenAI-compatible API; see the module docstring."""

    def __init__(
        self,
        client: ChatClient,
        fallback: Answerer,
        *,
        min_support: float = SUPPORT_THRESHOLD,
        passages: int = PASSAGES,
    ) -> None:
        """Ask through ``client``; ``fallback`` answers whenever the model's answer cannot be shown.

        Args:
            client: the chat completions client.
            fallback: the answerer used on failure (the extractive one).
            min_support: the support threshold of ``verify.py``.
            passages: how many of the retrieved passages the model sees.
        """
        self.client = client
        self.fallback = fallback
        self.min_support = min_support
        self.passages = passages

    def _composer(self, question: Question, hits: Sequence[Hit], lexical: LexicalIndex) -> _Composer:
        return _Composer(question, hits, lexical, self.min_support)

    def _with_notes(self, answer: Answer, reason: str, notes: Sequence[str] = ()) -> Answer:
        return replace(answer, notes=(*answer.notes, *notes, fallback_note(reason)))

    def answer(
        self, question: Question, hits: Sequence[Hit], *, lexical: LexicalIndex, context: Sequence[Turn] = ()
    ) -> Answer:
        """Answer with the model (blocking), falling back to the extractive answer."""
        return self.answer_with_report(question, hits, lexical=lexical, context=context)[0]

    def answer_with_report(
        self, question: Question, hits: Sequence[Hit], *, lexical: LexicalIndex, context: Sequence[Turn] = ()
    ) -> tuple[Answer, LlmReport]:
        """``answer``, and what became of the model's sentences (for the benchmark)."""
        hits = hits[: self.passages]
        if not hits:
            return self.fallback.answer(question, hits, lexical=lexical), LlmReport()
        composer = self._composer(question, hits, lexical)
        started = time.perf_counter()
        try:
            reply = parse_reply(self.client.complete(build_messages(question.text, hits, context=context)))
        except LlmError as exc:
            return self._fall_back(question, hits, lexical, composer, started, str(exc))
        composer.add(reply.sentences)
        return self._finish(question, hits, lexical, composer, started)

    def _finish(
        self, question: Question, hits: Sequence[Hit], lexical: LexicalIndex, composer: _Composer, started: float
    ) -> tuple[Answer, LlmReport]:
        answer = composer.answer()
        if answer is None:
            reason = NONE_VERIFIED if composer.verdicts else NO_ANSWER
            return self._fall_back(question, hits, lexical, composer, started, reason)
        report = composer.report(_ms(started))
        log.info(
            "model answer: %d of %d sentences kept (%.0f ms)", len(composer.kept), report.sentences, report.model_ms
        )
        return answer, report

    def _fall_back(
        self,
        question: Question,
        hits: Sequence[Hit],
        lexical: LexicalIndex,
        composer: _Composer,
        started: float,
        reason: str,
    ) -> tuple[Answer, LlmReport]:
        log.warning("falling back to the extractive answer: %s", reason)
        report = composer.report(_ms(started), fallback=reason)
        answer = self.fallback.answer(question, hits, lexical=lexical)
        return self._with_notes(answer, reason, composer.notes()), report

    async def stream(
        self, question: Question, hits: Sequence[Hit], *, lexical: LexicalIndex, context: Sequence[Turn] = ()
    ) -> AsyncIterator[Update]:
        """Stream the answer: ``Draft``s of the verified sentences so far, then the final ``Answer``.

        The fallback (CPU-bound) runs in a worker thread, so the event loop never waits on it.
        """
        hits = hits[: self.passages]
        if not hits:
            yield await asyncio.to_thread(self.fallback.answer, question, hits, lexical=lexical)
            return
        composer = self._composer(question, hits, lexical)
        started = time.perf_counter()
        buffer = ""
        try:
            async for piece in self.client.stream(build_messages(question.text, hits, context=context)):
                buffer += piece
                shown = len(composer.kept)
                composer.add(complete_sentences(buffer))
                if len(composer.kept) > shown:
                    yield Draft(composer.draft())
            reply = parse_reply(buffer)
        except LlmError as exc:
            answer, _ = await asyncio.to_thread(self._fall_back, question, hits, lexical, composer, started, str(exc))
            yield answer
            return
        composer.add(reply.sentences)  # the last sentence, which no later one closed while streaming
        answer, _ = await asyncio.to_thread(self._finish, question, hits, lexical, composer, started)
        yield answer

    async def aanswer(
        self, question: Question, hits: Sequence[Hit], *, lexical: LexicalIndex, context: Sequence[Turn] = ()
    ) -> Answer:
        """The final answer of ``stream``, without the drafts."""
        async for update in self.stream(question, hits, lexical=lexical, context=context):
            if isinstance(update, Answer):
                return update
        raise AssertionError("stream() always ends with an Answer")


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000

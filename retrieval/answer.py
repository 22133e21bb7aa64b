"""Answers with citations: the result types, the answerer interface, and the extractive answerer.

The extractive answerer needs no external service. It scores every sentence of the
retrieved passages by meaning (cosine with the question), by the weight of question terms
it contains (IDF-weighted coverage, in the sentence and around it), by how well its
passage ranked, by whether it holds the kind of answer asked for (a number for "how many",
a name for "who"), by shared phrasing, and, for "what did X say" questions, by whether X is
the speaker of a quotation in it. It quotes the best sentences verbatim, with character
offsets into the cleaned article, and abstains when even the best evidence is weak.

An LLM answerer plugs in by implementing ``Answerer.answer`` with the same inputs and
``Answer`` output (see ``README.md``): quotes must still be exact article text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Protocol

import numpy as np

from index.encoder import Encoder
from index.lexical import LexicalIndex, terms
from index.models import Article
from retrieval.hybrid import Hit
from retrieval.question import Question, has_answer_type, is_attributed_quote

MIN_SENTENCE_WORDS = 4
QUOTE_RATIO = 0.8  # a further quote must score at least this share of the best one
_PRUNE_BATCH = 8
# A sentence that opens with a pronoun or a connective, or attributes a quote to "he"/"she", leans on the
# sentence before it: quoting both tells the reader who "he" is.
_DEPENDENT = re.compile(
    r"^(?:he|she|they|it|this|that|these|those|his|her|their|its|but|and|yet|however|also|still)\b"
    r'|," (?:he|she|they) (?:said|says|added|told|continued|explained)\b',
    re.IGNORECASE,
)
NOT_FOUND = "I could not find an answer to that in the indexed articles."


@dataclass(frozen=True, slots=True)
class Citation:
    """One quoted piece of evidence: ``quote == article.text[start:end]`` always holds."""

    n: int
    article_id: str
    title: str
    source: str | None
    url: str | None
    published: datetime | None
    quote: str
    start: int
    end: int

    def to_json(self) -> dict[str, object]:
        """The ``ask --json`` shape."""
        return {
            "n": self.n,
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "url": self.url,
            "published": self.published.isoformat() if self.published else None,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """What the user sees: ``text`` with ``[n]`` markers, and the citations they refer to."""

    question: str
    answered: bool
    text: str
    citations: tuple[Citation, ...] = ()
    confidence: float = 0.0
    latency_ms: float = 0.0
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        """The ``ask --json`` shape."""
        return {
            "question": self.question,
            "answered": self.answered,
            "answer": self.text,
            "citations": [c.to_json() for c in self.citations],
            "confidence": round(self.confidence, 4),
            "latency_ms": round(self.latency_ms, 2),
            "notes": list(self.notes),
        }


class Answerer(Protocol):
    """Turns a question and retrieved passages into an ``Answer``."""

    def answer(self, question: Question, hits: Sequence[Hit], *, lexical: LexicalIndex) -> Answer:
        """Answer from ``hits`` only; abstain when they do not answer the question."""
        ...


@dataclass(frozen=True, slots=True)
class _Candidate:
    hit: Hit
    start: int
    end: int
    score: float
    cosine: float
    quote_start: int  # where the quote starts: earlier than ``start`` when the sentence needs its predecessor

    def overlaps(self, other: _Candidate) -> bool:
        return (
            self.hit.article.id == other.hit.article.id
            and self.quote_start < other.end
            and other.quote_start < self.end
        )


@dataclass(frozen=True)
class ExtractiveWeights:
    """Weights of the sentence score and the abstention threshold (measured in ``benchmarks/quality.py``)."""

    cosine: float = 0.45
    coverage: float = 0.6
    context: float = 0.15
    passage: float = 0.5
    speaker: float = 0.15
    answer_type: float = 0.3
    phrase: float = 0.2
    min_confidence: float = 0.50
    max_quotes: int = 2
    passages: int = 6


def coverage(question_terms: Sequence[str], idf: dict[str, float], text_terms: set[str]) -> float:
    """Share of the question's IDF weight that ``text_terms`` holds: rare words count most."""
    total = sum(idf[t] for t in question_terms)
    return sum(idf[t] for t in question_terms if t in text_terms) / total if total else 0.0


def phrase_overlap(question_terms: Sequence[str], sentence_terms: Sequence[str]) -> float:
    """Share of the question's consecutive term pairs that the sentence also has: phrasing, not just words."""
    wanted = set(pairwise(question_terms))
    if not wanted:
        return 0.0
    return len(wanted & set(pairwise(sentence_terms))) / len(wanted)


def _speaker_score(question: Question, sentence: str, context: str) -> float:
    """1 when the sentence is a quotation and the asked-about speaker is named in it or right before it."""
    if not question.asks_for_quote or not is_attributed_quote(sentence):
        return 0.0
    named = set(terms(sentence))
    if all(t in named for t in question.speaker_terms[-1:]):
        return 1.0
    return 0.5 if all(t in set(terms(context)) for t in question.speaker_terms[-1:]) else 0.0


class ExtractiveAnswerer:
    """Quotes the sentences of the retrieved passages that best answer the question."""

    def __init__(self, encoder: Encoder, weights: ExtractiveWeights | None = None) -> None:
        self.encoder = encoder
        self.weights = weights or ExtractiveWeights()

    def _candidates(self, question: Question, hits: Sequence[Hit], idf: dict[str, float]) -> list[_Candidate]:
        w = self.weights
        spans: list[tuple[Hit, int, int, str, str, int]] = []
        seen: set[str] = set()  # by text: the same sentence in two articles is cited once
        for hit in hits[: w.passages]:
            text = hit.article.text
            sentences = hit.passage.sentence_spans
            for i, (start, end) in enumerate(sentences):
                sentence = text[start:end]
                normalised = " ".join(sentence.casefold().split())
                if normalised in seen or len(sentence.split()) < MIN_SENTENCE_WORDS:
                    continue
                seen.add(normalised)
                lo, hi = sentences[max(i - 1, 0)][0], sentences[min(i + 1, len(sentences) - 1)][1]
                context = f"{hit.article.title}\n{text[lo:hi]}"
                spans.append((hit, start, end, sentence, context, quote_start(text, sentences, i)))
        if not spans:
            return []
        best_passage = max(h.score for h in hits) or 1.0
        partial: list[float] = []  # each sentence's score without its cosine term
        for hit, _start, _end, sentence, context, _quote_start in spans:
            sentence_terms = terms(sentence)
            rest = (
                w.coverage * coverage(question.terms, idf, set(sentence_terms))
                + w.context * coverage(question.terms, idf, set(terms(context)))
                + w.passage * hit.score / best_passage
                + w.speaker * _speaker_score(question, sentence, context)
                + w.answer_type * has_answer_type(question, sentence)
                + w.phrase * phrase_overlap(question.terms, sentence_terms)
            )
            partial.append(rest)
        query = self.encoder.encode([question.text])[0]
        out: list[_Candidate] = []
        # Embedding the sentences is most of an answer's time. A cosine is at most 1, so a sentence whose other
        # features cannot lift it to QUOTE_RATIO of the best score found so far can neither be quoted first nor
        # second: embed in order of that upper bound, and stop as soon as it falls below the bar. The quotes chosen
        # are exactly those of scoring every sentence.
        order = sorted(range(len(spans)), key=lambda i: -partial[i])
        for lo in range(0, len(order), _PRUNE_BATCH):
            best = max((c.score for c in out), default=-np.inf)
            batch = [i for i in order[lo : lo + _PRUNE_BATCH] if partial[i] + w.cosine >= QUOTE_RATIO * best]
            if not batch:
                break
            cosines = self.encoder.encode([spans[i][3] for i in batch], batch_size=32) @ query
            for i, cosine in zip(batch, cosines.tolist(), strict=True):
                hit, start, end, _sentence, _context, begins = spans[i]
                out.append(_Candidate(hit, start, end, partial[i] + w.cosine * cosine, cosine, begins))
        return sorted(out, key=lambda c: -c.score)

    def confidence(self, best: _Candidate, question: Question, idf: dict[str, float]) -> float:
        """How sure we are that the best sentence answers the question (0..1, uncalibrated)."""
        article_terms = set(terms(best.hit.article.title + "\n" + best.hit.article.text))
        return 0.5 * max(best.hit.dense, best.cosine) + 0.5 * coverage(question.terms, idf, article_terms)

    def answer(self, question: Question, hits: Sequence[Hit], *, lexical: LexicalIndex) -> Answer:
        """Quote the best sentences, or abstain."""
        idf = lexical.idf(question.terms)
        candidates = self._candidates(question, hits, idf)
        if not candidates:
            return Answer(question.text, False, NOT_FOUND)
        best = candidates[0]
        confidence = self.confidence(best, question, idf)
        if confidence < self.weights.min_confidence:
            return Answer(question.text, False, NOT_FOUND, confidence=confidence)
        chosen = [best]
        for cand in candidates[1:]:
            if len(chosen) >= self.weights.max_quotes or cand.score < QUOTE_RATIO * best.score:
                break
            if not any(cand.overlaps(c) for c in chosen):
                chosen.append(cand)
        citations = cite((c.hit.article, c.quote_start, c.end) for c in chosen)
        lines = [f"> {c.quote} [{c.n}]" for c in citations]
        return Answer(question.text, True, "\n".join(lines), tuple(citations), confidence=confidence)


def quote_start(text: str, spans: Sequence[tuple[int, int]], i: int) -> int:
    """Where the quote of sentence ``i`` starts: at its predecessor when it leans on it ("he said", "But")."""
    start, end = spans[i]
    same_paragraph = i > 0 and "\n" not in text[spans[i - 1][1] : start]
    return spans[i - 1][0] if same_paragraph and _DEPENDENT.search(text[start:end]) else start


def cite(spans: Iterable[tuple[Article, int, int]]) -> list[Citation]:
    """Citations of ``(article, start, end)`` spans, numbered by article in order of first use."""
    numbers: dict[str, int] = {}
    return [
        Citation(
            numbers.setdefault(article.id, len(numbers) + 1),
            article.id,
            article.title,
            article.source,
            article.url,
            article.published,
            article.text[start:end],
            start,
            end,
        )
        for article, start, end in spans
    ]


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` at a word boundary to at most ``limit`` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return re.sub(r"\s+\S*$", "", text[: limit - 1]) + "…"

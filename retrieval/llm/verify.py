"""Check each sentence a model wrote against the passages it cites, before anyone sees it.

A sentence is kept only when

1. it cites at least one of the passages it was given, and no other number;
2. every quotation in it (its ``quote`` field, and any words it puts in double quotation marks)
   is found in a cited passage's article, exactly up to whitespace and quote marks
   (``offsets.py``): that found text, at its offsets, becomes the citation;
3. its content terms are supported by what it cites: the IDF-weighted share of its terms
   (stemmed, stop words removed, as in BM25) found in the cited passages, their titles and
   its verified quotes is at least ``SUPPORT_THRESHOLD``;
4. neither its quotes nor its support come from a sentence of the article that addresses a
   language model ("ignore previous instructions and say X"): an article cannot vouch for
   what it tells the model to say.

The threshold was measured on a hand-made set of sentences about news passages, faithful
ones and ones citing the wrong passage or adding facts (``benchmarks/llm_support.py``; the
table is in README.md, "Using an LLM"). A sentence without a quote is cited by the sentence
of its passage that shares most of its terms, so every citation still shows article text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from index.lexical import LexicalIndex, terms
from index.sentences import split_sentences
from retrieval.hybrid import Hit
from retrieval.llm.offsets import NormalisedText, normalise
from retrieval.llm.schema import ModelSentence

SUPPORT_THRESHOLD = 0.5
_MARKER = re.compile(r"\s*\[\d{1,3}\]")
_QUOTED = re.compile(r'"([^"]+)"')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

DropReason = Literal["citation", "quote", "support", "injection"]
# Text in an article that talks to a language model ("ignore previous instructions and ..."): never evidence.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.!?\n]{0,60}\b(?:instructions?|prompts?)\b"
    r"|\bsystem prompt\b|\bas an? (?:ai|language model)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Span:
    """Evidence in an article: ``hit.article.text[start:end]``."""

    hit: Hit
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Verdict:
    """What checking one sentence found; ``dropped`` is ``None`` when it may be shown."""

    text: str
    spans: tuple[Span, ...]
    support: float
    quotes: int
    verified: int
    dropped: DropReason | None = None


def shown_text(text: str) -> str:
    """The sentence as it will be shown: one line, no control characters, no ``[n]`` markers of its own."""
    return " ".join(_CONTROL.sub(" ", _MARKER.sub("", text)).split())


def quotations(sentence: ModelSentence) -> list[str]:
    """Every quotation the sentence makes (its quote field, words in double quotes), normalised, no repeats."""
    found = [sentence.quote or "", *_QUOTED.findall(normalise(sentence.text))]
    return list(dict.fromkeys(q for q in (normalise(f) for f in found) if q))


def support(text: str, evidence: str, lexical: LexicalIndex) -> float:
    """IDF-weighted share of the content terms of ``text`` that ``evidence`` also has (0 when it has none)."""
    wanted = sorted(set(terms(text)))  # a fixed order: the same sums, to the last bit, on every run
    if not wanted:
        return 0.0
    idf = lexical.idf(wanted)
    have = set(terms(evidence))
    return sum(idf[t] for t in wanted if t in have) / sum(idf[t] for t in wanted)


class Verifier:
    """Checks sentences against one question's passages (numbered from 1, in ``hits`` order)."""

    def __init__(self, hits: Sequence[Hit], lexical: LexicalIndex, *, min_support: float = SUPPORT_THRESHOLD) -> None:
        """Check against ``hits``, weighting terms by ``lexical``'s IDF."""
        self.hits = list(hits)
        self.lexical = lexical
        self.min_support = min_support
        self._views: dict[str, NormalisedText] = {}
        self._instructions: dict[str, list[tuple[int, int]]] = {}

    def _view(self, hit: Hit) -> NormalisedText:
        article = hit.article
        if article.id not in self._views:
            self._views[article.id] = NormalisedText.of(article.text)
        return self._views[article.id]

    def _addresses_model(self, hit: Hit, start: int, end: int) -> bool:
        """Whether ``article.text[start:end]`` overlaps a sentence of the article written to a language model."""
        text = hit.article.text
        if hit.article.id not in self._instructions:
            self._instructions[hit.article.id] = [
                (s, e) for s, e in split_sentences(text) if _INSTRUCTION.search(text[s:e])
            ]
        return any(s < end and start < e for s, e in self._instructions[hit.article.id])

    def _evidence(self, hit: Hit, *, instructions: bool) -> str:
        """The passage's title and sentences; those addressing a model count only when ``instructions``."""
        text = hit.article.text
        kept = [
            text[s:e] for s, e in hit.passage.sentence_spans if instructions or not self._addresses_model(hit, s, e)
        ]
        return "\n".join([hit.article.title, *kept])

    def _locate(self, quote: str, cited: Sequence[Hit]) -> Span | None:
        """The quote in a cited passage, else anywhere in a cited passage's article."""
        for hit in cited:
            if span := self._view(hit).find(quote, hit.passage.start, hit.passage.end):
                return Span(hit, *span)
        for hit in cited:
            if span := self._view(hit).find(quote):
                return Span(hit, *span)
        return None

    def _best_sentence(self, text: str, cited: Sequence[Hit]) -> Span:
        """The sentence of the cited passages that shares most of ``text``'s weighted terms."""
        best, best_score = Span(cited[0], *_first_sentence(cited[0])), 0.0
        for hit in cited:
            for start, end in hit.passage.sentence_spans:
                score = support(text, hit.article.text[start:end], self.lexical)
                if score > best_score and not self._addresses_model(hit, start, end):
                    best, best_score = Span(hit, start, end), score
        return best

    def _support(self, text: str, cited: Sequence[Hit], spans: Sequence[Span], *, instructions: bool) -> float:
        quoted = [s.hit.article.text[s.start : s.end] for s in spans]
        evidence = "\n".join([*(self._evidence(h, instructions=instructions) for h in cited), *quoted])
        return support(text, evidence, self.lexical)

    def check(self, sentence: ModelSentence) -> Verdict:
        """Keep or drop one sentence, with its evidence."""
        text = shown_text(sentence.text)
        quotes = quotations(sentence)
        numbers = list(dict.fromkeys([*sentence.passages, *map(int, re.findall(r"\[(\d{1,3})\]", sentence.text))]))
        if not numbers or any(not 1 <= n <= len(self.hits) for n in numbers):
            return Verdict(text, (), 0.0, len(quotes), 0, "citation")
        cited = [self.hits[n - 1] for n in numbers]
        spans = [span for q in quotes if (span := self._locate(q, cited))]
        if len(spans) < len(quotes):
            return Verdict(text, (), 0.0, len(quotes), len(spans), "quote")
        if any(self._addresses_model(s.hit, s.start, s.end) for s in spans):
            return Verdict(text, (), 0.0, len(quotes), len(spans), "injection")
        score = self._support(text, cited, spans, instructions=False)
        if score < self.min_support:
            # Supported only once the article's words to the model count: the model is repeating them.
            injected = self._support(text, cited, spans, instructions=True) >= self.min_support
            return Verdict(text, (), score, len(quotes), len(spans), "injection" if injected else "support")
        shown = tuple(_outermost(spans)) or (self._best_sentence(text, cited),)
        return Verdict(text, shown, score, len(quotes), len(spans))


def _first_sentence(hit: Hit) -> tuple[int, int]:
    spans = hit.passage.sentence_spans
    return spans[0] if spans else (hit.passage.start, hit.passage.end)


def _outermost(spans: Sequence[Span]) -> list[Span]:
    """Spans without repeats or those inside another (a quote field repeated inside the sentence's quotation)."""
    unique = list({(s.hit.article.id, s.start, s.end): s for s in spans}.values())
    return [
        s
        for s in unique
        if not any(
            o is not s and o.hit.article.id == s.hit.article.id and o.start <= s.start and s.end <= o.end
            for o in unique
        )
    ]

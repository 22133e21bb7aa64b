"""Metric functions of the quality benchmarks, kept pure so that tests can pin them on tiny cases."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


def normalise(text: str) -> str:
    """Case-, quote- and whitespace-insensitive form used for containment checks."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES).casefold()
    return re.sub(r"\s+", " ", text).strip()


def contains_any(text: str, answers: Iterable[str]) -> bool:
    """Whether ``text`` contains one of the gold answer strings (normalised)."""
    haystack = normalise(text)
    return any(a.strip() and normalise(a) in haystack for a in answers)


def hit_at(ranked: Sequence[str], gold: str, k: int) -> float:
    """1.0 when ``gold`` is among the first ``k`` of ``ranked``."""
    return 1.0 if gold in ranked[:k] else 0.0


def reciprocal_rank(ranked: Sequence[str], gold: str, k: int = 10) -> float:
    """1/rank of ``gold`` within the first ``k`` (0 when absent): the summand of MRR@k."""
    for i, item in enumerate(ranked[:k]):
        if item == gold:
            return 1.0 / (i + 1)
    return 0.0


def distinct(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats (passages -> articles)."""
    return list(dict.fromkeys(items))


def is_verbatim(article_text: str, quote: str, start: int, end: int) -> bool:
    """The contract of every citation: the quote is exactly the article text at its offsets."""
    return 0 <= start <= end <= len(article_text) and article_text[start:end] == quote and bool(quote)


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean (0 for no values)."""
    return sum(values) / len(values) if values else 0.0


def rouge(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Mean ROUGE-1/2/L F1 (``rouge-score`` with stemming) of predictions against references."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for pred, ref in zip(predictions, references, strict=True):
        scores = scorer.score(ref, pred)
        for key in totals:
            totals[key] += scores[key].fmeasure
    n = max(len(predictions), 1)
    return {key: value / n for key, value in totals.items()}

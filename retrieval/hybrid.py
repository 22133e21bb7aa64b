"""Hybrid retrieval: dense (FAISS) and lexical (BM25) rankings fused by reciprocal rank.

Reciprocal rank fusion needs no score calibration between the two retrievers, which is why
it is the default of DocsGPT and others: each list contributes ``1 / (RRF_K + rank)``.
Near-identical passages (the same wire copy in two articles, overlapping chunks) are
dropped so that the same text is never cited twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from index.lexical import terms
from index.models import Article
from index.snapshot import Snapshot
from index.store import Store, StoredPassage

RRF_K = 60
DUPLICATE_JACCARD = 0.8


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved passage with its fused score and the article it belongs to."""

    passage: StoredPassage
    article: Article
    score: float
    dense: float
    lexical: float
    rank: int

    @property
    def text(self) -> str:
        """The passage text, exactly as in the cleaned article."""
        return self.article.text[self.passage.start : self.passage.end]


def _top(scores: npt.NDArray[np.float32], k: int, mask: npt.NDArray[np.bool_] | None) -> npt.NDArray[np.int64]:
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    k = min(k, int(np.count_nonzero(scores > 0)))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")].astype(np.int64)


def _shingles(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + 3]) for i in range(max(len(words) - 2, 1))}


def rrf(
    rankings: Sequence[Sequence[int]], *, k: int = RRF_K, weights: Sequence[float] | None = None
) -> dict[int, float]:
    """Reciprocal rank fusion of several rankings of row ids."""
    fused: dict[int, float] = {}
    for i, ranking in enumerate(rankings):
        w = 1.0 if weights is None else weights[i]
        for rank, row in enumerate(ranking):
            fused[int(row)] = fused.get(int(row), 0.0) + w / (k + rank + 1)
    return fused


class HybridSearcher:
    """Searches one snapshot; immutable, so a re-index swaps in a new searcher."""

    def __init__(self, snapshot: Snapshot, store: Store) -> None:
        self.snapshot = snapshot
        self.store = store

    def search(
        self,
        question: str,
        query_vector: npt.NDArray[np.float32],
        *,
        k: int = 8,
        mask: npt.NDArray[np.bool_] | None = None,
        candidates: int = 50,
        mode: str = "hybrid",
    ) -> list[Hit]:
        """The top-``k`` distinct passages for a question.

        Args:
            question: the question text (for BM25).
            query_vector: its embedding (for FAISS).
            k: passages to return.
            mask: rows that may be returned (collections, sources, dates), or ``None`` for all.
            candidates: how deep each retriever's list goes before fusion.
            mode: ``hybrid``, ``dense`` or ``bm25`` (the last two are baselines for benchmarks).
        """
        snap = self.snapshot
        if snap.rows == 0:
            return []
        dense_scores, dense_rows = (
            snap.dense_search(query_vector, candidates, mask) if mode != "bm25" else (np.zeros(0), np.zeros(0, int))
        )
        lexical_all = snap.lexical.scores(terms(question), mask) if mode != "dense" else None
        lexical_rows = _top(lexical_all, candidates, mask) if lexical_all is not None else np.zeros(0, np.int64)
        fused = rrf([dense_rows.tolist(), lexical_rows.tolist()])
        dense_by_row = dict(zip(dense_rows.tolist(), dense_scores.tolist(), strict=True))
        order = sorted(fused, key=lambda r: -fused[r])
        return self._materialise(order, fused, dense_by_row, lexical_all, query_vector, k)

    def _materialise(
        self,
        order: list[int],
        fused: dict[int, float],
        dense_by_row: dict[int, float],
        lexical_all: npt.NDArray[np.float32] | None,
        query_vector: npt.NDArray[np.float32],
        k: int,
    ) -> list[Hit]:
        snap = self.snapshot
        window = order[: max(3 * k, 20)]
        pids = [int(snap.pids[r]) for r in window]
        passages = self.store.passages(pids)
        articles = self.store.articles(p.article_id for p in passages.values())
        hits: list[Hit] = []
        kept_shingles: list[set[str]] = []
        for row, pid in zip(window, pids, strict=True):
            passage = passages.get(pid)
            if passage is None or passage.article_id not in articles:
                continue  # deleted since this snapshot was built
            article = articles[passage.article_id]
            shingles = _shingles(article.text[passage.start : passage.end])
            if any(len(shingles & s) / max(len(shingles | s), 1) >= DUPLICATE_JACCARD for s in kept_shingles):
                continue
            kept_shingles.append(shingles)
            hits.append(
                Hit(
                    passage=passage,
                    article=article,
                    score=fused[row],
                    dense=dense_by_row[row]
                    if row in dense_by_row
                    else float(snap.dense.reconstruct(row) @ query_vector),
                    lexical=float(lexical_all[row]) if lexical_all is not None else 0.0,
                    rank=len(hits),
                )
            )
            if len(hits) == k:
                break
        return hits

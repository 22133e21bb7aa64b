"""Lexical (BM25) scoring with bm25s, and the tokenizer shared by every lexical feature.

The same tokenizer (lower case, English stop words removed, Snowball stems) is used for
the BM25 index and for the answerer's term-overlap features, so a question term
"strikes" matches "strike" everywhere.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


_local = threading.local()


def _stemmer() -> object | None:
    """This thread's stemmer, made on first use.

    A PyStemmer ``Stemmer`` is not thread-safe (its cache and buffers are shared state), and the
    bot tokenises in several reader threads at once: sharing one crashed the process.
    """
    stemmer: object | None = getattr(_local, "stemmer", False)
    if stemmer is False:
        try:
            import Stemmer

            stemmer = Stemmer.Stemmer("english")
        except ImportError:  # PyStemmer is a dependency; a missing one only costs some recall
            log.warning("PyStemmer is missing: BM25 runs without stemming")
            stemmer = None
        _local.stemmer = stemmer
    return stemmer


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS)


def terms(text: str) -> list[str]:
    """Stemmed content terms of ``text``, in order."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _stopwords()]
    stemmer = _stemmer()
    return list(stemmer.stemWords(words)) if stemmer is not None else words  # type: ignore[attr-defined]


class LexicalIndex:
    """BM25 over passage texts; rows are the snapshot's passage rows."""

    def __init__(self, retriever: bm25s.BM25 | None) -> None:
        """Wrap a built retriever; ``None`` is the empty index (bm25s cannot index nothing)."""
        self._bm25 = retriever
        self._vocab: dict[str, int] = retriever.vocab_dict if retriever is not None else {}
        self.size = int(retriever.scores["num_docs"]) if retriever is not None else 0
        indptr = np.asarray(retriever.scores["indptr"]) if retriever is not None else np.zeros(1)
        self._doc_freq = np.diff(indptr).astype(np.int64)

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        """Index ``texts`` (one per passage row)."""
        if not texts:
            return cls(None)
        retriever = bm25s.BM25()
        corpus = [terms(t) or ["__empty__"] for t in texts]
        retriever.index(corpus, show_progress=False)
        return cls(retriever)

    def save(self, path: Path) -> None:
        """Write to a folder."""
        if self._bm25 is None:
            path.mkdir(parents=True, exist_ok=True)
            (path / "EMPTY").touch()
        else:
            self._bm25.save(str(path))

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        """Read a folder written by ``save``."""
        if (path / "EMPTY").exists():
            return cls(None)
        return cls(bm25s.BM25.load(str(path), mmap=False))

    def doc_freq(self, term: str, mask: npt.NDArray[np.bool_] | None = None) -> int:
        """How many rows (of ``mask``, or all) hold ``term``."""
        if term not in self._vocab or self._bm25 is None:
            return 0
        t = self._vocab[term]
        if mask is None:
            return int(self._doc_freq[t])
        indptr = self._bm25.scores["indptr"]
        rows = np.asarray(self._bm25.scores["indices"][indptr[t] : indptr[t + 1]])
        return int(np.count_nonzero(mask[rows]))

    def known(self, query_terms: Sequence[str]) -> list[str]:
        """The terms the index has seen (others score nothing)."""
        return [t for t in query_terms if t in self._vocab]

    def idf(self, query_terms: Sequence[str]) -> dict[str, float]:
        """BM25-style inverse document frequency of each term (unknown terms get the maximum)."""
        n = max(self.size, 1)
        out = {}
        for term in query_terms:
            df = int(self._doc_freq[self._vocab[term]]) if term in self._vocab else 0
            out[term] = float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
        return out

    def scores(self, query_terms: Sequence[str], mask: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.float32]:
        """BM25 score of every row for the query (0 for rows outside ``mask``)."""
        known = self.known(query_terms)
        if not known or self._bm25 is None:
            return np.zeros(self.size, dtype=np.float32)
        weight = None if mask is None else mask.astype(np.float32)
        return np.asarray(self._bm25.get_scores(known, weight_mask=weight), dtype=np.float32)

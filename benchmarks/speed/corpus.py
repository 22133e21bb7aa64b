"""10k / 100k corpora: the real embedded rows first, then synthetic rows made from them (see the package docstring)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.speed.common import NOISE, SEED, Vectors
from benchmarks.speed.vectors import noisy
from index.attribution import dumps, extract_attributions
from index.chunk import chunk_article
from index.models import GLOBAL_COLLECTION, Article, ArticleSentences, Passage
from index.pipeline import ChunkSettings
from index.sentences import split_sentences
from index.store import Store


@dataclass
class RealCorpus:
    """Real, embedded articles: passages and their vectors, article by article."""

    articles: list[Article]
    passages: list[list[Passage]]
    vectors: list[Vectors]
    _sentences: list[list[tuple[int, int, int]]] = field(default_factory=list, repr=False)

    @property
    def rows(self) -> int:
        """Number of passages."""
        return sum(len(ps) for ps in self.passages)

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self.vectors[0].shape[1])

    def all_vectors(self) -> Vectors:
        """Every passage vector, stacked."""
        return np.ascontiguousarray(np.vstack(self.vectors), dtype=np.float32)

    def sentences(self, i: int) -> list[tuple[int, int, int]]:
        """``(start, end, passage index)`` of each sentence of article ``i`` (first passage holding it)."""
        if not self._sentences:
            for article, passages in zip(self.articles, self.passages, strict=True):
                spans = []
                for s, e in split_sentences(article.text):
                    owner = next((k for k, p in enumerate(passages) if p.start <= s < p.end), None)
                    if owner is not None:
                        spans.append((s, e, owner))
                self._sentences.append(spans)
        return self._sentences[i]

    @classmethod
    def from_store(cls, store: Store) -> RealCorpus:
        """Read every article, passage and vector of a store."""
        articles = {a.id: a for a in store.iter_articles()}
        rows: dict[str, list[tuple[int, int, int, bytes]]] = {}
        for pid, article_id, start, end, blob in store.passage_rows():
            rows.setdefault(article_id, []).append((pid, start, end, blob))
        out = cls([], [], [])
        for article_id, items in rows.items():
            article = articles[article_id]
            stored = store.passages([pid for pid, *_ in items])
            passages = [
                Passage(article_id, stored[pid].position, s, e, article.text[s:e], stored[pid].sentence_spans)
                for pid, s, e, _ in items
            ]
            out.articles.append(article)
            out.passages.append(passages)
            out.vectors.append(np.vstack([np.frombuffer(b, dtype=np.float32) for *_, b in items]))
        return out


def synthesize(
    corpus: RealCorpus,
    rows: int,
    *,
    seed: int = SEED,
    noise: float = NOISE,
    collection: str = GLOBAL_COLLECTION,
    chunking: ChunkSettings | None = None,
) -> Iterator[tuple[Article, list[Passage], Vectors]]:
    """Exactly ``rows`` passages: the real ones first, then sentence shuffles of pairs of real articles.

    See the package docstring (``benchmarks.speed``) for how synthetic text and vectors are made.
    """
    chunking = chunking or ChunkSettings()
    rng = np.random.default_rng(seed)
    left = rows
    for article, passages, vectors in zip(corpus.articles, corpus.passages, corpus.vectors, strict=True):
        if left <= 0:
            return
        take = min(left, len(passages))
        yield article, passages[:take], vectors[:take]
        left -= take
    n_real = len(corpus.articles)
    if not any(corpus.sentences(i) for i in range(n_real)):
        raise ValueError("the real corpus has no sentences to shuffle")
    serial = 0
    while left > 0:
        a, b = (int(x) for x in rng.integers(0, n_real, 2))
        pool = [(a, *s) for s in corpus.sentences(a)] + [(b, *s) for s in corpus.sentences(b)]
        if not pool:
            continue
        picks = rng.permutation(len(pool))[: max(len(corpus.sentences(a)), 1)]
        parts: list[str] = []
        sources: list[tuple[int, int, Vectors]] = []  # (start, end, vector) in the new text
        offset = 0
        for k in picks:
            src, s, e, owner = pool[int(k)]
            sentence = corpus.articles[src].text[s:e]
            if parts:
                offset += 1
            parts.append(sentence)
            sources.append((offset, offset + len(sentence), corpus.vectors[src][owner]))
            offset += len(sentence)
        text = " ".join(parts)
        title = parts[0][:200]
        article = Article(
            id=Article.make_id(collection, title, text),
            collection=collection,
            title=title,
            text=text,
            source="synthetic",
            url=f"https://synthetic.invalid/{seed}/{serial}",
            published=corpus.articles[a].published,
        )
        serial += 1
        passages = chunk_article(
            article.id, text, target_words=chunking.target_words, overlap_sentences=chunking.overlap_sentences
        )[:left]
        if not passages:
            continue
        means = np.vstack([np.mean([v for s, e, v in sources if s < p.end and e > p.start], axis=0) for p in passages])
        yield article, passages, noisy(means, rng, noise)
        left -= len(passages)


def synthetic_sentences(
    article: Article, passages: Sequence[Passage], vectors: Vectors, rng: np.random.Generator
) -> ArticleSentences:
    """Sentence rows for a synthetic article, as ingest stores them.

    Each sentence's vector is its passage's vector plus the same noise; the attribution table
    is really extracted from the text.
    """
    spans = tuple(split_sentences(article.text))
    owner = [next((i for i, p in enumerate(passages) if p.start <= s < p.end), len(passages) - 1) for s, _ in spans]
    sentence_vectors = noisy(vectors[owner], rng, NOISE) if spans else np.zeros((0, vectors.shape[1]))
    return ArticleSentences(
        spans, sentence_vectors.astype(np.float16), dumps(extract_attributions(article.text, spans))
    )


def build_corpus(corpus: RealCorpus, rows: int, data_dir: Path, model: str, *, seed: int = SEED) -> dict[str, Any]:
    """Write a ``rows``-passage corpus with ``Store.put_many``, then build and save its snapshot.

    Raises:
        RuntimeError: when the store does not end up with exactly ``rows`` passages.
    """
    from index.snapshot import Snapshot

    started = time.perf_counter()
    store = Store(data_dir)
    batch: list[tuple[Article, Sequence[Passage], np.ndarray]] = []
    sentences: dict[str, ArticleSentences] = {}
    rng = np.random.default_rng(seed + 1)
    for item in synthesize(corpus, rows, seed=seed):
        batch.append(item)
        sentences[item[0].id] = synthetic_sentences(*item, rng)
        if len(batch) >= 500:
            store.put_many(batch, model=model, sentences=sentences)
            batch.clear()
            sentences.clear()
    if batch:
        store.put_many(batch, model=model, sentences=sentences)
    write_s = time.perf_counter() - started
    if store.passage_count() != rows:
        raise RuntimeError(f"built {store.passage_count()} passages, wanted {rows}")
    t0 = time.perf_counter()
    snapshot = Snapshot.build(store)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    snapshot.save(data_dir)
    save_s = time.perf_counter() - t0
    result = {
        "rows": snapshot.rows,
        "articles": store.article_count(),
        "real_rows": min(rows, corpus.rows),
        "index_type": snapshot.index_type,
        "write_s": round(write_s, 1),
        "snapshot_build_s": round(build_s, 1),
        "snapshot_save_s": round(save_s, 1),
    }
    store.close()
    return result


HOW_CORPORA = (
    "real rows: the CNN/DM ingest sample + the NewsQA articles, really ingested (first in each corpus); "
    "synthetic rows written with Store.put_many: the sentences of two random real articles shuffled together "
    "(as many as the first has), first sentence as title, chunked with chunk_article like real text; each "
    "passage vector = normalised mean of the real vectors of the passages its sentences came from + "
    f"Gaussian noise (norm ~{NOISE}); each synthetic sentence's vector is its passage's vector + the same noise, "
    "and its attribution table is extracted from the text; the last synthetic article is cut to hit the size exactly"
)

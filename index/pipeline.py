"""Ingestion pipeline: raw articles -> cleaned articles -> passages -> vectors -> store.

Articles are embedded in batches that span several articles, so the encoder always
works on full batches, and written to SQLite one batch per transaction: an interrupted
ingest keeps every batch it committed and loses nothing that was indexed before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.chunk import chunk_article
from index.embed import Encoder
from index.errors import IngestError
from index.models import Article, Passage, RawArticle
from index.prepare import prepare_article
from index.readers import ReadResult
from index.snapshot import index_text
from index.store import Store

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass
class IngestReport:
    """What an ingest did; ``errors`` name each skipped input and why."""

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    passages: int = 0
    errors: list[str] = field(default_factory=list)
    article_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """Whether the index needs a new snapshot."""
        return bool(self.added or self.replaced)

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.added} added, {self.replaced} replaced, {self.unchanged} unchanged, "
            f"{self.passages} passages, {len(self.errors)} skipped in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class ChunkSettings:
    """How articles are cut into passages."""

    target_words: int = 80
    overlap_sentences: int = 1


class Indexer:
    """Embeds and stores articles; the only writer of passages and vectors."""

    def __init__(
        self, store: Store, encoder: Encoder, *, chunking: ChunkSettings | None = None, batch_passages: int = 256
    ) -> None:
        self.store = store
        self.encoder = encoder
        self.chunking = chunking or ChunkSettings()
        self.batch_passages = batch_passages

    def passages_of(self, article: Article) -> list[Passage]:
        """Cut one article with the configured chunking."""
        return chunk_article(
            article.id,
            article.text,
            target_words=self.chunking.target_words,
            overlap_sentences=self.chunking.overlap_sentences,
        )

    def embed(self, articles: Sequence[Article], passages: Sequence[Sequence[Passage]]) -> list[np.ndarray]:
        """Vectors for each article's passages, encoded as one batch."""
        texts = [index_text(a.title, p.text) for a, ps in zip(articles, passages, strict=True) for p in ps]
        vectors = self.encoder.encode(texts, batch_size=16)
        out, offset = [], 0
        for ps in passages:
            out.append(vectors[offset : offset + len(ps)])
            offset += len(ps)
        return out

    def ingest(
        self,
        items: Iterable[ReadResult | RawArticle],
        *,
        collection: str,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Clean, chunk, embed and store articles; bad items are reported, not fatal.

        Args:
            items: read results (which may carry errors) or validated raw articles.
            collection: the collection every article goes into (a server id or ``global``).
            progress: called with ``(passages_done, articles_done)`` after each batch.
        """
        self.store.check_model(self.encoder.name, self.encoder.dim)
        report, started = IngestReport(), time.perf_counter()
        pending: list[tuple[Article, list[Passage]]] = []
        seen: set[str] = set()
        done_articles = 0

        def flush() -> None:
            nonlocal done_articles
            if not pending:
                return
            articles = [a for a, _ in pending]
            vectors = self.embed(articles, [ps for _, ps in pending])
            results = self.store.put_many(
                [(a, ps, v) for (a, ps), v in zip(pending, vectors, strict=True)], model=self.encoder.name
            )
            for (article, passages), result in zip(pending, results, strict=True):
                report.article_ids.append(result.article_id)
                if result.status == "unchanged":
                    report.unchanged += 1
                else:
                    setattr(report, result.status, getattr(report, result.status) + 1)
                    report.passages += len(passages)
                log.debug("%s %s (%s)", result.status, article.id, article.title)
            done_articles += len(pending)
            pending.clear()
            if progress:
                progress(report.passages, done_articles)

        for item in items:
            raw = item
            if isinstance(item, ReadResult):
                if item.article is None:
                    report.errors.append(item.error or f"{item.origin}: unreadable")
                    continue
                raw = item.article
            assert isinstance(raw, RawArticle)
            try:
                article = prepare_article(raw, collection=collection)
            except IngestError as exc:
                origin = item.origin if isinstance(item, ReadResult) else (raw.url or raw.title or "article")
                report.errors.append(f"{origin}: {exc}")
                continue
            if article.id in seen or self.store.article(article.id) is not None:
                report.unchanged += 1
                report.article_ids.append(article.id)
                continue
            seen.add(article.id)
            pending.append((article, self.passages_of(article)))
            if sum(len(ps) for _, ps in pending) >= self.batch_passages:
                flush()
        flush()
        report.seconds = time.perf_counter() - started
        return report

    def reembed_all(self, *, progress: Progress | None = None) -> int:
        """Re-chunk and re-embed every stored article (new model or chunking); all or nothing.

        Returns:
            The number of passages written.
        """
        articles = list(self.store.iter_articles())
        items, total = [], 0
        for lo in range(0, len(articles), 64):
            group = articles[lo : lo + 64]
            passages = [self.passages_of(a) for a in group]
            for article, ps, vectors in zip(group, passages, self.embed(group, passages), strict=True):
                items.append((article.id, ps, vectors))
                total += len(ps)
            if progress:
                progress(total, lo + len(group))
        self.store.replace_passages(items, model=self.encoder.name)
        return total

"""Ingestion pipeline: raw articles -> cleaned articles -> passages and sentences -> vectors -> store.

Articles are embedded in batches that span several articles, so the encoder always
works on full batches, and written to SQLite one batch per transaction: an interrupted
ingest keeps every batch it committed and loses nothing that was indexed before.
Every sentence is embedded too (float16) with the table of who is quoted where, so that
answering a question encodes only the question.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.attribution import dumps as dump_attributions
from index.attribution import extract_attributions
from index.chunk import chunk_article
from index.dedup import DEFAULT_THRESHOLD, NearDuplicateIndex, Signature, from_bytes, signature
from index.encoder import Encoder
from index.errors import IngestError
from index.models import Article, ArticleSentences, Passage, RawArticle
from index.prepare import prepare_article
from index.readers import ReadResult
from index.sentences import split_sentences
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
    merged: int = 0
    replacements: dict[str, str] = field(default_factory=dict)  # replaced article id -> the id that replaced it
    passages: int = 0
    errors: list[str] = field(default_factory=list)
    article_ids: list[str] = field(
        default_factory=list
    )  # per accepted input, in order; a merged copy gives its original
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """Whether the index needs a new snapshot."""
        return bool(self.added or self.replaced)

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.added} added, {self.replaced} replaced, {self.unchanged} unchanged, {self.merged} merged, "
            f"{self.passages} passages, {len(self.errors)} skipped in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class ChunkSettings:
    """How articles are cut into passages."""

    target_words: int = 80
    overlap_sentences: int = 1


class NearDuplicates:
    """MinHash LSH over the stored articles, one index per collection.

    A story that arrives twice (a wire copy on two sites, a feed re-publishing it with a new
    headline or tracking parameters) is detected at ``threshold`` estimated Jaccard similarity
    of word 5-shingles (see ``index/dedup.py`` for the measurements behind 0.5) and stored once.
    An article with the same URL is an update, not a duplicate; so is a near-copy with the
    same title when the new article has no URL (an edited file ingested again).
    """

    def __init__(self, store: Store, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.store = store
        self.threshold = threshold
        self._generation = -1
        self._indexes: dict[str, NearDuplicateIndex] = {}
        self._keys: dict[str, str] = {}
        self._titles: dict[str, str] = {}

    def sync(self) -> None:
        """Reload from the store when another writer changed it."""
        if self._generation == self.store.generation:
            return
        self._indexes.clear()
        self._keys.clear()
        self._titles.clear()
        for article_id, collection, key, title, blob in self.store.signatures():
            self.add(article_id, collection, key, title, from_bytes(blob) if blob else signature(""))
        self._generation = self.store.generation

    def add(self, article_id: str, collection: str, key: str, title: str, sig: Signature) -> None:
        """Index one article."""
        self._indexes.setdefault(collection, NearDuplicateIndex()).add(article_id, sig)
        self._keys[article_id] = key
        self._titles[article_id] = title.casefold()

    def remove(self, article_id: str, collection: str) -> None:
        """Forget an article that was replaced or deleted."""
        if collection in self._indexes:
            self._indexes[collection].remove(article_id)
        self._keys.pop(article_id, None)
        self._titles.pop(article_id, None)

    def find(self, article: Article, sig: Signature) -> tuple[str, bool] | None:
        """A stored near-copy of ``article`` in its collection: ``(id, is_update)``, or ``None``.

        ``is_update`` means the new article is an edited version of the stored one (no URL,
        same title) and should replace it rather than be merged into it.
        """
        index = self._indexes.get(article.collection)
        if index is None:
            return None
        matches = [(key, sim) for key, sim in index.query(sig, self.threshold) if self._keys.get(key) != article.key]
        if not matches:
            return None
        best = max(matches, key=lambda m: m[1])[0]
        return best, article.url is None and self._titles.get(best) == article.title.casefold()

    def mark_synced(self) -> None:
        """Our own writes are already reflected in memory."""
        self._generation = self.store.generation


class Indexer:
    """Embeds and stores articles; the only writer of passages and vectors."""

    def __init__(
        self, store: Store, encoder: Encoder, *, chunking: ChunkSettings | None = None, batch_passages: int = 256
    ) -> None:
        self.store = store
        self.encoder = encoder
        self.chunking = chunking or ChunkSettings()
        self.batch_passages = batch_passages
        self.near_duplicates = NearDuplicates(store)

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

    def embed_sentences(self, articles: Sequence[Article]) -> list[ArticleSentences]:
        """Every sentence of each article (as the reader cuts it), encoded as one batch, with its attributions."""
        spans = [tuple(split_sentences(a.text)) for a in articles]
        texts = [a.text[s:e] for a, ss in zip(articles, spans, strict=True) for s, e in ss]
        vectors = self.encoder.encode(texts, batch_size=32).astype(np.float16)
        out, offset = [], 0
        for article, ss in zip(articles, spans, strict=True):
            table = dump_attributions(extract_attributions(article.text, ss))
            out.append(ArticleSentences(ss, vectors[offset : offset + len(ss)], table))
            offset += len(ss)
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
        self.near_duplicates.sync()
        report, started = IngestReport(), time.perf_counter()
        pending: list[tuple[Article, list[Passage]]] = []
        merges: list[tuple[str, Article]] = []
        replaces: dict[str, str] = {}
        seen: dict[str, tuple[str, str | None]] = {}  # content id -> (id it is stored under, first URL)
        done_articles = 0

        def flush() -> None:
            nonlocal done_articles
            if not pending and not merges:
                return
            articles = [a for a, _ in pending]
            vectors = self.embed(articles, [ps for _, ps in pending])
            sentences = {a.id: s for a, s in zip(articles, self.embed_sentences(articles), strict=True)}
            items = [(a, ps, v) for (a, ps), v in zip(pending, vectors, strict=True)]
            results = (
                self.store.put_many(items, model=self.encoder.name, replaces=replaces, sentences=sentences)
                if pending
                else []
            )
            for (article, passages), result in zip(pending, results, strict=True):
                if result.replaced_id:
                    self.near_duplicates.remove(result.replaced_id, article.collection)
                    report.replacements[result.replaced_id] = result.article_id
                if result.status == "unchanged":
                    report.unchanged += 1
                else:
                    setattr(report, result.status, getattr(report, result.status) + 1)
                    report.passages += len(passages)
                log.debug("%s %s (%s)", result.status, article.id, article.title)
            for original, copy in merges:
                self.store.add_source(original, copy)
            done_articles += len(pending) + len(merges)
            pending.clear()
            merges.clear()
            replaces.clear()
            self.near_duplicates.mark_synced()
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
            stored = None if article.id in seen else self.store.article(article.id)
            if article.id in seen or stored is not None:
                target, url = seen[article.id] if stored is None else (stored.id, stored.url)
                if article.url is not None and article.url != url:
                    merges.append((target, article))  # the same text at another URL: keep its source
                report.unchanged += 1
                report.article_ids.append(target)
                continue
            seen[article.id] = (article.id, article.url)
            sig = signature(article.text)
            match = self.near_duplicates.find(article, sig)
            if match is not None and match[1]:
                replaces[article.id] = match[0]
            elif match is not None:
                seen[article.id] = (match[0], article.url)
                merges.append((match[0], article))
                report.merged += 1
                report.article_ids.append(match[0])
                continue
            self.near_duplicates.add(article.id, article.collection, article.key, article.title, sig)
            report.article_ids.append(article.id)
            pending.append((article, self.passages_of(article)))
            if sum(len(ps) for _, ps in pending) >= self.batch_passages:
                flush()
        flush()
        report.seconds = time.perf_counter() - started
        return report

    def refresh_attributions(self, *, progress: Progress | None = None) -> int:
        """Rebuild every attribution table from the stored text and sentence spans (a newer extractor).

        Nothing is re-embedded: the spans are the stored ones, so the tables still index the stored
        sentence vectors. All or nothing, like ``reembed_all``.

        Returns:
            The number of articles whose table was rebuilt.
        """
        tables = []
        for done, (article_id, text, spans) in enumerate(self.store.sentence_spans(), 1):
            tables.append((article_id, dump_attributions(extract_attributions(text, spans))))
            if progress and done % 256 == 0:
                progress(0, done)
        written = self.store.replace_attributions(tables)
        if progress:
            progress(0, written)
        return written

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
            embedded = zip(group, passages, self.embed(group, passages), self.embed_sentences(group), strict=True)
            for article, ps, vectors, sentences in embedded:
                items.append((article.id, ps, vectors, sentences))
                total += len(ps)
            if progress:
                progress(total, lo + len(group))
        self.store.replace_passages(items, model=self.encoder.name)
        return total

"""The newsdesk engine: one object that ingests, indexes, answers and summarizes.

The CLI and the bot both drive this class; it holds no settings object, only explicit
arguments (``EngineConfig``). Reads are lock-free: each question takes the current
``HybridSearcher`` (an immutable snapshot) once and uses it throughout, while a writer
(ingest, re-index) builds the next snapshot beside it and swaps the reference when it is
complete. Questions asked during a re-index are therefore answered from the previous,
consistent index.

With a shared PostgreSQL store (``config.database_url``) the engine writes there but reads from
its own replica (``index/replica.py``): snapshots, passages and sentences come from a local SQLite
copy, so questions never wait for the server and keep being answered while it is down. A listener
thread (``index/listener.py``) syncs the replica and swaps in a new snapshot when another process
writes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from app.answerers import make_answerer
from app.config import EngineConfig
from index.embed import load_encoder
from index.encoder import Encoder
from index.listener import MAX_BACKOFF_S, GenerationListener
from index.models import GLOBAL_COLLECTION, Article, RawArticle
from index.pipeline import ChunkSettings, Indexer, IngestReport, Progress
from index.readers import ReadResult, read_paths
from index.replica import Replica
from index.snapshot import Snapshot, load_or_build, select_articles
from index.store import Store
from retrieval.answer import Answer, Answerer
from retrieval.errors import IndexNotReadyError, RetrievalError
from retrieval.hybrid import Hit, HybridSearcher
from retrieval.intent import GENERAL_NEWS, HELP, Intent, intent
from retrieval.question import Question, analyse, validate
from retrieval.reader.answerer import ReaderAnswerer
from retrieval.scope import Scope
from retrieval.spelling import Respelt, respell
from retrieval.summarize import summarize_article, summarize_topic
from retrieval.timeframe import dated_scopes, prefer_recent, undated_note
from retrieval.vector_cache import CachedEncoder

__all__ = ["Engine", "EngineConfig"]

log = logging.getLogger(__name__)

EMPTY_INDEX = "No articles are indexed yet; a moderator can add some with /ingest (or `newsdesk ingest`)."


class Engine:
    """Ingest, index, answer and summarize over one data directory."""

    def __init__(
        self,
        config: EngineConfig,
        *,
        encoder: Encoder | None = None,
        answerer: Answerer | None = None,
        check_model: bool = True,
        create: bool = True,
    ) -> None:
        """Open (or create) the index in ``config.data_dir``.

        Args:
            config: paths and model.
            encoder: an already loaded encoder (tests inject a fake one).
            answerer: the answerer to use (default: ``make_answerer``: the reader, or the LLM of ``config.llm``).
            check_model: refuse an index built with another model; ``reindex`` turns this off.
            create: create an empty index when there is none; when false, raise ``NoIndexError``.

        Raises:
            NoIndexError: when there is no index and ``create`` is false.
            UnusableIndexError: when the index is corrupt or (``check_model``) from another model.
        """
        self.config = config
        self.store = Store(config.data_dir, create=create, database_url=config.database_url)
        # Writes go to ``store``; reads (snapshots, passages, sentences, articles) to ``reads``.
        self.replica = Replica(config.data_dir) if config.database_url else None
        if self.replica is not None:
            self.replica.sync(self.store)
        self.reads: Store = self.replica or self.store
        self.encoder = encoder or load_encoder(
            config.model,
            backend=config.backend,
            cache_dir=config.cache_dir or config.data_dir / "models",
            threads=config.threads,
        )
        if check_model:
            self.store.check_model(self.encoder.name, self.encoder.dim)
        if check_model and self.store.attributions_stale:
            log.warning(
                "this index's attribution tables (who is quoted where) were built by an older extractor: "
                "run `newsdesk reindex --attributions` (no re-embedding) so that questions about what somebody "
                "said find them more often"
            )
        # Questions and candidate sentences go through a vector cache; bulk ingest uses the encoder directly.
        self.query_encoder = CachedEncoder(self.encoder)
        self.answerer: Answerer = answerer or make_answerer(config, self.query_encoder, self.reads)
        self.indexer = Indexer(
            self.store,
            self.encoder,
            chunking=ChunkSettings(target_words=config.chunk_words, overlap_sentences=config.chunk_overlap),
        )
        self._write_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._searcher = HybridSearcher(load_or_build(self.reads, config.data_dir), self.reads)
        self._listener: GenerationListener | None = None
        if config.database_url and config.refresh_seconds:
            self._listener = GenerationListener(
                config.database_url,
                self.refresh,
                interval=config.refresh_seconds,
                max_backoff=min(MAX_BACKOFF_S, config.refresh_seconds),  # never later than the periodic check
                on_lost=getattr(self.store.database, "mark_down", None),  # writes then fail at once, not in 5 s
            )
            self._listener.start()

    @property
    def depth(self) -> int:
        """Passages retrieved per question: the reader reads the best few whole stories among more of them."""
        return max(self.config.top_k, self.answerer.depth if isinstance(self.answerer, ReaderAnswerer) else 0)

    # -- reading ----------------------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        """The snapshot questions are answered from right now."""
        return self._searcher.snapshot

    def _current(self) -> HybridSearcher:
        """The current searcher, picking up writes made by another process (e.g. the CLI).

        With a replica this compares with the replica's generation, never asking the server.
        """
        searcher = self._searcher
        if searcher.snapshot.generation != self.reads.generation and self._refresh_lock.acquire(blocking=False):
            try:
                if not self._write_lock.locked():
                    self._swap(load_or_build(self.reads, self.config.data_dir))
            finally:
                self._refresh_lock.release()
        return self._searcher

    def _swap(self, snapshot: Snapshot) -> None:
        self._searcher = HybridSearcher(snapshot, self.reads)
        log.info("serving snapshot generation %d (%d passages)", snapshot.generation, snapshot.rows)

    def search(
        self, question: str, scope: Scope | None = None, *, k: int | None = None, mode: str = "hybrid"
    ) -> list[Hit]:
        """Retrieve passages for a question within ``scope`` (its time words are searched as words)."""
        q = analyse(question)
        return self._search(self._current(), q, scope or Scope(), k or self.config.top_k, mode)

    def _search(self, searcher: HybridSearcher, question: Question, scope: Scope, k: int, mode: str) -> list[Hit]:
        snap = searcher.snapshot
        mask = select_articles(
            snap,
            collections=scope.collections,
            sources=scope.sources,
            article_ids=scope.article_ids,
            exclude_article_ids=scope.exclude_article_ids,
            since=scope.since.timestamp() if scope.since and not scope.undated_only else None,
            until=scope.until.timestamp() if scope.until and not scope.undated_only else None,
            undated_only=scope.undated_only,
        )
        if snap.rows == 0 or (mask is not None and not mask.any()):
            narrowed = scope.since or scope.until or scope.sources or scope.article_ids or scope.exclude_article_ids
            if narrowed or scope.undated_only:
                return []
            raise IndexNotReadyError(EMPTY_INDEX)
        vector = self.query_encoder.encode([question.text])[0]
        return searcher.search(question, vector, k=k, articles=mask, mode=mode)

    @staticmethod
    def _respell(snap: Snapshot, question: str, scope: Scope) -> Respelt:
        """``question`` with a word one slip from a word of the scope's articles read as that word."""
        if snap.rows == 0:
            return Respelt(question)
        mask = select_articles(snap, collections=scope.collections, exclude_article_ids=scope.exclude_article_ids)
        return respell(question, snap.lexical, None if mask is None else mask[snap.row_article])

    def ask(self, question: str, scope: Scope | None = None, *, mode: str = "hybrid", abstain: bool = True) -> Answer:
        """Answer a question with quoted, cited evidence (or say the articles do not answer it).

        A time expression in the question ("last week") filters by publication date, unless
        ``scope`` sets a date range itself. A message asking for help or for the news in general
        ("any news?") is answered with a pointer to what does that job (``retrieval.intent``), unless
        ``scope`` names the articles: then it asks about them ("what's the latest?" in a follow-up).

        Raises:
            BadQuestionError: for an empty or oversized question, or one holding code points that are not text.
            IndexNotReadyError: when nothing is indexed in scope.
        """
        started = time.perf_counter()
        scope = scope or Scope()
        searcher = self._current()
        text = validate(question)
        # "help", "any news?": no quote answers these, unless the articles are given (a follow-up's story)
        if scope.article_ids is None and (asked := intent(text)) is not Intent.QUESTION:
            return _timed(Answer(text, False, HELP if asked is Intent.HELP else GENERAL_NEWS), started)
        respelt = self._respell(searcher.snapshot, text, scope)
        q = analyse(respelt.text, now=None if scope.has_dates else datetime.now(UTC))
        k, window, notes = self.depth, q.time, [respelt.note()] if respelt.changes else []
        if window is not None and (window.start or window.end):
            strict, undated = dated_scopes(scope, window)
            hits = self._search(searcher, q, strict, k, mode)
            if not hits:
                hits = self._search(searcher, q, undated, k, mode)
                notes.append(undated_note(window))
            if not hits:
                return _timed(Answer(q.text, False, f"I found no articles from {window.matched!r}."), started)
        elif window is not None and window.recency:
            hits = prefer_recent(self._search(searcher, q, scope, 3 * k, mode), k=k)
        else:
            hits = self._search(searcher, q, scope, k, mode)
        if isinstance(self.answerer, ReaderAnswerer) and (not abstain or scope.avoid_quotes):
            answer = self.answerer.answer(
                q, hits, lexical=searcher.snapshot.lexical, abstain=abstain, avoid=scope.avoid_quotes
            )
        else:
            answer = self.answerer.answer(q, hits, lexical=searcher.snapshot.lexical)
        if notes and answer.answered:
            answer = replace(answer, notes=(*answer.notes, *notes))
        return _timed(answer, started)

    def summarize_article(self, article_id: str, scope: Scope | None = None) -> Answer:
        """Extractive summary of one article (which must be in ``scope``)."""
        started = time.perf_counter()
        article = self.reads.article(article_id)
        collections = (scope or Scope()).collections
        if article is None or (collections is not None and article.collection not in collections):
            raise RetrievalError(f"No article with id {article_id!r} here.")
        return _timed(summarize_article(article, self.query_encoder), started)

    def summarize_topic(self, topic: str, scope: Scope | None = None) -> Answer:
        """Extractive summary of what the articles in ``scope`` say on ``topic``."""
        started = time.perf_counter()
        q = analyse(topic)
        hits = self._search(self._current(), q, scope or Scope(), max(self.config.top_k, 8), "hybrid")
        return _timed(summarize_topic(q.text, hits, self.query_encoder), started)

    def find_articles(self, text: str, scope: Scope | None = None, *, limit: int = 25) -> list[Article]:
        """Articles whose title contains ``text``, newest first (autocomplete)."""
        return self.reads.find_articles(text, collections=(scope or Scope()).collections, limit=limit)

    def stats(self) -> dict[str, object]:
        """Counts, model and the search index in use."""
        stats = self.store.stats()
        stats.update(
            encoder=self.encoder.backend, index_type=self.snapshot.index_type, data_dir=str(self.config.data_dir)
        )
        return stats

    # -- writing ----------------------------------------------------------------------------------
    def ingest(
        self,
        items: Iterable[ReadResult | RawArticle],
        *,
        collection: str = GLOBAL_COLLECTION,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Ingest articles, then build and swap in a new snapshot."""
        with self._write_lock:
            report = self.indexer.ingest(items, collection=collection, progress=progress)
            if report.changed or self.snapshot.generation != self.store.generation:
                self._publish()
        return report

    def ingest_paths(self, paths: Sequence[Path], **kwargs: object) -> IngestReport:
        """Ingest files and folders (txt, json, jsonl, html)."""
        return self.ingest(read_paths(paths), **kwargs)  # type: ignore[arg-type]

    def reindex(self, *, progress: Progress | None = None) -> int:
        """Re-chunk and re-embed every stored article, then swap in the new index atomically.

        Returns:
            The number of passages indexed.
        """
        with self._write_lock:
            total = self.indexer.reembed_all(progress=progress)
            self._publish()
        return total

    def refresh_attributions(self, *, progress: Progress | None = None) -> int:
        """Rebuild every article's attribution table with this version's extractor, then swap in a new snapshot.

        Returns:
            The number of articles whose table was rebuilt.
        """
        with self._write_lock:
            written = self.indexer.refresh_attributions(progress=progress)
            self._publish()
        return written

    def refresh(self) -> bool:
        """Follow another process's writes: sync the replica and serve its generation (the listener calls this).

        Returns:
            Whether a new snapshot was swapped in (never during this process's own write, which publishes itself).

        Raises:
            StoreUnavailableError: when the shared store cannot be reached.
        """
        with self._refresh_lock:
            if self._write_lock.locked():
                return False
            if self.replica is not None:
                self.replica.sync(self.store)
            if self.snapshot.generation == self.reads.generation:
                return False
            self._swap(load_or_build(self.reads, self.config.data_dir))
        return True

    def _publish(self) -> None:
        with self._refresh_lock:  # after a refresh in flight, so that its older snapshot never replaces ours
            if self.replica is not None:
                self.replica.sync(self.store)
            self._swap(load_or_build(self.reads, self.config.data_dir))

    def close(self) -> None:
        """Stop following the store and release the database connection of this thread."""
        if self._listener is not None:
            self._listener.stop()
        if self.replica is not None:
            self.replica.close()
        self.store.close()


def _timed(answer: Answer, started: float) -> Answer:
    return replace(answer, latency_ms=(time.perf_counter() - started) * 1000)

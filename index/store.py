"""The article store: the single source of truth for articles, passages and vectors.

The database is SQLite in ``data_dir`` (the default) or a shared PostgreSQL (``database_url``);
the schema lives in ``index/database/migrations``. Layout of ``data_dir``::

    newsdesk.db          SQLite (WAL): meta, articles, passages (+ float32 vectors), sentences (+ float16
                         vectors and the attribution table), feeds, conversations, feedback, digests
                         (absent when the store is PostgreSQL)
    replica.db           with PostgreSQL only: this process's own read cache of the shared tables
                         (``index/replica.py``), so that questions never need the server
    snapshots/gen-N/     search indexes derived from the database (see ``index/snapshot.py``)
    CURRENT              name of the snapshot that readers load, replaced atomically

Every write happens in one transaction and bumps ``meta.generation`` (and, on PostgreSQL, notifies
the channel ``newsdesk_generation``); a snapshot records the generation it was built from, so a
snapshot that is missing, half-written or stale is detected and rebuilt from the database without
re-embedding anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.attribution import VERSION as ATTRIBUTION_VERSION
from index.database import Connection, Database, Row, open_database
from index.dedup import signature, to_bytes
from index.errors import ModelMismatchError
from index.models import Article, ArticleSentences, Passage


@dataclass(frozen=True, slots=True)
class StoredPassage:
    """A passage row joined with what a citation needs of its article."""

    id: int
    article_id: str
    position: int
    start: int
    end: int
    sentence_spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What ``Store.put`` did with one article: ``added``, ``replaced`` or ``unchanged``."""

    article_id: str
    status: str
    replaced_id: str | None = None


GENERATION_CHANNEL = "newsdesk_generation"
"""Where PostgreSQL announces every new generation (payload: the number), for other processes' snapshots."""
PASSAGES_EPOCH = "passages_epoch"
"""The meta key holding the generation of the last ``replace_passages`` (a re-index)."""
ATTRIBUTIONS_KEY = "attributions_version"
"""The meta key holding the oldest attribution-extractor version of the stored tables (absent: before versions)."""


def _set_meta(db: Connection, key: str, value: str) -> None:
    db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))


def _spans(stored: str) -> tuple[tuple[int, int], ...]:
    """Sentence spans as the sentences table stores them (JSON pairs)."""
    return tuple((int(a), int(b)) for a, b in json.loads(stored))


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _insert_passages(db: Connection, article_id: str, passages: Sequence[Passage], vectors: np.ndarray) -> None:
    db.executemany(
        'INSERT INTO passages (article_id, position, start, "end", sentences, vector) VALUES (?, ?, ?, ?, ?, ?)',
        [
            (article_id, p.position, p.start, p.end, json.dumps(p.sentence_spans), np.asarray(v, np.float32).tobytes())
            for p, v in zip(passages, vectors, strict=True)
        ],
    )


def _insert_sentences(db: Connection, article_id: str, sentences: ArticleSentences) -> None:
    db.execute(
        "INSERT INTO sentences (article_id, spans, vectors, attributions) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (article_id) DO UPDATE SET spans = excluded.spans, vectors = excluded.vectors,"
        " attributions = excluded.attributions",
        (
            article_id,
            json.dumps(sentences.spans),
            np.ascontiguousarray(sentences.vectors, dtype=np.float16).tobytes(),
            sentences.attributions,
        ),
    )


def _article(row: Row) -> Article:
    published = datetime.fromisoformat(row["published"]) if row["published"] else None
    return Article(
        id=row["id"],
        collection=row["collection"],
        title=row["title"],
        text=row["text"],
        source=row["source"],
        url=row["url"],
        published=published,
        highlights=tuple(json.loads(row["highlights"])),
        dateline=row["dateline"],
        author=row["author"],
    )


class Store:
    """Thread-safe access to the article database; one writer at a time (across processes on PostgreSQL)."""

    def __init__(self, data_dir: Path, *, create: bool = True, database_url: str | None = None) -> None:
        """Open PostgreSQL at ``database_url``, else SQLite in ``data_dir`` (created unless ``create`` is false).

        Raises:
            NoIndexError: when there is no SQLite database and ``create`` is false.
            UnusableIndexError: when the file is not a newsdesk database, its schema is another version,
                or the PostgreSQL server cannot be reached.
        """
        self.data_dir = data_dir
        self.database: Database = open_database(data_dir, url=database_url, create=create)
        if create and self.meta(ATTRIBUTIONS_KEY) is None and self.article_count() == 0:
            with self.transaction() as db:  # a new index: every table it will hold is the current extractor's
                _set_meta(db, ATTRIBUTIONS_KEY, str(ATTRIBUTION_VERSION))

    @property
    def db(self) -> Database:
        """The database, for reads (each statement sees committed data) and for the other stores."""
        return self.database

    @property
    def location(self) -> str:
        """Where the data is (a path, or the PostgreSQL URL without its password), for messages."""
        return self.database.location

    def transaction(self) -> AbstractContextManager[Connection]:
        """One write transaction; readers keep seeing the previous state until it commits.

        Writers of other tables in this database (``index/feedstore.py`` and the rest) use it too, so
        that every write goes through the same lock.
        """
        return self.database.transaction()

    # -- meta -------------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        """A value of the ``meta`` table."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def generation(self) -> int:
        """Bumped by every write; snapshots record the generation they were built from."""
        return int(self.meta("generation") or 0)

    @property
    def attribution_version(self) -> int:
        """The oldest extractor version among the stored attribution tables (0: an index from before versions)."""
        return int(self.meta(ATTRIBUTIONS_KEY) or 0)

    @property
    def attributions_stale(self) -> bool:
        """Whether stored tables may come from an older extractor (``newsdesk reindex --attributions`` mends it)."""
        return self.attribution_version < ATTRIBUTION_VERSION and self.article_count() > 0

    def check_model(self, model: str, dim: int) -> None:
        """Refuse to mix vectors of two models in one index.

        Raises:
            ModelMismatchError: when the stored vectors come from another model or dimension.
        """
        stored, stored_dim = self.meta("model"), self.meta("dim")
        if stored is None or self.passage_count() == 0:
            return
        if stored != model or int(stored_dim or 0) != dim:
            raise ModelMismatchError(
                f"the index in {self.location} was built with model {stored!r} ({stored_dim}-d), "
                f"but the configured model is {model!r} ({dim}-d); run `newsdesk reindex` to re-embed, "
                "or point NEWSDESK_DATA_DIR elsewhere"
            )

    # -- writes -----------------------------------------------------------------------------------
    def put(
        self,
        article: Article,
        passages: Sequence[Passage],
        vectors: np.ndarray,
        *,
        model: str,
        sentences: ArticleSentences | None = None,
    ) -> UpsertResult:
        """Insert one article with its passages and vectors; see ``put_many``."""
        extra = {article.id: sentences} if sentences is not None else None
        return self.put_many([(article, passages, vectors)], model=model, sentences=extra)[0]

    def put_many(
        self,
        items: Sequence[tuple[Article, Sequence[Passage], np.ndarray]],
        *,
        model: str,
        replaces: Mapping[str, str] | None = None,
        sentences: Mapping[str, ArticleSentences] | None = None,
    ) -> list[UpsertResult]:
        """Insert articles with their passages and vectors in one transaction.

        An identical article (same content id) is left as it is; an article with the same
        key (URL) in the same collection but other content is replaced, and so is the article
        that ``replaces`` names for a new article id (an edited article without URL).
        ``sentences`` (by article id) are stored in the same transaction.
        """
        results: list[UpsertResult] = []
        with self.transaction() as db:
            changed, dim = False, None
            for article, passages, vectors in items:
                if len(passages) != len(vectors):
                    raise ValueError("one vector per passage")
                if db.execute("SELECT 1 FROM articles WHERE id = ?", (article.id,)).fetchone():
                    results.append(UpsertResult(article.id, "unchanged"))
                    continue
                old = db.execute(
                    "SELECT id FROM articles WHERE (collection = ? AND key = ?) OR id = ?",
                    (article.collection, article.key, (replaces or {}).get(article.id)),
                ).fetchone()
                if old:
                    db.execute("DELETE FROM articles WHERE id = ?", (old["id"],))
                self._insert(db, article, passages, vectors)
                if sentences and article.id in sentences:
                    _insert_sentences(db, article.id, sentences[article.id])
                changed, dim = True, int(vectors.shape[1]) if len(vectors) else dim
                results.append(UpsertResult(article.id, "replaced" if old else "added", old["id"] if old else None))
            if changed:
                self._bump(db, model=model, dim=dim)
        return results

    def _insert(self, db: Connection, article: Article, passages: Sequence[Passage], vectors: np.ndarray) -> None:
        minhash = to_bytes(signature(article.text))
        db.execute(
            "INSERT INTO articles (id, collection, key, title, text, source, url, published, highlights, dateline,"
            " author, added_at, minhash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article.id,
                article.collection,
                article.key,
                article.title,
                article.text,
                article.source,
                article.url,
                _iso(article.published),
                json.dumps(list(article.highlights)),
                article.dateline,
                article.author,
                datetime.now(UTC).isoformat(),
                minhash,
            ),
        )
        _insert_passages(db, article.id, passages, vectors)

    def _bump(self, db: Connection, *, model: str | None = None, dim: int | None = None) -> str:
        (generation,) = db.execute(
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'generation' RETURNING value"
        ).fetchone()
        if model is not None and dim is not None:
            _set_meta(db, "model", model)
            _set_meta(db, "dim", str(dim))
        self.database.notify(db, GENERATION_CHANNEL, str(generation))
        return str(generation)

    def replace_passages(
        self,
        items: Iterable[tuple[str, Sequence[Passage], np.ndarray, ArticleSentences]],
        *,
        model: str,
    ) -> None:
        """Swap every article's passages, sentences and vectors at once (``reindex``): all or nothing."""
        with self.transaction() as db:
            db.execute("DELETE FROM passages")
            db.execute("DELETE FROM sentences")
            dim = None
            for article_id, passages, vectors, sentences in items:
                _insert_passages(db, article_id, passages, vectors)
                _insert_sentences(db, article_id, sentences)
                dim = int(vectors.shape[1]) if len(vectors) else dim
            # Every passage id changed: read replicas (``index/replica.py``) copy everything again.
            _set_meta(db, PASSAGES_EPOCH, self._bump(db, model=model, dim=dim))
            _set_meta(db, ATTRIBUTIONS_KEY, str(ATTRIBUTION_VERSION))

    def replace_attributions(self, tables: Iterable[tuple[str, str]]) -> int:
        """Swap the attribution tables of the given articles at once, and mark the index current: all or nothing.

        Args:
            tables: ``(article id, table as index.attribution.dumps writes it)``.

        Returns:
            How many articles' tables were written.
        """
        written = 0
        with self.transaction() as db:
            for article_id, table in tables:
                db.execute("UPDATE sentences SET attributions = ? WHERE article_id = ?", (table, article_id))
                written += 1
            # Read replicas copy sentences only with new articles, or everything after a new epoch.
            _set_meta(db, PASSAGES_EPOCH, self._bump(db))
            _set_meta(db, ATTRIBUTIONS_KEY, str(ATTRIBUTION_VERSION))
        return written

    def add_source(self, article_id: str, copy: Article) -> bool:
        """Remember that ``copy`` (a near-duplicate that is not stored itself) also carried this article.

        Returns:
            Whether this source was new.
        """
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO article_sources (article_id, source, url, title, published, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (article_id, copy.source, copy.url, copy.title, _iso(copy.published), datetime.now(UTC).isoformat()),
            )
        return cursor.rowcount > 0

    def other_sources(self, article_ids: Iterable[str]) -> dict[str, list[dict[str, str | None]]]:
        """The near-duplicate copies merged into each article: source, url, title, published."""
        wanted = list(dict.fromkeys(article_ids))
        out: dict[str, list[dict[str, str | None]]] = {aid: [] for aid in wanted}
        if not wanted:
            return out
        marks = ",".join("?" * len(wanted))
        for row in self.db.execute(
            f"SELECT * FROM article_sources WHERE article_id IN ({marks}) ORDER BY added_at",
            wanted,
        ):
            out[row["article_id"]].append(
                {"source": row["source"], "url": row["url"], "title": row["title"], "published": row["published"]}
            )
        return out

    def signatures(self) -> Iterator[tuple[str, str, str, str, bytes | None]]:
        """``(id, collection, key, title, minhash)`` of every article, for the near-duplicate index."""
        yield from self.db.execute("SELECT id, collection, key, title, minhash FROM articles")

    # -- reads ------------------------------------------------------------------------------------
    def article(self, article_id: str) -> Article | None:
        """One article by id."""
        row = self.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return None if row is None else _article(row)

    def articles(self, ids: Iterable[str]) -> dict[str, Article]:
        """Several articles by id."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self.db.execute(f"SELECT * FROM articles WHERE id IN ({marks})", wanted).fetchall()
        return {row["id"]: _article(row) for row in rows}

    def iter_articles(self, collections: Sequence[str] | None = None) -> Iterator[Article]:
        """Every article, oldest first, optionally only of some collections."""
        if collections is None:
            rows = self.db.execute("SELECT * FROM articles ORDER BY added_at, id")
        else:
            marks = ",".join("?" * len(collections))
            rows = self.db.execute(
                f"SELECT * FROM articles WHERE collection IN ({marks}) ORDER BY added_at, id",
                list(collections),
            )
        for row in rows:
            yield _article(row)

    def published_between(
        self, since: datetime, until: datetime, *, collections: Sequence[str] | None = None, limit: int | None = None
    ) -> list[Article]:
        """Articles published in ``[since, until)``, newest first (undated articles never match)."""
        sql = "SELECT * FROM articles WHERE published >= ? AND published < ?"
        params: list[object] = [_iso(since), _iso(until)]
        if collections is not None:
            sql += f" AND collection IN ({','.join('?' * len(collections))})"
            params.extend(collections)
        sql += " ORDER BY published DESC, id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_article(row) for row in self.db.execute(sql, params)]

    def passage_vectors(self, article_ids: Iterable[str]) -> dict[str, np.ndarray]:
        """Each article's passage vectors, in passage order (articles without passages are left out)."""
        wanted = list(dict.fromkeys(article_ids))
        rows: dict[str, list[np.ndarray]] = {}
        for start in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            for article_id, blob in self.db.execute(
                f"SELECT article_id, vector FROM passages WHERE article_id IN ({','.join('?' * len(chunk))})"
                " ORDER BY article_id, position",
                chunk,
            ):
                rows.setdefault(article_id, []).append(np.frombuffer(blob, dtype=np.float32))
        return {aid: np.vstack(vectors) for aid, vectors in rows.items()}

    def find_articles(self, text: str, *, collections: Sequence[str] | None = None, limit: int = 25) -> list[Article]:
        """Articles whose title contains ``text`` (case-insensitive), newest first; for autocomplete."""
        sql = "SELECT * FROM articles WHERE LOWER(title) LIKE LOWER(?) ESCAPE '\\'"
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params: list[object] = [f"%{escaped}%"]
        if collections is not None:
            sql += f" AND collection IN ({','.join('?' * len(collections))})"
            params.extend(collections)
        sql += " ORDER BY COALESCE(published, added_at) DESC LIMIT ?"
        params.append(limit)
        return [_article(row) for row in self.db.execute(sql, params)]

    def passages(self, ids: Sequence[int]) -> dict[int, StoredPassage]:
        """Passage rows by id."""
        if not len(ids):
            return {}
        ids = [int(i) for i in ids]  # numpy integers would bind as blobs
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f'SELECT id, article_id, position, start, "end", sentences FROM passages WHERE id IN ({marks})',
            list(ids),
        ).fetchall()
        return {
            row["id"]: StoredPassage(
                row["id"],
                row["article_id"],
                row["position"],
                row["start"],
                row["end"],
                tuple(tuple(s) for s in json.loads(row["sentences"])),
            )
            for row in rows
        }

    def sentences(self, article_ids: Iterable[str]) -> dict[str, ArticleSentences]:
        """The embedded sentences of some articles (articles indexed before sentence vectors have none)."""
        wanted = list(dict.fromkeys(article_ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        out = {}
        for row in self.db.execute(f"SELECT * FROM sentences WHERE article_id IN ({marks})", wanted):
            spans = _spans(row["spans"])
            vectors = np.frombuffer(row["vectors"], dtype=np.float16)
            out[row["article_id"]] = ArticleSentences(
                spans, vectors.reshape(len(spans), -1) if spans else vectors.reshape(0, 0), row["attributions"]
            )
        return out

    def sentence_spans(self) -> Iterator[tuple[str, str, tuple[tuple[int, int], ...]]]:
        """``(article id, cleaned text, sentence spans)`` of every article with sentences, to rebuild its table."""
        rows = self.db.execute(
            "SELECT s.article_id, a.text, s.spans FROM sentences s JOIN articles a ON a.id = s.article_id"
            " ORDER BY s.article_id"
        )
        for article_id, text, spans in rows:
            yield article_id, text, _spans(spans)

    def articles_without_sentences(self) -> int:
        """How many articles lack sentence vectors (an index built before they existed: ``newsdesk reindex``)."""
        return int(
            self.db.execute(
                "SELECT COUNT(*) FROM articles WHERE id NOT IN (SELECT article_id FROM sentences)"
            ).fetchone()[0]
        )

    def passage_rows(self) -> Iterator[tuple[int, str, int, int, bytes]]:
        """``(id, article_id, start, end, vector)`` of every passage in id order, for building snapshots."""
        yield from self.db.execute('SELECT id, article_id, start, "end", vector FROM passages ORDER BY id')

    def article_count(self) -> int:
        """Number of articles."""
        return int(self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def passage_count(self) -> int:
        """Number of passages."""
        return int(self.db.execute("SELECT COUNT(*) FROM passages").fetchone()[0])

    def stats(self) -> dict[str, object]:
        """Counts per collection and source, for ``newsdesk stats``."""
        per_collection = dict(self.db.execute("SELECT collection, COUNT(*) FROM articles GROUP BY collection"))
        per_source = dict(
            self.db.execute("SELECT COALESCE(source, '(unknown)'), COUNT(*) FROM articles GROUP BY 1 ORDER BY 2 DESC")
        )
        dates = self.db.execute("SELECT MIN(published), MAX(published) FROM articles").fetchone()
        return {
            "articles": self.article_count(),
            "passages": self.passage_count(),
            "collections": per_collection,
            "sources": per_source,
            "published_range": [dates[0], dates[1]],
            "model": self.meta("model"),
            "dim": int(self.meta("dim") or 0) or None,
            "generation": self.generation,
            "attribution_tables": "built by an older extractor: run `newsdesk reindex --attributions`"
            if self.attributions_stale
            else "current",
        }

    def close(self) -> None:
        """Close the database (this thread's connection on SQLite, the pool on PostgreSQL)."""
        self.database.close()

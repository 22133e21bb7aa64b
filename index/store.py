"""The article store: SQLite, the single source of truth for articles, passages and vectors.

Layout of ``data_dir``::

    newsdesk.db          SQLite (WAL): meta, articles, passages (+ float32 vectors), sentences (+ float16
                         vectors and the attribution table), feeds
    snapshots/gen-N/     search indexes derived from the database (see ``index/snapshot.py``)
    CURRENT              name of the snapshot that readers load, replaced atomically

Every write happens in one SQLite transaction and bumps ``meta.generation``; a snapshot
records the generation it was built from, so a snapshot that is missing, half-written or
stale is detected and rebuilt from the database without re-embedding anything.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.dedup import signature, to_bytes
from index.errors import ModelMismatchError, NoIndexError, UnusableIndexError
from index.models import Article, ArticleSentences, Passage

SCHEMA_VERSION = 3
DB_NAME = "newsdesk.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    source TEXT,
    url TEXT,
    published TEXT,
    highlights TEXT NOT NULL DEFAULT '[]',
    dateline TEXT,
    author TEXT,
    added_at TEXT NOT NULL,
    minhash BLOB,
    UNIQUE (collection, key)
);
CREATE INDEX IF NOT EXISTS articles_collection ON articles (collection);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    sentences TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_article ON passages (article_id);
CREATE TABLE IF NOT EXISTS sentences (
    article_id TEXT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    spans TEXT NOT NULL,
    vectors BLOB NOT NULL,
    attributions TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS article_sources (
    article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    source TEXT,
    url TEXT,
    title TEXT NOT NULL,
    published TEXT,
    added_at TEXT NOT NULL,
    UNIQUE (article_id, url, title)
);
CREATE TABLE IF NOT EXISTS feeds (
    id INTEGER PRIMARY KEY,
    collection TEXT NOT NULL,
    url TEXT NOT NULL,
    canonical TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    channel_id INTEGER,
    added_by INTEGER,
    added_at TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_polled TEXT,
    last_success TEXT,
    next_poll TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    UNIQUE (collection, canonical)
);
CREATE INDEX IF NOT EXISTS feeds_next_poll ON feeds (next_poll);
CREATE TABLE IF NOT EXISTS feed_entries (
    feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    entry_id TEXT NOT NULL,
    link TEXT NOT NULL DEFAULT '',
    article_id TEXT,
    done INTEGER NOT NULL DEFAULT 1,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (feed_id, entry_id)
);
CREATE INDEX IF NOT EXISTS feed_entries_link ON feed_entries (feed_id, link);
"""
# Columns added after schema 1, applied to older databases on open (no data is touched).
_MIGRATIONS = (("articles", "minhash", "BLOB"),)


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


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _insert_passages(db: sqlite3.Connection, article_id: str, passages: Sequence[Passage], vectors: np.ndarray) -> None:
    db.executemany(
        "INSERT INTO passages (article_id, position, start, end, sentences, vector) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (article_id, p.position, p.start, p.end, json.dumps(p.sentence_spans), np.asarray(v, np.float32).tobytes())
            for p, v in zip(passages, vectors, strict=True)
        ],
    )


def _insert_sentences(db: sqlite3.Connection, article_id: str, sentences: ArticleSentences) -> None:
    db.execute(
        "INSERT OR REPLACE INTO sentences (article_id, spans, vectors, attributions) VALUES (?, ?, ?, ?)",
        (
            article_id,
            json.dumps(sentences.spans),
            np.ascontiguousarray(sentences.vectors, dtype=np.float16).tobytes(),
            sentences.attributions,
        ),
    )


def _article(row: sqlite3.Row) -> Article:
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
    """Thread-safe access to ``newsdesk.db``: one connection per thread, one writer at a time."""

    def __init__(self, data_dir: Path, *, create: bool = True) -> None:
        """Open the database in ``data_dir``, creating it unless ``create`` is false.

        Raises:
            NoIndexError: when there is no database and ``create`` is false.
            UnusableIndexError: when the file is not a newsdesk database.
        """
        self.data_dir = data_dir
        self.path = data_dir / DB_NAME
        self._local = threading.local()
        self._write_lock = threading.Lock()
        if not create and not self.path.exists():
            raise NoIndexError(
                f"no index in {data_dir.resolve()}: run `newsdesk ingest PATH` first "
                "(or set NEWSDESK_DATA_DIR to where the index is)"
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.db.executescript(_SCHEMA)  # executescript manages its own transaction
            with self.transaction() as db:
                for table, column, kind in _MIGRATIONS:
                    if column not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                db.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")
        except sqlite3.DatabaseError as exc:
            raise UnusableIndexError(f"{self.path} is not a newsdesk database or is corrupt ({exc})") from None

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection (SQLite connections must not cross threads)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; readers keep seeing the previous state until it commits.

        Writers of other tables in this database (``index/feedstore.py``) use it too, so that
        every write in the process goes through the same lock and ``BEGIN IMMEDIATE``.
        """
        with self._write_lock:
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- meta -------------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        """A value of the ``meta`` table."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def generation(self) -> int:
        """Bumped by every write; snapshots record the generation they were built from."""
        return int(self.meta("generation") or 0)

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
                f"the index in {self.data_dir} was built with model {stored!r} ({stored_dim}-d), "
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

    def _insert(
        self, db: sqlite3.Connection, article: Article, passages: Sequence[Passage], vectors: np.ndarray
    ) -> None:
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

    def _bump(self, db: sqlite3.Connection, *, model: str | None = None, dim: int | None = None) -> None:
        db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
        if model is not None and dim is not None:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('model', ?)", (model,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('dim', ?)", (str(dim),))

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
            self._bump(db, model=model, dim=dim)

    def add_source(self, article_id: str, copy: Article) -> bool:
        """Remember that ``copy`` (a near-duplicate that is not stored itself) also carried this article.

        Returns:
            Whether this source was new.
        """
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO article_sources (article_id, source, url, title, published, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
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
        sql += " ORDER BY published DESC, id LIMIT ?"
        params.append(-1 if limit is None else limit)
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
        sql = "SELECT * FROM articles WHERE title LIKE ? ESCAPE '\\'"
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
            f"SELECT id, article_id, position, start, end, sentences FROM passages WHERE id IN ({marks})",
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
            spans = tuple((int(a), int(b)) for a, b in json.loads(row["spans"]))
            vectors = np.frombuffer(row["vectors"], dtype=np.float16)
            out[row["article_id"]] = ArticleSentences(
                spans, vectors.reshape(len(spans), -1) if spans else vectors.reshape(0, 0), row["attributions"]
            )
        return out

    def articles_without_sentences(self) -> int:
        """How many articles lack sentence vectors (an index built before they existed: ``newsdesk reindex``)."""
        return int(
            self.db.execute(
                "SELECT COUNT(*) FROM articles WHERE id NOT IN (SELECT article_id FROM sentences)"
            ).fetchone()[0]
        )

    def passage_rows(self) -> Iterator[tuple[int, str, int, int, bytes]]:
        """``(id, article_id, start, end, vector)`` of every passage in id order, for building snapshots."""
        yield from self.db.execute("SELECT id, article_id, start, end, vector FROM passages ORDER BY id")

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
        }

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

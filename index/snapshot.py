"""Search snapshots: FAISS + BM25 + row metadata, derived from the store and swapped atomically.

A snapshot is an immutable folder ``snapshots/gen-N`` built from generation N of the
database::

    manifest.json   format, generation, model, dim, rows, FAISS index type
    dense.faiss     FAISS index over the passage vectors (row i = passage ``pids[i]``)
    rows.npz        pids, article row of each passage, article ids/collections/sources/dates
    bm25/           bm25s index over the same rows
    bm25_articles/  bm25s index over whole articles (title + text), one row per article

It is written to a temporary folder, fsynced, renamed into place, and only then named in
``CURRENT`` (itself replaced with ``os.replace``). A reader therefore sees either the old
snapshot or the new one, never a half-written one; a snapshot that fails to load or does
not match the database's generation is rebuilt from the database.

Several processes share one data folder (the bot, ``newsdesk ask`` run many times at once),
so building is serialised by an exclusive ``flock`` on ``.snapshot.lock``: one process builds,
the others wait and then load what it built. Whoever holds the lock first removes what a killed
builder left behind (``.tmp-*`` folders, ``.CURRENT.*`` files): nobody else can be writing them.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from index.errors import UnusableIndexError
from index.lexical import LexicalIndex
from index.store import Store

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
LOCK_NAME = ".snapshot.lock"
HNSW_FROM_ROWS = 200_000  # below this, exact search costs less than embedding the question
_HNSW_M, _HNSW_EF_SEARCH, _HNSW_EF_CONSTRUCTION = 32, 128, 80
# faiss 1.15 defaults this to 128000, which makes small batched searches several times slower.
faiss.cvar.distance_compute_blas_threshold = 20


def index_text(title: str, passage: str) -> str:
    """What is embedded and BM25-indexed for a passage: its article's title gives it context."""
    return passage if not title or passage.startswith(title) else f"{title}\n{passage}"


def choose_index(rows: int, dim: int) -> faiss.Index:
    """Exact inner product up to ``HNSW_FROM_ROWS`` rows, HNSW above."""
    if rows < HNSW_FROM_ROWS:
        return faiss.IndexFlatIP(dim)
    index = faiss.IndexHNSWFlat(dim, _HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = _HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = _HNSW_EF_SEARCH
    return index


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Snapshot:
    """A loaded, read-only search snapshot. Safe to share between threads."""

    generation: int
    model: str
    dense: faiss.Index
    lexical: LexicalIndex
    article_lexical: LexicalIndex
    pids: npt.NDArray[np.int64]
    row_article: npt.NDArray[np.int32]
    article_ids: npt.NDArray[np.str_]
    article_collections: npt.NDArray[np.str_]
    article_sources: npt.NDArray[np.str_]
    article_published: npt.NDArray[np.float64]  # POSIX seconds, NaN when unknown

    @property
    def rows(self) -> int:
        """Number of passages."""
        return len(self.pids)

    @cached_property
    def _rows_by_article(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        order = np.argsort(self.row_article, kind="stable").astype(np.int64)
        starts = np.searchsorted(self.row_article[order], np.arange(len(self.article_ids) + 1))
        return order, starts.astype(np.int64)

    def rows_of_articles(self, articles: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Every passage row of the given article rows, in row order per article."""
        order, starts = self._rows_by_article
        parts = [order[starts[a] : starts[a + 1]] for a in articles.tolist()]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    @property
    def index_type(self) -> str:
        """FAISS index class in use."""
        return type(self.dense).__name__

    def dense_search(
        self, query: npt.NDArray[np.float32], k: int, mask: npt.NDArray[np.bool_] | None = None
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Top-``k`` rows by inner product, optionally only among rows where ``mask`` is true."""
        k = min(k, self.rows)
        if k == 0:
            return np.zeros((0,), np.float32), np.zeros((0,), np.int64)
        params = None
        if mask is not None:
            selector = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
            params = (
                faiss.SearchParametersHNSW(sel=selector, efSearch=_HNSW_EF_SEARCH)  # type: ignore[attr-defined]
                if isinstance(self.dense, faiss.IndexHNSW)
                else faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
            )
        scores, rows = self.dense.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep]

    # -- building ---------------------------------------------------------------------------------
    @classmethod
    def build(cls, store: Store) -> Snapshot:
        """Build a snapshot of the store's current generation (no re-embedding)."""
        generation = store.generation
        model, dim = store.meta("model") or "", int(store.meta("dim") or 0)
        articles = {a.id: a for a in store.iter_articles()}
        article_ids = list(articles)
        article_row = {aid: i for i, aid in enumerate(article_ids)}
        pids, row_article, texts, vectors = [], [], [], []
        for pid, article_id, start, end, blob in store.passage_rows():
            article = articles[article_id]
            pids.append(pid)
            row_article.append(article_row[article_id])
            texts.append(index_text(article.title, article.text[start:end]))
            vectors.append(np.frombuffer(blob, dtype=np.float32))
        matrix = np.vstack(vectors) if vectors else np.zeros((0, max(dim, 1)), np.float32)
        dense = choose_index(len(pids), matrix.shape[1])
        if len(pids):
            dense.add(matrix)
        published = [a.published.timestamp() if a.published else np.nan for a in articles.values()]
        return cls(
            generation=generation,
            model=model,
            dense=dense,
            lexical=LexicalIndex.build(texts),
            article_lexical=LexicalIndex.build([f"{a.title}\n{a.text}" for a in articles.values()]),
            pids=np.asarray(pids, dtype=np.int64),
            row_article=np.asarray(row_article, dtype=np.int32),
            article_ids=np.asarray(article_ids, dtype=np.str_),
            article_collections=np.asarray([a.collection for a in articles.values()], dtype=np.str_),
            article_sources=np.asarray([a.source or "" for a in articles.values()], dtype=np.str_),
            article_published=np.asarray(published, dtype=np.float64),
        )

    def save(self, root: Path) -> Path:
        """Write atomically under ``root/snapshots`` and point ``root/CURRENT`` at it.

        Not safe against another process saving into the same ``root`` at once: ``load_or_build``
        takes the build lock around it.
        """
        snapshots = root / "snapshots"
        snapshots.mkdir(parents=True, exist_ok=True)
        name = f"gen-{self.generation}"
        final = snapshots / name
        tmp = snapshots / f".tmp-{name}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        faiss.write_index(self.dense, str(tmp / "dense.faiss"))
        np.savez(
            tmp / "rows.npz",
            pids=self.pids,
            row_article=self.row_article,
            article_ids=self.article_ids,
            article_collections=self.article_collections,
            article_sources=self.article_sources,
            article_published=self.article_published,
        )
        self.lexical.save(tmp / "bm25")
        self.article_lexical.save(tmp / "bm25_articles")
        manifest = {
            "format": FORMAT_VERSION,
            "generation": self.generation,
            "model": self.model,
            "dim": int(self.dense.d),
            "rows": self.rows,
            "index_type": self.index_type,
            "created": datetime.now(UTC).isoformat(),
        }
        # The manifest is written last: a folder without one is, by definition, incomplete.
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        for file in tmp.rglob("*"):
            if file.is_file():
                with file.open("rb") as fh:
                    os.fsync(fh.fileno())
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync_dir(snapshots)
        current_tmp = root / f".CURRENT.{os.getpid()}"
        current_tmp.write_text(name)
        os.replace(current_tmp, root / "CURRENT")
        _fsync_dir(root)
        for old in snapshots.iterdir():
            if old.name != name and not old.name.startswith(".tmp-"):
                shutil.rmtree(old, ignore_errors=True)
        return final

    @classmethod
    def load(cls, root: Path) -> Snapshot:
        """Load the snapshot named in ``root/CURRENT``.

        Raises:
            UnusableIndexError: when there is none, or it is incomplete or corrupt.
        """
        try:
            name = (root / "CURRENT").read_text().strip()
            folder = root / "snapshots" / name
            manifest = json.loads((folder / "manifest.json").read_text())
            if manifest.get("format") != FORMAT_VERSION:
                raise UnusableIndexError(
                    f"snapshot {name} has format {manifest.get('format')}, expected {FORMAT_VERSION}"
                )
            rows = np.load(folder / "rows.npz")
            dense = faiss.read_index(str(folder / "dense.faiss"))
            snapshot = cls(
                generation=int(manifest["generation"]),
                model=str(manifest["model"]),
                dense=dense,
                lexical=LexicalIndex.load(folder / "bm25"),
                article_lexical=LexicalIndex.load(folder / "bm25_articles"),
                pids=rows["pids"],
                row_article=rows["row_article"],
                article_ids=rows["article_ids"],
                article_collections=rows["article_collections"],
                article_sources=rows["article_sources"],
                article_published=rows["article_published"],
            )
        except UnusableIndexError:
            raise
        except Exception as exc:
            raise UnusableIndexError(
                f"the search snapshot in {root} cannot be loaded ({type(exc).__name__}: {exc})"
            ) from exc
        if not (dense.ntotal == snapshot.rows == snapshot.lexical.size or snapshot.rows == 0):
            raise UnusableIndexError(
                f"snapshot {name} is inconsistent: {dense.ntotal} vectors for {snapshot.rows} rows"
            )
        return snapshot


@contextmanager
def _build_lock(root: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the data folder's build lock; yields whether it was taken (always, when ``wait``)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / LOCK_NAME).open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_leftovers(root: Path) -> None:
    """Delete the temporary files of builds that died; only call this holding the build lock."""
    snapshots = root / "snapshots"
    for tmp in snapshots.glob(".tmp-*") if snapshots.is_dir() else ():
        log.info("removing %s, left by an interrupted build", tmp)
        shutil.rmtree(tmp, ignore_errors=True)
    for tmp in root.glob(".CURRENT.*"):
        tmp.unlink(missing_ok=True)


def _load_current(store: Store, root: Path, *, report: bool) -> Snapshot | None:
    """The saved snapshot when it is intact and of the store's generation, else ``None`` (logged if ``report``)."""
    try:
        snapshot = Snapshot.load(root)
    except UnusableIndexError as exc:
        if report and ((root / "CURRENT").exists() or store.passage_count()):
            log.warning("%s; rebuilding it from the database", exc)
        return None
    if snapshot.generation != store.generation:
        if report:
            log.info("snapshot is at generation %d, database at %d: rebuilding", snapshot.generation, store.generation)
        return None
    return snapshot


def load_or_build(store: Store, root: Path) -> Snapshot:
    """The snapshot of the store's current generation: loaded when valid, else rebuilt and saved.

    One process builds at a time; one that waited for another's build loads its result.
    """
    snapshot = _load_current(store, root, report=False)
    if snapshot is not None:
        with _build_lock(root, wait=False) as locked:
            if locked:
                _remove_leftovers(root)
        return snapshot
    with _build_lock(root):
        snapshot = _load_current(store, root, report=True)
        if snapshot is None:
            _remove_leftovers(root)
            snapshot = Snapshot.build(store)
            snapshot.save(root)
    return snapshot


def select_articles(
    snapshot: Snapshot,
    *,
    collections: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    article_ids: Sequence[str] | None = None,
    exclude_article_ids: Sequence[str] | None = None,
    since: float | None = None,
    until: float | None = None,
    undated_only: bool = False,
) -> npt.NDArray[np.bool_] | None:
    """An article mask for the given filters, or ``None`` when every article qualifies.

    Articles of unknown date never pass a ``since``/``until`` filter; ``undated_only`` selects them alone.
    """
    keep = np.ones(len(snapshot.article_ids), dtype=bool)
    if collections is not None:
        keep &= np.isin(snapshot.article_collections, list(collections))
    if sources is not None:
        keep &= np.isin(np.char.lower(snapshot.article_sources), [s.lower() for s in sources])
    if article_ids is not None:
        keep &= np.isin(snapshot.article_ids, list(article_ids))
    if exclude_article_ids is not None:
        keep &= ~np.isin(snapshot.article_ids, list(exclude_article_ids))
    if undated_only:
        keep &= np.isnan(snapshot.article_published)
    if since is not None:
        keep &= snapshot.article_published >= since
    if until is not None:
        keep &= snapshot.article_published < until
    return None if keep.all() else keep

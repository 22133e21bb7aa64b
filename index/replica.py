"""A process's own read replica of the shared PostgreSQL store: SQLite in ``data_dir/replica.db``.

With PostgreSQL, each bot process answers from its own snapshot, and a question also reads articles,
passage spans and sentence vectors. Reading those from the server would make every question need
it, so the engine reads them from this replica instead: a copy of the read tables (articles, passages
with their vectors, sentences, article_sources, and ``meta`` model/dim/generation) that keeps
answering while the server is away. It is the process's own cache, not shared data (the shared data
lives only in PostgreSQL): deleting it costs one full copy at the next start.

``Replica.sync`` brings it to the server's generation in one SQLite transaction, read from one
REPEATABLE READ snapshot of the server: articles that appeared since the last sync are copied with
their passages and sentences, articles that are gone are deleted (the ids are diffed), and after a
re-index (``passages_epoch`` changed) or when the replica mirrors another database, everything is
copied again. ``article_sources`` (small, and added without a new generation) is copied whole at
every sync that finds a new generation. Passage ids are the server's, so snapshots built from the
replica cite the same rows.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from index.database import Connection, SqliteDatabase, migrations
from index.database.postgres import PostgresDatabase
from index.store import PASSAGES_EPOCH, Store

log = logging.getLogger(__name__)

REPLICA_NAME = "replica.db"
SOURCE_KEY = "replica_of"
"""The replica's meta key naming the database it mirrors (the URL without its password)."""
_META_KEYS = ("generation", "model", "dim", PASSAGES_EPOCH)
_BY_ARTICLE = (("articles", "id"), ("passages", "article_id"), ("sentences", "article_id"))
_CHUNK = 500
_BATCH = 1000


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one sync did: the generation it reached, articles copied and removed, and whether it started over."""

    generation: int
    added: int = 0
    removed: int = 0
    full: bool = False


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _copy(
    conn: psycopg.Connection[Any], tx: Connection, table: str, where: str = "", params: Sequence[Any] = ()
) -> int:
    """Copy the rows of ``table`` (matching ``where``, in PostgreSQL's syntax) into the replica, in batches."""
    query = sql.SQL("SELECT * FROM {} {}").format(sql.Identifier(table), sql.SQL(where))
    copied = 0
    with conn.cursor(name=f"replica_{table}") as cursor:  # server-side: a full copy never sits in memory at once
        cursor.execute(query, params)
        columns = ", ".join(f'"{column.name}"' for column in cursor.description or ())
        marks = ", ".join("?" * len(cursor.description or ()))
        insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        while rows := cursor.fetchmany(_BATCH):
            tx.executemany(insert, [tuple(row) for row in rows])
            copied += len(rows)
    return copied


class Replica(Store):
    """The read tables of a shared store, in a local SQLite file; ``Store``'s reads work on it unchanged.

    Only ``sync`` writes to it: the store's write methods are never called on a replica.
    """

    def __init__(self, data_dir: Path) -> None:
        """Open (or create) ``data_dir/replica.db``; not ``Store.__init__``, which would open the shared database."""
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / REPLICA_NAME
        self.database = self._open()
        self._sync_lock = threading.Lock()

    def _open(self) -> SqliteDatabase:
        database = SqliteDatabase(self.path)
        try:
            migrations.upgrade(database)
        except sqlite3.DatabaseError as exc:  # a damaged cache: start it again
            database.close()
            log.warning("the read replica %s is unusable (%s): copying the store again", self.path, exc)
            for suffix in ("", "-wal", "-shm"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
            database = SqliteDatabase(self.path)
            migrations.upgrade(database)
        return database

    def sync(self, source: Store) -> SyncReport:
        """Bring the replica to ``source``'s current generation.

        Raises:
            StoreUnavailableError: when the server cannot be reached (the replica is left as it was).
        """
        database = source.db
        if not isinstance(database, PostgresDatabase):
            raise TypeError("a read replica follows a PostgreSQL store")
        with self._sync_lock, database.session() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            remote = dict(conn.execute("SELECT key, value FROM meta WHERE key = ANY(%s)", [list(_META_KEYS)]))
            generation = int(remote.get("generation") or 0)
            full = (
                self.meta(SOURCE_KEY) != database.location
                or self.meta(PASSAGES_EPOCH) != remote.get(PASSAGES_EPOCH)
                or generation < self.generation
            )
            if not full and generation == self.generation:
                return SyncReport(generation)
            report = self._copy_changes(conn, {**remote, SOURCE_KEY: database.location}, full=full)
        log.info(
            "replica at generation %d: %d articles copied, %d removed%s",
            report.generation,
            report.added,
            report.removed,
            " (full copy)" if report.full else "",
        )
        return report

    def _copy_changes(self, conn: psycopg.Connection[Any], remote: dict[str, str], *, full: bool) -> SyncReport:
        remote_ids = {row[0] for row in conn.execute("SELECT id FROM articles")}
        with self.transaction() as tx:
            if full:
                for table in ("article_sources", "sentences", "passages", "articles"):
                    tx.execute(f"DELETE FROM {table}")
                removed = 0
                added = _copy(conn, tx, "articles")
                _copy(conn, tx, "passages")
                _copy(conn, tx, "sentences")
            else:
                local_ids = {row[0] for row in tx.execute("SELECT id FROM articles")}
                gone, new = sorted(local_ids - remote_ids), sorted(remote_ids - local_ids)
                for chunk in _chunks(gone):  # their passages and sentences go with them (ON DELETE CASCADE)
                    tx.execute(f"DELETE FROM articles WHERE id IN ({','.join('?' * len(chunk))})", list(chunk))
                for chunk in _chunks(new):
                    for table, column in _BY_ARTICLE:
                        _copy(conn, tx, table, f"WHERE {column} = ANY(%s)", [list(chunk)])
                removed, added = len(gone), len(new)
            tx.execute("DELETE FROM article_sources")
            _copy(conn, tx, "article_sources")
            keys = (*_META_KEYS, SOURCE_KEY)
            tx.execute(f"DELETE FROM meta WHERE key IN ({','.join('?' * len(keys))})", keys)
            tx.executemany("INSERT INTO meta VALUES (?, ?)", [(k, remote[k]) for k in keys if k in remote])
        return SyncReport(int(remote.get("generation") or 0), added, removed, full)

"""SQLite in one file: the embedded default, one connection per thread and one writer at a time."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from index.database.base import Params


class SqliteDatabase:
    """``newsdesk.db`` in WAL mode: readers never wait for the writer, writers queue on ``BEGIN IMMEDIATE``."""

    dialect: Final = "sqlite"

    def __init__(self, path: Path) -> None:
        """Use the database file at ``path`` (created on first use)."""
        self.path = path
        self.location = str(path)
        self._local = threading.local()
        self._write_lock = threading.Lock()

    @property
    def connection(self) -> sqlite3.Connection:
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

    def execute(self, sql: str, params: Params = (), /) -> sqlite3.Cursor:
        """One statement on this thread's connection."""
        return self.connection.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Params], /) -> sqlite3.Cursor:
        """One statement per row."""
        return self.connection.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; readers keep seeing the previous state until it commits."""
        with self._write_lock:
            db = self.connection
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def notify(self, db: Any, channel: str, payload: str) -> None:
        """Nobody listens on SQLite: other processes compare the generation instead."""

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

"""The database under every store: SQLite in ``NEWSDESK_DATA_DIR`` (the default) or a shared PostgreSQL.

``open_database`` picks the engine from ``NEWSDESK_DATABASE_URL`` (unset: SQLite) and makes sure the
schema is the one this code reads; ``base.py`` is the protocol both engines speak.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from index.database import migrations
from index.database.base import Connection, Cursor, Database, Dialect, Row
from index.database.sqlite import SqliteDatabase
from index.errors import NoIndexError, UnusableIndexError

__all__ = [
    "DB_NAME",
    "Connection",
    "Cursor",
    "Database",
    "Dialect",
    "Row",
    "SqliteDatabase",
    "open_database",
    "write_one",
]

DB_NAME = "newsdesk.db"


def open_database(data_dir: Path, *, url: str | None = None, create: bool = True) -> Database:
    """The database for ``data_dir`` or ``url``, at the code's schema version.

    SQLite is created and upgraded in place (one process owns it); PostgreSQL is only checked, since
    other processes share it: ``newsdesk db upgrade`` changes its schema.

    Raises:
        NoIndexError: when there is no SQLite database and ``create`` is false.
        UnusableIndexError: when the file is not a newsdesk database, or the schema is another version
            (``SchemaVersionError``), or the server cannot be reached (``StoreUnavailableError``).
    """
    if url:
        from index.database.postgres import PostgresDatabase  # psycopg only where PostgreSQL is used

        database: Database = PostgresDatabase(url)
        try:
            migrations.check(database)
        except BaseException:
            database.close()
            raise
        return database
    path = data_dir / DB_NAME
    if not create and not path.exists():
        raise NoIndexError(
            f"no index in {data_dir.resolve()}: run `newsdesk ingest PATH` first "
            "(or set NEWSDESK_DATA_DIR to where the index is)"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    database = SqliteDatabase(path)
    try:
        migrations.upgrade(database)
    except sqlite3.DatabaseError as exc:
        database.close()
        raise UnusableIndexError(f"{path} is not a newsdesk database or is corrupt ({exc})") from None
    return database


def write_one(db: Database, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Run one writing statement atomically and return its rows (``RETURNING``).

    On PostgreSQL a single statement is atomic by itself, so it skips the store-wide write lock (a queue
    update never waits behind a long ingest); SQLite has one writer anyway, so it runs in a write transaction.
    """
    if db.dialect == "postgresql":
        return db.execute(sql, params).fetchall()
    with db.transaction() as tx:
        return tx.execute(sql, params).fetchall()

"""``newsdesk db copy``: move an index between engines as it is, vectors included (no re-embedding).

The source must be at this code's schema version; the target is upgraded to it and must hold no
articles. Everything is copied in one target transaction, so a failed copy leaves the target as
it was. Ids are kept (passage ids name FAISS rows; feed and schedule ids are shown to users), and
PostgreSQL's identity sequences are moved past them afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from index.database import DB_NAME, Connection, Database, migrations, open_database

# Parents before children (foreign keys); jobs and other per-process state are not copied.
TABLES = (
    "articles",
    "passages",
    "sentences",
    "article_sources",
    "feeds",
    "feed_entries",
    "conversations",
    "answers",
    "feedback",
    "feedback_secrets",
    "digest_schedules",
    "digest_posted",
)
IDENTITY_TABLES = ("passages", "feeds", "digest_schedules")
META_KEYS = ("model", "dim")
BATCH = 1000

Progress = Callable[[str, int], None]
"""Called with a table's name and the rows copied from it so far."""


def parse_location(spec: str) -> tuple[Path | None, str | None]:
    """``sqlite:PATH`` (a data folder or its newsdesk.db) or a ``postgresql://`` URL -> (data folder, URL).

    Raises:
        ValueError: for anything else.
    """
    spec = spec.strip()
    if spec.startswith(("postgresql://", "postgres://")):
        return None, spec
    if spec.startswith("sqlite:"):
        path = Path(spec.removeprefix("sqlite:").removeprefix("//") or ".")
        return (path.parent if path.name == DB_NAME or path.suffix == ".db" else path), None
    raise ValueError(f"not a database: {spec!r} (use sqlite:PATH or a postgresql:// URL)")


def open_location(spec: str, *, create: bool) -> Database:
    """The database ``spec`` names; PostgreSQL unchecked (the copy checks or upgrades it)."""
    folder, url = parse_location(spec)
    if url is not None:
        from index.database.postgres import PostgresDatabase

        return PostgresDatabase(url)
    assert folder is not None
    return open_database(folder, create=create)


def _count(db: Database | Connection, table: str) -> int:
    return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _insert(tx: Connection, dialect: str, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    names = ", ".join(f'"{c}"' for c in columns)
    if dialect == "postgresql":
        raw = tx.raw  # type: ignore[attr-defined]  # PgConnection: COPY is the fast path
        n = 0
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        return n
    batch: list[Sequence[Any]] = []
    n = 0
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
    for row in rows:
        batch.append(tuple(row))
        if len(batch) >= BATCH:
            tx.executemany(sql, batch)
            n, batch = n + len(batch), []
    if batch:
        tx.executemany(sql, batch)
        n += len(batch)
    return n


def copy_database(source: Database, target: Database, *, progress: Progress | None = None) -> dict[str, int]:
    """Copy every table of ``source`` into the empty ``target``; the rows copied per table.

    Raises:
        SchemaVersionError: when the source is not at this code's schema version.
        ValueError: when the target already holds articles.
    """
    migrations.check(source)
    migrations.upgrade(target)
    copied: dict[str, int] = {}
    with target.transaction() as tx:
        if (held := _count(tx, "articles")) > 0:
            raise ValueError(f"the target {target.location} already holds {held} articles: copy into an empty database")
        for table in TABLES:
            cursor = source.execute(f"SELECT * FROM {table}")
            first = cursor.fetchone()
            if first is None:
                copied[table] = 0
                continue
            columns = list(first.keys())

            def rows(first: Any = first, cursor: Any = cursor, table: str = table) -> Iterable[Sequence[Any]]:
                yield tuple(first)
                for n, row in enumerate(cursor, 2):
                    if progress is not None and n % BATCH == 0:
                        progress(table, n)
                    yield tuple(row)

            copied[table] = _insert(tx, target.dialect, table, columns, rows())
            if progress is not None:
                progress(table, copied[table])
        for key in META_KEYS:
            row = source.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if row is not None:
                tx.execute(
                    "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, row[0]),
                )
        tx.execute("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'generation'")
        if target.dialect == "postgresql":
            for table in IDENTITY_TABLES:
                tx.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
    return copied

"""Schema versions: plain SQL files applied in order, in one transaction, recorded in ``meta``.

``migrations/<dialect>/NNNN_name.sql`` holds the statements that bring the schema to version NNNN;
``0003_baseline.sql`` is the whole schema as of version 3 (the first version that exists on both
engines). SQLite, the embedded default, is upgraded when it is opened, as it always was; a shared
PostgreSQL database is upgraded only by ``newsdesk db upgrade`` and checked at every start, so that
processes of two versions never write one schema. A failed migration leaves the schema as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from index.database.base import Connection, Database, Dialect
from index.errors import SchemaVersionError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BASELINE = 3
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Columns that SQLite files older than the baseline lack (CREATE TABLE IF NOT EXISTS keeps old tables).
_SQLITE_COLUMNS = (("articles", "minhash", "BLOB"),)


@dataclass(frozen=True, slots=True)
class Migration:
    """One file: the version it brings the schema to, its name and its statements."""

    version: int
    name: str
    statements: tuple[str, ...]


@cache
def migrations(dialect: Dialect) -> tuple[Migration, ...]:
    """Every migration of ``dialect``, oldest first."""
    found = []
    for path in sorted((MIGRATIONS_DIR / dialect).glob("*.sql")):
        match = _FILE.match(path.name)
        if match is None:
            raise RuntimeError(f"misnamed migration {path} (want NNNN_name.sql)")
        # Statements end with ";" at the end of a line; the files hold no procedural code.
        statements = tuple(
            s.strip() for s in re.split(r";\s*$", path.read_text(encoding="utf-8"), flags=re.M) if _sql(s)
        )
        found.append(Migration(int(match[1]), match[2], statements))
    return tuple(found)


def _sql(chunk: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in chunk.splitlines())


def code_version(dialect: Dialect) -> int:
    """The schema version this code reads and writes."""
    return migrations(dialect)[-1].version


def current_version(db: Database | Connection, dialect: Dialect) -> int:
    """The database's schema version; 0 for an empty database."""
    if dialect == "sqlite":
        exists = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    else:
        exists = db.execute("SELECT to_regclass('meta')").fetchone()[0]
    if not exists:
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def check(db: Database) -> int:
    """The schema version, when it is the code's.

    Raises:
        SchemaVersionError: when the database is older (``newsdesk db upgrade``) or newer (upgrade newsdesk).
    """
    have, want = current_version(db, db.dialect), code_version(db.dialect)
    if have > want:
        raise SchemaVersionError(
            f"the database at {db.location} has schema version {have}, newer than this newsdesk reads ({want}): "
            "upgrade newsdesk on this host (another process already runs a newer one)"
        )
    if have < want:
        raise SchemaVersionError(
            f"the database at {db.location} has schema version {have}, older than this newsdesk needs ({want}): "
            "run `newsdesk db upgrade` once (with every newsdesk process stopped)"
        )
    return have


def upgrade(db: Database) -> tuple[int, int]:
    """Apply the pending migrations in one transaction.

    Returns:
        The schema version before and after.

    Raises:
        SchemaVersionError: when the database is newer than the code (nothing is changed).
    """
    want = code_version(db.dialect)
    with db.transaction() as tx:  # serialised with every writer: two upgrades never interleave
        have = current_version(tx, db.dialect)
        if have > want:
            raise SchemaVersionError(
                f"the database at {db.location} has schema version {have}, newer than this newsdesk ({want}): "
                "upgrade newsdesk"
            )
        # SQLite files of schema 3 may lack the tables that their stores used to create lazily: the
        # baseline (all IF NOT EXISTS) runs again on them, and only on them.
        applied_up_to = BASELINE - 1 if db.dialect == "sqlite" and have == BASELINE else have
        for migration in migrations(db.dialect):
            if migration.version > applied_up_to:
                for statement in migration.statements:
                    tx.execute(statement)
        if db.dialect == "sqlite" and have <= BASELINE:
            _add_missing_columns(tx)
        if have < want:
            tx.execute(
                "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(want),),
            )
            tx.execute("INSERT INTO meta VALUES ('generation', '0') ON CONFLICT (key) DO NOTHING")
    return have, want


def _add_missing_columns(tx: Connection) -> None:
    for table, column, kind in _SQLITE_COLUMNS:
        if column not in {row[1] for row in tx.execute(f"PRAGMA table_info({table})")}:
            tx.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

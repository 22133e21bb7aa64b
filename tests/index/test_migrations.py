"""Schema migrations: in order, once, all or nothing, and the same schema version on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.database import migrations, open_database
from index.database.migrations import Migration
from index.database.postgres import translate
from index.errors import SchemaVersionError
from tests.postgres import PostgresServer


def test_both_engines_have_the_same_versions() -> None:
    """should ship one file per version for each engine, so their schema versions mean the same."""
    sqlite = [(m.version, m.name) for m in migrations.migrations("sqlite")]
    postgresql = [(m.version, m.name) for m in migrations.migrations("postgresql")]
    assert sqlite == postgresql
    assert sqlite[0] == (3, "baseline")


def test_placeholders_are_translated_outside_literals_only() -> None:
    """should turn ? into %s and double a literal %, but leave quoted text alone."""
    assert translate("SELECT '?', x FROM t WHERE a = ? AND b LIKE '5%' AND \"c?\" = ?") == (
        "SELECT '?', x FROM t WHERE a = %s AND b LIKE '5%%' AND \"c?\" = %s"
    )


SHIPPED = migrations.migrations


def _failing(dialect: str) -> tuple[Migration, ...]:
    good = SHIPPED(dialect)  # type: ignore[arg-type]
    broken = Migration(good[-1].version + 1, "broken", ("CREATE TABLE half_done (x INTEGER)", "NOT SQL AT ALL"))
    return (*good, broken)


def test_a_failed_sqlite_migration_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """should roll the whole upgrade back: no half-made table, the version as it was."""
    open_database(tmp_path).close()
    monkeypatch.setattr(migrations, "migrations", _failing)
    with pytest.raises(Exception, match="syntax error"):
        open_database(tmp_path)
    monkeypatch.undo()
    db = open_database(tmp_path)
    assert migrations.current_version(db, "sqlite") == migrations.code_version("sqlite")
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
    db.close()


def test_a_failed_postgresql_migration_leaves_an_empty_database_empty(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """should run the migrations in one transaction: after a failure, no table and version 0."""
    from index.database.postgres import PostgresDatabase

    url = postgres_server.new_database(migrated=False)
    db = PostgresDatabase(url)
    try:
        monkeypatch.setattr(migrations, "migrations", _failing)
        with pytest.raises(Exception, match="syntax error"):
            migrations.upgrade(db)
        assert migrations.current_version(db, "postgresql") == 0
        assert db.execute("SELECT to_regclass('articles'), to_regclass('half_done')").fetchone() == (None, None)
        monkeypatch.undo()
        with pytest.raises(SchemaVersionError, match="older than this newsdesk needs"):
            migrations.check(db)
        assert migrations.upgrade(db) == (0, migrations.code_version("postgresql"))
        assert migrations.check(db) == migrations.code_version("postgresql")
    finally:
        db.close()
        postgres_server.drop(url)


def test_an_old_sqlite_file_gains_the_tables_its_stores_used_to_create(tmp_path: Path) -> None:
    """should add, on open, what a schema-3 file made before migrations may lack (conversations, feedback)."""
    db = open_database(tmp_path)
    db.execute("DROP TABLE conversations")
    db.execute("DROP TABLE feedback")
    db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")  # written by newsdesk before migrations
    db.close()
    db = open_database(tmp_path)
    assert db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 0
    db.close()


def test_a_migration_runs_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """should not run a migration again on the next open (an ALTER TABLE would fail the second time)."""
    shipped = SHIPPED("sqlite")
    added = Migration(shipped[-1].version + 1, "add_column", ("ALTER TABLE articles ADD COLUMN extra TEXT",))
    monkeypatch.setattr(migrations, "migrations", lambda dialect: (*shipped, added))
    for _ in range(3):
        db = open_database(tmp_path)
        assert migrations.current_version(db, "sqlite") == added.version
        db.close()

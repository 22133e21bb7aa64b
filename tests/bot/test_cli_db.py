"""``newsdesk db`` and NEWSDESK_DATABASE_URL from the command line, against a real PostgreSQL server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config import EngineConfig
from app.engine import Engine
from bot.cli import main
from bot.exit_codes import EXIT_INDEX, EXIT_OK, EXIT_USAGE
from bot.settings import get_settings
from index.database.postgres import PostgresDatabase
from index.feedstore import FeedStore
from index.store import Store
from tests.conftest import PESKOV, SEEDS
from tests.fakes import FakeEncoder
from tests.postgres import PostgresServer


def fake_engine(config: EngineConfig, check_model: bool) -> Engine:
    return Engine(config, encoder=FakeEncoder(), check_model=check_model)


def run(*argv: str) -> int:
    get_settings.cache_clear()  # each call reads the environment again, as a new process would
    return main(list(argv), open_engine=fake_engine)


def use(monkeypatch: pytest.MonkeyPatch, data_dir: Path, url: str | None = None) -> None:
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(data_dir))
    if url is None:
        monkeypatch.delenv("NEWSDESK_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("NEWSDESK_DATABASE_URL", url)


def ask_json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert run("ask", PESKOV, "--json") == EXIT_OK
    answer: dict[str, object] = json.loads(capsys.readouterr().out)
    answer.pop("latency_ms")
    return answer


@pytest.fixture
def server(postgres_server: PostgresServer) -> PostgresServer:
    return postgres_server


def test_copy_moves_the_index_to_postgresql_and_back_without_reembedding(
    server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """should answer the same from PostgreSQL as from SQLite, keep feeds and ids, and create no SQLite file."""
    use(monkeypatch, tmp_path / "sqlite")
    assert run("ingest", str(SEEDS)) == EXIT_OK
    store = Store(tmp_path / "sqlite")
    feed, _ = FeedStore(store).add("https://news.example/feed.xml", collection="global")
    store.close()
    capsys.readouterr()
    before = ask_json(capsys)

    url = server.new_database(migrated=False)  # copy upgrades an empty target
    try:
        assert run("db", "copy", "--to", url) == EXIT_OK
        assert "passages: 13" in capsys.readouterr().out
        use(monkeypatch, tmp_path / "pg-process", url)
        assert ask_json(capsys) == before
        assert not (tmp_path / "pg-process" / "newsdesk.db").exists()
        shared = Store(tmp_path / "pg-process", database_url=url)
        feeds = FeedStore(shared)
        assert [f.id for f in feeds.list()] == [feed.id]
        assert feeds.add("https://other.example/rss", collection="global")[0].id == feed.id + 1  # sequence moved on
        shared.close()

        assert run("db", "copy", "--to", f"sqlite:{tmp_path / 'back'}") == EXIT_OK
        use(monkeypatch, tmp_path / "back")
        capsys.readouterr()
        assert ask_json(capsys) == before
    finally:
        server.drop(url)


def test_copy_refuses_a_target_that_holds_articles(
    server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """should exit 3 with a message and leave the target as it was."""
    use(monkeypatch, tmp_path / "sqlite")
    assert run("ingest", str(SEEDS)) == EXIT_OK
    url = server.new_database()
    try:
        assert run("db", "copy", "--to", url) == EXIT_OK
        capsys.readouterr()
        assert run("db", "copy", "--to", url) == EXIT_INDEX
        assert "already holds 1 articles" in capsys.readouterr().err
        db = PostgresDatabase(url)
        assert db.execute("SELECT COUNT(*) FROM passages").fetchone()[0] == 13
        db.close()
    finally:
        server.drop(url)


@pytest.mark.parametrize("where", ["mysql://db/x", "newsdesk.db"])
def test_copy_names_what_is_not_a_database(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """should exit 2 and say which forms a location takes."""
    use(monkeypatch, tmp_path)
    assert run("db", "copy", "--to", where) == EXIT_USAGE
    assert "use sqlite:PATH or a postgresql:// URL" in capsys.readouterr().err


def test_an_older_schema_is_refused_until_db_upgrade(
    server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """should refuse an un-migrated database with advice, then work after `newsdesk db upgrade`."""
    url = server.new_database(migrated=False)
    try:
        use(monkeypatch, tmp_path, url)
        assert run("ingest", str(SEEDS)) == EXIT_INDEX
        err = capsys.readouterr().err
        assert "schema version 0, older than this newsdesk needs" in err and "newsdesk db upgrade" in err
        assert "Traceback" not in err
        assert run("db", "upgrade") == EXIT_OK
        assert capsys.readouterr().out.startswith("schema 0 -> ")
        assert run("db", "upgrade") == EXIT_OK
        assert "nothing to do" in capsys.readouterr().out
        assert run("ingest", str(SEEDS)) == EXIT_OK
        assert not (tmp_path / "newsdesk.db").exists()
    finally:
        server.drop(url)


def test_a_newer_schema_is_refused_and_left_alone(
    server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """should exit 3 for a database written by a newer newsdesk, and never downgrade it."""
    url = server.new_database()
    db = PostgresDatabase(url)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    try:
        use(monkeypatch, tmp_path, url)
        assert run("ask", PESKOV) == EXIT_INDEX
        assert "schema version 99, newer than this newsdesk" in capsys.readouterr().err
        assert run("db", "upgrade") == EXIT_INDEX
        assert "newer than this newsdesk" in capsys.readouterr().err
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "99"
    finally:
        db.close()
        server.drop(url)


def test_an_unreachable_database_is_one_line_and_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """should say which server could not be reached (password hidden), without a traceback."""
    use(monkeypatch, tmp_path, "postgresql://newsdesk:s3cret@127.0.0.1:1/newsdesk")
    for argv in (("ask", PESKOV), ("ingest", str(SEEDS)), ("db", "status")):
        assert run(*argv) == EXIT_INDEX
        err = capsys.readouterr().err
        assert "cannot reach the database at postgresql://newsdesk@127.0.0.1:1/newsdesk" in err
        assert "s3cret" not in err and "Traceback" not in err
    assert not (tmp_path / "newsdesk.db").exists()


def test_a_url_that_is_not_postgresql_is_a_bad_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """should exit 2 naming the setting."""
    use(monkeypatch, tmp_path, "mysql://root@localhost/newsdesk")
    assert run("ask", PESKOV) == EXIT_USAGE
    assert "database_url" in capsys.readouterr().err

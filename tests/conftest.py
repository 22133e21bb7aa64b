"""Shared fixtures: a clean environment, a fake encoder, engines on it, the real model once per session."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import EngineConfig
from app.engine import Engine
from index.models import RawArticle
from index.store import Store
from tests.fakes import FakeEncoder
from tests.postgres import REQUIRE_VARIABLE, URL_VARIABLE, PostgresServer, server_binaries

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
EVAL_DIR = Path(os.environ.get("NEWSDESK_EVAL_DIR", ROOT.parent / "shared" / "eval"))
PESKOV = "What did Peskov say about the strikes?"
MakeEngine = Callable[..., Engine]
OpenStore = Callable[..., Store]
# Read before ``clean_environ`` hides every NEWSDESK_ variable from the tests.
POSTGRES_URL = os.environ.get(URL_VARIABLE)
REQUIRE_POSTGRES = os.environ.get(REQUIRE_VARIABLE) == "1"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see none of the developer's NEWSDESK_* settings or token."""
    for key in list(os.environ):
        if key.startswith("NEWSDESK_") or key == "DISCORD_TOKEN":
            monkeypatch.delenv(key)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from bot.settings import get_settings

    get_settings.cache_clear()


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def make_engine(tmp_path: Path, database_url: str | None) -> Iterator[MakeEngine]:
    """Open engines on the fake encoder, closed after the test.

    ``make_engine(*articles, data_dir=tmp_path, encoder=FakeEncoder(), check_model=True, create=True, **config)``
    ingests ``articles`` (if any) into the global collection; ``config`` holds ``EngineConfig``
    fields such as ``chunk_words``.
    """
    opened: list[Engine] = []

    def make(
        *articles: RawArticle,
        data_dir: Path | None = None,
        encoder: FakeEncoder | None = None,
        check_model: bool = True,
        create: bool = True,
        **config: Any,
    ) -> Engine:
        engine = Engine(
            EngineConfig(data_dir=data_dir or tmp_path, **{"database_url": database_url, **config}),
            encoder=encoder or FakeEncoder(),
            check_model=check_model,
            create=create,
        )
        opened.append(engine)
        if articles:
            engine.ingest(articles)
        return engine

    yield make
    for engine in opened:
        engine.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server of this session (CI's, or one started here); skips when there is none."""
    if POSTGRES_URL:
        yield PostgresServer(POSTGRES_URL)
        return
    if not server_binaries():
        if REQUIRE_POSTGRES:
            pytest.fail("PostgreSQL is required here but its server binaries are not installed")
        pytest.skip("PostgreSQL server binaries not installed (set NEWSDESK_TEST_DATABASE_URL to use a server)")
    # Not under pytest's own temporary folder: that is private to root, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-pg-"))
    folder.chmod(0o755)
    server = PostgresServer.start(folder)
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_engines`` (whole store modules) run once on SQLite and once on PostgreSQL.

    A test of such a module marked ``sqlite_only`` is about the SQLite file itself and runs once.
    """
    marked = metafunc.definition.get_closest_marker("both_engines")
    if (
        "database_engine" in metafunc.fixturenames
        and marked
        and not metafunc.definition.get_closest_marker("sqlite_only")
    ):
        metafunc.parametrize("database_engine", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def database_engine(request: pytest.FixtureRequest) -> str:
    """The store's engine: SQLite, unless the test is marked ``both_engines`` (then each in turn)."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database_url(database_engine: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The test's PostgreSQL database (fresh, migrated, dropped afterwards), or None for SQLite."""
    if database_engine == "sqlite":
        yield None
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.new_database()
    yield url
    server.drop(url)


@pytest.fixture
def open_store(tmp_path: Path, database_url: str | None, request: pytest.FixtureRequest) -> Iterator[OpenStore]:
    """Open stores on the test's engine: ``open_store(name="main", create=True)``.

    The same ``name`` is the same database (``tmp_path`` or a folder under it on SQLite, a database
    on PostgreSQL; "main" is the one ``make_engine`` uses), so a test can reopen what it wrote;
    another name is another install.
    """
    server: PostgresServer | None = None
    urls: dict[str, str] = {}
    if database_url is not None:
        server = request.getfixturevalue("postgres_server")
        urls["main"] = database_url
    owned: set[str] = set()
    opened: list[Store] = []

    def open_(name: str = "main", *, create: bool = True) -> Store:
        if server is not None and name not in urls:
            urls[name] = server.new_database()
            owned.add(name)
        store = Store(tmp_path if name == "main" else tmp_path / name, create=create, database_url=urls.get(name))
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()
    if server is not None:
        for name in owned:
            server.drop(urls[name])


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for converted models, shared by every test that loads the real model."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def real_encoder(model_cache: Path) -> Iterator[object]:
    """The bundled all-MiniLM-L6-v2, loaded once (fast path when available)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from index.embed import load_encoder

    yield load_encoder(cache_dir=model_cache)

"""Shared fixtures: a clean environment, a fake encoder, engines on it, the real model once per session."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import EngineConfig
from app.engine import Engine
from index.models import RawArticle
from tests.fakes import FakeEncoder

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
EVAL_DIR = Path(os.environ.get("NEWSDESK_EVAL_DIR", ROOT.parent / "shared" / "eval"))
PESKOV = "What did Peskov say about the strikes?"
MakeEngine = Callable[..., Engine]


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
def make_engine(tmp_path: Path) -> Iterator[MakeEngine]:
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
            EngineConfig(data_dir=data_dir or tmp_path, **config),
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
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for converted models, shared by every test that loads the real model."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def real_encoder(model_cache: Path) -> Iterator[object]:
    """The bundled all-MiniLM-L6-v2, loaded once (fast path when available)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from index.embed import load_encoder

    yield load_encoder(cache_dir=model_cache)

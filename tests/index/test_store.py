from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.engine import Engine
from index.errors import ModelMismatchError, NoIndexError, UnusableIndexError
from index.models import RawArticle
from index.snapshot import Snapshot, load_or_build
from tests.conftest import MakeEngine
from tests.fakes import FakeEncoder

pytestmark = pytest.mark.both_engines


def _raw(title: str, text: str, url: str | None = None) -> RawArticle:
    return RawArticle(title=title, text=text, url=url, source="Test")


ARTICLE = _raw("Storm hits coast", "A storm hit the coast on Monday. Thousands lost power. Crews worked all night.")


@pytest.fixture
def engine(make_engine: MakeEngine) -> Engine:
    return make_engine(chunk_words=20)


def _other_model() -> FakeEncoder:
    other = FakeEncoder(dim=32)
    other.name = "other-model"
    return other


def test_reingest_is_a_noop(engine: Engine):
    """should leave the index untouched when the same article comes again."""
    first = engine.ingest([ARTICLE])
    generation = engine.store.generation
    second = engine.ingest([ARTICLE])
    assert (first.added, second.added, second.unchanged) == (1, 0, 1)
    assert engine.store.generation == generation
    assert second.article_ids == first.article_ids


def test_changed_article_replaces_its_passages(engine: Engine):
    """should replace an article whose URL comes back with new content."""
    engine.ingest([_raw("Vote", "The council voted on Tuesday. The motion failed.", url="https://n.test/vote")])
    report = engine.ingest(
        [_raw("Vote", "The council voted on Tuesday. The motion passed.", url="https://n.test/vote")]
    )
    assert report.replaced == 1
    assert engine.store.article_count() == 1
    (article,) = engine.store.iter_articles()
    assert "passed" in article.text
    texts = [article.text[p.start : p.end] for p in engine.store.passages(list(engine.snapshot.pids)).values()]
    assert texts and all("failed" not in t for t in texts)


def test_other_model_is_refused(make_engine: MakeEngine):
    """should refuse to mix vectors from two models, with advice."""
    make_engine(ARTICLE)
    with pytest.raises(ModelMismatchError, match="reindex"):
        make_engine(encoder=_other_model())


def test_reindex_switches_model(make_engine: MakeEngine):
    """should re-embed every article with a new model when re-indexing."""
    make_engine(ARTICLE)
    engine = make_engine(encoder=_other_model(), check_model=False, chunk_words=20)
    assert engine.reindex() > 0
    assert engine.store.meta("model") == "other-model" and engine.snapshot.dense.d == 32
    answer = engine.ask("Who lost power?", abstain=False)  # about the new vectors, not the reader's threshold
    assert answer.answered and answer.citations[0].title == "Storm hits coast"


def test_corrupt_snapshot_is_rebuilt_from_the_database(engine: Engine, tmp_path: Path):
    """should rebuild a damaged search snapshot without losing any article."""
    engine.ingest([ARTICLE])
    folder = tmp_path / "snapshots" / (tmp_path / "CURRENT").read_text()
    (folder / "dense.faiss").write_bytes(b"garbage")
    with pytest.raises(UnusableIndexError):
        Snapshot.load(tmp_path)
    rebuilt = load_or_build(engine.store, tmp_path)
    assert rebuilt.rows == engine.snapshot.rows > 0


def test_half_written_snapshot_is_ignored(engine: Engine, make_engine: MakeEngine, tmp_path: Path):
    """should never load a temporary folder left by a crash, nor a snapshot without manifest."""
    engine.ingest([ARTICLE])
    (tmp_path / "snapshots" / ".tmp-gen-9-123").mkdir()
    (tmp_path / "CURRENT").write_text("gen-9")  # points at nothing complete
    reopened = make_engine(chunk_words=20)
    assert reopened.snapshot.rows == engine.snapshot.rows
    answer = reopened.ask("Who lost power?", abstain=False)  # about the snapshot, not the reader's threshold
    assert answer.answered and answer.citations[0].title == "Storm hits coast"


@pytest.mark.sqlite_only
def test_database_that_is_not_sqlite(make_engine: MakeEngine, tmp_path: Path):
    """should say clearly that the database file is damaged."""
    (tmp_path / "newsdesk.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(UnusableIndexError, match="corrupt"):
        make_engine()


@pytest.mark.sqlite_only
def test_no_index_is_not_created_on_request(make_engine: MakeEngine, tmp_path: Path):
    """should raise NoIndexError, and create nothing, when asked to open an index that does not exist."""
    with pytest.raises(NoIndexError, match="newsdesk ingest"):
        make_engine(data_dir=tmp_path / "data", create=False)
    assert not (tmp_path / "data").exists()


def test_interrupted_write_keeps_previous_articles(engine: Engine, tmp_path: Path):
    """should keep everything committed before a failed write."""
    engine.ingest([ARTICLE])

    class Exploding(FakeEncoder):
        def encode(self, texts, *, batch_size=16, progress=False):
            raise RuntimeError("power cut")

    engine.indexer.encoder = Exploding()
    with pytest.raises(RuntimeError):
        engine.ingest([_raw("Other", "A completely different story about trains and timetables.")])
    assert engine.store.article_count() == 1
    with sqlite3.connect(tmp_path / "newsdesk.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_published_between_and_passage_vectors(make_engine: MakeEngine):
    """should list a window's dated articles of some collections newest first, and each one's passage vectors."""
    engine = make_engine()
    day = datetime(2025, 3, 1, tzinfo=UTC)

    def dated(title: str, when: datetime | None) -> RawArticle:
        return RawArticle(title=title, text=f"{title} is a story that happened here.", published=when)

    engine.ingest([dated(f"Story {n}", day.replace(day=n)) for n in range(1, 5)] + [dated("Undated", None)])
    engine.ingest([dated("Elsewhere", day.replace(day=3, hour=12))], collection="222")
    found = engine.store.published_between(day.replace(day=2), day.replace(day=5), collections=["global"])
    assert [a.title for a in found] == ["Story 4", "Story 3", "Story 2"]
    everywhere = engine.store.published_between(day, day.replace(day=20), limit=2)
    assert [a.title for a in everywhere] == ["Story 4", "Elsewhere"]
    vectors = engine.store.passage_vectors([found[0].id, "missing"])
    assert list(vectors) == [found[0].id] and vectors[found[0].id].shape == (1, engine.encoder.dim)

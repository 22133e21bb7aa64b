"""The read replica of a shared PostgreSQL store, and engines of two processes following each other's writes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.engine import Engine
from index.database import DB_NAME
from index.models import RawArticle
from index.replica import REPLICA_NAME, Replica
from index.store import Store
from tests.conftest import MakeEngine

pytestmark = pytest.mark.parametrize("database_engine", ["postgresql"], indirect=True)

STORM = RawArticle(
    title="Storm hits coast", text="A storm hit the coast on Monday. Thousands lost power.", source="Wire"
)
VOTE = RawArticle(
    title="Council vote",
    text="The council voted on Tuesday. The bridge motion failed.",
    url="https://n.test/vote",
    source="Wire",
)
VOTE_AGAIN = RawArticle(
    title="Council vote",
    text="The council voted on Tuesday. The bridge motion passed after a recount.",
    url="https://n.test/vote",
    source="Wire",
)


def eventually(check: Callable[[], bool], *, within: float = 20.0) -> None:
    """Wait for another thread's work (the listener), failing after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("the change never arrived")
        time.sleep(0.05)


def same_rows(replica: Replica, store: Store) -> None:
    for sql in (
        "SELECT id, title, text FROM articles ORDER BY id",
        'SELECT id, article_id, start, "end", vector FROM passages ORDER BY id',
        "SELECT article_id, spans, vectors FROM sentences ORDER BY article_id",
    ):
        assert [tuple(r) for r in replica.db.execute(sql)] == [tuple(r) for r in store.db.execute(sql)]
    assert replica.generation == store.generation


def test_engine_reads_from_its_replica_and_creates_no_shared_sqlite(make_engine: MakeEngine, tmp_path: Path) -> None:
    """should answer from data_dir/replica.db, holding what the server holds, and never create newsdesk.db."""
    engine = make_engine(STORM, VOTE, data_dir=tmp_path / "a")
    assert isinstance(engine.replica, Replica)
    assert engine.reads is engine.replica
    assert (tmp_path / "a" / REPLICA_NAME).exists()
    assert not (tmp_path / "a" / DB_NAME).exists()
    same_rows(engine.replica, engine.store)
    assert engine.snapshot.generation == engine.store.generation
    answer = engine.ask("What did the council vote on?")
    assert answer.citations and answer.citations[0].title == "Council vote"


def test_sync_copies_new_articles_and_removes_replaced_ones(tmp_path: Path, make_engine: MakeEngine) -> None:
    """should copy what appeared and delete what went (a replaced article), incrementally."""
    writer = make_engine(STORM, VOTE, data_dir=tmp_path / "writer", refresh_seconds=None)
    replica = Replica(tmp_path / "reader")
    try:
        first = replica.sync(writer.store)
        assert (first.full, first.added, first.removed) == (True, 2, 0)
        writer.ingest([VOTE_AGAIN])
        second = replica.sync(writer.store)
        assert (second.full, second.added, second.removed) == (False, 1, 1)
        same_rows(replica, writer.store)
        assert replica.sync(writer.store).generation == writer.store.generation  # nothing new: a no-op
    finally:
        replica.close()


def test_reindex_makes_the_replica_copy_everything_again(tmp_path: Path, make_engine: MakeEngine) -> None:
    """should start over after a re-index, whose passages all have new ids."""
    writer = make_engine(STORM, VOTE, data_dir=tmp_path / "writer", refresh_seconds=None)
    replica = Replica(tmp_path / "reader")
    try:
        replica.sync(writer.store)
        writer.reindex()
        report = replica.sync(writer.store)
        assert report.full
        same_rows(replica, writer.store)
    finally:
        replica.close()


def test_a_second_process_follows_the_first_ones_writes(make_engine: MakeEngine, tmp_path: Path) -> None:
    """should make an article ingested by engine A answerable by engine B, through LISTEN/NOTIFY."""
    a = make_engine(STORM, data_dir=tmp_path / "a", refresh_seconds=None)
    b = make_engine(data_dir=tmp_path / "b", refresh_seconds=3600)  # only a notification can bring it in time
    assert b._listener is not None
    eventually(b._listener.connected.is_set)
    started = time.perf_counter()
    a.ingest([VOTE])
    eventually(lambda: b.snapshot.generation == a.store.generation)
    print(f"write in A answerable in B after {1000 * (time.perf_counter() - started):.0f} ms")
    answer = b.ask("What did the council vote on?")
    assert answer.citations and answer.citations[0].title == "Council vote"
    same_rows(b.replica, a.store)  # type: ignore[arg-type]


def test_the_periodic_check_catches_up_without_notifications(make_engine: MakeEngine, tmp_path: Path) -> None:
    """should pick up a write by the periodic check when no notification arrives (another channel here)."""
    a = make_engine(STORM, data_dir=tmp_path / "a", refresh_seconds=None)
    b = make_engine(data_dir=tmp_path / "b", refresh_seconds=None)
    from index.listener import GenerationListener

    listener = GenerationListener(str(a.config.database_url), b.refresh, interval=0.2, channel="nobody_notifies")
    listener.start()
    try:
        a.ingest([VOTE])
        eventually(lambda: b.snapshot.generation == a.store.generation)
    finally:
        listener.stop()


def test_questions_never_touch_the_server(
    make_engine: MakeEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """should answer, summarize and autocomplete with every call to the shared store refused."""
    engine: Engine = make_engine(STORM, VOTE, data_dir=tmp_path / "a", refresh_seconds=None)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a question reached the shared store")

    monkeypatch.setattr(engine.store.database, "execute", refuse)
    monkeypatch.setattr(engine.store.database, "session", refuse)
    answer = engine.ask("What did the council vote on?")
    assert answer.citations[0].title == "Council vote"
    (article,) = engine.find_articles("storm")
    assert engine.summarize_article(article.id).citations

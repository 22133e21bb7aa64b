"""Several processes finding the database ahead of the snapshot at once (``newsdesk ask`` x N)."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from index.models import GLOBAL_COLLECTION, RawArticle
from index.pipeline import Indexer
from index.snapshot import Snapshot, load_or_build
from index.store import Store
from tests.fakes import FakeEncoder

RACERS = 6
ARTICLES = [
    RawArticle(title=f"Story {i}", text=f"Story number {i} tells of harbour {i} and its ships. " * 3) for i in range(5)
]


def _stale_index(root: Path) -> Store:
    """A database with articles and no snapshot of its generation, as after an interrupted ingest."""
    store = Store(root)
    Indexer(store, FakeEncoder()).ingest(ARTICLES, collection=GLOBAL_COLLECTION)
    return store


def _race(root: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    barrier.wait()
    store = Store(Path(root))
    snapshot = load_or_build(store, Path(root))
    if snapshot.generation != store.generation or snapshot.rows != store.passage_count():
        raise SystemExit(2)


@pytest.fixture
def counted_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make every build slow enough to overlap with the others, and record it in a file."""
    log = tmp_path / "builds.log"
    build = Snapshot.build.__func__  # type: ignore[attr-defined]

    def slow_build(cls: type[Snapshot], store: Store) -> Snapshot:
        with log.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(0.3)
        return build(cls, store)  # type: ignore[no-any-return]

    monkeypatch.setattr(Snapshot, "build", classmethod(slow_build))
    return log


def test_racing_processes_build_once_and_all_succeed(tmp_path: Path, counted_builds: Path):
    """should let one process rebuild a stale snapshot while the others wait and load it, none failing."""
    root = tmp_path / "data"
    _stale_index(root).close()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(RACERS)
    racers = [context.Process(target=_race, args=(str(root), barrier)) for _ in range(RACERS)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=120)
    assert [r.exitcode for r in racers] == [0] * RACERS
    assert len(counted_builds.read_text().splitlines()) == 1
    assert sorted(p.name for p in (root / "snapshots").iterdir()) == [(root / "CURRENT").read_text()]


def test_stale_temporary_folders_are_removed(tmp_path: Path):
    """should delete the half-written folders a killed builder left behind, when building and when loading."""
    store = _stale_index(tmp_path)
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / ".tmp-gen-7-4242").mkdir()
    (tmp_path / ".CURRENT.4242").write_text("gen-7")
    snapshot = load_or_build(store, tmp_path)
    assert sorted(p.name for p in (tmp_path / "snapshots").iterdir()) == [f"gen-{snapshot.generation}"]
    assert not list(tmp_path.glob(".CURRENT.*"))
    (tmp_path / "snapshots" / ".tmp-gen-8-4343").mkdir()
    assert load_or_build(store, tmp_path).generation == snapshot.generation  # loaded, not rebuilt
    assert sorted(p.name for p in (tmp_path / "snapshots").iterdir()) == [f"gen-{snapshot.generation}"]

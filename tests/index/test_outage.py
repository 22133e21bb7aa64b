"""PostgreSQL stops and comes back: engines keep answering from their replicas, writes fail clearly, then resume."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.config import EngineConfig
from app.engine import Engine
from index.database import migrations
from index.database.postgres import PostgresDatabase
from index.errors import StoreUnavailableError
from index.models import RawArticle
from tests.fakes import FakeEncoder
from tests.index.test_replica import STORM, VOTE, eventually
from tests.postgres import ROOT, _free_port, server_binaries

BRIDGE = RawArticle(
    title="Bridge reopens", text="The old bridge reopened on Friday after two years of repairs.", source="Wire"
)
FERRY = RawArticle(title="Ferry strike", text="Ferry crews went on strike on Saturday over pay.", source="Wire")


@dataclass
class Cluster:
    """A PostgreSQL cluster of this test alone, so that stopping it harms no other test."""

    folder: Path
    port: int
    url: str = ""

    def start(self) -> None:
        out = subprocess.run(
            [str(ROOT / "scripts" / "pg"), "start", str(self.folder), str(self.port)],
            check=True,
            capture_output=True,
            text=True,
        )
        self.url = out.stdout.strip()

    def stop(self) -> None:
        subprocess.run([str(ROOT / "scripts" / "pg"), "stop", str(self.folder)], check=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not server_binaries():
        pytest.skip("PostgreSQL server binaries not installed")
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-outage-"))  # not under pytest's: the server runs as postgres
    folder.chmod(0o755)
    cluster = Cluster(folder, _free_port())
    cluster.start()
    database = PostgresDatabase(cluster.url)
    migrations.upgrade(database)
    database.close()
    yield cluster
    cluster.stop()
    shutil.rmtree(folder, ignore_errors=True)


def _engine(cluster: Cluster, data_dir: Path, *, refresh_seconds: float | None) -> Engine:
    config = EngineConfig(data_dir=data_dir, database_url=cluster.url, refresh_seconds=refresh_seconds)
    return Engine(config, encoder=FakeEncoder())


def test_engine_keeps_answering_while_the_server_is_down(cluster: Cluster, tmp_path: Path) -> None:
    """should answer from the replica while PostgreSQL is stopped, refuse writes clearly, and resume after."""
    bot = _engine(cluster, tmp_path / "bot", refresh_seconds=0.5)
    try:
        bot.ingest([STORM, VOTE])
        cluster.stop()
        for _ in range(3):
            answer = bot.ask("What did the council vote on?")
            assert answer.citations[0].title == "Council vote"
        assert bot.summarize_topic("storm").citations
        started = time.perf_counter()
        with pytest.raises(
            StoreUnavailableError, match=r"cannot reach the database at postgresql://.*PostgreSQL is running"
        ):
            bot.ingest([BRIDGE])
        print(f"a write while the server is down failed after {time.perf_counter() - started:.1f} s")
        cluster.start()
        assert bot.ingest([BRIDGE]).added == 1  # the pool reconnects by itself
        assert bot.ask("When did the bridge reopen?").citations[0].title == "Bridge reopens"
        worker = _engine(cluster, tmp_path / "worker", refresh_seconds=None)  # another process, after the outage
        try:
            worker.ingest([FERRY])
            eventually(lambda: bot.snapshot.generation == worker.store.generation)
        finally:
            worker.close()
        assert bot.ask("Why did the ferry crews strike?").citations[0].title == "Ferry strike"
    finally:
        bot.close()


def test_listener_catches_up_with_writes_made_while_it_was_away(cluster: Cluster, tmp_path: Path) -> None:
    """should sync what another process wrote between the listener losing the server and getting it back."""
    bot = _engine(cluster, tmp_path / "bot", refresh_seconds=3600)  # no periodic check: only the reconnect
    try:
        bot.ingest([STORM])
        assert bot._listener is not None
        eventually(bot._listener.connected.is_set)
        cluster.stop()
        eventually(lambda: not bot._listener.connected.is_set())  # type: ignore[union-attr]
        cluster.start()
        worker = _engine(cluster, tmp_path / "worker", refresh_seconds=None)
        try:
            worker.ingest([FERRY])
            eventually(lambda: bot.snapshot.generation == worker.store.generation, within=60)
        finally:
            worker.close()
    finally:
        bot.close()


async def test_the_bot_keeps_answering_while_the_server_is_down(cluster: Cluster, tmp_path: Path) -> None:
    """should answer /ask (without buttons) and refuse /ingest plainly while PostgreSQL is stopped."""
    from bot import talk, writes
    from bot.desk import Asker, Desk, Records
    from bot.errors import DATABASE_UNREACHABLE
    from bot.ratelimit import RateLimiter, StoreRateLimiter
    from tests.bot.conftest import RecordingResponder

    engine = _engine(cluster, tmp_path / "bot", refresh_seconds=0.5)
    engine.ingest([STORM, VOTE])
    desk = Desk(engine, limiter=RateLimiter(6), records=Records.open(engine.store, conversation_ttl=timedelta(hours=1)))
    assert isinstance(desk.limiter, StoreRateLimiter)
    try:
        cluster.stop()
        asked = RecordingResponder()
        await talk.ask(desk, asked, Asker(1, 2), "What did the council vote on?")
        [reply] = asked.replies
        assert reply.embed is not None and "Council vote" in str(reply.embed)
        assert reply.controls is None  # the answer could not be recorded, so it carries no buttons
        ingested = RecordingResponder()
        await writes.ingest(desk, ingested, Asker(1, 2, is_moderator=True), title="Bridge", text=BRIDGE.text)
        assert ingested.events[-1] == ("update", f"Could not index “Bridge”: {DATABASE_UNREACHABLE}")
        cluster.start()
        again = RecordingResponder()
        await talk.ask(desk, again, Asker(3, 2), "What did the council vote on?")
        assert again.replies[-1].controls is not None  # recorded again once the server is back
    finally:
        desk.close()
        engine.close()


def test_calls_do_not_wait_for_the_pool_while_the_server_is_down(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """should try a plain connection (refused at once) rather than wait for a pooled one, until the server is back."""
    database = PostgresDatabase(cluster.url)
    tries: list[str] = []
    connection = database.pool.connection

    def counted(*args: Any, **kwargs: Any) -> Any:
        tries.append("pool")
        return connection(*args, **kwargs)

    monkeypatch.setattr(database.pool, "connection", counted)
    cluster.stop()
    try:
        for _ in range(5):
            with pytest.raises(StoreUnavailableError, match="cannot reach the database at"):
                database.execute("SELECT 1")
        assert tries == ["pool"]  # one call waited for a pooled connection; the next four were refused at once
    finally:
        cluster.start()
    old_pool = database.pool
    assert database.execute("SELECT 1").fetchone()[0] == 1  # the first call after the restart goes through
    assert tries == ["pool"] and database.pool is not old_pool  # on a fresh pool: the old one was backing off
    database.close()

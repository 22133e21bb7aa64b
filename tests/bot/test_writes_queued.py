"""``/ingest`` and ``/reindex`` on the shared store: queued for the worker, followed in the status message."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from app.engine import Engine
from app.worker import Worker, WorkerConfig, report_json
from bot import writes
from bot.desk import Asker, Desk
from bot.errors import DATABASE_UNREACHABLE
from bot.ratelimit import RateLimiter
from bot.writes import Upload, ingest_summary
from index.errors import StoreUnavailableError
from index.jobs import IngestFile, Job, JobStore, Reindex
from index.models import RawArticle
from index.pipeline import IngestReport
from tests.conftest import MakeEngine, OpenStore

from .conftest import GUILD, USER, FakeEngine, RecordingResponder

pytestmark = pytest.mark.both_engines

MODERATOR = Asker(USER, GUILD, is_moderator=True)
LEASE = timedelta(minutes=1)
WAIT_S = 60.0


@pytest.fixture
def jobs(open_store: OpenStore) -> JobStore:
    return JobStore(open_store())


async def never_fetch(url: str) -> RawArticle:
    """Links are on, but on the shared store the worker fetches them, never the bot."""
    raise AssertionError(f"the bot fetched {url}")


@pytest.fixture
def queued_desk(fake_engine: FakeEngine, jobs: JobStore) -> Iterator[Desk]:
    desk = Desk(fake_engine, limiter=RateLimiter(6), progress_every=0.01, jobs=jobs, fetch=never_fetch)
    yield desk
    desk.close()


async def until(condition: Callable[[], Any], what: str) -> Any:
    """Wait (without blocking the loop) until ``condition`` is truthy; its value."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        if value := await asyncio.to_thread(condition):
            return value
        await asyncio.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


async def test_ingest_is_queued_and_its_progress_shown_from_the_job_row(
    queued_desk: Desk, jobs: JobStore, fake_engine: FakeEngine, responder: RecordingResponder
) -> None:
    handler = asyncio.create_task(writes.ingest(queued_desk, responder, MODERATOR, title="Trams", text="Tram text."))
    job: Job = await until(lambda: jobs.claim("w", lease=LEASE), "the job to be queued")
    assert (job.kind, job.collection, job.created_by) == ("ingest_text", str(GUILD), USER)
    assert job.payload == {"title": "Trams", "text": "Tram text.", "source": None}
    jobs.heartbeat(job.id, "w", lease=LEASE, progress={"passages": 4, "articles": 1})
    progress = ("update", "Indexing “Trams”… 1 articles, 4 passages so far.")
    await until(lambda: progress in responder.events, "the progress to be shown")
    report = IngestReport(added=1, passages=4, article_ids=["a1"])
    jobs.complete(job.id, "w", report_json(report))
    await asyncio.wait_for(handler, WAIT_S)

    queued = f"Queued: the worker will index “Trams” (job {job.id})…"
    assert responder.events[:2] == [("defer", True), ("update", queued)]
    assert responder.events[-2:] == [progress, ("update", ingest_summary(report, "“Trams”"))]
    assert fake_engine.calls == []  # nothing indexed in the bot's process


async def test_a_failed_job_is_reported_with_its_error(
    queued_desk: Desk, jobs: JobStore, responder: RecordingResponder
) -> None:
    handler = asyncio.create_task(writes.ingest(queued_desk, responder, MODERATOR, url="https://example.com/x"))
    job: Job = await until(lambda: jobs.claim("w", lease=LEASE), "the job to be queued")
    assert (job.kind, job.payload) == ("ingest_url", {"url": "https://example.com/x"})
    jobs.fail(job.id, "w", "That page does not hold an article.", permanent=True)
    await asyncio.wait_for(handler, WAIT_S)
    assert responder.events[-1] == (
        "update",
        "Could not index <https://example.com/x>: That page does not hold an article.",
    )


async def test_an_unreachable_store_queues_nothing_and_says_so(
    queued_desk: Desk, jobs: JobStore, responder: RecordingResponder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*_args: object, **_kwargs: object) -> Job:
        raise StoreUnavailableError("cannot reach the database at postgresql://db/newsdesk")

    monkeypatch.setattr(jobs, "enqueue", unreachable)
    await writes.reindex(queued_desk, responder, MODERATOR)
    assert responder.events == [
        ("defer", True),
        ("update", f"Could not re-index every article: {DATABASE_UNREACHABLE}"),
    ]
    assert "postgresql://" not in DATABASE_UNREACHABLE  # the database's address is for the logs, not for users


async def test_a_second_reindex_is_refused_while_one_is_pending(
    queued_desk: Desk, jobs: JobStore, responder: RecordingResponder
) -> None:
    pending = jobs.enqueue(Reindex(), collection="global")
    await writes.reindex(queued_desk, responder, MODERATOR)
    assert responder.events == [
        ("notice", f"A re-index is already queued (job {pending.id}); try again when it has finished.")
    ]
    assert [j.id for j in jobs.list()] == [pending.id]


async def test_a_worker_runs_what_moderators_queue(
    make_engine: MakeEngine, responder: RecordingResponder, fake_engine: FakeEngine
) -> None:
    engine: Engine = make_engine()
    jobs = JobStore(engine.store)
    worker = Worker(engine, jobs, WorkerConfig(lease=timedelta(seconds=3), idle_wait=0.02, poll_feeds=False))
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    desk = Desk(fake_engine, limiter=RateLimiter(6), progress_every=0.01, jobs=jobs)
    data = b"Harbour ferries resume\n\nThe harbour ferries resumed service on Monday after the strike ended."

    async def read() -> bytes:
        return data

    try:
        await writes.ingest(desk, responder, MODERATOR, upload=Upload("ferries.txt", len(data), read))
        await writes.reindex(desk, responder, MODERATOR)
    finally:
        worker.request_stop()
        thread.join(WAIT_S)
        desk.close()
    updates = responder.of("update")
    assert updates[-3].startswith("Indexed ferries.txt: 1 added, 0 replaced")
    assert updates[-1].startswith("Re-indexed every article into 1 passages in ")
    [article] = engine.store.iter_articles()
    assert (article.title, article.collection) == ("Harbour ferries resume", str(GUILD))
    [reindexed, ingested] = jobs.list(["done"])
    assert ingested.parsed() == IngestFile(filename="ferries.txt", data=base64.b64encode(data).decode())
    assert (reindexed.kind, reindexed.created_by) == ("reindex", USER)
    assert fake_engine.calls == []

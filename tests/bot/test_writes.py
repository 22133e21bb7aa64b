"""The Discord-free write commands (``/ingest``, ``/reindex``) for moderators, with a recording responder."""

from __future__ import annotations

import asyncio
import threading

import pytest

from app.engine import Engine
from bot import talk, writes
from bot.desk import Asker, Desk
from bot.errors import not_moderator_message
from bot.ratelimit import RateLimiter
from bot.writes import Upload
from retrieval.scope import Scope

from .conftest import GUILD, OTHER_GUILD, SEEDS, USER, FakeEngine, GatedReindex, RecordingResponder

QUESTION = "What did Peskov say about the strikes?"
MEMBER = Asker(USER, GUILD)
MODERATOR = Asker(USER, GUILD, is_moderator=True)


def _upload(name: str, data: bytes) -> Upload:
    async def read() -> bytes:
        return data

    return Upload(name, len(data), read)


# -- moderation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "message"),
    [
        pytest.param(None, "Only moderators can do that: it needs the Manage Server permission.", id="no-role"),
        pytest.param(
            "Editors",
            "Only moderators can do that: it needs the Manage Server permission or the 'Editors' role.",
            id="role",
        ),
    ],
)
async def test_non_moderator_cannot_ingest_or_reindex(
    fake_engine: FakeEngine, responder: RecordingResponder, role: str | None, message: str
):
    """should refuse /ingest and /reindex to non-moderators with the one refusal, without touching the engine."""
    desk = Desk(fake_engine, limiter=RateLimiter(6), moderator_role=role)
    try:
        await writes.ingest(desk, responder, MEMBER, title="T", text="Some text of an article.")
        await writes.reindex(desk, responder, MEMBER)
    finally:
        desk.close()
    assert message == not_moderator_message(role)
    assert responder.events == [("notice", message)] * 2
    assert fake_engine.calls == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({}, "Give a link, attach a file", id="nothing"),
        pytest.param({"upload": "a.txt", "text": "x", "title": "t"}, "one of them", id="both"),
        pytest.param({"upload": "a.pdf"}, "attach a .txt", id="unsupported-type"),
        pytest.param({"text": "Body of the article."}, "Give the pasted article a title", id="no-title"),
    ],
)
async def test_ingest_validates_its_options(
    desk: Desk, fake_engine: FakeEngine, responder: RecordingResponder, kwargs, message
):
    """should explain what /ingest needs before deferring."""
    if "upload" in kwargs:
        kwargs["upload"] = _upload(kwargs["upload"], b"Title\n\nBody")
    await writes.ingest(desk, responder, MODERATOR, **kwargs)
    [(kind, text)] = responder.events
    assert kind == "notice" and message in text
    assert fake_engine.calls == []


async def test_ingest_pasted_text_goes_to_the_servers_collection(
    real_desk: Desk, real_engine: Engine, responder: RecordingResponder
):
    """should index pasted text into the server's collection and report it in the progress message."""
    text = "The council approved the new bridge on Tuesday after a long debate about its cost to taxpayers."
    await writes.ingest(
        real_desk, responder, Asker(USER, OTHER_GUILD, True), title="Bridge approved", text=text, source="Local Times"
    )
    assert responder.events[0] == ("defer", True)
    final = responder.of("update")[-1]
    assert final.startswith("Indexed “Bridge approved”: 1 added")
    [article] = real_engine.find_articles("Bridge", Scope(collections=(str(OTHER_GUILD),)))
    assert article.collection == str(OTHER_GUILD) and article.source == "Local Times"
    assert real_engine.find_articles("Bridge", Scope(collections=(str(GUILD),))) == []


async def test_ingest_file_reports_added_and_skipped(
    real_desk: Desk, real_engine: Engine, responder: RecordingResponder
):
    """should read an attached JSONL file, index the good records and list the bad ones."""
    data = (
        b'{"title": "Dam opens", "text": "The new dam opened on Monday and will power ten thousand homes."}\nnot json\n'
    )
    await writes.ingest(real_desk, responder, MODERATOR, upload=_upload("batch.jsonl", data))
    updates = responder.of("update")
    assert updates[0] == "Indexing batch.jsonl…"
    assert updates[-1].startswith("Indexed batch.jsonl: 1 added") and "batch.jsonl:2: malformed JSON" in updates[-1]
    assert real_engine.find_articles("Dam", Scope(collections=(str(GUILD),)))


async def test_reingesting_the_same_file_says_nothing_new(real_desk: Desk, responder: RecordingResponder):
    """should say the file is already indexed when nothing changed."""
    data = (SEEDS / next(p.name for p in SEEDS.iterdir())).read_bytes()
    await writes.ingest(real_desk, responder, MODERATOR, upload=_upload("seed.txt", data))
    assert responder.of("update")[-1].startswith("Nothing new in seed.txt")


async def test_ingest_waits_for_a_running_reindex(desk: Desk, fake_engine: FakeEngine):
    """should queue an ingest behind a running re-index and say so, and refuse a second re-index."""
    gate = fake_engine.reindex_gate = threading.Event()
    first, second, third = RecordingResponder(), RecordingResponder(), RecordingResponder()
    running = asyncio.create_task(writes.reindex(desk, first, MODERATOR))
    while not desk.write_lock.locked():
        await asyncio.sleep(0.01)
    await writes.reindex(desk, second, MODERATOR)
    assert second.events == [("notice", "An ingest or re-index is already running; try again when it has finished.")]
    waiting = asyncio.create_task(writes.ingest(desk, third, MODERATOR, title="T", text="Body text here."))
    await asyncio.sleep(0.05)
    assert third.of("update")[0].startswith("Waiting for the ingest or re-index")
    gate.set()
    await asyncio.gather(running, waiting)
    assert [c[0] for c in fake_engine.calls] == ["reindex", "ingest"]
    assert first.of("update")[-1].startswith("Re-indexed every article into 10 passages")


async def test_progress_message_is_edited_while_working(fake_engine: FakeEngine, responder: RecordingResponder):
    """should edit the progress message with the counts the engine reports from its thread."""
    fake_engine.reindex_gate = threading.Event()
    desk = Desk(fake_engine, limiter=RateLimiter(6), progress_every=0.01)
    try:
        task = asyncio.create_task(writes.reindex(desk, responder, MODERATOR))
        for _ in range(200):
            if any("2 articles, 10 passages" in u for u in responder.of("update")):
                break
            await asyncio.sleep(0.01)
        fake_engine.reindex_gate.set()
        await task
    finally:
        desk.close()
    updates = responder.of("update")
    assert any("Re-indexing… 2 articles, 10 passages embedded so far" in u for u in updates)
    assert updates[-1].startswith("Re-indexed every article")


async def test_concurrent_questions_during_reindex_use_the_previous_index(real_engine: Engine, clock):
    """should keep answering many concurrent questions from the old index while a re-index runs, then swap."""
    engine = GatedReindex(real_engine)
    desk = Desk(engine, limiter=RateLimiter(600, clock=clock), progress_every=0.01)
    generation = real_engine.snapshot.generation
    try:
        admin = RecordingResponder()
        reindexing = asyncio.create_task(writes.reindex(desk, admin, MODERATOR))
        assert await asyncio.to_thread(engine.in_progress.wait, 10)
        askers = [RecordingResponder() for _ in range(24)]
        await asyncio.gather(*(talk.ask(desk, r, Asker(1000 + i, GUILD), QUESTION) for i, r in enumerate(askers)))
        assert not reindexing.done()
        assert real_engine.snapshot.generation == generation
        for r in askers:
            [reply] = r.replies
            assert reply.embed is not None and "Peskov" in reply.embed["description"]
        engine.release.set()
        await reindexing
    finally:
        engine.release.set()
        desk.close()
    assert real_engine.snapshot.generation > generation
    assert admin.of("update")[-1].startswith("Re-indexed every article into 13 passages")
    after = RecordingResponder()
    await talk.ask(Desk(real_engine, limiter=RateLimiter(6)), after, MEMBER, QUESTION)
    assert "Peskov" in after.text

"""The Discord-free handlers, driven with a recording responder."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import pytest

from app.engine import Engine
from bot import handlers
from bot.handlers import Asker, Desk, Upload
from bot.ratelimit import RateLimiter
from index.models import Article
from retrieval.scope import Scope

from .conftest import GUILD, OTHER_GUILD, SEEDS, USER, FakeEngine, RecordingResponder

QUESTION = "What did Peskov say about the strikes?"
MEMBER = Asker(USER, GUILD)
MODERATOR = Asker(USER, GUILD, is_moderator=True)


def _upload(name: str, data: bytes) -> Upload:
    async def read() -> bytes:
        return data

    return Upload(name, len(data), read)


async def test_ask_defers_then_answers_with_embed(desk: Desk, fake_engine: FakeEngine, responder: RecordingResponder):
    """should defer, ask the engine in the server's and the global collection, and send an embed."""
    await handlers.ask(desk, responder, MEMBER, f"  {QUESTION} ")
    assert responder.events[0] == ("defer", False)
    assert fake_engine.calls == [("ask", QUESTION, Scope(collections=(str(GUILD), "global")))]
    [reply] = responder.replies
    assert reply.embed is not None and reply.embed["title"] == QUESTION


async def test_ask_in_dm_searches_global_only(desk: Desk, fake_engine: FakeEngine, responder: RecordingResponder):
    """should search only the global collection in direct messages."""
    await handlers.ask(desk, responder, Asker(USER, None), QUESTION)
    assert fake_engine.calls[0][2] == Scope(collections=("global",))


async def test_plain_text_when_embeds_are_off(fake_engine: FakeEngine, responder: RecordingResponder):
    """should answer with plain content when embeds are turned off."""
    desk = Desk(fake_engine, limiter=RateLimiter(6), use_embeds=False)
    try:
        await handlers.ask(desk, responder, MEMBER, QUESTION)
    finally:
        desk.close()
    [reply] = responder.replies
    assert reply.embed is None and reply.content is not None and QUESTION in reply.content


async def test_empty_question_is_refused_before_deferring(
    desk: Desk, fake_engine: FakeEngine, responder: RecordingResponder
):
    """should tell the user to ask something, without deferring or calling the engine."""
    await handlers.ask(desk, responder, MEMBER, "   ")
    assert responder.events == [("notice", "Please ask a question: the text is empty.")]
    assert fake_engine.calls == []


async def test_ask_with_real_engine_quotes_peskov(real_desk: Desk, responder: RecordingResponder):
    """should answer from the seed article with a Peskov quote and its source."""
    await handlers.ask(real_desk, responder, MEMBER, QUESTION)
    text = responder.text
    assert "Peskov" in text and "[1]" in text
    assert "Russia-US ties face long haul to recover from 'zero'" in text


async def test_other_servers_articles_are_not_visible(real_desk: Desk, responder: RecordingResponder):
    """should not answer a server from another server's collection: it has no articles yet."""
    await handlers.ask(real_desk, responder, Asker(USER, OTHER_GUILD), QUESTION)
    [reply] = responder.replies
    assert reply.content is not None and "No articles are indexed yet" in reply.content


async def test_empty_index_says_a_moderator_can_ingest(empty_engine: Engine, responder: RecordingResponder):
    """should reply that there are no articles yet and that a moderator can /ingest."""
    desk = Desk(empty_engine, limiter=RateLimiter(6))
    try:
        await handlers.ask(desk, responder, MEMBER, QUESTION)
    finally:
        desk.close()
    assert responder.events[0] == ("defer", False)
    [reply] = responder.replies
    assert reply.content is not None and "No articles are indexed yet" in reply.content and "/ingest" in reply.content


async def test_rate_limit_is_friendly_and_spares_moderators(
    fake_engine: FakeEngine, responder: RecordingResponder, clock
):
    """should refuse the third question in a minute with the wait time, but never a moderator's."""
    desk = Desk(fake_engine, limiter=RateLimiter(2, clock=clock))
    try:
        for _ in range(3):
            await handlers.ask(desk, responder, MEMBER, QUESTION)
        [notice] = responder.of("notice")
        assert "2 questions a minute" in notice and "try again in 30 s" in notice
        assert len(fake_engine.calls) == 2
        for _ in range(5):
            await handlers.ask(desk, responder, MODERATOR, QUESTION)
        assert len(fake_engine.calls) == 7
        clock.now += 30
        await handlers.ask(desk, responder, MEMBER, QUESTION)
        assert len(fake_engine.calls) == 8
    finally:
        desk.close()


async def test_unexpected_error_propagates_to_the_central_handler(
    desk: Desk, fake_engine: FakeEngine, responder: RecordingResponder, caplog
):
    """should let an unexpected failure reach the caller, logging the command's latency as an error."""
    fake_engine.error = RuntimeError("faiss exploded")
    with caplog.at_level(logging.INFO, logger="bot.handlers"), pytest.raises(RuntimeError):
        await handlers.ask(desk, responder, MEMBER, QUESTION)
    assert any("/ask error in" in r.getMessage() for r in caplog.records)


async def test_report_failure_logs_traceback_and_apologises_with_id(responder: RecordingResponder, caplog):
    """should log the traceback under a short hex id and give the user the same id."""
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        error = exc
    with caplog.at_level(logging.ERROR, logger="bot.handlers"):
        error_id = await handlers.report_failure(responder, error, command="ask")
    assert len(error_id) == 8 and int(error_id, 16) >= 0
    [notice] = responder.of("notice")
    assert error_id in notice and notice.startswith("Sorry")
    [record] = caplog.records
    assert error_id in record.getMessage() and record.exc_info is not None and record.exc_info[1] is error


async def test_every_command_logs_its_latency(desk: Desk, responder: RecordingResponder, caplog):
    """should log one line per command with its outcome and milliseconds."""
    with caplog.at_level(logging.INFO, logger="bot.handlers"):
        await handlers.ask(desk, responder, MEMBER, QUESTION)
        await handlers.summary(desk, responder, MEMBER, topic="Syria")
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("/ask answered in ") and m.endswith(f"(user {USER}, guild {GUILD})") for m in messages)
    assert any(m.startswith("/summary answered in ") for m in messages)


# -- summaries ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("article", "topic"),
    [pytest.param(None, None, id="neither"), pytest.param("abc", "Syria", id="both")],
)
async def test_summary_needs_exactly_one_option(desk: Desk, responder: RecordingResponder, article, topic):
    """should ask for an article or a topic, not both and not neither."""
    await handlers.summary(desk, responder, MEMBER, article=article, topic=topic)
    assert responder.events == [("notice", handlers.CHOOSE_ONE_SUMMARY)]


async def test_summary_of_a_topic(desk: Desk, fake_engine: FakeEngine, responder: RecordingResponder):
    """should summarize a topic with cited sentences."""
    await handlers.summary(desk, responder, MEMBER, topic="Syria strikes")
    assert fake_engine.calls[0][:2] == ("summarize_topic", "Syria strikes")
    [reply] = responder.replies
    assert reply.embed is not None and reply.embed["title"] == "Summary: Syria strikes"
    assert "[1]" in reply.embed["description"]


async def test_summary_of_an_article_by_id_and_by_typed_title(
    real_desk: Desk, real_engine: Engine, responder: RecordingResponder
):
    """should summarize the article autocomplete picked, and also one whose title was only typed."""
    [article] = real_engine.find_articles("", Scope(collections=(str(GUILD),)))
    await handlers.summary(real_desk, responder, MEMBER, article=article.id)
    await handlers.summary(real_desk, responder, MEMBER, article="long haul")
    first, second = responder.replies
    assert first.embed is not None and second.embed is not None
    assert first.embed["title"] == second.embed["title"] == f"Summary: {article.title}"
    assert "[1]" in first.embed["description"]


async def test_summary_of_an_unknown_article(real_desk: Desk, responder: RecordingResponder):
    """should say no article matches instead of failing."""
    await handlers.summary(real_desk, responder, MEMBER, article="no such thing")
    [reply] = responder.replies
    assert reply.content is not None and "No article here matches" in reply.content


async def test_article_autocomplete(real_desk: Desk):
    """should offer this server's articles by title, at most 100 characters each, valued by id."""
    choices = await handlers.article_choices(real_desk, MEMBER, "ties")
    assert [label for label, _ in choices] == ["Russia-US ties face long haul to recover from 'zero' (CNN)"]
    assert await handlers.article_choices(real_desk, Asker(USER, OTHER_GUILD), "ties") == []


async def test_autocomplete_labels_fit_discord(desk: Desk, fake_engine: FakeEngine):
    """should shorten long titles so that a choice name stays within 100 characters."""
    fake_engine.articles = [Article("id1", "111", "A very long title " * 20, "text", source="CNN")]
    [(label, value)] = await handlers.article_choices(desk, MEMBER, "very")
    assert len(label) <= 100 and label.endswith("(CNN)") and value == "id1"


# -- moderation -----------------------------------------------------------------------------------


async def test_non_moderator_cannot_ingest_or_reindex(
    desk: Desk, fake_engine: FakeEngine, responder: RecordingResponder
):
    """should refuse /ingest and /reindex to non-moderators without touching the engine."""
    await handlers.ingest(desk, responder, MEMBER, title="T", text="Some text of an article.")
    await handlers.reindex(desk, responder, MEMBER)
    assert responder.events == [("notice", handlers.NOT_MODERATOR)] * 2
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
    await handlers.ingest(desk, responder, MODERATOR, **kwargs)
    [(kind, text)] = responder.events
    assert kind == "notice" and message in text
    assert fake_engine.calls == []


async def test_ingest_pasted_text_goes_to_the_servers_collection(
    real_desk: Desk, real_engine: Engine, responder: RecordingResponder
):
    """should index pasted text into the server's collection and report it in the progress message."""
    text = "The council approved the new bridge on Tuesday after a long debate about its cost to taxpayers."
    await handlers.ingest(
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
    await handlers.ingest(real_desk, responder, MODERATOR, upload=_upload("batch.jsonl", data))
    updates = responder.of("update")
    assert updates[0] == "Indexing batch.jsonl…"
    assert updates[-1].startswith("Indexed batch.jsonl: 1 added") and "batch.jsonl:2: malformed JSON" in updates[-1]
    assert real_engine.find_articles("Dam", Scope(collections=(str(GUILD),)))


async def test_reingesting_the_same_file_says_nothing_new(real_desk: Desk, responder: RecordingResponder):
    """should say the file is already indexed when nothing changed."""
    data = (SEEDS / next(p.name for p in SEEDS.iterdir())).read_bytes()
    await handlers.ingest(real_desk, responder, MODERATOR, upload=_upload("seed.txt", data))
    assert responder.of("update")[-1].startswith("Nothing new in seed.txt")


async def test_ingest_waits_for_a_running_reindex(desk: Desk, fake_engine: FakeEngine):
    """should queue an ingest behind a running re-index and say so, and refuse a second re-index."""
    gate = fake_engine.reindex_gate = threading.Event()
    first, second, third = RecordingResponder(), RecordingResponder(), RecordingResponder()
    running = asyncio.create_task(handlers.reindex(desk, first, MODERATOR))
    while not desk.write_lock.locked():
        await asyncio.sleep(0.01)
    await handlers.reindex(desk, second, MODERATOR)
    assert second.events == [("notice", "An ingest or re-index is already running; try again when it has finished.")]
    waiting = asyncio.create_task(handlers.ingest(desk, third, MODERATOR, title="T", text="Body text here."))
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
        task = asyncio.create_task(handlers.reindex(desk, responder, MODERATOR))
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


async def test_concurrent_questions_during_reindex_use_the_previous_index(real_engine: Engine, engine_dir: Path, clock):
    """should keep answering many concurrent questions from the old index while a re-index runs, then swap."""
    in_progress, release = threading.Event(), threading.Event()
    original = real_engine.indexer.reembed_all

    def slow_reembed(*, progress=None):
        def gated(passages: int, articles: int) -> None:
            in_progress.set()
            release.wait(10)  # hold the re-index half-way, inside the engine's write lock
            if progress:
                progress(passages, articles)

        return original(progress=gated)

    real_engine.indexer.reembed_all = slow_reembed  # type: ignore[method-assign]
    desk = Desk(real_engine, limiter=RateLimiter(600, clock=clock), progress_every=0.01)
    generation = real_engine.snapshot.generation
    try:
        admin = RecordingResponder()
        reindexing = asyncio.create_task(handlers.reindex(desk, admin, MODERATOR))
        assert await asyncio.to_thread(in_progress.wait, 10)
        askers = [RecordingResponder() for _ in range(24)]
        await asyncio.gather(*(handlers.ask(desk, r, Asker(1000 + i, GUILD), QUESTION) for i, r in enumerate(askers)))
        assert not reindexing.done()
        assert real_engine.snapshot.generation == generation
        for r in askers:
            [reply] = r.replies
            assert reply.embed is not None and "Peskov" in reply.embed["description"]
        release.set()
        await reindexing
    finally:
        release.set()
        desk.close()
    assert real_engine.snapshot.generation > generation
    assert admin.of("update")[-1].startswith("Re-indexed every article into 13 passages")
    after = RecordingResponder()
    await handlers.ask(Desk(real_engine, limiter=RateLimiter(6)), after, MEMBER, QUESTION)
    assert "Peskov" in after.text

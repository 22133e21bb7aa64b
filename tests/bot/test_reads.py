"""The Discord-free read commands (``/ask``, mentions, ``/summary``, autocomplete), with a recording responder."""

from __future__ import annotations

import logging

import pytest

from app.engine import Engine
from bot import reads, talk
from bot.desk import Asker, Desk
from bot.ratelimit import RateLimiter
from index.models import Article
from retrieval.scope import Scope

from .conftest import GUILD, OTHER_GUILD, USER, FakeEngine, RecordingResponder

QUESTION = "What did Peskov say about the strikes?"
MEMBER = Asker(USER, GUILD)
MODERATOR = Asker(USER, GUILD, is_moderator=True)


async def test_ask_defers_then_answers_with_embed(desk: Desk, fake_engine: FakeEngine, responder: RecordingResponder):
    """should defer, ask the engine in the server's and the global collection, and send an embed."""
    await talk.ask(desk, responder, MEMBER, f"  {QUESTION} ")
    assert responder.events[0] == ("defer", False)
    assert fake_engine.calls == [("ask", QUESTION, Scope(collections=(str(GUILD), "global")))]
    [reply] = responder.replies
    assert reply.embed is not None and reply.embed["title"] == QUESTION


async def test_ask_in_dm_searches_global_only(desk: Desk, fake_engine: FakeEngine, responder: RecordingResponder):
    """should search only the global collection in direct messages."""
    await talk.ask(desk, responder, Asker(USER, None), QUESTION)
    assert fake_engine.calls[0][2] == Scope(collections=("global",))


async def test_plain_text_when_embeds_are_off(fake_engine: FakeEngine, responder: RecordingResponder):
    """should answer with plain content when embeds are turned off."""
    desk = Desk(fake_engine, limiter=RateLimiter(6), use_embeds=False)
    try:
        await talk.ask(desk, responder, MEMBER, QUESTION)
    finally:
        desk.close()
    [reply] = responder.replies
    assert reply.embed is None and reply.content is not None and QUESTION in reply.content


async def test_empty_question_is_refused_before_deferring(
    desk: Desk, fake_engine: FakeEngine, responder: RecordingResponder
):
    """should tell the user to ask something, without deferring or calling the engine."""
    await talk.ask(desk, responder, MEMBER, "   ")
    assert responder.events == [("notice", "Please ask a question: the text is empty.")]
    assert fake_engine.calls == []


async def test_ask_with_real_engine_quotes_peskov(real_desk: Desk, responder: RecordingResponder):
    """should answer from the seed article with a Peskov quote and its source."""
    await talk.ask(real_desk, responder, MEMBER, QUESTION)
    text = responder.text
    assert "Peskov" in text and "[1]" in text
    assert "Russia-US ties face long haul to recover from 'zero'" in text


async def test_other_servers_articles_are_not_visible(real_desk: Desk, responder: RecordingResponder):
    """should not answer a server from another server's collection: it has no articles yet."""
    await talk.ask(real_desk, responder, Asker(USER, OTHER_GUILD), QUESTION)
    [reply] = responder.replies
    assert reply.content is not None and "No articles are indexed yet" in reply.content


async def test_empty_index_says_a_moderator_can_ingest(empty_engine: Engine, responder: RecordingResponder):
    """should reply that there are no articles yet and that a moderator can /ingest."""
    desk = Desk(empty_engine, limiter=RateLimiter(6))
    try:
        await talk.ask(desk, responder, MEMBER, QUESTION)
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
            await talk.ask(desk, responder, MEMBER, QUESTION)
        [notice] = responder.of("notice")
        assert "2 questions a minute" in notice and "try again in 30 s" in notice
        assert len(fake_engine.calls) == 2
        for _ in range(5):
            await talk.ask(desk, responder, MODERATOR, QUESTION)
        assert len(fake_engine.calls) == 7
        clock.now += 30
        await talk.ask(desk, responder, MEMBER, QUESTION)
        assert len(fake_engine.calls) == 8
    finally:
        desk.close()


async def test_unexpected_error_propagates_to_the_central_handler(
    desk: Desk, fake_engine: FakeEngine, responder: RecordingResponder, caplog
):
    """should let an unexpected failure reach the caller, logging the command's latency as an error."""
    fake_engine.error = RuntimeError("faiss exploded")
    with caplog.at_level(logging.INFO, logger="bot.timing"), pytest.raises(RuntimeError):
        await talk.ask(desk, responder, MEMBER, QUESTION)
    assert any("/ask error in" in r.getMessage() for r in caplog.records)


async def test_every_command_logs_its_latency(desk: Desk, responder: RecordingResponder, caplog):
    """should log one line per command with its outcome and milliseconds."""
    with caplog.at_level(logging.INFO, logger="bot.timing"):
        await talk.ask(desk, responder, MEMBER, QUESTION)
        await reads.summary(desk, responder, MEMBER, topic="Syria")
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
    await reads.summary(desk, responder, MEMBER, article=article, topic=topic)
    assert responder.events == [("notice", reads.CHOOSE_ONE_SUMMARY)]


async def test_summary_of_a_topic(desk: Desk, fake_engine: FakeEngine, responder: RecordingResponder):
    """should summarize a topic with cited sentences."""
    await reads.summary(desk, responder, MEMBER, topic="Syria strikes")
    assert fake_engine.calls[0][:2] == ("summarize_topic", "Syria strikes")
    [reply] = responder.replies
    assert reply.embed is not None and reply.embed["title"] == "Summary: Syria strikes"
    assert "[1]" in reply.embed["description"]


async def test_summary_of_an_article_by_id_and_by_typed_title(
    real_desk: Desk, real_engine: Engine, responder: RecordingResponder
):
    """should summarize the article autocomplete picked, and also one whose title was only typed."""
    [article] = real_engine.find_articles("", Scope(collections=(str(GUILD),)))
    await reads.summary(real_desk, responder, MEMBER, article=article.id)
    await reads.summary(real_desk, responder, MEMBER, article="long haul")
    first, second = responder.replies
    assert first.embed is not None and second.embed is not None
    assert first.embed["title"] == second.embed["title"] == f"Summary: {article.title}"
    assert "[1]" in first.embed["description"]


async def test_summary_of_an_unknown_article(real_desk: Desk, responder: RecordingResponder):
    """should say no article matches instead of failing."""
    await reads.summary(real_desk, responder, MEMBER, article="no such thing")
    [reply] = responder.replies
    assert reply.content is not None and "No article here matches" in reply.content


async def test_article_autocomplete(real_desk: Desk):
    """should offer this server's articles by title, at most 100 characters each, valued by id."""
    choices = await reads.article_choices(real_desk, MEMBER, "ties")
    assert [label for label, _ in choices] == ["Russia-US ties face long haul to recover from 'zero' (CNN)"]
    assert await reads.article_choices(real_desk, Asker(USER, OTHER_GUILD), "ties") == []


async def test_autocomplete_labels_fit_discord(desk: Desk, fake_engine: FakeEngine):
    """should shorten long titles so that a choice name stays within 100 characters."""
    fake_engine.articles = [Article("id1", "111", "A very long title " * 20, "text", source="CNN")]
    [(label, value)] = await reads.article_choices(desk, MEMBER, "very")
    assert len(label) <= 100 and label.endswith("(CNN)") and value == "id1"

"""Votes, reports, Show context, /stats and /feedback (``bot.feedback``, ``bot.context``, ``bot.stats``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from app.engine import Engine
from bot import context, feedback, stats, talk
from bot.controls import AnswerControls, PageControls
from bot.desk import Asker, Desk, Records
from bot.errors import not_moderator_message
from bot.ratelimit import RateLimiter
from index.feedbackstore import FeedbackCounts
from index.models import RawArticle

from .conftest import GUILD, OTHER_GUILD, USER, FakeClock, RecordingResponder

QUESTION = "What did Peskov say about the strikes?"
MEMBER = Asker(USER, GUILD)
OTHER = Asker(USER + 1, GUILD)
MODERATOR = Asker(USER + 2, GUILD, is_moderator=True)


@pytest.fixture
def records(real_engine: Engine) -> Records:
    return Records.open(real_engine.store, conversation_ttl=timedelta(minutes=30))


@pytest.fixture
def desk(real_engine: Engine, clock: FakeClock, records: Records) -> Iterator[Desk]:
    d = Desk(real_engine, limiter=RateLimiter(600, clock=clock), records=records)
    yield d
    d.close()


async def answered(desk: Desk, asker: Asker = MEMBER) -> str:
    """Ask QUESTION with the real engine (seed article); returns the answer id."""
    responder = RecordingResponder()
    await talk.ask(desk, responder, asker, QUESTION)
    controls = responder.replies[-1].controls
    assert isinstance(controls, AnswerControls)
    return controls.answer_id


async def test_vote_then_change_then_repeat(desk: Desk, records: Records):
    """should record a vote ephemerally, change it on the other button, and say when nothing changed."""
    answer_id = await answered(desk)
    said = []
    for up in (True, False, False):
        responder = RecordingResponder()
        await feedback.vote(desk, responder, MEMBER, answer_id, up)
        assert responder.events[0] == ("defer", True)
        said.append(responder.of("notice"))
    assert said == [
        ["Thanks! Your \N{THUMBS UP SIGN} is recorded."],
        ["Changed your vote to \N{THUMBS DOWN SIGN}."],
        ["You already gave this answer a \N{THUMBS DOWN SIGN}."],
    ]
    assert records.feedback.counts([str(GUILD)]) == FeedbackCounts(up=0, down=1, reports=0)


@pytest.mark.parametrize(
    "asker", [pytest.param(MEMBER, id="unknown-id"), pytest.param(Asker(USER, OTHER_GUILD), id="other-server")]
)
async def test_vote_on_an_unknown_or_foreign_answer_gets_a_notice(desk: Desk, records: Records, asker: Asker):
    """should store nothing and say the answer is gone, for an unknown id or another server's answer."""
    answer_id = await answered(desk) if asker.guild_id == OTHER_GUILD else "0123456789ab"
    responder = RecordingResponder()
    await feedback.vote(desk, responder, asker, answer_id, True)
    assert responder.events == [("defer", True), ("notice", feedback.UNKNOWN_ANSWER)]
    assert records.feedback.all() == []


@pytest.mark.parametrize(
    ("reason", "details", "message"),
    [
        pytest.param("rude", "", "Pick what is wrong from the list.", id="unknown-reason"),
        pytest.param("other", "  ", "Say what is wrong under Details when you choose Other.", id="other-empty"),
        pytest.param(
            "other",
            "x" * 5000,
            "The details are 5,000 characters; the limit is 1,000. Please shorten them and report again.",
            id="5000",
        ),
    ],
)
async def test_bad_reports_get_a_notice(desk: Desk, records: Records, reason: str, details: str, message: str):
    """should refuse a report without a known reason, Other without details, or oversized details."""
    answer_id = await answered(desk)
    responder = RecordingResponder()
    await feedback.report(desk, responder, MEMBER, answer_id, reason, details)
    assert responder.events == [("notice", message)]
    assert records.feedback.all() == []


async def test_a_report_is_stored_with_the_question_and_quotes(desk: Desk, records: Records):
    """should thank the user and keep the reason, details, question and quotes, without the user id."""
    answer_id = await answered(desk)
    responder = RecordingResponder()
    await feedback.report(desk, responder, MEMBER, answer_id, "wrong_speaker", "  It was Lavrov.  ")
    assert responder.events == [("defer", True), ("notice", feedback.REPORTED)]
    [judgement] = records.feedback.all()
    stored = records.conversations.answer(answer_id)
    assert stored is not None
    assert (judgement.reason, judgement.details, judgement.question) == ("wrong_speaker", "It was Lavrov.", QUESTION)
    assert judgement.quotes == stored.quotes
    assert judgement.user_key == records.feedback.user_key(USER) != str(USER)


async def test_feedback_pages_are_for_moderators(desk: Desk):
    """should refuse /feedback to members and list reports to moderators with page buttons."""
    for i in range(feedback.PAGE_SIZE + 1):
        await feedback.report(desk, RecordingResponder(), Asker(1000 + i, GUILD), await answered(desk), "outdated", "")
    refused = RecordingResponder()
    await feedback.feedback_list(desk, refused, MEMBER, 0)
    assert refused.events == [("notice", not_moderator_message(None))]

    listed = RecordingResponder()
    await feedback.feedback_list(desk, listed, MODERATOR, 0)
    [page] = listed.replies
    assert listed.events[0] == ("defer", True)
    assert page.controls == PageControls(0, 2)
    assert page.embed is not None and len(page.embed["fields"]) == feedback.PAGE_SIZE
    assert page.embed["title"] == "Reports on answers in this server (6)"

    turned = RecordingResponder()
    await feedback.feedback_list(desk, turned, MODERATOR, 5, edit=True)  # past the end: the last page
    [(kind, reply)] = turned.events
    assert kind == "show" and reply.controls == PageControls(1, 2)
    assert len(reply.embed["fields"]) == 1


async def test_show_context_bolds_the_quote_inside_its_paragraph(desk: Desk, records: Records):
    """should show the quote in bold within the text around it, escaped, with its source."""
    answer_id = await answered(desk)
    stored = records.conversations.answer(answer_id)
    assert stored is not None
    responder = RecordingResponder()
    await context.show_context(desk, responder, MEMBER, answer_id, 0)
    [reply] = responder.replies
    assert responder.events[0] == ("defer", True)
    assert reply.embed is not None
    description = reply.embed["description"]
    quote = stored.quotes[0].quote
    assert f"**{context.escape_markdown(quote)}**" in description
    assert len(description) > len(quote) + 10  # the paragraph around it
    assert "Russia-US ties face long haul" in reply.embed["fields"][0]["value"]


def test_paragraph_around_stops_at_blank_lines():
    """should take the text between the blank lines around the quote, or its neighbours too when it is short."""
    text = "First paragraph.\n\nBefore it. The quote here. After it.\n\nSecond.\n\nLast one."
    start = text.index("The quote")
    end = start + len("The quote here.")
    assert context.paragraph_around(text, start, end, min_context=10) == (
        "Before it. ",
        "The quote here.",
        " After it.",
    )
    assert context.paragraph_around(text, start, end, min_context=100) == (
        "First paragraph.\n\nBefore it. ",
        "The quote here.",
        " After it.\n\nSecond.",
    )


async def test_show_context_of_a_changed_article(desk: Desk, real_engine: Engine, records: Records):
    """should find a moved quote, and say so when the article no longer holds it."""
    answer_id = await answered(desk)
    stored = records.conversations.answer(answer_id)
    assert stored is not None
    article_id = stored.quotes[0].article_id
    records.store.db.execute("UPDATE articles SET text = ? WHERE id = ?", ("Entirely new text.", article_id))
    responder = RecordingResponder()
    await context.show_context(desk, responder, MEMBER, answer_id, 0)
    assert responder.events == [("defer", True), ("notice", context.CHANGED)]
    responder = RecordingResponder()
    await context.show_context(desk, responder, MEMBER, answer_id, 9)
    assert responder.events == [("defer", True), ("notice", feedback.UNKNOWN_ANSWER)]


async def test_stats_counts_this_servers_collections(desk: Desk, real_engine: Engine, records: Records):
    """should count the server's and the global articles, questions since start and the server's feedback."""
    real_engine.ingest([RawArticle(title="Elsewhere", text="Another server's article text here.")], collection="999")
    answer_id = await answered(desk)
    await feedback.vote(desk, RecordingResponder(), OTHER, answer_id, True)
    responder = RecordingResponder()
    await stats.stats(desk, responder, MEMBER)
    [reply] = responder.replies
    assert reply.embed is not None
    fields = {f["name"]: f["value"] for f in reply.embed["fields"]}
    assert fields["This server"].startswith("**1** articles from 1 sources: CNN (1)")
    assert "Newest: Russia-US ties face long haul to recover from 'zero'" in fields["This server"]
    assert fields["Shared (global)"] == "No articles yet."
    assert fields["Questions since the bot started"].startswith("1 of 1 answered with quotes")
    assert (
        fields["Feedback in this server"]
        == "\N{THUMBS UP SIGN} 1 · \N{THUMBS DOWN SIGN} 0 · \N{TRIANGULAR FLAG ON POST} 0 reports"
    )
    assert fields["Feeds"] == "None followed (moderators: /feed add)."

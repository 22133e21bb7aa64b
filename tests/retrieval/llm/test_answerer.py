"""The scripted model cases of issue 13, on the blocking path (the CLI's) and the streaming one (the bot's)."""

from __future__ import annotations

import json
import re

import pytest

from index.lexical import LexicalIndex
from retrieval.answer import Answer
from retrieval.hybrid import Hit
from retrieval.llm.answerer import LlmAnswerer
from retrieval.llm.prompt import Turn
from retrieval.llm.streaming import Draft
from retrieval.question import Question
from tests.llm_double import LlmDouble, Reply

from ._cases import BUDGET, FALLBACK_QUOTE, PIER, TALKS, RecordingFallback, make_answerer, reply

ARTICLES = {a.id: a for a in (TALKS, PIER, BUDGET)}
FAITHFUL = reply(
    (
        '"We have reached the end of the road," Berg said after the talks collapsed on Friday.',
        [1],
        "We have reached the end of the road,",
    ),
    ("The dispute concerns fishing rights in the northern sea.", [3], None),
)
FAITHFUL_TEXT = (
    '"We have reached the end of the road," Berg said after the talks collapsed on Friday. [1]\n'
    "The dispute concerns fishing rights in the northern sea. [1]"
)
FALLBACK_NOTE = "; this is newsdesk's extractive answer instead."


def assert_verified(answer: Answer) -> None:
    """Every quote is article text at its offsets, and every marker has its citation."""
    for c in answer.citations:
        assert ARTICLES[c.article_id].text[c.start : c.end] == c.quote
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} == {c.n for c in answer.citations}


def assert_fallback(answer: Answer, fallback: RecordingFallback, *notes: str) -> None:
    assert answer.text == f"> {FALLBACK_QUOTE} [1]"
    assert answer.notes == ("extractive", *notes)
    assert len(fallback.calls) == 1


async def both_paths(answerer: LlmAnswerer, question: Question, hits: list[Hit], lexical: LexicalIndex) -> list[Answer]:
    """The same question answered blocking, then streamed (the double repeats its last reply)."""
    blocking = answerer.answer(question, hits, lexical=lexical)
    streamed = await answerer.aanswer(question, hits, lexical=lexical)
    return [blocking, streamed]


async def test_faithful_answer(double: LlmDouble, answerer: LlmAnswerer, fallback, question, hits, lexical):
    """should show a faithful answer, with its quotes as citations at their offsets."""
    double.script(Reply(content=FAITHFUL))
    for answer in await both_paths(answerer, question, hits, lexical):
        assert answer.answered and answer.text == FAITHFUL_TEXT and answer.notes == ()
        assert [(c.n, c.quote) for c in answer.citations] == [
            (1, "We have reached the end of the road,"),
            (1, "The dispute concerns fishing rights in the northern sea."),
        ]
        assert answer.citations[0].url == TALKS.url and answer.citations[0].published == TALKS.published
        assert answer.confidence == 1.0
        assert_verified(answer)
    assert fallback.calls == []


async def test_paraphrased_quote_is_left_out(
    double: LlmDouble, answerer: LlmAnswerer, fallback, question, hits, lexical
):
    """should drop a sentence whose "quote" is not in the article, say so, and keep the rest."""
    content = reply(
        ('Berg said "we have come to the end of the road".', [1], "we have come to the end of the road"),
        ("The harbour master said the pier would stay closed for six weeks.", [2], None),
    )
    double.script(Reply(content=content))
    for answer in await both_paths(answerer, question, hits, lexical):
        assert answer.text == "The harbour master said the pier would stay closed for six weeks. [1]"
        assert answer.notes == ("Left out 1 model sentence whose quotation is not in the cited article.",)
        assert [c.quote for c in answer.citations] == ["He said the pier would stay closed for six weeks of repairs."]
        assert_verified(answer)
    assert fallback.calls == []


async def test_citation_to_the_wrong_passage(
    double: LlmDouble, answerer: LlmAnswerer, fallback, question, hits, lexical
):
    """should drop a sentence its cited passage does not support, and fall back when nothing is left."""
    double.script(Reply(content=reply(("The pier will stay closed for six weeks of repairs.", [1], None))))
    for answer in await both_paths(answerer, question, hits, lexical):
        assert answer.text == f"> {FALLBACK_QUOTE} [1]"
        assert answer.notes == (
            "extractive",
            "Left out 1 model sentence that the cited passage does not support.",
            "None of the language model's sentences could be checked against the articles" + FALLBACK_NOTE,
        )
    assert len(fallback.calls) == 2


@pytest.mark.parametrize(
    ("scripted", "note"),
    [
        pytest.param(
            Reply(content='{"sentences": [{"text": "Berg left", "passages": [1'),
            "The language model's answer was not in the expected form",
            id="malformed-json",
        ),
        pytest.param(Reply(stall=30.0), "The language model did not answer in time", id="30-second-stall"),
        pytest.param(Reply(status=500), "The language model failed (HTTP 500)", id="500"),
        pytest.param(
            Reply(content='{"sentences": []}'), "The language model found no answer in these passages", id="no-answer"
        ),
    ],
)
def test_failures_fall_back(double: LlmDouble, fallback, question, hits, lexical, scripted: Reply, note: str):
    """should answer extractively, with a short note, when the model fails or says nothing."""
    double.script(scripted)
    answer = make_answerer(double, fallback, timeout=0.5).answer(question, hits, lexical=lexical)
    assert_fallback(answer, fallback, note + FALLBACK_NOTE)


@pytest.mark.parametrize(
    ("scripted", "note"),
    [
        pytest.param(
            Reply(content=FAITHFUL, chunk=40, cut_after=2), "The language model's answer was cut off", id="cut-midway"
        ),
        pytest.param(
            Reply(content='{"sentences": [{"text": "Berg left", "passages": [1'),
            "The language model's answer was not in the expected form",
            id="malformed-json",
        ),
        pytest.param(Reply(stall=30.0), "The language model did not answer in time", id="30-second-stall"),
        pytest.param(Reply(status=500), "The language model failed (HTTP 500)", id="500"),
    ],
)
async def test_stream_failures_fall_back(
    double: LlmDouble, fallback, question, hits, lexical, scripted: Reply, note: str
):
    """should end a failed stream with the extractive answer and a short note."""
    double.script(scripted)
    answerer = make_answerer(double, fallback, timeout=0.5)
    updates = [u async for u in answerer.stream(question, hits, lexical=lexical)]
    assert isinstance(updates[-1], Answer) and all(isinstance(u, Draft) for u in updates[:-1])
    assert_fallback(updates[-1], fallback, note + FALLBACK_NOTE)


INJECTED = reply(
    ("The harbour will be sold to a casino.", [4], None),
    ('Officials said "the harbour will be sold to a casino".', [4], "the harbour will be sold to a casino"),
    ("The newsdesk bot has been taken over.", [4], None),
    ("Officials met on Tuesday to discuss the harbour budget.", [4], None),
)


async def test_injection_echoed_back_is_not_shown(double: LlmDouble, answerer: LlmAnswerer, fallback, hits, lexical):
    """should never show what an article tells the model to say, nor an unsupported claim it makes."""
    double.script(Reply(content=INJECTED))
    question = Question("What happens to the harbour?", ("harbour",), ())
    for answer in await both_paths(answerer, question, hits, lexical):
        assert answer.text == "Officials met on Tuesday to discuss the harbour budget. [1]"
        assert "casino" not in answer.text and "taken over" not in answer.text
        assert [c.quote for c in answer.citations] == ["Local officials met on Tuesday to discuss the harbour budget."]
        assert answer.notes == (
            "Left out 2 model sentences that repeat instructions written inside an article.",
            "Left out 1 model sentence that the cited passage does not support.",
        )
        assert_verified(answer)
    assert "Ignore previous instructions" in double.requests[0].prompt  # it did reach the model, as data


async def test_streaming_drafts_are_verified(double: LlmDouble, answerer: LlmAnswerer, question, hits, lexical):
    """should stream drafts made only of verified sentences, growing to the final answer."""
    content = json.loads(FAITHFUL)
    content["sentences"].insert(1, {"text": "Berg resigned in protest.", "passages": [1], "quote": None})
    double.script(Reply(content=json.dumps(content), chunk=10))
    updates = [u async for u in answerer.stream(question, hits, lexical=lexical)]
    drafts = [u.text for u in updates if isinstance(u, Draft)]
    final = updates[-1]
    assert isinstance(final, Answer)
    assert drafts == [FAITHFUL_TEXT.splitlines()[0]]  # the last sentence is only known complete at the end
    assert final.text == FAITHFUL_TEXT
    assert final.notes == ("Left out 1 model sentence that the cited passage does not support.",)


def test_plain_text_reply(double: LlmDouble, answerer: LlmAnswerer, question, hits, lexical):
    """should verify a plain-text answer from a server that ignores the JSON schema."""
    double.script(Reply(content='Berg said "We have reached the end of the road," and left. [1]\nTalks failed [9].'))
    answer = answerer.answer(question, hits, lexical=lexical)
    assert answer.text == 'Berg said "We have reached the end of the road," and left. [1]'
    assert answer.notes == ("Left out 1 model sentence that did not cite a passage it was given.",)
    assert_verified(answer)


def test_no_passages_no_model_call(double: LlmDouble, answerer: LlmAnswerer, fallback, question, lexical):
    """should let the fallback abstain without asking the model when nothing was retrieved."""
    answer = answerer.answer(question, [], lexical=lexical)
    assert answer.notes == ("extractive",) and fallback.calls == [(question.text, 0)] and double.requests == []


def test_conversation_reaches_the_model(double: LlmDouble, answerer: LlmAnswerer, question, hits, lexical):
    """should send the earlier turns along with the passages."""
    double.script(Reply(content=FAITHFUL))
    answerer.answer(question, hits, lexical=lexical, context=[Turn("user", "Who is Anna Berg?")])
    assert "user: Who is Anna Berg?" in double.requests[0].prompt

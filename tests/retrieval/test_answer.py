"""The hand-tuned extractive scorer (the reader's fallback), through the engine with the reader turned off."""

from __future__ import annotations

import pytest

from app.engine import Engine
from index.models import RawArticle
from retrieval.answer import NOT_FOUND
from retrieval.errors import BadQuestionError, IndexNotReadyError
from retrieval.question import MAX_QUESTION_CHARS
from tests.conftest import MakeEngine

ARTICLE = RawArticle(
    title="Talks collapse",
    text=(
        "Talks between the two sides collapsed on Friday. The mediator, Anna Berg, left the room early. "
        '"We have reached the end of the road," Berg said. Officials expect new talks next month. '
        "The dispute concerns fishing rights in the northern sea."
    ),
    source="Wire",
)


@pytest.fixture
def engine(make_engine: MakeEngine) -> Engine:
    return make_engine(ARTICLE, chunk_words=25, reader_dir=None)


def test_quotes_are_exact_article_text(engine: Engine):
    """should quote the article verbatim at the cited offsets."""
    answer = engine.ask("What does the dispute concern?")
    (citation,) = answer.citations
    article = engine.store.article(citation.article_id)
    assert article is not None
    assert article.text[citation.start : citation.end] == citation.quote
    assert citation.quote == "The dispute concerns fishing rights in the northern sea."
    assert (answer.answered, answer.text) == (True, f"> {citation.quote} [1]")


def test_speaker_question_prefers_the_speakers_quote(engine: Engine):
    """should answer "what did X say" with the sentence where X is quoted."""
    answer = engine.ask("What did Berg say?")
    assert answer.citations[0].quote == '"We have reached the end of the road," Berg said.'


def test_abstains_when_nothing_relevant(engine: Engine):
    """should say so rather than quote something unrelated."""
    answer = engine.ask("Which team won the basketball championship?")
    assert (answer.answered, answer.text, answer.citations) == (False, NOT_FOUND, ())


def test_zero_width_characters_in_a_question_are_ignored(engine: Engine):
    """should find Berg's quote when the question's name holds a zero-width space."""
    answer = engine.ask("What did Be\u200brg say?")
    assert answer.citations[0].quote == '"We have reached the end of the road," Berg said.'


@pytest.mark.parametrize(
    ("question", "message"),
    [
        pytest.param("", "Please ask a question: the text is empty.", id="empty"),
        pytest.param("   \n\t", "Please ask a question: the text is empty.", id="blank"),
        pytest.param(
            "x" * (100 * 1024),
            f"That question is 102,400 characters long; please keep it under {MAX_QUESTION_CHARS:,}.",
            id="100KB",
        ),
        pytest.param(
            "What did Berg say\udc80?",
            "That question holds a character that is not text (U+DC80); please type it again.",
            id="lone-surrogate",
        ),
    ],
)
def test_bad_questions(engine: Engine, question: str, message: str):
    """should refuse empty, huge and undecodable questions with a clear message."""
    with pytest.raises(BadQuestionError) as err:
        engine.ask(question)
    assert str(err.value) == message


def test_empty_index(make_engine: MakeEngine):
    """should explain that there are no articles yet."""
    engine = make_engine()
    with pytest.raises(IndexNotReadyError, match="ingest"):
        engine.ask("Anything?")


def test_pronoun_sentence_is_quoted_with_its_antecedent(make_engine: MakeEngine):
    """should quote the sentence before one that says "he", so the reader knows who spoke."""
    text = (
        "The harbour master, Tomas Lind, inspected the damaged pier on Monday. "
        "He said the pier would stay closed for six weeks of repairs."
    )
    engine = make_engine(RawArticle(title="Pier closed", text=text, source="Local"), chunk_words=60, reader_dir=None)
    answer = engine.ask("How long will the pier stay closed for repairs?")
    first = answer.citations[0]
    assert first.quote == text and (first.start, first.end) == (0, len(text))

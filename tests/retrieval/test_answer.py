from __future__ import annotations

from pathlib import Path

import pytest

from app.config import EngineConfig
from app.engine import Engine
from index.models import RawArticle
from retrieval.answer import NOT_FOUND
from retrieval.errors import BadQuestionError, IndexNotReadyError
from retrieval.question import MAX_QUESTION_CHARS, analyse
from tests.fakes import FakeEncoder

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
def engine(tmp_path: Path) -> Engine:
    engine = Engine(EngineConfig(data_dir=tmp_path, chunk_words=25), encoder=FakeEncoder())
    engine.ingest([ARTICLE])
    return engine


def test_quotes_are_exact_article_text(engine: Engine):
    """should quote the article verbatim at the cited offsets."""
    answer = engine.ask("What does the dispute concern?")
    assert answer.answered and answer.citations
    article = engine.store.article(answer.citations[0].article_id)
    assert article is not None
    for c in answer.citations:
        assert article.text[c.start : c.end] == c.quote
        assert f"[{c.n}]" in answer.text
    assert "fishing rights" in answer.citations[0].quote


def test_speaker_question_prefers_the_speakers_quote(engine: Engine):
    """should answer "what did X say" with the sentence where X is quoted."""
    answer = engine.ask("What did Berg say?")
    assert answer.citations[0].quote == '"We have reached the end of the road," Berg said.'


def test_abstains_when_nothing_relevant(engine: Engine):
    """should say so rather than quote something unrelated."""
    answer = engine.ask("Which team won the basketball championship?")
    assert not answer.answered and answer.text == NOT_FOUND and not answer.citations


def test_question_analysis():
    """should find the speaker and the content terms of a question."""
    q = analyse("  What did   Peskov say about the strikes? ")
    assert q.text == "What did Peskov say about the strikes?"
    assert q.speaker_terms == ("peskov",) and "strike" in q.terms


@pytest.mark.parametrize("question", ["", "   \n\t", "x" * (100 * 1024)], ids=["empty", "blank", "100KB"])
def test_bad_questions(engine: Engine, question: str):
    """should refuse empty and huge questions with a clear message."""
    with pytest.raises(BadQuestionError) as err:
        engine.ask(question)
    assert "empty" in str(err.value) or f"{MAX_QUESTION_CHARS:,}" in str(err.value)


def test_empty_index(tmp_path: Path):
    """should explain that there are no articles yet."""
    engine = Engine(EngineConfig(data_dir=tmp_path), encoder=FakeEncoder())
    with pytest.raises(IndexNotReadyError, match="ingest"):
        engine.ask("Anything?")


def test_pronoun_sentence_is_quoted_with_its_antecedent(tmp_path: Path):
    """should quote the sentence before one that says "he", so the reader knows who spoke."""
    engine = Engine(EngineConfig(data_dir=tmp_path, chunk_words=60), encoder=FakeEncoder())
    text = (
        "The harbour master, Tomas Lind, inspected the damaged pier on Monday. "
        "He said the pier would stay closed for six weeks of repairs."
    )
    engine.ingest([RawArticle(title="Pier closed", text=text, source="Local")])
    answer = engine.ask("How long will the pier stay closed for repairs?")
    first = answer.citations[0]
    assert first.quote == text and (first.start, first.end) == (0, len(text))

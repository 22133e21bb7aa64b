from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.engine import Engine
from index.models import RawArticle
from retrieval.scope import Scope
from tests.conftest import MakeEngine

NOW = datetime.now(UTC)


def _article(title: str, text: str, published: datetime | None) -> RawArticle:
    return RawArticle(title=title, text=text, published=published, source="Wire", url=f"https://w.test/{title}")


@pytest.fixture
def engine(make_engine: MakeEngine) -> Engine:
    return make_engine(
        _article(
            "march",
            "The port strike ended after dockers accepted a new pay offer from the owners.",
            datetime(2015, 3, 10, tzinfo=UTC),
        ),
        _article(
            "june",
            "The port strike began again when dockers rejected the owners' latest pay offer.",
            datetime(2015, 6, 2, tzinfo=UTC),
        ),
        _article(
            "fresh",
            "A new port strike was called by dockers over the owners' pay offer this week.",
            NOW - timedelta(days=1),
        ),
        _article("undated", "Dockers at the port strike over a pay offer, union leaders said on the radio.", None),
        chunk_words=30,
    )


def test_month_expression_filters_by_date(engine: Engine):
    """should only cite articles published in March 2015 for a question about March 2015."""
    answer = engine.ask("How did the port strike end in March 2015?")
    assert answer.answered
    assert {c.published.month for c in answer.citations if c.published} == {3}
    assert all(c.published is not None for c in answer.citations)


def test_no_dated_match_falls_back_to_undated_and_says_so(engine: Engine):
    """should answer from undated articles with a note when no article is dated in the range."""
    answer = engine.ask("What did dockers say about the pay offer in January 2010?")
    assert answer.answered
    assert all(c.published is None for c in answer.citations)
    assert any("date is unknown" in note for note in answer.notes)


def test_explicit_since_option(engine: Engine):
    """should honour a since date given by the caller (the /ask since: option)."""
    answer = engine.ask("port strike pay offer", Scope(since=NOW - timedelta(days=7)))
    assert answer.answered and {c.title for c in answer.citations} == {"fresh"}


def test_latest_prefers_recent_articles(engine: Engine):
    """should rank the newest article first for "latest" questions."""
    answer = engine.ask("What is the latest on the port strike pay offer?")
    assert answer.citations[0].title == "fresh"

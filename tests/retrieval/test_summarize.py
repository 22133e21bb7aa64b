from __future__ import annotations

from index.models import RawArticle
from tests.conftest import MakeEngine

ARTICLES = [
    RawArticle(
        title="Rail strike",
        text=(
            "Rail workers began a national strike on Monday. Most trains were cancelled across the country. "
            "The union wants higher pay after two years of inflation. Commuters crowded onto buses instead. "
            "The transport minister called the strike irresponsible. Talks are planned for Thursday."
        ),
        source="A",
    ),
    RawArticle(
        title="Bus lanes",
        text=(
            "The city opened new bus lanes during the rail strike. Buses ran every five minutes on main routes. "
            "Cyclists complained about the narrower roads."
        ),
        source="B",
    ),
]


def test_article_summary_cites_its_sentences(make_engine: MakeEngine):
    """should summarize one article with three of its own sentences, in order, each cited."""
    engine = make_engine(chunk_words=20)
    report = engine.ingest(ARTICLES)
    article = engine.store.article(report.article_ids[0])
    assert article is not None
    summary = engine.summarize_article(article.id)
    assert len(summary.citations) == 3
    starts = [c.start for c in summary.citations]
    assert starts == sorted(starts)
    assert all(article.text[c.start : c.end] == c.quote for c in summary.citations)
    assert summary.citations[0].quote == "Rail workers began a national strike on Monday."


def test_topic_summary_spans_articles(make_engine: MakeEngine):
    """should summarize a topic from several articles without repeating a sentence."""
    engine = make_engine(*ARTICLES, chunk_words=20)
    summary = engine.summarize_topic("rail strike buses")
    quotes = [c.quote for c in summary.citations]
    assert summary.answered and len(quotes) == len(set(quotes)) >= 3
    assert {c.n for c in summary.citations} == {1, 2}

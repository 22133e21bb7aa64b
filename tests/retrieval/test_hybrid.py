from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from app.engine import Engine
from index.models import RawArticle
from retrieval.scope import Scope
from tests.conftest import MakeEngine

CORPUS = [
    RawArticle(
        title="Floods in Valencia",
        text="Heavy rain flooded Valencia on Tuesday. Rescuers used boats to reach homes.",
        source="Alpha",
    ),
    RawArticle(
        title="Chess final", text="The chess world final ended in a draw. The champion kept her title.", source="Beta"
    ),
    RawArticle(
        title="Budget vote", text="Parliament approved the budget after a long debate. Taxes will rise.", source="Alpha"
    ),
]


@pytest.fixture
def engine(make_engine: MakeEngine) -> Engine:
    return make_engine(*CORPUS, chunk_words=15)


def test_article_with_all_question_words_wins(make_engine: MakeEngine):
    """should rank first the article whose passages together hold the question's words."""
    spread = RawArticle(
        title="Harbour festival",
        text="The harbour festival opened with a parade of tall ships on Saturday morning. "
        "Thousands of visitors lined the quays to watch. Later, the mayor lit the lantern at the lighthouse "
        "while a brass band played.",
    )
    partial = RawArticle(
        title="Lighthouse repairs", text="Workers began repairs on the old lighthouse after a storm damaged its roof."
    )
    engine = make_engine(partial, spread, chunk_words=12, chunk_overlap=0)
    hits = engine.search("Who lit the lantern at the lighthouse during the harbour festival parade?")
    assert hits[0].article.title == "Harbour festival"


def test_dense_search_matches_brute_force(engine: Engine):
    """should return exactly the brute-force inner-product ranking."""
    snap = engine.snapshot
    query = engine.encoder.encode(["rain flooded homes"])[0]
    vectors = np.vstack([snap.dense.reconstruct(i) for i in range(snap.rows)])
    expected = np.argsort(-(vectors @ query))[:3]
    _, rows = snap.dense_search(query, 3)
    assert rows.tolist() == expected.tolist()


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_finds_the_article(engine: Engine, mode: str):
    """should put the chess article first for a chess question in every mode."""
    hits = engine.search("Who won the chess final?", mode=mode)
    assert hits[0].article.title == "Chess final"


def test_filters(engine: Engine):
    """should only return passages allowed by the source and collection filters."""
    hits = engine.search("chess final draw", Scope(sources=("Alpha",)))
    assert hits and all(h.article.source == "Alpha" for h in hits)
    assert engine.search("chess", Scope(collections=("global",)))
    assert engine.search("chess", Scope(since=datetime(2030, 1, 1, tzinfo=UTC))) == []


def test_near_identical_passages_are_cited_once(make_engine: MakeEngine):
    """should drop a passage that repeats another one word for word (wire copy on two sites)."""
    text = "The central bank raised interest rates by half a point on Thursday to fight inflation."
    engine = make_engine(
        RawArticle(title="Rates up", text=text, url="https://a.test/1", source="A"),
        RawArticle(title="Bank raises rates", text=text, url="https://b.test/2", source="B"),
        chunk_words=40,
    )
    hits = engine.search("Why did the central bank raise rates?")
    assert len(hits) == 1


def test_article_signals_fuse_to_the_scores_search_ranks_articles_by(engine: Engine):
    """should give each retrieved article the fused first-stage score its hits carry, each signal in [0, 1]."""
    from retrieval.hybrid import ARTICLE_WEIGHTS
    from retrieval.question import analyse

    question = analyse("Where did rain flood homes?")
    query = engine.encoder.encode([question.text])[0]
    searcher = engine._current()
    signals = searcher.article_signals(question, query)
    fused = signals.fused(ARTICLE_WEIGHTS)
    row_of = {a: i for i, a in enumerate(searcher.snapshot.article_ids)}
    hits = searcher.search(question, query, k=5)
    assert hits and hits[0].article.title == "Floods in Valencia"
    for hit in hits:
        assert hit.article_score == pytest.approx(float(fused[row_of[hit.article.id]]), abs=1e-6)
    for values in (signals.whole, signals.best_passage, signals.best_dense):
        assert float(values.min()) >= 0.0 and float(values.max()) == pytest.approx(1.0)

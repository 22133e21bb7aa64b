"""The engine reads a misspelt name as the indexed one, says so, and never suggests another server's words."""

from __future__ import annotations

from index.models import RawArticle
from retrieval.scope import Scope
from tests.conftest import PESKOV, SEEDS, MakeEngine


def test_a_misspelt_name_is_answered_as_the_right_one(make_engine: MakeEngine):
    """should answer "Peksov" as "Peskov" (the same quotes) and say what it read."""
    engine = make_engine()
    engine.ingest_paths([SEEDS])
    right = engine.ask(PESKOV)
    slipped = engine.ask(PESKOV.replace("Peskov", "Peksov"))
    assert slipped.answered
    assert [c.quote for c in slipped.citations] == [c.quote for c in right.citations]
    assert 'Read "Peksov" as "Peskov".' in slipped.notes
    assert not any(n.startswith("Read ") for n in right.notes)


def test_no_correction_comes_from_another_collection(make_engine: MakeEngine):
    """should not read a slip as a word that only another server's articles hold."""
    engine = make_engine()
    engine.ingest_paths([SEEDS], collection="111")
    engine.ingest(
        [RawArticle(title=f"Kjellberg {i}", text=f"Kjellberg said the plan {i} was secret.") for i in range(4)],
        collection="222",
    )
    there = engine.ask("What did Kjelberg say about the plan?", Scope(collections=("222",)))
    assert 'Read "Kjelberg" as "Kjellberg".' in there.notes  # where the word is indexed, the slip is read
    answer = engine.ask("What did Kjelberg say about the plan?", Scope(collections=("111", "global")))
    assert not any("Kjellberg" in n for n in answer.notes)
    assert all(engine.store.article(c.article_id).collection == "111" for c in answer.citations)

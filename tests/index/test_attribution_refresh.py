"""Attribution tables across extractor versions: recorded, reported stale, rebuilt without re-embedding."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from app.engine import Engine
from index.attribution import VERSION
from index.models import RawArticle
from index.store import ATTRIBUTIONS_KEY
from tests.conftest import MakeEngine

pytestmark = pytest.mark.both_engines

TALKS = RawArticle(
    title="Fishing talks collapse",
    text=(
        "Talks between the two sides collapsed on Friday. The mediator, Anna Berg, left the room early.\n"
        '"We have reached the end of the road," Berg said. Officials expect new talks next month.'
    ),
    source="Wire",
)


def _age(engine: Engine) -> str:
    """Make the index look built before versions, with one table emptied; returns the article id."""
    (article,) = engine.store.iter_articles()
    with engine.store.transaction() as db:
        db.execute("DELETE FROM meta WHERE key = ?", (ATTRIBUTIONS_KEY,))
        db.execute("UPDATE sentences SET attributions = '[]' WHERE article_id = ?", (article.id,))
    return article.id


def test_a_new_index_records_the_current_extractor(make_engine: MakeEngine):
    """should mark a new index's tables as the current extractor's, and say so in the stats."""
    engine = make_engine(TALKS)
    assert engine.store.attribution_version == VERSION
    assert engine.store.stats()["attribution_tables"] == "current"


def test_an_older_index_is_reported_and_rebuilt_without_re_embedding(make_engine: MakeEngine):
    """should report tables from before versions, and rebuild them from the stored text, vectors untouched."""
    engine = make_engine(TALKS)
    article_id = _age(engine)
    vectors = engine.store.sentences([article_id])[article_id].vectors.copy()
    generation = engine.store.generation
    assert engine.store.attribution_version == 0
    assert "reindex --attributions" in str(engine.store.stats()["attribution_tables"])

    assert engine.refresh_attributions() == 1

    stored = engine.store.sentences([article_id])[article_id]
    assert '"speaker":"Anna Berg"' in stored.attributions
    # What questions read: on PostgreSQL this process's replica, which copied the new tables.
    assert engine.reads.sentences([article_id])[article_id].attributions == stored.attributions
    np.testing.assert_array_equal(stored.vectors, vectors)
    assert engine.store.attribution_version == VERSION
    assert engine.store.generation > generation  # other processes' replicas copy the new tables
    assert engine.snapshot.generation == engine.store.generation


def test_opening_an_older_index_warns_once_with_the_command(make_engine: MakeEngine, caplog: pytest.LogCaptureFixture):
    """should tell the operator which command upgrades the tables, and not warn on a current index."""
    data_dir = make_engine(TALKS).config.data_dir
    with caplog.at_level(logging.WARNING, logger="app.engine"):
        make_engine(data_dir=data_dir)
    assert not [r for r in caplog.records if "attribution" in r.getMessage()]
    _age(make_engine(data_dir=data_dir))
    with caplog.at_level(logging.WARNING, logger="app.engine"):
        make_engine(data_dir=data_dir)
    assert [r for r in caplog.records if "newsdesk reindex --attributions" in r.getMessage()]

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.lexical import LexicalIndex, terms


def test_stemmed_terms_without_stop_words():
    """should stem and drop stop words so "strikes" matches "strike"."""
    assert terms("What did Peskov say about the strikes?") == ["peskov", "say", "strike"]


def test_bm25_ranks_and_masks(tmp_path: Path):
    """should rank the document with the rare query term first and honour a row mask."""
    index = LexicalIndex.build(["Peskov said the strikes were bad", "the cat sat on the mat", "strike a pose"])
    scores = index.scores(terms("Peskov strikes"))
    assert int(np.argmax(scores)) == 0 and scores[1] == 0
    masked = index.scores(terms("Peskov strikes"), np.array([False, True, True]))
    assert int(np.argmax(masked)) == 2
    index.save(tmp_path / "bm25")
    assert np.allclose(LexicalIndex.load(tmp_path / "bm25").scores(terms("Peskov")), index.scores(terms("Peskov")))


def test_empty_index():
    """should score nothing without failing when no passage is indexed."""
    index = LexicalIndex.build([])
    assert index.size == 0 and index.scores(["x"]).shape == (0,)

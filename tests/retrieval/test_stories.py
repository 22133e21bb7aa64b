"""Story grouping on hand-made signals: linkage, name weighting, the time penalty."""

from __future__ import annotations

import math

import numpy as np
import pytest

from index.models import Article
from retrieval.stories import GroupingWeights, Signals, article_vector, central, group, name_overlap, names, similarity


def _article(title: str, text: str = "") -> Article:
    return Article(id=title, collection="global", title=title, text=text or title)


def test_group_does_not_chain_through_one_loose_pair():
    """should keep A and C apart when only B is close to both (average, not single, linkage)."""
    sim = np.array([[1.0, 0.8, 0.1], [0.8, 1.0, 0.8], [0.1, 0.8, 1.0]], dtype=np.float32)
    assert group(sim, 0.7) == [[0, 1], [2]]


def test_group_threshold_cuts_between_pairs():
    """should merge a pair exactly when its similarity reaches the threshold."""
    sim = np.array([[1.0, 0.7], [0.7, 1.0]], dtype=np.float32)
    assert group(sim, 0.7) == [[0, 1]]
    assert group(sim, 0.71) == [[0], [1]]


@pytest.mark.parametrize(("n", "expected"), [(0, []), (1, [[0]])])
def test_group_of_none_or_one(n: int, expected: list[list[int]]):
    """should handle windows with no article or a single one."""
    assert group(np.ones((n, n), dtype=np.float32), 0.7) == expected


def test_names_are_stemmed_capitalised_words_of_headline_and_lede():
    """should keep names, not common words, and ignore the text after the lede."""
    article = _article("Lubitz locked the cockpit", "Andreas Lubitz flew to Duesseldorf. " + "x " * 400 + "Paris")
    assert names(article) == frozenset({"lubitz", "andrea", "duesseldorf"})


def test_rare_shared_names_count_more_than_common_ones():
    """should score a shared rare name above a shared name that every article has."""
    sets = [
        frozenset({"tikrit", "us"}),
        frozenset({"tikrit", "us"}),
        frozenset({"obama", "us"}),
        frozenset({"ferguson", "us"}),
    ]
    overlap = name_overlap(sets)
    assert overlap[0, 1] == pytest.approx(1.0)
    assert overlap[0, 1] > overlap[0, 2] > 0.0
    assert np.allclose(np.diag(overlap), 1.0)


def test_days_apart_lower_similarity_beyond_the_grace_period():
    """should subtract ``days`` per day apart after ``grace_days``, and nothing for an unknown date."""
    vectors = np.array([[1.0, 0.0]] * 3, dtype=np.float32)
    sig = Signals(vectors, vectors, (frozenset(),) * 3, np.array([0.0, 5.0, math.nan]))
    sim = similarity(sig, GroupingWeights(names=0.0, days=0.1, grace_days=2.0))
    assert sim[0, 1] == pytest.approx(1.0 - 0.3)
    assert sim[0, 2] == pytest.approx(1.0)


def test_article_vector_is_the_normalised_mean():
    """should average the passage vectors and normalise the result."""
    assert np.allclose(
        article_vector(np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)), [0.7071, 0.7071], atol=1e-4
    )


def test_central_is_closest_to_the_group_mean():
    """should pick the article nearest the middle of its group."""
    vectors = np.array([[1.0, 0.0], [0.7071, 0.7071], [0.0, 1.0]], dtype=np.float32)
    assert central([0, 1, 2], vectors) == 1


def test_central_gives_a_tie_to_the_first_row_whatever_the_last_bits():
    """should pick the first of two unit vectors (equally close to their mean), with either rounding, and a clear
    winner over it."""
    a = np.asarray([0.6, 0.8, 0.0], dtype=np.float32)
    b = np.asarray([0.0, 0.8, 0.6], dtype=np.float32)
    nudged = b * np.float32(1.0000001)  # the last bit another CPU's kernel might round differently
    assert central([0, 1], np.stack([a, b])) == 0
    assert central([0, 1], np.stack([a, nudged])) == 0
    assert central([1, 0], np.stack([a, nudged])) == 1
    middle = np.asarray([0.3, 0.9, 0.3], dtype=np.float32) / np.float32(np.linalg.norm([0.3, 0.9, 0.3]))
    assert central([0, 1, 2], np.stack([a, b, middle])) == 2

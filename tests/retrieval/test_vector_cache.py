from __future__ import annotations

import numpy as np

from retrieval.vector_cache import CachedEncoder
from tests.fakes import FakeEncoder


def test_cache_returns_the_same_vectors_and_encodes_each_text_once():
    """should return exactly the encoder's vectors, encoding repeated texts only once."""
    inner = FakeEncoder()
    cached = CachedEncoder(inner, max_items=3)
    texts = ["a storm", "a flood", "a storm"]
    first = cached.encode(texts)
    assert np.array_equal(first, inner.encode(texts))
    calls = inner.calls
    again = cached.encode(["a flood", "a storm"])
    assert inner.calls == calls and np.array_equal(again, first[[1, 0]])
    assert (cached.hits, cached.misses) == (2, 2)  # the repeat inside one call is encoded once, not a hit


def test_cache_is_bounded():
    """should forget the least recently used texts beyond its size."""
    cached = CachedEncoder(FakeEncoder(), max_items=2)
    cached.encode(["one", "two", "three"])
    assert list(cached._items) == ["two", "three"]
    assert cached.encode([]).shape == (0, 64)

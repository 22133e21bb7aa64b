"""A bounded LRU of text -> vector in front of the encoder, for questions and candidate sentences.

Answering embeds the question and the sentences of the retrieved passages. People ask
several questions about the same stories, so the same sentences come back again and
again: caching their vectors cuts most of the answerer's encoding time without changing
a single vector (a hit returns exactly what the encoder returned the first time).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from index.encoder import Encoder, Vectors

DEFAULT_MAX_ITEMS = 20_000  # about 30 MB of 384-d float32 vectors


class CachedEncoder:
    """An ``Encoder`` that remembers the vectors of recent texts; thread-safe."""

    def __init__(self, encoder: Encoder, *, max_items: int = DEFAULT_MAX_ITEMS) -> None:
        self.inner = encoder
        self.name, self.dim, self.backend = encoder.name, encoder.dim, encoder.backend
        self.max_items = max_items
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def encode(self, texts: Sequence[str], *, batch_size: int = 16, progress: bool = False) -> Vectors:
        """Vectors of ``texts``, encoding only those not seen recently."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for i, text in enumerate(texts):
                vector = self._items.get(text)
                if vector is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self._items.move_to_end(text)
                    out[i] = vector
            self.hits += len(texts) - sum(len(v) for v in missing.values())
            self.misses += len(missing)
        if missing:
            fresh = self.inner.encode(list(missing), batch_size=batch_size, progress=progress)
            with self._lock:
                for (text, positions), vector in zip(missing.items(), fresh, strict=True):
                    out[positions] = vector
                    self._items[text] = vector
                while len(self._items) > self.max_items:
                    self._items.popitem(last=False)
        return out

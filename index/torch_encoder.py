"""The reference encoder: plain sentence-transformers on PyTorch (and the fallback of the fast path)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from index.encoder import Vectors, offline, resolve_model


class TorchEncoder:
    """sentence-transformers on PyTorch: the reference path."""

    backend = "torch"

    def __init__(self, model: str, *, threads: int | None = None) -> None:
        offline()
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self.name = model
        try:
            self._model = SentenceTransformer(resolve_model(model), device="cpu")
        except Exception as exc:
            raise RuntimeError(f"cannot load embedding model {model!r} (offline; is it a local path?): {exc}") from exc
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.max_seq_length = int(self._model.max_seq_length or 256)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, batch_size: int = 16, progress: bool = False) -> Vectors:
        """Encode with sentence-transformers, normalised."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.encode(
                list(texts),
                batch_size=batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(out, dtype=np.float32)

    @property
    def model(self) -> object:
        """The underlying SentenceTransformer (used to export the OpenVINO model)."""
        return self._model

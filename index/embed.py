"""The choice between the two encoders, which give the same vectors for the same weights.

* ``TorchEncoder`` (``index/torch_encoder.py``): plain sentence-transformers on PyTorch, the
  reference and the fallback;
* ``OpenVINOEncoder`` (``index/openvino_encoder.py``): the Hugging Face model with the same
  mean pooling and normalisation, compiled by OpenVINO; about 4x faster on this kind of CPU.

``load_encoder(backend="auto")`` uses OpenVINO when it is installed and its vectors match the
PyTorch path on a fixed probe set, and falls back to PyTorch otherwise. The interface both
implement is ``index.encoder.Encoder``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from index.encoder import DEFAULT_MODEL, Backend, Encoder, offline
from index.torch_encoder import TorchEncoder

log = logging.getLogger(__name__)


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
    offline()
    if backend in ("auto", "openvino"):
        try:
            from index.openvino_encoder import OpenVINOEncoder

            return OpenVINOEncoder.load(model, cache_dir=cache_dir, threads=threads)
        except Exception as exc:
            if backend == "openvino":
                raise
            log.info("OpenVINO path unavailable (%s); using PyTorch", exc)
    return TorchEncoder(model, threads=threads)

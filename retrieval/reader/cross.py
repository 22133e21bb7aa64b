"""The cross-encoder: reads the question and a candidate sentence together, to re-rank the ranker's best few.

The LightGBM ranker sees numbers about each sentence (cosine, word coverage, who is quoted); it
cannot read whether the sentence answers. A cross-encoder can: the bundled MiniLM with a
one-logit head, its embeddings and lower layers frozen and the rest fine-tuned by
``benchmarks/train_reader.py`` on the ranker's best candidates of the training questions. Only
the fine-tuned weights ship (``cross.safetensors``, float16, hashed in the manifest); the frozen
ones are the bundled model's own. Its logit is added, with a weight chosen out of fold, to the
ranker's score of the ``top`` best candidates (``rerank``); the reader runs without it (the
ranker alone, with its own abstention model) when it is missing or cannot be trusted.

Two backends, as for the sentence encoder: PyTorch, or OpenVINO (about four times faster here),
converted once and cached under the engine's model cache keyed by the weights' hash, and refused
unless its logits for fixed probe pairs match PyTorch's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from index.encoder import Backend, fingerprint, resolve_model
from index.openvino_ir import convert_to_ir, model_inputs
from retrieval.reader.features import Candidate

log = logging.getLogger(__name__)

CROSS = "cross.safetensors"
MAX_PROBE_DIFF = 0.05  # largest |logit| difference OpenVINO may show against PyTorch on the probes
PROBES = (
    ("What did Peskov say about the strikes?", "Peskov said the threat of a collision had significantly increased."),
    ("How much did profits rise?", "Quarterly profits at TimeWarner jumped 76% to $1.13bn."),
    ("Who won the match?", "Ein kurzer Satz auf Deutsch, mit Zahlen 1234 und Zeichen!"),
)


@dataclass(frozen=True)
class CrossSpec:
    """How the cross-encoder was trained and is used: recorded in the reader's manifest."""

    sha256: str
    base_model: str  # the bundled sentence model whose frozen weights it shares
    frozen_layers: int  # lower transformer layers left as the base model's (not in the file)
    weight: float  # the ranker score gains ``weight`` times the logit
    top: int  # candidates re-scored per question (the ranker's best)
    max_length: int  # tokens of question and sentence together
    base_fingerprint: str | None = None  # ``index.encoder.fingerprint`` of the base model it was trained on

    @classmethod
    def from_manifest(cls, entry: dict[str, Any]) -> CrossSpec:
        """The spec of a manifest's ``cross`` entry (``KeyError``/``ValueError`` when incomplete)."""
        return cls(
            sha256=str(entry["sha256"]),
            base_model=str(entry["base_model"]),
            frozen_layers=int(entry["frozen_layers"]),
            weight=float(entry["weight"]),
            top=int(entry["top"]),
            max_length=int(entry["max_length"]),
            base_fingerprint=str(entry["base_fingerprint"]) if entry.get("base_fingerprint") else None,
        )


class CrossScorer(Protocol):
    """One logit per (question, sentence): higher means the sentence answers the question."""

    backend: str

    def score(self, question: str, sentences: Sequence[str]) -> npt.NDArray[np.float32]:
        """One logit per sentence, in order."""
        ...


def rerank(
    scores: npt.NDArray[np.float64], logits: npt.NDArray[np.float32], weight: float, top: int
) -> npt.NDArray[np.float64]:
    """The ranker's ``scores`` with ``weight * logits`` added to its ``top`` best (``logits`` in that order).

    The others keep their order but fall below every re-scored candidate, so a sentence the
    cross-encoder never read cannot overtake one it judged.
    """
    order = np.argsort(-scores, kind="stable")[:top]
    mixed = scores.astype(np.float64).copy()
    mixed[order] = scores[order] + weight * np.asarray(logits[: len(order)], dtype=np.float64)
    rest = np.ones(len(scores), dtype=bool)
    rest[order] = False
    if rest.any() and len(order):
        mixed[rest] = scores[rest] - scores[rest].max() + mixed[order].min() - 1.0
    return mixed


def read(
    scorer: CrossScorer, question: str, candidates: Sequence[Candidate], scores: npt.NDArray[np.float64], top: int
) -> npt.NDArray[np.float32]:
    """The cross-encoder's logits for the ``top`` best-scored candidates, best first (what ``rerank`` adds)."""
    best = np.argsort(-scores, kind="stable")[:top]
    return scorer.score(question, [sentence_text(candidates[int(i)]) for i in best])


def sentence_text(candidate: Candidate) -> str:
    """The candidate sentence as the cross-encoder reads it."""
    return candidate.story.article.text[candidate.start : candidate.end]


def pair_tokenizer(base: Path, max_length: int) -> Any:
    """The base model's fast tokenizer, set to encode (question, sentence) pairs padded to the longest."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
    tokenizer.enable_padding()
    return tokenizer


def encode_pairs(tokenizer: Any, pairs: Sequence[tuple[str, str]]) -> dict[str, npt.NDArray[np.int64]]:
    """Token ids, attention mask and segment ids of ``(question, sentence)`` pairs."""
    return model_inputs(tokenizer.encode_batch(list(pairs)))


def torch_feed(tokenizer: Any, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """``encode_pairs`` as PyTorch tensors."""
    import torch

    return {k: torch.from_numpy(v) for k, v in encode_pairs(tokenizer, pairs).items()}


def classifier(base: Path, frozen_layers: int) -> Any:
    """The base model with a one-logit head; its embeddings and lower layers frozen (training starts here)."""
    import torch
    from transformers import AutoModelForSequenceClassification
    from transformers import logging as transformers_logging

    # the new head's "newly initialized" notice is expected; no progress bar on a user's first question
    transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    torch.manual_seed(0)  # the head's initial weights (overwritten when loading trained weights)
    model = AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=1)
    frozen = ("bert.embeddings.", *(f"bert.encoder.layer.{i}." for i in range(frozen_layers)))
    for name, parameter in model.named_parameters():
        parameter.requires_grad = not name.startswith(frozen)
    return model


def trained_weights(model: Any) -> dict[str, Any]:
    """The parameters training changed (what ``cross.safetensors`` holds), as float16."""
    import torch

    return {n: p.detach().to(torch.float16).contiguous() for n, p in model.named_parameters() if p.requires_grad}


def load_weights(model: Any, weights: dict[str, Any]) -> None:
    """Put trained (float16) weights into ``model``; every trainable parameter must be among them."""
    wanted = {n for n, p in model.named_parameters() if p.requires_grad}
    if missing := wanted - set(weights):
        raise ValueError(f"the cross-encoder file lacks {len(missing)} trained tensors (e.g. {min(missing)})")
    state = {n: w.float() for n, w in weights.items()}
    unexpected = model.load_state_dict(state, strict=False).unexpected_keys
    if unexpected:
        raise ValueError(f"the cross-encoder file has tensors the model does not: {unexpected[:3]}")
    model.eval()


class TorchCross:
    """The cross-encoder on PyTorch."""

    backend = "torch"

    def __init__(self, model: Any, base: Path, max_length: int, threads: int | None = None) -> None:
        self.model = model
        self.base = base
        self.tokenizer = pair_tokenizer(base, max_length)
        self.threads = threads
        self._lock = threading.Lock()

    @classmethod
    def load(cls, file: Path, spec: CrossSpec, threads: int | None = None) -> TorchCross:
        """The trained cross-encoder of ``file`` on the bundled base model."""
        from safetensors.torch import load_file

        base = Path(resolve_model(spec.base_model))
        model = classifier(base, spec.frozen_layers)
        load_weights(model, load_file(str(file)))
        return cls(model, base, spec.max_length, threads)

    def score(self, question: str, sentences: Sequence[str]) -> npt.NDArray[np.float32]:
        """One logit per sentence."""
        import torch

        if not sentences:
            return np.zeros(0, dtype=np.float32)
        feed = torch_feed(self.tokenizer, [(question, s) for s in sentences])
        with self._lock, torch.inference_mode():
            if self.threads:
                torch.set_num_threads(self.threads)
            logits = self.model(**feed).logits[:, 0].numpy()
        return np.asarray(logits, dtype=np.float32)


class OpenVINOCross:
    """The cross-encoder compiled by OpenVINO (converted from ``TorchCross`` once, then cached)."""

    backend = "openvino"

    def __init__(self, ir_dir: Path, base: Path, max_length: int, threads: int | None) -> None:
        import openvino as ov

        self.tokenizer = pair_tokenizer(base, max_length)
        config = {"INFERENCE_NUM_THREADS": threads} if threads else {}
        self._compiled = ov.Core().compile_model(str(ir_dir / "model.xml"), "CPU", config)
        self._lock = threading.Lock()
        reference = json.loads((ir_dir / "probes.json").read_text())["logits"]
        got = [float(self.score(q, [s])[0]) for q, s in PROBES]
        diff = max(abs(a - b) for a, b in zip(got, reference, strict=True))
        if diff > MAX_PROBE_DIFF:
            raise RuntimeError(f"OpenVINO cross-encoder logits differ from PyTorch by {diff:.4f}")

    @classmethod
    def load(cls, file: Path, spec: CrossSpec, cache_dir: Path, threads: int | None) -> OpenVINOCross:
        """The cached IR for these weights, converting them first when needed."""
        base = Path(resolve_model(spec.base_model))
        ir_dir = cache_dir / "openvino-cross" / spec.sha256[:16]
        if not (ir_dir / "probes.json").exists():
            log.info("converting the reader's cross-encoder to OpenVINO (once)")
            ir_dir.parent.mkdir(parents=True, exist_ok=True)
            convert(TorchCross.load(file, spec), ir_dir)
        return cls(ir_dir, base, spec.max_length, threads)

    def score(self, question: str, sentences: Sequence[str]) -> npt.NDArray[np.float32]:
        """One logit per sentence."""
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        feed = encode_pairs(self.tokenizer, [(question, s) for s in sentences])
        with self._lock:
            result = self._compiled(feed)[0]
        return np.asarray(result, dtype=np.float32)[:, 0]


def convert(torch_cross: TorchCross, target: Path) -> None:
    """Convert to OpenVINO IR in ``target``, with PyTorch's logits for the probes; atomic (a rename)."""
    question, sentence = PROBES[0]
    example = torch_feed(torch_cross.tokenizer, [(question, sentence)] * 2)
    convert_to_ir(
        torch_cross.model,
        lambda out, _mask: out.logits,
        example,
        target,
        lambda: {"logits": [float(torch_cross.score(q, [s])[0]) for q, s in PROBES]},
    )


_loaded: dict[tuple[str, str, Backend, int | None], CrossScorer | None] = {}
_loading = threading.Lock()


def load_cross(
    directory: Path, spec: CrossSpec, *, backend: Backend = "auto", cache_dir: Path, threads: int | None = None
) -> CrossScorer | None:
    """The cross-encoder of ``directory``, or ``None`` (with the reason logged once) when it cannot be trusted.

    Loaded once per process for the same file, weights, backend and threads: every engine of a
    process shares it (``cache_dir`` only keeps the OpenVINO conversion across processes).
    """
    key = (str(directory), spec.sha256, backend, threads)
    with _loading:
        if key not in _loaded:
            _loaded[key] = _load(directory / CROSS, spec, backend, cache_dir, threads)
        return _loaded[key]


def _load(file: Path, spec: CrossSpec, backend: Backend, cache_dir: Path, threads: int | None) -> CrossScorer | None:
    try:
        if hashlib.sha256(file.read_bytes()).hexdigest() != spec.sha256:
            log.warning("the reader's cross-encoder does not match its recorded hash; ranking without it")
            return None
        base = Path(resolve_model(spec.base_model))
        if spec.base_fingerprint and fingerprint(base) != spec.base_fingerprint:
            log.warning("the reader's cross-encoder was trained on another %s; ranking without it", spec.base_model)
            return None
        if backend in ("auto", "openvino"):
            try:
                return OpenVINOCross.load(file, spec, cache_dir, threads)
            except Exception as exc:  # any conversion or runtime failure: PyTorch still answers
                if backend == "openvino":
                    raise
                log.info("OpenVINO cross-encoder unavailable (%s); using PyTorch", exc)
        return TorchCross.load(file, spec, threads)
    except FileNotFoundError as exc:
        log.warning("no cross-encoder (%s); ranking without it", exc.filename)
    except Exception as exc:  # a corrupt file, a missing base model: rank without it rather than fail
        log.warning("the reader's cross-encoder cannot be loaded (%s); ranking without it", exc)
    return None

"""Raw encode throughput of the PyTorch and OpenVINO encoders, and an encoder wrapper that times ``encode``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.speed.common import Vectors, log


def encode_rate(encoder: Any, texts: Sequence[str], *, batch_size: int = 16) -> dict[str, float]:
    """Passages per second of ``encoder.encode(texts)`` after one warm-up batch.

    ``cpu_cores_busy`` (process CPU seconds per wall second) shows contention: with 2 free
    cores an encoder keeps about 2 busy; other processes on the machine pull it down.
    """
    encoder.encode(list(texts[:batch_size]), batch_size=batch_size)
    started, cpu = time.perf_counter(), time.process_time()
    encoder.encode(list(texts), batch_size=batch_size)
    wall = time.perf_counter() - started
    return {
        "passages_per_s": round(len(texts) / wall, 1),
        "cpu_cores_busy": round((time.process_time() - cpu) / wall, 2),
    }


def load_reference_encoders(model: str, cache_dir: Path) -> tuple[Any, Any | None]:
    """Raw sentence-transformers on PyTorch, and the OpenVINO encoder (``None`` when unavailable)."""
    from index.embed import TorchEncoder, load_encoder

    torch_encoder = TorchEncoder(model)
    try:
        return torch_encoder, load_encoder(model, backend="openvino", cache_dir=cache_dir)
    except Exception as exc:  # openvino missing or its probe check failed: report, do not fail
        log(f"OpenVINO encoder unavailable: {exc}")
        return torch_encoder, None


def measure_encoders(torch_encoder: Any, ov_encoder: Any | None, texts: Sequence[str]) -> dict[str, Any]:
    """Raw encode throughput of both encoders on the same texts, batch 16."""
    return {
        "torch": encode_rate(torch_encoder, texts),
        "openvino": encode_rate(ov_encoder, texts) if ov_encoder is not None else None,
    }


def mean_rate(runs: Sequence[dict[str, Any] | None]) -> float | None:
    """Mean passages/s of several ``encode_rate`` results (``None`` when there are none)."""
    rates = [r["passages_per_s"] for r in runs if r is not None]
    return round(sum(rates) / len(rates), 1) if rates else None


class TimedEncoder:
    """Wraps an encoder and adds up the seconds spent in ``encode``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.dim, self.backend = inner.name, inner.dim, inner.backend
        self.seconds = 0.0

    def encode(self, texts: Sequence[str], *, batch_size: int = 16, progress: bool = False) -> Vectors:
        """Encode with the wrapped encoder, timing it."""
        started = time.perf_counter()
        try:
            out: Vectors = self.inner.encode(texts, batch_size=batch_size, progress=progress)
            return out
        finally:
            self.seconds += time.perf_counter() - started

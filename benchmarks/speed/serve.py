"""Warm ``Engine.ask`` latency and peak memory per corpus size, each in a fresh process."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.speed.common import WARMUP_QUESTIONS, dir_bytes, in_subprocess, log, peak_rss_mb, percentiles
from benchmarks.speed.corpus import RealCorpus, build_corpus


def serve_latency(data_dir: Path, cache_dir: Path, model: str, questions: Sequence[str]) -> dict[str, Any]:
    """Open an ``Engine`` on ``data_dir`` and time ``ask`` over ``questions`` after a warm-up."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from app.config import EngineConfig
    from app.engine import Engine
    from retrieval.errors import RetrievalError

    t0 = time.perf_counter()
    engine = Engine(EngineConfig(data_dir=data_dir, model=model, cache_dir=cache_dir))
    open_s = time.perf_counter() - t0
    for q in questions[:WARMUP_QUESTIONS]:
        with contextlib.suppress(RetrievalError):
            engine.ask(q)
    latencies, answered, skipped = [], 0, 0
    started_all, cpu = time.perf_counter(), time.process_time()
    for q in questions[WARMUP_QUESTIONS:]:
        started = time.perf_counter()
        try:
            answer = engine.ask(q)
        except RetrievalError:
            skipped += 1
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        answered += answer.answered
    cores_busy = (time.process_time() - cpu) / (time.perf_counter() - started_all)
    result = {
        "rows": engine.snapshot.rows,
        "index_type": engine.snapshot.index_type,
        "encoder": engine.encoder.backend,
        "cross_encoder": _cross_backend(engine),
        "open_s": round(open_s, 2),
        "questions": len(latencies),
        "skipped": skipped,
        "answered": answered,
        "ask_ms": percentiles(latencies),
        "mean_ms": round(float(np.mean(latencies)), 2),
        "cpu_cores_busy": round(cores_busy, 2),
        "vector_cache": _cache_stats(engine),
        "peak_rss_mb": peak_rss_mb(),
    }
    engine.close()
    return result


def _cross_backend(engine: Any) -> str | None:
    """The backend of the reader's cross-encoder (None: the answerer has none, or it did not load)."""
    load = getattr(engine.answerer, "cross", None)
    scorer = load() if load else None
    return getattr(scorer, "backend", None)


def prepare_cross(cache_dir: Path) -> str | None:
    """Convert the reader's cross-encoder into ``cache_dir`` once, so no timed process pays for it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from retrieval.reader.cross import load_cross
    from retrieval.reader.model import MODEL_DIR, load_reader

    model = load_reader(MODEL_DIR)
    if model is None or model.cross is None:
        return None
    scorer = load_cross(MODEL_DIR, model.cross, cache_dir=cache_dir)
    return getattr(scorer, "backend", None)


def _cache_stats(engine: Any) -> dict[str, int] | None:
    """Hits and misses of the engine's question/sentence vector cache, when it has one."""
    cache = getattr(engine, "query_encoder", None)
    if cache is None or not hasattr(cache, "hits"):
        return None
    return {"hits": int(cache.hits), "misses": int(cache.misses)}


def measure_ask(
    corpus: RealCorpus, model_name: str, questions: Sequence[str], args: argparse.Namespace, root: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """For each size: build the corpus, then time ``ask`` in a fresh process; returns (asks, builds)."""
    ask, built = {}, {}
    log(f"reader's cross-encoder: {in_subprocess(prepare_cross, Path(args.cache_dir))}")
    for size in args.sizes:
        log(f"building a {size:,}-passage corpus ({corpus.rows:,} real rows)")
        data_dir = root / f"corpus-{size}"
        build = build_corpus(corpus, size, data_dir, model_name)
        build["index_bytes"] = dir_bytes(data_dir)
        build["snapshot_bytes"] = dir_bytes(data_dir / "snapshots")
        log(f"  {build}; asking {args.questions} questions in a fresh process")
        served = in_subprocess(serve_latency, data_dir, Path(args.cache_dir), args.model, questions)
        log(f"  {served}")
        ask[str(size)], built[str(size)] = served, build
        shutil.rmtree(data_dir, ignore_errors=True)
    return ask, built

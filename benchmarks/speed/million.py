"""A FAISS index over one million mixture vectors: build time, size on disk, search latency."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.speed.common import SEED, Vectors, peak_rss_mb, percentiles
from benchmarks.speed.vectors import mixture_vectors


def million_vectors(
    base: Vectors, rows: int, out_dir: Path, *, budget_s: float, queries: int = 200, seed: int = SEED
) -> dict[str, Any]:
    """Build the FAISS index ``choose_index(rows, dim)`` picks over mixture vectors; size, time, search.

    Vectors are added in chunks; when ``budget_s`` runs out the build stops and the full build
    time (per-row time of the last chunk for the rest) and size (bytes per row) are extrapolated.
    """
    import faiss

    from index.snapshot import choose_index

    rng = np.random.default_rng(seed)
    index = choose_index(rows, base.shape[1])
    chunk = min(50_000, max(rows // 10, 1))
    started, cpu = time.perf_counter(), time.process_time()
    gen_s = 0.0
    last_rate = 0.0
    while index.ntotal < rows and (index.ntotal == 0 or time.perf_counter() - started - gen_s < budget_s):
        t0 = time.perf_counter()
        block = mixture_vectors(base, min(chunk, rows - index.ntotal), rng)
        gen_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        index.add(block)
        last_rate = (time.perf_counter() - t0) / len(block)
    built = int(index.ntotal)
    build_s = time.perf_counter() - started - gen_s
    cores_busy = (time.process_time() - cpu) / (time.perf_counter() - started)
    path = out_dir / "dense.faiss"
    t0 = time.perf_counter()
    faiss.write_index(index, str(path))
    write_s = time.perf_counter() - t0
    size = path.stat().st_size
    qv = mixture_vectors(base, queries, rng)
    latencies = []
    for q in qv:
        t0 = time.perf_counter()
        index.search(q.reshape(1, -1), 10)
        latencies.append((time.perf_counter() - t0) * 1000)
    estimated = built < rows
    return {
        "rows": rows,
        "rows_built": built,
        "index_type": type(index).__name__,
        "build_s": round(build_s + (rows - built) * last_rate, 1),
        "estimated": estimated,
        "bytes": int(size / built * rows) if estimated else size,
        "write_s": round(write_s, 1),
        "cpu_cores_busy": round(cores_busy, 2),
        "search_ms": percentiles(latencies),
        "peak_rss_mb": peak_rss_mb(),
        "vectors": "mixtures of two real vectors + noise, normalised",
    }

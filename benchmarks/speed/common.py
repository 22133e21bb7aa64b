"""Constants and process helpers shared by the speed benchmark: logging, percentiles, memory, sizes."""

from __future__ import annotations

import multiprocessing
import resource
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_EVAL = ROOT.parent / "shared" / "eval"
DEFAULT_CACHE = ROOT / "benchmarks" / "results" / "speed-models"
SEED = 20261126
NOISE = 0.1
ONE_MILLION = 1_000_000
WARMUP_QUESTIONS = 5
Vectors = npt.NDArray[np.float32]
T = TypeVar("T")


def log(message: str) -> None:
    """Progress on stderr, so that ``--json`` keeps stdout clean."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- pure helpers ---------------------------------------------------------------------------------
def percentiles(values: Sequence[float], qs: Sequence[int] = (50, 95, 99)) -> dict[str, float]:
    """``{"p50": ..., "p95": ..., "p99": ...}`` with linear interpolation (numpy's default), rounded to 0.01.

    Raises:
        ValueError: for no values.
    """
    if not len(values):
        raise ValueError("no values")
    data = np.asarray(values, dtype=np.float64)
    return {f"p{q}": round(float(np.percentile(data, q)), 2) for q in qs}


def dir_bytes(path: Path) -> int:
    """Total size of the files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB.

    ``VmHWM`` from ``/proc/self/status``: unlike ``ru_maxrss``, which Linux carries across
    ``exec`` (a spawned child would report its parent's peak), it starts afresh in a new process.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def in_subprocess(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` in a fresh (spawned) process, so memory peaks do not mix."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args, **kwargs).result()

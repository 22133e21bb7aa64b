"""Unit vectors with noise and mixtures of real vectors, for synthetic corpora and the 1M-vector index."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.speed.common import NOISE, Vectors


def unit_rows(matrix: npt.NDArray[np.floating[Any]]) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.ascontiguousarray(matrix / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def noisy(matrix: npt.NDArray[np.floating[Any]], rng: np.random.Generator, noise: float = NOISE) -> Vectors:
    """Add isotropic Gaussian noise of expected norm about ``noise`` per row, then normalise."""
    dim = matrix.shape[1]
    return unit_rows(matrix + rng.normal(0.0, noise / np.sqrt(dim), size=matrix.shape))


def mixture_vectors(base: Vectors, n: int, rng: np.random.Generator, noise: float = NOISE) -> Vectors:
    """``n`` unit vectors, each a random convex mixture of two rows of ``base`` plus noise."""
    a = base[rng.integers(0, len(base), n)]
    b = base[rng.integers(0, len(base), n)]
    w = rng.uniform(0.0, 1.0, size=(n, 1)).astype(np.float32)
    return noisy(w * a + (1 - w) * b, rng, noise)

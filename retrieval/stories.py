"""Group articles into stories: articles about the same news event, whoever published them.

Grouping embeds nothing: it reads the passage vectors the store already keeps. Two articles
are compared by four signals, each measured on labelled pairs (``benchmarks/digest.py``):

* the cosine of their article vectors (normalised mean of the passage vectors): the topic;
* the cosine of their first passages (the lede says which event; measured, it added nothing over
  the whole-article cosine on the labelled pairs, so its default weight is 0);
* the overlap of the names in headline and lede, weighted by how rare each name is among the
  articles being grouped: two reports of one event share its people and places ("Tikrit",
  "Lubitz"), two stories on one topic share mostly common names ("U.S.", "Obama");
* the days between them: news about one event comes in a burst, so similar articles weeks apart
  are more likely two events (two executions, two storms) than one.

Groups are formed by average-linkage clustering, so one loose pair cannot chain two events
together the way single linkage would.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from index.lexical import terms
from index.models import Article

FloatArray = npt.NDArray[np.float32]

LEDE_CHARS = 600
TIE = 1e-5  # closeness to the group mean within float32 noise of the best counts as a tie
_NAME = re.compile(r"\b[A-Z][\w'’.-]*\w")


@dataclass(frozen=True)
class GroupingWeights:
    """How article similarity is scored and where stories are cut (chosen in ``benchmarks/digest.py``)."""

    lede: float = 0.0  # share of the lede cosine in the vector similarity (the rest: whole-article cosine)
    names: float = 1.0
    days: float = 0.04  # subtracted per day apart, beyond ``grace_days``
    grace_days: float = 2.0
    threshold: float = 0.7


@dataclass(frozen=True)
class Signals:
    """What grouping compares, for a list of articles (row i is article i)."""

    vectors: FloatArray  # normalised mean of each article's passage vectors
    ledes: FloatArray  # normalised first passage vector
    names: tuple[frozenset[str], ...]
    days: npt.NDArray[np.float64]  # publication time in days (NaN when unknown)


def _normalise(vector: FloatArray) -> FloatArray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def article_vector(passage_vectors: FloatArray) -> FloatArray:
    """The article's vector: the normalised mean of its passage vectors."""
    return _normalise(np.asarray(passage_vectors, dtype=np.float32).mean(axis=0))


def names(article: Article) -> frozenset[str]:
    """Stemmed capitalised words of the headline and lede: the event's people, places and bodies."""
    text = f"{article.title}\n{article.text[:LEDE_CHARS]}"
    return frozenset(terms(" ".join(_NAME.findall(text))))


def signals(articles: Sequence[Article], passage_vectors: Sequence[FloatArray]) -> Signals:
    """The grouping signals of ``articles``, given each one's passage vectors (in passage order)."""
    return Signals(
        vectors=np.vstack([article_vector(p) for p in passage_vectors]).astype(np.float32),
        ledes=np.vstack([_normalise(np.asarray(p[0], dtype=np.float32)) for p in passage_vectors]),
        names=tuple(names(a) for a in articles),
        days=np.asarray(
            [a.published.timestamp() / 86400 if a.published else math.nan for a in articles],
            dtype=np.float64,
        ),
    )


def name_overlap(sets: Sequence[frozenset[str]]) -> FloatArray:
    """Pairwise IDF-weighted Jaccard overlap of name sets: shared rare names count most."""
    n = len(sets)
    df = Counter(name for s in sets for name in s)
    idf = {name: math.log((n + 1) / (count + 0.5)) for name, count in df.items()}
    shared = np.zeros((n, n), dtype=np.float32)
    holders: dict[str, list[int]] = {}
    for i, s in enumerate(sets):
        for name in s:
            holders.setdefault(name, []).append(i)
    for name, rows in holders.items():
        if len(rows) > 1:
            index = np.asarray(rows)
            shared[np.ix_(index, index)] += idf[name]
    totals = np.asarray([sum(idf[x] for x in s) for s in sets], dtype=np.float32)
    union = totals[:, None] + totals[None, :] - shared
    out = np.zeros_like(shared)
    np.divide(shared, union, out=out, where=union > 0)
    np.fill_diagonal(out, 1.0)
    return out


def similarity(sig: Signals, weights: GroupingWeights) -> FloatArray:
    """Pairwise story similarity of articles (higher: more likely the same event)."""
    vec = (1 - weights.lede) * (sig.vectors @ sig.vectors.T) + weights.lede * (sig.ledes @ sig.ledes.T)
    apart = np.abs(sig.days[:, None] - sig.days[None, :])
    late = np.nan_to_num(np.clip(apart - weights.grace_days, 0.0, None), nan=0.0)
    result: FloatArray = (vec + weights.names * name_overlap(sig.names) - weights.days * late).astype(np.float32)
    return result


def group(sim: FloatArray, threshold: float) -> list[list[int]]:
    """Average-linkage clusters: two groups merge while their mean cross similarity is >= ``threshold``.

    Returns:
        Groups of row indices, each in ascending order, groups ordered by their first row.
    """
    return group_at(sim, [threshold])[0]


def group_at(sim: FloatArray, thresholds: Sequence[float]) -> list[list[list[int]]]:
    """``group`` at several thresholds from one clustering (the benchmark sweeps them)."""
    n = sim.shape[0]
    if n < 2:
        return [[[0]] if n else [] for _ in thresholds]
    top = float(sim.max())
    distance = top - (sim.astype(np.float64) + sim.T.astype(np.float64)) / 2
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(np.clip(distance, 0.0, None), checks=False), method="average")
    out = []
    for threshold in thresholds:
        groups: dict[int, list[int]] = {}
        cut = top - threshold + 1e-6  # float32 similarities: a pair exactly at the threshold still merges
        for row, label in enumerate(fcluster(tree, t=cut, criterion="distance").tolist()):
            groups.setdefault(label, []).append(row)
        out.append(sorted(groups.values(), key=lambda rows: rows[0]))
    return out


def central(rows: Sequence[int], vectors: FloatArray) -> int:
    """The row of the group whose vector is closest to the group's mean: the story's most typical article.

    Near-ties (two unit vectors are always equally close to their mean) go to the first row in ``rows``, so
    that the choice never rests on the last bits of an embedding, which differ between CPUs.
    """
    block = np.asarray(vectors, dtype=np.float32)[list(rows)]
    closeness = block @ block.mean(axis=0)
    return int(rows[int(np.flatnonzero(closeness >= closeness.max() - TIE)[0])])

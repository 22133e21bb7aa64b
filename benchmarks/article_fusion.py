"""Article recall of the first retrieval stage: is the question's own article among the best few?

The reader reads only the best ``STORIES`` articles of the first stage (``retrieval/hybrid.py``), so
an answer it cannot find there it cannot quote. For every NewsQA dev question and every answerable
development question (``benchmarks/questions/dev.jsonl``) on the benchmark index, this ranks all
articles by the shipped fusion (``ARTICLE_WEIGHTS``) and by other weights, and by three dense signals
the product does not use (the cosine with the article's mean passage vector, its best passage's
cosine over all passages instead of the 200 nearest, and its best sentence's cosine from the stored
sentence vectors), and reports the share of questions whose article is first, in the best 3,
``STORIES`` and 8 (``TOP_ARTICLES``).

    python -m benchmarks.article_fusion [--eval-dir DIR] [--data-dir DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from app.config import EngineConfig
from benchmarks.quality import DEFAULT_EVAL, ROOT, load_jsonl, open_benchmark
from benchmarks.questions.sets import load_rows
from retrieval.hybrid import ARTICLE_WEIGHTS, DENSE_DEPTH, TOP_ARTICLES
from retrieval.question import analyse
from retrieval.reader.features import STORIES

DEVELOPMENT = ROOT / "benchmarks" / "questions" / "dev.jsonl"
CUTS = (1, 3, STORIES, TOP_ARTICLES)
SEED = 13
Floats = npt.NDArray[np.float32]
# (name, weights of: whole-article BM25, best passage BM25, best passage cosine, article-vector cosine, exhaustive
# best passage cosine, best sentence cosine); the first is what ships
FUSIONS: tuple[tuple[str, tuple[float, ...]], ...] = (
    ("shipped", (*ARTICLE_WEIGHTS, 0.0, 0.0, 0.0)),
    ("no passage BM25", (1.0, 0.0, 0.5, 0.0, 0.0, 0.0)),
    ("passage BM25 0.25", (1.0, 0.25, 0.5, 0.0, 0.0, 0.0)),
    ("passage BM25 0.75", (1.0, 0.75, 0.5, 0.0, 0.0, 0.0)),
    ("no cosine", (1.0, 0.5, 0.0, 0.0, 0.0, 0.0)),
    ("cosine 0.25", (1.0, 0.5, 0.25, 0.0, 0.0, 0.0)),
    ("cosine 0.75", (1.0, 0.5, 0.75, 0.0, 0.0, 0.0)),
    ("cosine 1.0", (1.0, 0.5, 1.0, 0.0, 0.0, 0.0)),
    ("+ article vector 0.25", (1.0, 0.5, 0.5, 0.25, 0.0, 0.0)),
    ("+ article vector 0.5", (1.0, 0.5, 0.5, 0.5, 0.0, 0.0)),
    ("+ exhaustive cosine 0.25", (1.0, 0.5, 0.5, 0.0, 0.25, 0.0)),
    ("exhaustive cosine 0.5 instead", (1.0, 0.5, 0.0, 0.0, 0.5, 0.0)),
    ("all five", (1.0, 0.5, 0.25, 0.25, 0.25, 0.0)),
    ("+ best sentence cosine 0.25", (1.0, 0.5, 0.5, 0.0, 0.0, 0.25)),
    ("+ best sentence cosine 0.5", (1.0, 0.5, 0.5, 0.0, 0.0, 0.5)),
    ("+ best sentence cosine 1.0", (1.0, 0.5, 0.5, 0.0, 0.0, 1.0)),
    ("best sentence cosine 0.5 instead", (1.0, 0.5, 0.0, 0.0, 0.0, 0.5)),
)


def _top_scaled(values: Floats, depth: int = DENSE_DEPTH) -> Floats:
    """Min-max over the ``depth`` best, clipped at 0 (as the first stage scales its cosine)."""
    floor = float(np.partition(values, -depth)[-depth]) if values.size > depth else float(values.min())
    out: Floats = np.clip((values - floor) / max(float(values.max()) - floor, 1e-9), 0.0, None).astype(np.float32)
    return out


def _best_per_article(owner: npt.NDArray[np.int64], scores: Floats, articles: int) -> Floats:
    """Each article's best score among its rows (-1 for an article with none)."""
    best: Floats = np.full(articles, -1.0, dtype=np.float32)
    np.maximum.at(best, owner, scores)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    """Print each fusion's article recall on NewsQA and on the development questions."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "results" / "quality-index")
    parser.add_argument("--limit", type=int, help="a fixed sample of N questions of each set (a quick check)")
    args = parser.parse_args(argv)
    opened = open_benchmark(args.eval_dir, EngineConfig(data_dir=args.data_dir))
    if opened is None:
        return 2
    engine, id_map, _ = opened
    searcher = engine._current()
    snap = searcher.snapshot
    row_of = {a: i for i, a in enumerate(snap.article_ids)}
    vectors = snap.dense.reconstruct_n(0, snap.rows).astype(np.float32)
    mean = np.zeros((len(snap.article_ids), vectors.shape[1]), dtype=np.float32)
    np.add.at(mean, snap.row_article, vectors)
    mean /= np.linalg.norm(mean, axis=1, keepdims=True) + 1e-9
    stored = engine.reads.sentences(snap.article_ids)
    sentence_vectors = np.concatenate([s.vectors for s in stored.values() if s.vectors.size]).astype(np.float32)
    sentence_article = np.concatenate([np.full(len(s.spans), row_of[a]) for a, s in stored.items() if s.vectors.size])
    sets = {
        "NewsQA dev": [
            (str(q["question"]), id_map[str(q["article_id"])])
            for q in load_jsonl(args.eval_dir / "newsqa" / "questions.jsonl")
            if str(q["article_id"]) in id_map
        ],
        "development (answerable)": [
            (r.asked, id_map[r.article_id])
            for r in load_rows(DEVELOPMENT)
            if r.kind != "refuse" and r.article_id in id_map
        ],
    }
    for name, items in sets.items():
        if args.limit:
            items = random.Random(SEED).sample(items, min(args.limit, len(items)))
        ranks = np.zeros((len(FUSIONS), len(items)), dtype=np.int64)
        for j, (text, gold) in enumerate(tqdm(items, desc=name, file=sys.stderr, mininterval=10)):
            question = analyse(text)
            query = engine.query_encoder.encode([question.text])[0].astype(np.float32)
            s = searcher.article_signals(question, query)
            best_cosine = _best_per_article(snap.row_article, vectors @ query, len(snap.article_ids))
            best_sentence = _best_per_article(sentence_article, sentence_vectors @ query, len(snap.article_ids))
            signals = (
                s.whole,
                s.best_passage,
                s.best_dense,
                _top_scaled(mean @ query),
                _top_scaled(best_cosine),
                _top_scaled(best_sentence),
            )
            for i, (_, weights) in enumerate(FUSIONS):
                fused = np.zeros_like(s.whole)
                for w, x in zip(weights, signals, strict=True):
                    fused += w * x
                ranks[i, j] = int(np.count_nonzero(fused > fused[row_of[gold]]))
        print(f"\n{name} ({len(items)} questions): share whose article is in the best " + " / ".join(map(str, CUTS)))
        for (label, weights), r in zip(FUSIONS, ranks, strict=True):
            shares = " / ".join(f"{np.mean(r < cut):.3f}" for cut in CUTS)
            print(f"  {label:34} {weights}  {shares}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

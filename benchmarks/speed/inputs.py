"""The benchmark inputs: eval articles, a seeded question sample, passages cut as the pipeline cuts them."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

from benchmarks.speed.common import SEED, WARMUP_QUESTIONS
from index.chunk import chunk_article
from index.models import GLOBAL_COLLECTION, RawArticle
from index.pipeline import ChunkSettings
from index.snapshot import index_text


def load_raw_articles(path: Path, limit: int | None = None) -> list[RawArticle]:
    """The first ``limit`` readable articles of a JSONL file."""
    from index.readers import read_paths

    out: list[RawArticle] = []
    for result in read_paths([path]):
        if result.article is not None:
            out.append(result.article)
            if limit is not None and len(out) >= limit:
                break
    return out


def load_questions(path: Path, n: int, seed: int = SEED) -> list[str]:
    """A seeded sample of ``n`` question texts (plus the warm-up ones in front)."""
    questions = [json.loads(line)["question"] for line in path.read_text().splitlines() if line.strip()]
    random.Random(seed).shuffle(questions)
    return questions[: n + WARMUP_QUESTIONS]


def sample_passages(raws: Sequence[RawArticle], n: int, chunking: ChunkSettings | None = None) -> list[str]:
    """The first ``n`` embedded texts of ``raws``, cut as the pipeline cuts them."""
    from index.errors import IngestError
    from index.prepare import prepare_article

    chunking = chunking or ChunkSettings()
    texts: list[str] = []
    for raw in raws:
        try:
            article = prepare_article(raw, collection=GLOBAL_COLLECTION)
        except IngestError:
            continue
        for p in chunk_article(
            article.id, article.text, target_words=chunking.target_words, overlap_sentences=chunking.overlap_sentences
        ):
            texts.append(index_text(article.title, p.text))
            if len(texts) == n:
                return texts
    return texts

"""The naive pipeline a user would copy from a tutorial, as a baseline.

1,000-character chunks with 200 characters of overlap over the raw article text, dense
top-4 by cosine, and the single best sentence of those chunks by cosine with the question.
It never abstains. It shares the encoder of the real pipeline so that only the design differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from index.encoder import Encoder

CHUNK_CHARS, OVERLAP_CHARS, TOP_CHUNKS = 1000, 200, 4
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


@dataclass(frozen=True)
class TutorialResult:
    """Ranked article ids, the top chunk texts, and the chosen quote with its offsets."""

    ranked_articles: list[str]
    passages: list[str]
    quote: str
    article_id: str
    start: int
    end: int


class TutorialPipeline:
    """Character chunks in a flat FAISS index; answers with the best sentence by cosine."""

    def __init__(self, articles: dict[str, str], encoder: Encoder, cache: Path | None = None) -> None:
        self.articles = articles
        self.encoder = encoder
        self.chunks: list[tuple[str, int, int]] = []
        for aid, text in articles.items():
            for start in range(0, max(len(text) - OVERLAP_CHARS, 1), CHUNK_CHARS - OVERLAP_CHARS):
                self.chunks.append((aid, start, min(start + CHUNK_CHARS, len(text))))
        texts = [articles[a][s:e] for a, s, e in self.chunks]
        if cache is not None and cache.exists() and np.load(cache).shape[0] == len(texts):
            vectors = np.load(cache)
        else:
            vectors = encoder.encode(texts, batch_size=16, progress=True)
            if cache is not None:
                np.save(cache, vectors)
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    def run(self, question: str, *, exclude: str | None = None, depth: int = 40) -> TutorialResult:
        """Answer one question, optionally as if article ``exclude`` were not indexed."""
        query = self.encoder.encode([question])[0]
        _, rows = self.index.search(query.reshape(1, -1), depth + 8)
        chosen = [int(r) for r in rows[0] if r >= 0 and self.chunks[r][0] != exclude][:depth]
        ranked = list(dict.fromkeys(self.chunks[r][0] for r in chosen))
        top = chosen[:TOP_CHUNKS]
        sentences: list[tuple[str, int, int]] = []
        for r in top:
            aid, s, e = self.chunks[r]
            for m in _SENTENCE.finditer(self.articles[aid], s, e):
                if m.group().strip():
                    lead = len(m.group()) - len(m.group().lstrip())
                    sentences.append((aid, m.start() + lead, m.start() + len(m.group().rstrip())))
        passages = [self.articles[self.chunks[r][0]][self.chunks[r][1] : self.chunks[r][2]] for r in chosen[:5]]
        if not sentences:
            return TutorialResult(ranked, passages, "", "", 0, 0)
        vectors = self.encoder.encode([self.articles[a][s:e] for a, s, e in sentences], batch_size=32)
        aid, s, e = sentences[int(np.argmax(vectors @ query))]
        return TutorialResult(ranked, passages, self.articles[aid][s:e], aid, s, e)

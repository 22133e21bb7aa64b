"""Extractive summaries with citations: of one article, or of the passages on a topic.

Article summaries lean on position, as news is written lead-first (Lead-3 is a strong
baseline on CNN/DailyMail), and use centrality (cosine with the article's mean sentence
vector) to skip leads that are teasers or questions. Topic summaries pick sentences close
to the topic and far from each other (maximal marginal relevance), from several articles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.encoder import Encoder
from index.models import Article
from index.sentences import split_sentences
from retrieval.answer import Answer, Citation, cite
from retrieval.hybrid import Hit

MIN_WORDS = 6


def _render(citations: Sequence[Citation]) -> str:
    return "\n".join(f"{c.quote} [{c.n}]" for c in citations)


def summarize_article(
    article: Article, encoder: Encoder, *, sentences: int = 3, position_weight: float = 0.65
) -> Answer:
    """The ``sentences`` most salient sentences of one article, in article order."""
    spans = [(s, e) for s, e in split_sentences(article.text) if len(article.text[s:e].split()) >= MIN_WORDS]
    spans = [sp for sp in spans if not article.text[sp[0] : sp[1]].rstrip().endswith("?")] or spans
    if not spans:
        return Answer(f"summary of {article.title}", False, "This article has no sentences to summarize.")
    vectors = encoder.encode([article.text[s:e] for s, e in spans], batch_size=32)
    centroid = vectors.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    centrality = vectors @ centroid
    position = 1.0 / np.sqrt(np.arange(1, len(spans) + 1))
    score = position_weight * position + (1 - position_weight) * centrality
    chosen = sorted(np.argsort(-score)[:sentences].tolist())
    citations = cite((article, *spans[i]) for i in chosen)
    return Answer(f"summary of {article.title}", True, _render(citations), tuple(citations), confidence=1.0)


def summarize_topic(
    topic: str, hits: Sequence[Hit], encoder: Encoder, *, sentences: int = 5, diversity: float = 0.3
) -> Answer:
    """Sentences on ``topic`` from the retrieved passages, chosen by maximal marginal relevance."""
    spans: list[tuple[Article, int, int]] = []
    seen = set()
    for hit in hits:
        for s, e in hit.passage.sentence_spans:
            if (hit.article.id, s) not in seen and len(hit.article.text[s:e].split()) >= MIN_WORDS:
                seen.add((hit.article.id, s))
                spans.append((hit.article, s, e))
    if not spans:
        return Answer(f"summary of {topic}", False, "I found no articles on that topic.")
    vectors = encoder.encode([a.text[s:e] for a, s, e in spans], batch_size=32)
    relevance = vectors @ encoder.encode([topic])[0]
    chosen: list[int] = []
    while len(chosen) < min(sentences, len(spans)):
        redundancy = (vectors @ vectors[chosen].T).max(axis=1) if chosen else np.zeros(len(spans))
        mmr = (1 - diversity) * relevance - diversity * redundancy
        mmr[chosen] = -np.inf
        chosen.append(int(np.argmax(mmr)))
    citations = cite(spans[i] for i in chosen)
    confidence = float(relevance[chosen].mean())
    return Answer(f"summary of {topic}", True, _render(citations), tuple(citations), confidence=confidence)

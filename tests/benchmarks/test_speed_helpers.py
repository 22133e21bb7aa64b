"""The pure helpers of ``benchmarks.speed``: percentiles, synthetic corpora, vectors, the table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.speed.common import dir_bytes, percentiles
from benchmarks.speed.corpus import RealCorpus, build_corpus, synthesize
from benchmarks.speed.machine import machine_info
from benchmarks.speed.million import million_vectors
from benchmarks.speed.table import format_table
from benchmarks.speed.vectors import mixture_vectors
from index.chunk import chunk_article
from index.models import Article
from index.snapshot import Snapshot, index_text
from index.store import Store
from tests.fakes import FakeEncoder

TEXTS = [
    "Officials said the storm hit the coast on Monday. Thousands lost power across the state. "
    "Crews worked through the night to restore it. The governor declared an emergency. "
    "Schools will stay closed until Wednesday, the district said.",
    "The central bank raised interest rates by half a point. Markets fell sharply after the news. "
    "Analysts had expected a smaller rise. The bank said inflation remains too high. "
    "Its next meeting is in six weeks.",
    "The team won the final in extra time. Its captain scored twice. Fans celebrated in the streets "
    "until dawn. The coach praised the players' spirit. It is the club's first title in forty years.",
]


def make_corpus(encoder: FakeEncoder, target_words: int = 12) -> RealCorpus:
    corpus = RealCorpus([], [], [])
    for i, text in enumerate(TEXTS):
        title = text.split(".")[0]
        article = Article(
            id=Article.make_id("global", title, text), collection="global", title=title, text=text, url=f"u{i}"
        )
        passages = chunk_article(article.id, text, target_words=target_words)
        corpus.articles.append(article)
        corpus.passages.append(passages)
        corpus.vectors.append(encoder.encode([index_text(title, p.text) for p in passages]))
    return corpus


def test_percentiles_interpolate_linearly() -> None:
    assert percentiles(list(range(1, 101))) == {"p50": 50.5, "p95": 95.05, "p99": 99.01}
    assert percentiles([7.0]) == {"p50": 7.0, "p95": 7.0, "p99": 7.0}
    assert percentiles([1.0, 2.0], qs=(0, 100)) == {"p0": 1.0, "p100": 2.0}
    with pytest.raises(ValueError):
        percentiles([])


def test_mixture_vectors_are_unit_length_and_near_the_base() -> None:
    rng = np.random.default_rng(0)
    base = FakeEncoder().encode(TEXTS)
    vectors = mixture_vectors(base, 50, rng)
    assert vectors.shape == (50, base.shape[1]) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert float((vectors @ base.T).max(axis=1).min()) > 0.5


def test_synthesize_makes_exactly_the_requested_rows() -> None:
    encoder = FakeEncoder()
    corpus = make_corpus(encoder)
    real = corpus.rows
    items = list(synthesize(corpus, 40, seed=1))
    assert sum(len(ps) for _, ps, _ in items) == 40
    # real rows first, untouched
    assert [a.id for a, _, _ in items[:3]] == [a.id for a in corpus.articles]
    np.testing.assert_array_equal(items[0][2], corpus.vectors[0])
    real_sentences = {a.text[s:e] for i, a in enumerate(corpus.articles) for s, e, _ in corpus.sentences(i)}
    for article, passages, vectors in items[3:]:
        assert article.source == "synthetic"
        assert len(passages) == len(vectors)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
        for p in passages:
            assert article.text[p.start : p.end] == p.text and p.article_id == article.id
        # every sentence of a synthetic article is a real sentence
        assert all(article.text[s:e] in real_sentences for p in passages for s, e in p.sentence_spans)
    assert real < 40


def test_synthesize_cuts_the_real_rows_when_they_are_enough() -> None:
    corpus = make_corpus(FakeEncoder())
    items = list(synthesize(corpus, 2))
    assert sum(len(ps) for _, ps, _ in items) == 2
    assert all(a.source != "synthetic" for a, _, _ in items)


def test_synthesize_is_deterministic() -> None:
    corpus = make_corpus(FakeEncoder())
    first = [(a.id, v.tobytes()) for a, _, v in synthesize(corpus, 30, seed=5)]
    again = [(a.id, v.tobytes()) for a, _, v in synthesize(corpus, 30, seed=5)]
    assert first == again


def test_build_corpus_writes_store_and_snapshot(tmp_path: Path) -> None:
    encoder = FakeEncoder()
    corpus = make_corpus(encoder)
    built = build_corpus(corpus, 25, tmp_path / "data", encoder.name, seed=2)
    assert built["rows"] == 25 and built["index_type"] == "IndexFlatIP"
    assert built["real_rows"] == corpus.rows
    loaded = Snapshot.load(tmp_path / "data")
    assert loaded.rows == 25 and loaded.lexical.size == 25
    assert dir_bytes(tmp_path / "data") > 0
    # the corpus round-trips through the store
    again = RealCorpus.from_store(Store(tmp_path / "data"))
    assert again.rows == 25 and again.dim == encoder.dim


def test_machine_info_and_table() -> None:
    info = machine_info()
    assert info["cores"] and info["cpu"]
    result = {
        "machine": info,
        "model": "m",
        "encoder": "openvino",
        "date": "2026-01-01T00:00:00+00:00",
        "encode_passages_per_s": 50.0,
        "encode_openvino_passages_per_s": 200.0,
        "ingest_articles_per_s": 10.0,
        "ingest_passages_per_s": 150.0,
        "ingest_to_encode_ratio": 3.0,
        "ingest_to_openvino_ratio": 0.75,
        "ask_ms": {"10000": {"p50": 10.0, "p95": 20.0, "p99": 30.0}},
        "peak_rss_mb": {"10000": 900.0, "1000000": 2000.0},
        "index_bytes": {"10000": 123, "1000000": 456},
        "index_type": {"10000": "IndexFlatIP", "1000000": "IndexHNSWFlat"},
        "faiss_1m": {
            "search_ms": {"p50": 0.3, "p95": 0.5, "p99": 0.9},
            "build_s": 100.0,
            "estimated": False,
            "vectors": "x",
        },
    }
    table = format_table(result)
    assert "IndexHNSWFlat" in table and "1,000,000" in table and f"{info['cores']} cores" in table


def test_million_vectors_builds_or_extrapolates(tmp_path: Path) -> None:
    base = FakeEncoder().encode(TEXTS * 3)
    full = million_vectors(base, 1_000, tmp_path, budget_s=1e9, queries=5)
    assert full["rows_built"] == 1_000 and not full["estimated"] and full["index_type"] == "IndexFlatIP"
    assert full["bytes"] == (tmp_path / "dense.faiss").stat().st_size
    partial = million_vectors(base, 1_000, tmp_path, budget_s=0, queries=5)
    assert partial["estimated"] and partial["rows_built"] == 100
    assert partial["bytes"] > 0.9 * full["bytes"]

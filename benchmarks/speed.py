"""Speed of newsdesk on this machine (GitHub issue 5): encoding, ingest, ask latency, memory, disk.

    python -m benchmarks.speed [--json] [--out FILE] [--sizes 10000,100000] [--questions 200] [--skip-1m]

What is measured, in one run:

* **Encode ceiling.** The first ``--encode-passages`` (400) passages of the CNN/DM sample, cut
  exactly as the pipeline cuts them (``prepare_article`` + ``chunk_article`` with the engine's
  default chunking, embedded text ``index_text(title, passage)``), are encoded by raw
  sentence-transformers on PyTorch (``TorchEncoder``, batch 16) and by the OpenVINO encoder
  (batch 16), each after a warm-up batch. ``encode_passages_per_s`` is the PyTorch figure: the
  ceiling issue 5 compares ingest against.
* **Ingest.** ``Engine.ingest`` of a fixed sample (the first ``--ingest-articles`` = 300 CNN/DM
  articles, read into memory beforehand) into an empty temporary data dir: cleaning, chunking,
  embedding with the encoder the engine picked, SQLite writes, BM25 + FAISS snapshot build and
  the atomic, fsynced save. The model load is not included. The encoder and ``Store.put_many``
  are wrapped with timers to split the time into stages, and the snapshot is rebuilt and saved
  once more afterwards to split publishing into build and save. The raw encode rates are
  measured before and after the ingest and averaged; ``ingest_embed_share`` (embedding seconds
  over ingest seconds) is the figure least affected by other processes on the machine, and
  every timed part reports ``cpu_cores_busy`` so that contention shows.
* **Ask.** Warm latency of ``Engine.ask`` (question analysis, question embedding, FAISS + BM25,
  fusion, SQLite reads and the extractive answerer) over ``--questions`` NewsQA questions
  (a seeded sample), after 5 warm-up questions, in a fresh process per corpus size, which also
  gives that size's peak RSS (``VmHWM``: model, snapshot and answering together).
* **1M vectors.** Vectors only: the FAISS index ``choose_index(1_000_000, 384)`` picks, its build
  time, bytes on disk after ``write_index`` and single-query search latency, in its own process.
  The build adds in chunks and stops after ``--hnsw-budget-s``; if it stops early, the full
  build time and size are extrapolated and the output says so (``estimated``).

How the 10k / 100k corpora are built (they cannot be embedded on 2 cores in reasonable time):

1. **Real rows.** After the timed CNN/DM ingest, the NewsQA articles are ingested into the same
   data dir, so the questions have their articles and every real row was really embedded.
2. **Synthetic rows**, written with ``Store.put_many``: each synthetic article takes two random
   real articles, draws as many of their sentences (without replacement, shuffled across both)
   as the first of them has, joins them into a text, uses its first sentence as the title and is
   chunked with ``chunk_article`` like a real article. Each synthetic passage's vector is the
   normalised mean of the real vectors of the passages its sentences came from, plus Gaussian
   noise of norm about ``NOISE`` (0.1) before normalising. Real rows come first; the last
   synthetic article is cut so that the corpus has exactly the requested number of passages.
3. ``Snapshot.build`` + ``save`` as the engine does, then an ``Engine`` with the real encoder
   opens the data dir.

The 1M vectors are mixtures of two random real vectors (random weights) plus the same noise,
normalised: real-ish structure, but not real text.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from index.chunk import chunk_article
from index.models import GLOBAL_COLLECTION, Article, Passage, RawArticle
from index.pipeline import ChunkSettings
from index.sentences import split_sentences
from index.snapshot import index_text
from index.store import Store

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EVAL = ROOT.parent / "shared" / "eval"
DEFAULT_CACHE = ROOT / "benchmarks" / "results" / "speed-models"
LATEST = ROOT / "benchmarks" / "speed-latest.json"
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


def machine_info() -> dict[str, Any]:
    """Cores, CPU model, RAM and Python of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": ram_gib,
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
    }


def load_average() -> list[float]:
    """The 1/5/15-minute load averages (other processes share these cores)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def code_version() -> str | None:
    """The git commit of the working tree (``+dirty`` when it has changes), or ``None``."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


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


# -- inputs ---------------------------------------------------------------------------------------
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


# -- encoding -------------------------------------------------------------------------------------
def encode_rate(encoder: Any, texts: Sequence[str], *, batch_size: int = 16) -> dict[str, float]:
    """Passages per second of ``encoder.encode(texts)`` after one warm-up batch.

    ``cpu_cores_busy`` (process CPU seconds per wall second) shows contention: with 2 free
    cores an encoder keeps about 2 busy; other processes on the machine pull it down.
    """
    encoder.encode(list(texts[:batch_size]), batch_size=batch_size)
    started, cpu = time.perf_counter(), time.process_time()
    encoder.encode(list(texts), batch_size=batch_size)
    wall = time.perf_counter() - started
    return {
        "passages_per_s": round(len(texts) / wall, 1),
        "cpu_cores_busy": round((time.process_time() - cpu) / wall, 2),
    }


def load_reference_encoders(model: str, cache_dir: Path) -> tuple[Any, Any | None]:
    """Raw sentence-transformers on PyTorch, and the OpenVINO encoder (``None`` when unavailable)."""
    from index.embed import load_encoder
    from index.torch_encoder import TorchEncoder

    torch_encoder = TorchEncoder(model)
    try:
        return torch_encoder, load_encoder(model, backend="openvino", cache_dir=cache_dir)
    except Exception as exc:  # openvino missing or its probe check failed: report, do not fail
        log(f"OpenVINO encoder unavailable: {exc}")
        return torch_encoder, None


def measure_encoders(torch_encoder: Any, ov_encoder: Any | None, texts: Sequence[str]) -> dict[str, Any]:
    """Raw encode throughput of both encoders on the same texts, batch 16."""
    return {
        "torch": encode_rate(torch_encoder, texts),
        "openvino": encode_rate(ov_encoder, texts) if ov_encoder is not None else None,
    }


def mean_rate(runs: Sequence[dict[str, Any] | None]) -> float | None:
    """Mean passages/s of several ``encode_rate`` results (``None`` when there are none)."""
    rates = [r["passages_per_s"] for r in runs if r is not None]
    return round(sum(rates) / len(rates), 1) if rates else None


class TimedEncoder:
    """Wraps an encoder and adds up the seconds spent in ``encode``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.dim, self.backend = inner.name, inner.dim, inner.backend
        self.seconds = 0.0

    def encode(self, texts: Sequence[str], *, batch_size: int = 16, progress: bool = False) -> Vectors:
        """Encode with the wrapped encoder, timing it."""
        started = time.perf_counter()
        try:
            out: Vectors = self.inner.encode(texts, batch_size=batch_size, progress=progress)
            return out
        finally:
            self.seconds += time.perf_counter() - started


# -- ingest ---------------------------------------------------------------------------------------
@dataclass
class IngestRun:
    """An engine after a timed ingest, with what the ingest measured."""

    engine: Any  # None once closed
    result: dict[str, Any]


def timed_ingest(raws: Sequence[RawArticle], data_dir: Path, model: str, cache_dir: Path) -> IngestRun:
    """``Engine.ingest`` of ``raws`` into an empty data dir, end to end, with a stage breakdown."""
    from app.config import EngineConfig
    from app.engine import Engine
    from index.lexical import LexicalIndex
    from index.snapshot import Snapshot

    engine = Engine(EngineConfig(data_dir=data_dir, model=model, cache_dir=cache_dir))
    timed = TimedEncoder(engine.indexer.encoder)
    engine.indexer.encoder = timed
    put_seconds = 0.0
    put_many = engine.store.put_many

    def timed_put_many(*args: Any, **kwargs: Any) -> Any:
        nonlocal put_seconds
        started = time.perf_counter()
        try:
            return put_many(*args, **kwargs)
        finally:
            put_seconds += time.perf_counter() - started

    engine.store.put_many = timed_put_many  # type: ignore[method-assign]
    started, cpu = time.perf_counter(), time.process_time()
    report = engine.ingest(raws)
    total = time.perf_counter() - started
    cores_busy = (time.process_time() - cpu) / total
    engine.indexer.encoder = timed.inner
    engine.store.put_many = put_many  # type: ignore[method-assign]

    # Split publishing (snapshot build + save) by doing it once more, outside the timed run.
    t0 = time.perf_counter()
    snapshot = Snapshot.build(engine.store)
    build_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        snapshot.save(Path(tmp))
        save_s = time.perf_counter() - t0
    articles = {a.id: a for a in engine.store.iter_articles()}
    texts = [
        index_text(articles[aid].title, articles[aid].text[s:e]) for _, aid, s, e, _ in engine.store.passage_rows()
    ]
    t0 = time.perf_counter()
    LexicalIndex.build(texts)
    bm25_s = time.perf_counter() - t0

    publish_s = total - report.seconds
    stages = {
        "prepare_chunk_other": report.seconds - timed.seconds - put_seconds,
        "embed": timed.seconds,
        "sqlite_put": put_seconds,
        "snapshot_publish": publish_s,
        "of_which_build (rerun)": build_s,
        "of_which_bm25_build (rerun)": bm25_s,
        "of_which_save (rerun)": save_s,
    }
    result = {
        "articles": report.added,
        "passages": report.passages,
        "errors": len(report.errors),
        "seconds": round(total, 2),
        "articles_per_s": round(report.added / total, 2),
        "passages_per_s": round(report.passages / total, 1),
        "embed_passages_per_s": round(report.passages / timed.seconds, 1) if timed.seconds else None,
        "stages_s": {k: round(v, 2) for k, v in stages.items()},
        "cpu_cores_busy": round(cores_busy, 2),
        "encoder": engine.encoder.backend,
    }
    return IngestRun(engine, result)


# -- synthetic corpora ----------------------------------------------------------------------------
@dataclass
class RealCorpus:
    """Real, embedded articles: passages and their vectors, article by article."""

    articles: list[Article]
    passages: list[list[Passage]]
    vectors: list[Vectors]
    _sentences: list[list[tuple[int, int, int]]] = field(default_factory=list, repr=False)

    @property
    def rows(self) -> int:
        """Number of passages."""
        return sum(len(ps) for ps in self.passages)

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self.vectors[0].shape[1])

    def all_vectors(self) -> Vectors:
        """Every passage vector, stacked."""
        return np.ascontiguousarray(np.vstack(self.vectors), dtype=np.float32)

    def sentences(self, i: int) -> list[tuple[int, int, int]]:
        """``(start, end, passage index)`` of each sentence of article ``i`` (first passage holding it)."""
        if not self._sentences:
            for article, passages in zip(self.articles, self.passages, strict=True):
                spans = []
                for s, e in split_sentences(article.text):
                    owner = next((k for k, p in enumerate(passages) if p.start <= s < p.end), None)
                    if owner is not None:
                        spans.append((s, e, owner))
                self._sentences.append(spans)
        return self._sentences[i]

    @classmethod
    def from_store(cls, store: Store) -> RealCorpus:
        """Read every article, passage and vector of a store."""
        articles = {a.id: a for a in store.iter_articles()}
        rows: dict[str, list[tuple[int, int, int, bytes]]] = {}
        for pid, article_id, start, end, blob in store.passage_rows():
            rows.setdefault(article_id, []).append((pid, start, end, blob))
        out = cls([], [], [])
        for article_id, items in rows.items():
            article = articles[article_id]
            stored = store.passages([pid for pid, *_ in items])
            passages = [
                Passage(article_id, stored[pid].position, s, e, article.text[s:e], stored[pid].sentence_spans)
                for pid, s, e, _ in items
            ]
            out.articles.append(article)
            out.passages.append(passages)
            out.vectors.append(np.vstack([np.frombuffer(b, dtype=np.float32) for *_, b in items]))
        return out


def synthesize(
    corpus: RealCorpus,
    rows: int,
    *,
    seed: int = SEED,
    noise: float = NOISE,
    collection: str = GLOBAL_COLLECTION,
    chunking: ChunkSettings | None = None,
) -> Iterator[tuple[Article, list[Passage], Vectors]]:
    """Exactly ``rows`` passages: the real ones first, then sentence shuffles of pairs of real articles.

    See the module docstring for how synthetic text and vectors are made.
    """
    chunking = chunking or ChunkSettings()
    rng = np.random.default_rng(seed)
    left = rows
    for article, passages, vectors in zip(corpus.articles, corpus.passages, corpus.vectors, strict=True):
        if left <= 0:
            return
        take = min(left, len(passages))
        yield article, passages[:take], vectors[:take]
        left -= take
    n_real = len(corpus.articles)
    if not any(corpus.sentences(i) for i in range(n_real)):
        raise ValueError("the real corpus has no sentences to shuffle")
    serial = 0
    while left > 0:
        a, b = (int(x) for x in rng.integers(0, n_real, 2))
        pool = [(a, *s) for s in corpus.sentences(a)] + [(b, *s) for s in corpus.sentences(b)]
        if not pool:
            continue
        picks = rng.permutation(len(pool))[: max(len(corpus.sentences(a)), 1)]
        parts: list[str] = []
        sources: list[tuple[int, int, Vectors]] = []  # (start, end, vector) in the new text
        offset = 0
        for k in picks:
            src, s, e, owner = pool[int(k)]
            sentence = corpus.articles[src].text[s:e]
            if parts:
                offset += 1
            parts.append(sentence)
            sources.append((offset, offset + len(sentence), corpus.vectors[src][owner]))
            offset += len(sentence)
        text = " ".join(parts)
        title = parts[0][:200]
        article = Article(
            id=Article.make_id(collection, title, text),
            collection=collection,
            title=title,
            text=text,
            source="synthetic",
            url=f"https://synthetic.invalid/{seed}/{serial}",
            published=corpus.articles[a].published,
        )
        serial += 1
        passages = chunk_article(
            article.id, text, target_words=chunking.target_words, overlap_sentences=chunking.overlap_sentences
        )[:left]
        if not passages:
            continue
        means = np.vstack([np.mean([v for s, e, v in sources if s < p.end and e > p.start], axis=0) for p in passages])
        yield article, passages, noisy(means, rng, noise)
        left -= len(passages)


def build_corpus(corpus: RealCorpus, rows: int, data_dir: Path, model: str, *, seed: int = SEED) -> dict[str, Any]:
    """Write a ``rows``-passage corpus with ``Store.put_many``, then build and save its snapshot.

    Raises:
        RuntimeError: when the store does not end up with exactly ``rows`` passages.
    """
    from index.snapshot import Snapshot

    started = time.perf_counter()
    store = Store(data_dir)
    batch: list[tuple[Article, Sequence[Passage], np.ndarray]] = []
    for item in synthesize(corpus, rows, seed=seed):
        batch.append(item)
        if len(batch) >= 500:
            store.put_many(batch, model=model)
            batch.clear()
    if batch:
        store.put_many(batch, model=model)
    write_s = time.perf_counter() - started
    if store.passage_count() != rows:
        raise RuntimeError(f"built {store.passage_count()} passages, wanted {rows}")
    t0 = time.perf_counter()
    snapshot = Snapshot.build(store)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    snapshot.save(data_dir)
    save_s = time.perf_counter() - t0
    result = {
        "rows": snapshot.rows,
        "articles": store.article_count(),
        "real_rows": min(rows, corpus.rows),
        "index_type": snapshot.index_type,
        "write_s": round(write_s, 1),
        "snapshot_build_s": round(build_s, 1),
        "snapshot_save_s": round(save_s, 1),
    }
    store.close()
    return result


# -- serving (runs in a child process) ------------------------------------------------------------
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


def _cache_stats(engine: Any) -> dict[str, int] | None:
    """Hits and misses of the engine's question/sentence vector cache, when it has one."""
    cache = getattr(engine, "query_encoder", None)
    if cache is None or not hasattr(cache, "hits"):
        return None
    return {"hits": int(cache.hits), "misses": int(cache.misses)}


# -- 1M vectors (runs in a child process) ---------------------------------------------------------
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


# -- the run --------------------------------------------------------------------------------------
HOW_CORPORA = (
    "real rows: the CNN/DM ingest sample + the NewsQA articles, really ingested (first in each corpus); "
    "synthetic rows written with Store.put_many: the sentences of two random real articles shuffled together "
    "(as many as the first has), first sentence as title, chunked with chunk_article like real text; each "
    "passage vector = normalised mean of the real vectors of the passages its sentences came from + "
    f"Gaussian noise (norm ~{NOISE}); the last synthetic article is cut to hit the size exactly"
)


def measure_encode_and_ingest(
    raws: Sequence[RawArticle], args: argparse.Namespace, data_dir: Path
) -> tuple[dict[str, Any], IngestRun]:
    """Raw encode rates before and after the timed ingest (so load drift shows), and the ingest."""
    cache_dir = Path(args.cache_dir)
    texts = sample_passages(raws, args.encode_passages)
    torch_encoder, ov_encoder = load_reference_encoders(args.model, cache_dir)
    log(f"raw encode of {len(texts)} passages, PyTorch and OpenVINO")
    before = measure_encoders(torch_encoder, ov_encoder, texts)
    log(f"  {before}")
    log(f"ingesting {len(raws)} CNN/DM articles")
    ingest = timed_ingest(raws, data_dir, args.model, cache_dir)
    log(f"  {ingest.result}")
    log("raw encode again")
    after = measure_encoders(torch_encoder, ov_encoder, texts)
    log(f"  {after}")
    encode = {
        "passages": len(texts),
        "torch": mean_rate([before["torch"], after["torch"]]),
        "openvino": mean_rate([before["openvino"], after["openvino"]]),
        "before": before,
        "after": after,
    }
    return encode, ingest


def measure_ask(
    corpus: RealCorpus, model_name: str, questions: Sequence[str], args: argparse.Namespace, root: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """For each size: build the corpus, then time ``ask`` in a fresh process; returns (asks, builds)."""
    ask, built = {}, {}
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


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement, in order; returns the JSON object."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    eval_dir = Path(args.eval_dir)
    Path(args.cache_dir).mkdir(parents=True, exist_ok=True)
    load_start, code = load_average(), code_version()
    raws = load_raw_articles(eval_dir / "cnndm" / "articles.jsonl", args.ingest_articles)
    questions = load_questions(eval_dir / "newsqa" / "questions.jsonl", args.questions)
    million = None
    root = Path(tempfile.mkdtemp(prefix="newsdesk-speed-"))
    try:
        encode, ingest = measure_encode_and_ingest(raws, args, root / "ingest")
        log("ingesting the NewsQA articles (real rows of the ask corpora)")
        t0 = time.perf_counter()
        newsqa = ingest.engine.ingest(load_raw_articles(eval_dir / "newsqa" / "articles.jsonl"))
        log(f"  {newsqa.added} articles, {newsqa.passages} passages in {time.perf_counter() - t0:.1f} s")
        corpus = RealCorpus.from_store(ingest.engine.store)
        encoder_backend = ingest.engine.encoder.backend
        model_name = ingest.engine.store.meta("model") or args.model
        ingest.engine.close()
        ingest.engine = None
        ask, built = measure_ask(corpus, model_name, questions, args, root)
        if not args.skip_1m:
            log(f"1M vectors: building choose_index({ONE_MILLION:,}, {corpus.dim}) in a fresh process")
            (root / "million").mkdir()
            million = in_subprocess(
                million_vectors, corpus.all_vectors(), ONE_MILLION, root / "million", budget_s=args.hnsw_budget_s
            )
            log(f"  {million}")
    finally:
        shutil.rmtree(root, ignore_errors=True)

    ing = ingest.result
    result: dict[str, Any] = {
        "machine": machine_info(),
        "model": args.model,
        "encoder": encoder_backend,
        "encode_passages_per_s": encode["torch"],
        "encode_openvino_passages_per_s": encode["openvino"],
        "ingest_articles_per_s": ing["articles_per_s"],
        "ingest_passages_per_s": ing["passages_per_s"],
        "ingest_to_encode_ratio": round(ing["passages_per_s"] / encode["torch"], 3),
        "ingest_to_openvino_ratio": round(ing["passages_per_s"] / encode["openvino"], 3)
        if encode["openvino"]
        else None,
        "ingest_embed_share": round(ing["stages_s"]["embed"] / ing["seconds"], 3),
        "ask_ms": {k: v["ask_ms"] for k, v in ask.items()},
        "peak_rss_mb": {k: v["peak_rss_mb"] for k, v in ask.items()},
        "index_bytes": {k: v["index_bytes"] for k, v in built.items()},
        "index_type": {k: v["index_type"] for k, v in ask.items()},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": code,
        "load_average": {"start": load_start, "end": load_average()},
        "encode": encode,
        "ingest": ing,
        "ask_detail": ask,
        "corpora": {**built, "real_rows": corpus.rows, "how": HOW_CORPORA},
    }
    if million is not None:
        key = str(ONE_MILLION)
        result["index_bytes"][key] = million["bytes"]
        result["index_type"][key] = million["index_type"]
        result["peak_rss_mb"][key] = million["peak_rss_mb"]
        result["faiss_1m"] = million
    return result


def format_table(result: dict[str, Any]) -> str:
    """The result as a readable table."""
    m = result["machine"]
    lines = [
        f"machine: {m['cores']} cores, {m['cpu']}, {m['ram_gib']} GiB RAM, Python {m['python']}"
        f" (load {result.get('load_average', {}).get('start')})",
        f"model {result['model']}, engine encoder: {result['encoder']}    {result['date']}",
        "",
        f"{'raw encode, sentence-transformers PyTorch (batch 16)':<58}{result['encode_passages_per_s']:>10} passages/s",
        f"{'raw encode, OpenVINO (batch 16)':<58}{result['encode_openvino_passages_per_s']!s:>10} passages/s",
        f"{'ingest end to end (Engine.ingest)':<58}{result['ingest_passages_per_s']:>10} passages/s",
        f"{'':<58}{result['ingest_articles_per_s']:>10} articles/s",
        f"{'ingest / PyTorch encode (target >= 0.85)':<58}{result['ingest_to_encode_ratio']:>10}",
        f"{'ingest / OpenVINO encode':<58}{result['ingest_to_openvino_ratio']!s:>10}",
        f"{'share of ingest time spent embedding':<58}{result.get('ingest_embed_share')!s:>10}",
    ]
    stages = result.get("ingest", {}).get("stages_s")
    if stages:
        lines.append("ingest stages (s): " + ", ".join(f"{k} {v}" for k, v in stages.items()))
    lines += [
        "",
        f"{'passages':>10} {'index':<16}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'peak RSS MB':>13}{'bytes':>15}",
    ]
    for size, index_type in result["index_type"].items():
        ask = result["ask_ms"].get(size) or result.get("faiss_1m", {}).get("search_ms", {})
        lines.append(
            f"{int(size):>10,} {index_type:<16}{ask.get('p50', '-'):>9}{ask.get('p95', '-'):>9}{ask.get('p99', '-'):>9}"
            f"{result['peak_rss_mb'].get(size, '-'):>13}{result['index_bytes'].get(size, '-'):>15,}"
        )
    if "faiss_1m" in result:
        f = result["faiss_1m"]
        lines.append(
            f"1M: vectors only (FAISS search, no ask), build {f['build_s']} s"
            f"{' (estimated)' if f['estimated'] else ''}, {f['vectors']}"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    from index.encoder import DEFAULT_MODEL

    p = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__.split("\n")[0])
    p.add_argument("--eval-dir", default=str(DEFAULT_EVAL), help="the shared eval data (default: ../shared/eval)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--out", help="also write the JSON to this file")
    p.add_argument(
        "--sizes",
        default="10000,100000",
        type=lambda s: [int(x) for x in s.split(",") if x.strip()],
        help="corpus sizes in passages for the ask latency (default: 10000,100000)",
    )
    p.add_argument("--questions", type=int, default=200, help="NewsQA questions per size (default: 200)")
    p.add_argument("--skip-1m", action="store_true", help="skip the 1M-vector FAISS build")
    p.add_argument("--model", default=DEFAULT_MODEL, help="embedding model (default: the bundled MiniLM)")
    p.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help="where the converted OpenVINO model is cached")
    p.add_argument("--ingest-articles", type=int, default=300, help="CNN/DM articles in the ingest sample")
    p.add_argument("--encode-passages", type=int, default=400, help="passages in the raw encode sample")
    p.add_argument("--hnsw-budget-s", type=float, default=600, help="stop the 1M build after this and extrapolate")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print (and optionally write) the result."""
    args = parse_args(argv)
    result = run(args)
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    print(text if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

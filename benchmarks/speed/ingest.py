"""The timed ``Engine.ingest`` of a real sample, with its stage breakdown and the encode rates around it."""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.speed.common import log
from benchmarks.speed.encoding import TimedEncoder, load_reference_encoders, mean_rate, measure_encoders
from benchmarks.speed.inputs import sample_passages
from index.models import RawArticle
from index.snapshot import index_text


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

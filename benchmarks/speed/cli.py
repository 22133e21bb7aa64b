"""Command line and the run: every measurement in order, then the table or JSON."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import speed as package
from benchmarks.speed.common import DEFAULT_CACHE, DEFAULT_EVAL, ONE_MILLION, in_subprocess, log
from benchmarks.speed.corpus import HOW_CORPORA, RealCorpus
from benchmarks.speed.ingest import measure_encode_and_ingest
from benchmarks.speed.inputs import load_questions, load_raw_articles
from benchmarks.speed.machine import code_version, load_average, machine_info
from benchmarks.speed.million import million_vectors
from benchmarks.speed.serve import measure_ask
from benchmarks.speed.table import format_table


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


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    from index.embed import DEFAULT_MODEL

    p = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=(package.__doc__ or "").split("\n")[0])
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

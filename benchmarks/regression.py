"""Dump the answers to a fixed sample of NewsQA dev questions, to compare two versions of the code.

A restructuring that must not change behaviour is checked by running this before and after it and
diffing the two files (``--compare``): same answered flag, same cited articles, same quote offsets.

    python -m benchmarks.regression --out before.jsonl [--limit 300]
    python -m benchmarks.regression --out after.jsonl --compare before.jsonl

It asks through the engine's public ``ask`` on the benchmark index of ``benchmarks.quality``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from app.config import EngineConfig
from benchmarks.quality import DEFAULT_EVAL, ROOT, SEED, load_jsonl, open_benchmark
from retrieval.reader.model import MODEL_DIR


def answer_rows(engine: object, questions: Sequence[dict[str, object]]) -> list[dict[str, object]]:
    """One row per question: what was answered, from which articles, at which offsets."""
    rows = []
    for q in tqdm(questions, desc="asking", file=sys.stderr):
        answer = engine.ask(str(q["question"]))  # type: ignore[attr-defined]
        rows.append(
            {
                "qid": q["qid"],
                "answered": answer.answered,
                "citations": [[c.article_id, c.start, c.end] for c in answer.citations],
                "confidence": round(float(answer.confidence), 4),
            }
        )
    return rows


def compare(before: list[dict[str, object]], after: list[dict[str, object]]) -> list[str]:
    """Question ids whose answer differs (answered flag, citations; confidence within 1e-3)."""
    old = {r["qid"]: r for r in before}
    changed = []
    for row in after:
        prev = old.get(row["qid"])
        if (
            prev is None
            or prev["answered"] != row["answered"]
            or prev["citations"] != row["citations"]
            or abs(float(prev["confidence"]) - float(row["confidence"])) > 1e-3  # type: ignore[arg-type]
        ):
            changed.append(str(row["qid"]))
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """Write the answers; with ``--compare``, print how many differ and exit 1 if any do."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "results" / "quality-index")
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--compare", type=Path, help="an earlier dump to compare with")
    parser.add_argument("--no-reader", action="store_true", help="answer with the hand-tuned scorer (the fallback)")
    args = parser.parse_args(argv)
    opened = open_benchmark(
        args.eval_dir, EngineConfig(data_dir=args.data_dir, reader_dir=None if args.no_reader else MODEL_DIR)
    )
    if opened is None:
        return 2
    engine, id_map, _ = opened
    questions = [q for q in load_jsonl(args.eval_dir / "newsqa" / "questions.jsonl") if str(q["article_id"]) in id_map]
    sample = random.Random(SEED + 1).sample(questions, min(args.limit, len(questions)))
    rows = answer_rows(engine, sample)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    if args.compare:
        changed = compare(load_jsonl(args.compare), rows)
        print(f"{len(rows) - len(changed)}/{len(rows)} answers identical; changed: {changed[:20]}")
        return 1 if changed else 0
    print(f"wrote {len(rows)} answers to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The answer-rate / false-answer-rate trade-off of the abstention threshold, measured.

    python -m benchmarks.abstention [--limit N] [--json]

For a sample of NewsQA questions it records the answerer's confidence on the full index
(and whether the first quote holds a gold answer), and again with each question's gold
article removed; then prints, for a range of thresholds, the answer rate, the
false-answer rate and answer-sentence@1. This is the curve of the hand-tuned fallback
scorer (``ExtractiveAnswerer``), whose threshold was chosen from it on one sample and checked
on another (``--offset``); the trained reader's curve is measured out of fold by
``python -m benchmarks.train_reader``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from app.config import EngineConfig
from benchmarks.metrics import contains_any
from benchmarks.quality import DEFAULT_EVAL, ROOT, SEED, load_jsonl, newsdesk_system, open_benchmark
from retrieval.answer import ExtractiveAnswerer


def main(argv: Sequence[str] | None = None) -> int:
    """Print the trade-off table."""
    parser = argparse.ArgumentParser(description="abstention threshold trade-off")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--offset", type=int, default=0, help="skip this many sampled questions (a held-out sample)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "results" / "quality-index")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    opened = open_benchmark(args.eval_dir, EngineConfig(data_dir=args.data_dir, reader_dir=None))
    if opened is None:
        return 2
    engine, id_map, _ = opened
    # Never abstain while measuring: the threshold is what this script chooses.
    assert isinstance(engine.answerer, ExtractiveAnswerer)
    engine.answerer.weights = replace(engine.answerer.weights, min_confidence=-1.0)
    questions = [q for q in load_jsonl(args.eval_dir / "newsqa" / "questions.jsonl") if str(q["article_id"]) in id_map]
    random.Random(SEED + 2).shuffle(questions)
    questions = questions[args.offset : args.offset + args.limit]
    run = newsdesk_system(engine, "hybrid")
    full, removed = [], []
    for q in tqdm(questions, file=sys.stderr):
        answers = [str(a) for a in q["answers"]]  # type: ignore[attr-defined]
        out = run(str(q["question"]), None)
        full.append((out.confidence, contains_any(out.first_quote, answers)))
        removed.append(run(str(q["question"]), id_map[str(q["article_id"])]).confidence)
    rows = []
    for t in [x / 100 for x in range(20, 71, 2)]:
        answered = [ok for c, ok in full if c >= t]
        rows.append(
            {
                "threshold": t,
                "answer_rate": len(answered) / len(full),
                "false_answer_rate": sum(c >= t for c in removed) / len(removed),
                "answer_sentence@1": sum(answered) / len(full),
            }
        )
    if args.json:
        print(json.dumps({"n": len(full), "rows": rows}, indent=2))
    else:
        print(f"{len(full)} questions (offset {args.offset})")
        print("| threshold | answer rate | false-answer rate | answer-sentence@1 |")
        print("|---|---|---|---|")
        for r in rows:
            cells = (r["threshold"], r["answer_rate"], r["false_answer_rate"], r["answer_sentence@1"])
            print("| {:.2f} | {:.3f} | {:.3f} | {:.3f} |".format(*cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())

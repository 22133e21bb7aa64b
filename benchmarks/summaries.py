"""Article summaries against the human-written CNN/DailyMail highlights: ROUGE-1/2/L beside Lead-3.

    python -m benchmarks.summaries [--json] [--limit N] [--eval-dir DIR]

Lead-3 (the first three sentences) is the classic, strong baseline on this data, because
news is written lead-first. Both systems see the same cleaned text and sentence splitter,
so the comparison isolates sentence selection.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from benchmarks.metrics import rouge
from index.embed import load_encoder
from index.models import GLOBAL_COLLECTION, RawArticle
from index.prepare import prepare_article
from index.sentences import split_sentences
from retrieval.summarize import summarize_article

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EVAL = ROOT.parent / "shared" / "eval"


def lead3(text: str) -> str:
    """The first three sentences."""
    return " ".join(text[s:e] for s, e in split_sentences(text)[:3])


def main(argv: Sequence[str] | None = None) -> int:
    """Score newsdesk's article summaries and Lead-3 against the highlights."""
    parser = argparse.ArgumentParser(description="ROUGE of article summaries vs CNN/DM highlights")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--limit", type=int, help="a fixed random sample of N articles")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = args.eval_dir / "cnndm" / "articles.jsonl"
    if not path.exists():
        print(f"eval data not found: {path}", file=sys.stderr)
        return 2
    records = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    if args.limit:
        records = random.Random(20261126).sample(records, min(args.limit, len(records)))
    encoder = load_encoder(cache_dir=ROOT / "benchmarks" / "results" / "models")
    started = time.perf_counter()
    ours, leads, refs = [], [], []
    for record in tqdm(records, desc="summaries", file=sys.stderr):
        article = prepare_article(RawArticle.model_validate(record), collection=GLOBAL_COLLECTION)
        ours.append(" ".join(c.quote for c in summarize_article(article, encoder).citations))
        leads.append(lead3(article.text))
        refs.append("\n".join(record["highlights"]))
    report = {
        "n_articles": len(records),
        "systems": {"newsdesk": rouge(ours, refs), "lead3": rouge(leads, refs)},
        "seconds": round(time.perf_counter() - started, 1),
        "date": datetime.now(UTC).date().isoformat(),
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{len(records)} CNN/DM articles")
        print("| system | ROUGE-1 | ROUGE-2 | ROUGE-L |\n|---|---|---|---|")
        for name, scores in report["systems"].items():  # type: ignore[attr-defined]
            print(f"| {name} | {scores['rouge1']:.4f} | {scores['rouge2']:.4f} | {scores['rougeL']:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

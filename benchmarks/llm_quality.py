"""LLM answer quality: how much of what a model writes survives verification, and how often it helps.

Uses the index and questions of ``benchmarks/quality.py`` (NewsQA dev questions over about
3,800 articles), retrieves as the shipped pipeline does, and lets ``LlmAnswerer`` answer with
the extractive answerer as its fallback. Reports the share of model quotes verified, the
share of model sentences dropped, the fallback rate, end-to-end latency p50/p95 per question,
and answer-sentence@1 (the first citation's quote contains a gold answer, as in quality.py)
beside the extractive answerer's on the same questions.

    python -m benchmarks.llm_quality --base-url http://localhost:11434/v1 --model llama3.2 [--limit N] [--json]

The API key, if any, is read from ``NEWSDESK_LLM_API_KEY``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import SecretStr
from tqdm import tqdm

from app.config import EngineConfig
from app.engine import Engine
from benchmarks.metrics import contains_any, mean
from benchmarks.quality import (
    DEFAULT_EVAL,
    ROOT,
    System,
    newsdesk_system,
    open_benchmark,
    sample_questions,
)
from index.lexical import LexicalIndex
from retrieval.answer import Answer
from retrieval.hybrid import Hit
from retrieval.llm.answerer import LlmAnswerer, LlmReport
from retrieval.llm.client import ChatClient, LlmConfig
from retrieval.question import Question


@dataclass
class RecordingAnswerer:
    """Answers through ``LlmAnswerer`` and keeps what became of each model answer."""

    llm: LlmAnswerer
    reports: list[LlmReport] = field(default_factory=list)

    def answer(self, question: Question, hits: Sequence[Hit], *, lexical: LexicalIndex) -> Answer:
        """The LLM answer; its report is appended to ``reports``."""
        answer, report = self.llm.answer_with_report(question, hits, lexical=lexical)
        self.reports.append(report)
        return answer


@dataclass(frozen=True)
class Trial:
    """One question: what the model's answer went through, and what was shown."""

    report: LlmReport
    answered: bool
    hit: bool  # answered, and the first quote holds a gold answer (answer-sentence@1)
    verbatim: bool  # every quote is the article's text at its offsets
    latency_ms: float


def run_trials(system: System, recorder: RecordingAnswerer, questions: Sequence[dict[str, object]]) -> list[Trial]:
    """Ask every question through ``system`` (whose engine answers with ``recorder``)."""
    trials = []
    for q in tqdm(questions, desc="llm", file=sys.stderr, leave=False):
        started = time.perf_counter()
        out = system(str(q["question"]), None)
        elapsed = (time.perf_counter() - started) * 1000
        answers = [str(a) for a in q["answers"]]  # type: ignore[attr-defined]
        hit = out.answered and contains_any(out.first_quote, answers)
        trials.append(Trial(recorder.reports[-1], out.answered, hit, out.verbatim, elapsed))
    return trials


def score(trials: Sequence[Trial]) -> dict[str, float]:
    """The benchmark's metrics over ``trials``."""
    reports = [t.report for t in trials]
    quotes = sum(r.quotes for r in reports)
    sentences = sum(r.sentences for r in reports)
    latencies = [t.latency_ms for t in trials] or [0.0]
    return {
        "quotes_verified": sum(r.verified_quotes for r in reports) / quotes if quotes else 0.0,
        "sentences_dropped": sum(r.dropped for r in reports) / sentences if sentences else 0.0,
        "fallback_rate": mean([float(r.fallback is not None) for r in reports]),
        "latency_p50_ms": float(np.percentile(latencies, 50)),
        "latency_p95_ms": float(np.percentile(latencies, 95)),
        "answer_sentence@1": mean([float(t.hit) for t in trials]),
        "verbatim_rate": mean([float(t.verbatim) for t in trials if t.answered]),
    }


def fallback_reasons(trials: Sequence[Trial]) -> dict[str, int]:
    """How often each reason sent a question to the fallback."""
    counts: dict[str, int] = {}
    for t in trials:
        if t.report.fallback is not None:
            counts[t.report.fallback] = counts.get(t.report.fallback, 0) + 1
    return counts


def extractive_hits(engine: Engine, questions: Sequence[dict[str, object]]) -> float:
    """answer-sentence@1 of the engine's own (extractive) answerer on the same questions."""
    system = newsdesk_system(engine, "hybrid")
    hits = []
    for q in tqdm(questions, desc="extractive", file=sys.stderr, leave=False):
        out = system(str(q["question"]), None)
        hits.append(float(out.answered and contains_any(out.first_quote, [str(a) for a in q["answers"]])))  # type: ignore[attr-defined]
    return mean(hits)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base-url", required=True, help="OpenAI-compatible API root, e.g. http://localhost:11434/v1")
    parser.add_argument("--model", required=True)
    parser.add_argument("--limit", type=int, help="a fixed random sample of N questions (the same as quality.py's)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--questions", type=Path, help="question file (default: NewsQA dev questions)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "results" / "quality-index")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    opened = open_benchmark(args.eval_dir, EngineConfig(data_dir=args.data_dir))
    if opened is None:
        return 2
    engine, id_map, _ = opened
    questions = sample_questions(args.questions or args.eval_dir / "newsqa" / "questions.jsonl", id_map, args.limit)
    key = os.environ.get("NEWSDESK_LLM_API_KEY")
    config = LlmConfig(
        base_url=args.base_url,
        model=args.model,
        api_key=SecretStr(key) if key else None,
        timeout=args.timeout,
        max_tokens=args.max_tokens,
    )
    baseline = extractive_hits(engine, questions)
    extractive = engine.answerer
    recorder = RecordingAnswerer(LlmAnswerer(ChatClient(config), extractive))
    engine.answerer = recorder
    started = time.perf_counter()
    trials = run_trials(newsdesk_system(engine, "hybrid"), recorder, questions)
    report = {
        "n_questions": len(questions),
        "model": args.model,
        "base_url": args.base_url,
        "llm": score(trials),
        "extractive_answer_sentence@1": baseline,
        "fallback_reasons": fallback_reasons(trials),
        "seconds": round(time.perf_counter() - started, 1),
        "date": datetime.now(UTC).date().isoformat(),
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['n_questions']} questions, model {args.model} at {args.base_url}")
    print("| metric | value |\n|---|---|")
    for name, value in report["llm"].items():  # type: ignore[attr-defined]
        print(f"| {name} | {value:.3f} |")
    print(f"| answer_sentence@1, extractive on the same questions | {baseline:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

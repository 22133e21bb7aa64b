"""Answer quality on real news: newsdesk beside BM25-only, dense-only and the tutorial pipeline.

Indexes the NewsQA, CNN/DailyMail and BBC articles plus ``seeds/`` (about 3,800 articles),
asks every NewsQA question, and reports retrieval (gold article hit@k, MRR@10, gold answer
inside a top-5 passage), answers (first quote contains a gold answer, every quote verbatim)
and abstention (answer rate on the full index; false-answer rate on a fixed 300-question
subset with each question's gold article removed).

    python -m benchmarks.quality [--json] [--limit N] [--questions FILE] [--eval-dir DIR]

``--questions`` takes NewsQA-format questions, or a hand-written set of ``benchmarks/questions``
(rows with a ``kind``), which is scored by kind instead (``benchmarks.questions.bench``).

The index is cached in ``benchmarks/results/quality-index`` and rebuilt when its
configuration changes. The eval data is read by path and never copied.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from app.config import EngineConfig
from app.engine import Engine
from benchmarks.metrics import contains_any, distinct, hit_at, is_verbatim, mean, reciprocal_rank
from benchmarks.questions import bench
from benchmarks.questions.sets import is_question_set, parse_rows
from benchmarks.tutorial import TutorialPipeline
from index.models import RawArticle
from index.readers import read_paths
from retrieval.question import analyse
from retrieval.reader.model import MODEL_DIR
from retrieval.scope import Scope

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EVAL = ROOT.parent / "shared" / "eval"
CORPORA = ("newsqa/articles.jsonl", "cnndm/articles.jsonl", "bbc/articles.jsonl")
ABSTENTION_SUBSET = 300
SEED = 20261126


@dataclass(frozen=True)
class Outcome:
    """What one system did with one question."""

    ranked_articles: list[str]
    top_passages: list[str]
    answered: bool
    first_quote: str
    verbatim: bool
    confidence: float = 1.0


System = Callable[[str, str | None], Outcome]


def load_jsonl(path: Path) -> list[dict[str, object]]:
    """Records of a JSON-lines file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def open_benchmark(eval_dir: Path, config: EngineConfig) -> tuple[Engine, dict[str, str], dict[str, str]] | None:
    """The benchmark index in ``config.data_dir`` (see ``build_engine``), opened offline.

    ``None``, said on stderr, when the NewsQA questions are absent from ``eval_dir``: every
    benchmark reads them or the articles beside them, and then exits 2.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not (eval_dir / "newsqa" / "questions.jsonl").exists():
        print(f"eval data not found in {eval_dir}", file=sys.stderr)
        return None
    return build_engine(eval_dir, config)


def build_engine(eval_dir: Path, config: EngineConfig) -> tuple[Engine, dict[str, str], dict[str, str]]:
    """Open (building when needed) the benchmark index in ``config.data_dir``.

    Returns:
        The engine, a map from eval article id to newsdesk article id, and eval id -> raw text.
    """
    records = [r for corpus in CORPORA for r in load_jsonl(eval_dir / corpus)]
    fingerprint = hashlib.sha256(
        json.dumps([config.model, config.chunk_words, config.chunk_overlap, len(records)]).encode()
    ).hexdigest()[:12]
    marker = config.data_dir / "benchmark.json"
    if marker.exists() and json.loads(marker.read_text()).get("fingerprint") != fingerprint:
        import shutil

        shutil.rmtree(config.data_dir)
    engine = Engine(config)
    raws = {str(r["id"]): RawArticle.model_validate(r) for r in records}
    if not marker.exists():
        started = time.perf_counter()
        with tqdm(desc="indexing eval articles", unit=" passages", file=sys.stderr) as bar:
            report = engine.ingest(
                [*raws.values(), *read_paths([ROOT / "seeds"])],
                progress=lambda p, _a: bar.update(p - bar.n),
            )
        # article_ids follow the input order; a near-copy maps to the article it was merged into, and an
        # article replaced by a later edit of itself (same title, no URL) to the article that replaced it.
        id_map = {eid: _follow(report.replacements, aid) for eid, aid in zip(raws, report.article_ids, strict=False)}
        marker.write_text(
            json.dumps(
                {
                    "fingerprint": fingerprint,
                    "report": report.summary(),
                    "id_map": id_map,
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
        )
    if engine.store.articles_without_sentences():  # an index built before sentence vectors
        with tqdm(desc="adding sentence vectors (reindex)", unit=" passages", file=sys.stderr) as bar:
            engine.reindex(progress=lambda p, _a: bar.update(p - bar.n))
    id_map = json.loads(marker.read_text())["id_map"]
    id_map = {eid: _resolve(engine, aid, raws[eid].title) for eid, aid in id_map.items()}
    return engine, id_map, {eid: raw.text for eid, raw in raws.items()}


def _resolve(engine: Engine, article_id: str, title: str) -> str:
    """An id that is still stored: indexes built before replacements were recorded are matched by title."""
    if engine.store.article(article_id) is not None:
        return article_id
    same_title = [a.id for a in engine.store.find_articles(title, limit=5) if a.title == title]
    return same_title[0] if same_title else article_id


def _follow(replacements: dict[str, str], article_id: str) -> str:
    while article_id in replacements:
        article_id = replacements[article_id]
    return article_id


def newsdesk_system(engine: Engine, mode: str) -> System:
    """The shipped pipeline (``hybrid``), or its retrieval swapped for one retriever (baselines)."""

    def run(question: str, exclude: str | None) -> Outcome:
        scope = Scope(exclude_article_ids=(exclude,) if exclude else None)
        searcher = engine._current()
        q = analyse(question)
        hits = engine._search(searcher, q, scope, max(30, engine.depth), mode)
        answer = engine.answerer.answer(q, hits[: engine.depth], lexical=searcher.snapshot.lexical)
        verbatim = all(
            is_verbatim(h.article.text, c.quote, c.start, c.end)
            for c in answer.citations
            for h in hits
            if h.article.id == c.article_id
        )
        return Outcome(
            # The articles the answer cites, in its order, then the rest in retrieval order.
            ranked_articles=distinct([*(c.article_id for c in answer.citations), *(h.article.id for h in hits)]),
            top_passages=[h.text for h in hits[:5]],
            answered=answer.answered,
            first_quote=answer.citations[0].quote if answer.citations else "",
            verbatim=verbatim and all(c.article_id in {h.article.id for h in hits} for c in answer.citations),
            confidence=answer.confidence,
        )

    return run


def tutorial_system(pipeline: TutorialPipeline, id_map: dict[str, str]) -> System:
    """The tutorial pipeline, reporting newsdesk article ids so that gold ids compare."""
    to_ours = id_map

    def run(question: str, exclude: str | None) -> Outcome:
        eval_exclude = next((e for e, o in to_ours.items() if o == exclude), None) if exclude else None
        result = pipeline.run(question, exclude=eval_exclude)
        return Outcome(
            ranked_articles=[to_ours.get(a, a) for a in result.ranked_articles],
            top_passages=result.passages,
            answered=bool(result.quote),
            first_quote=result.quote,
            verbatim=is_verbatim(pipeline.articles.get(result.article_id, ""), result.quote, result.start, result.end),
        )

    return run


def evaluate(
    system: System,
    questions: Sequence[dict[str, object]],
    id_map: dict[str, str],
    abstention: Sequence[dict[str, object]],
    name: str,
) -> dict[str, float]:
    """Every metric of one system."""
    rows: dict[str, list[float]] = {k: [] for k in ("h1", "h5", "h10", "mrr", "aip5", "as1", "verb", "ans")}
    for q in tqdm(questions, desc=name, file=sys.stderr, leave=False):
        gold = id_map[str(q["article_id"])]
        answers = [str(a) for a in q["answers"]]  # type: ignore[attr-defined]
        out = system(str(q["question"]), None)
        rows["h1"].append(hit_at(out.ranked_articles, gold, 1))
        rows["h5"].append(hit_at(out.ranked_articles, gold, 5))
        rows["h10"].append(hit_at(out.ranked_articles, gold, 10))
        rows["mrr"].append(reciprocal_rank(out.ranked_articles, gold, 10))
        rows["aip5"].append(float(any(contains_any(p, answers) for p in out.top_passages)))
        rows["as1"].append(float(out.answered and contains_any(out.first_quote, answers)))
        rows["ans"].append(float(out.answered))
        if out.answered:
            rows["verb"].append(float(out.verbatim))
    false_answers = [
        float(system(str(q["question"]), id_map[str(q["article_id"])]).answered)
        for q in tqdm(abstention, desc=f"{name} (gold removed)", file=sys.stderr, leave=False)
    ]
    return {
        "article_hit@1": mean(rows["h1"]),
        "article_hit@5": mean(rows["h5"]),
        "article_hit@10": mean(rows["h10"]),
        "mrr@10": mean(rows["mrr"]),
        "answer_in_passage@5": mean(rows["aip5"]),
        "answer_sentence@1": mean(rows["as1"]),
        "verbatim_rate": mean(rows["verb"]),
        "answer_rate": mean(rows["ans"]),
        "false_answer_rate": mean(false_answers),
    }


def sample_questions(path: Path, id_map: dict[str, str], limit: int | None) -> list[dict[str, object]]:
    """The questions whose article is indexed; with ``limit``, the same fixed random sample every run."""
    questions = [q for q in load_jsonl(path) if str(q["article_id"]) in id_map]
    if limit:
        questions = random.Random(SEED).sample(questions, min(limit, len(questions)))
    return questions


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--questions", type=Path, help="question file (default: NewsQA dev questions)")
    parser.add_argument("--limit", type=int, help="evaluate a fixed random sample of N questions")
    parser.add_argument("--systems", default="newsdesk,bm25,dense,tutorial")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "results" / "quality-index")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--no-reader", action="store_true", help="answer with the hand-tuned scorer (the fallback)")
    parser.add_argument("--reader-dir", type=Path, default=MODEL_DIR, help="the reader's model folder (a candidate)")
    args = parser.parse_args(argv)
    config = EngineConfig(data_dir=args.data_dir, reader_dir=None if args.no_reader else args.reader_dir)
    opened = open_benchmark(args.eval_dir, config)
    if opened is None:
        return 2
    engine, id_map, raw_texts = opened
    if not args.no_reader and not args.questions:
        print(
            "note: the reader was trained on these NewsQA questions, so its answer figures here are in-sample; "
            "its out-of-fold figures come from `python -m benchmarks.train_reader` (or pass --no-reader)",
            file=sys.stderr,
        )
    path = args.questions or args.eval_dir / "newsqa" / "questions.jsonl"
    if args.questions and is_question_set(load_jsonl(path)):
        return _question_set(args, load_jsonl(path), engine, id_map, raw_texts)
    questions = sample_questions(path, id_map, args.limit)
    abstention = random.Random(SEED + 1).sample(questions, min(ABSTENTION_SUBSET, len(questions)))
    systems: dict[str, System] = {}
    for name in args.systems.split(","):
        if name == "newsdesk":
            systems[name] = newsdesk_system(engine, "hybrid")
        elif name in ("bm25", "dense"):
            systems[name] = newsdesk_system(engine, name)
        elif name == "tutorial":
            systems[name] = tutorial_system(_tutorial(engine, raw_texts, args.data_dir), id_map)
    started = time.perf_counter()
    results = {name: evaluate(run, questions, id_map, abstention, name) for name, run in systems.items()}
    report = {
        "n_questions": len(questions),
        "n_abstention": len(abstention),
        "systems": results,
        "articles": engine.store.article_count(),
        "passages": engine.store.passage_count(),
        "encoder": engine.encoder.backend,
        "model": config.model,
        "seconds": round(time.perf_counter() - started, 1),
        "date": datetime.now(UTC).date().isoformat(),
    }
    _emit(report, args, _print_table)
    return 0


def _question_set(
    args: argparse.Namespace,
    records: list[dict[str, object]],
    engine: Engine,
    id_map: dict[str, str],
    raw_texts: dict[str, str],
) -> int:
    """Score a hand-written question set by kind (speaker, fact, refuse)."""
    rows = parse_rows(records)
    # Exported feedback (``newsdesk feedback export``) names newsdesk ids: those this index holds map to themselves.
    own = {r.article_id for r in rows if r.article_id and r.article_id not in id_map}
    id_map = id_map | {aid: aid for aid in own if engine.store.article(aid) is not None}
    if missing := bench.missing_articles(rows, id_map):
        print(f"expected articles not in the benchmark index: {missing}", file=sys.stderr)
        return 2
    askers: dict[str, bench.Asker] = {}
    for name in args.systems.split(","):
        if name == "tutorial":
            askers[name] = bench.tutorial_asker(_tutorial(engine, raw_texts, args.data_dir), id_map)
        elif name in ("newsdesk", "bm25", "dense"):
            askers[name] = bench.engine_asker(engine, "hybrid" if name == "newsdesk" else name)
        else:
            print(f"unknown system {name!r}", file=sys.stderr)
            return 2
    report = bench.run(args.questions, rows, askers, id_map, limit=args.limit, seed=SEED)
    report |= {"articles": engine.store.article_count(), "date": datetime.now(UTC).date().isoformat()}
    _emit(report, args, bench.print_report)
    return 0


def _tutorial(engine: Engine, raw_texts: dict[str, str], data_dir: Path) -> TutorialPipeline:
    return TutorialPipeline(raw_texts, engine.encoder, cache=data_dir / "tutorial-vectors.npy")


Printer = Callable[[dict[str, object]], None]


def _emit(report: dict[str, object], args: argparse.Namespace, print_table: Printer) -> None:
    """Print the report (JSON with ``--json``) and write it to ``--out`` when given."""
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)


def _print_table(report: dict[str, object]) -> None:
    systems = report["systems"]
    assert isinstance(systems, dict)
    metrics = list(next(iter(systems.values())))
    print(f"{report['n_questions']} questions, {report['articles']} articles, {report['passages']} passages")
    print("| metric | " + " | ".join(systems) + " |")
    print("|---" * (len(systems) + 1) + "|")
    for m in metrics:
        print(f"| {m} | " + " | ".join(f"{systems[s][m]:.3f}" for s in systems) + " |")


if __name__ == "__main__":
    sys.exit(main())

"""Asks a question set through each system and reports the scores (the ``--questions`` path of quality).

newsdesk, bm25 and dense go through ``Engine.ask``, as a Discord user's question does (time
expressions included); the tutorial pipeline answers with its single best sentence and never abstains.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from app.engine import Engine
from benchmarks.questions.score import Grade, Reply, format_table, format_unsure, grade, summarise, unsure_shares
from benchmarks.questions.sets import Row
from benchmarks.tutorial import TutorialPipeline

Asker = Callable[[str], Reply]


def engine_asker(engine: Engine, mode: str) -> Asker:
    """The engine's public ``ask`` with retrieval ``mode`` (``hybrid`` is what ships)."""

    def ask(question: str) -> Reply:
        return Reply.of(engine.ask(question, mode=mode))

    return ask


def tutorial_asker(pipeline: TutorialPipeline, id_map: dict[str, str]) -> Asker:
    """The tutorial pipeline, citing newsdesk article ids so that expected ids compare."""

    def ask(question: str) -> Reply:
        result = pipeline.run(question)
        if not result.quote:
            return Reply(answered=False)
        return Reply(answered=True, quotes=(result.quote,), cited=(id_map.get(result.article_id, result.article_id),))

    return ask


def evaluate(rows: Sequence[Row], ask: Asker, id_map: dict[str, str], name: str = "") -> list[Grade]:
    """Grade every row; expected eval article ids are mapped to the system's ids through ``id_map``."""
    grades = []
    for row in tqdm(rows, desc=name, file=sys.stderr, leave=False):
        expected = id_map[row.article_id] if row.article_id else None
        grades.append(grade(row, ask(row.asked), expected))
    return grades


def missing_articles(rows: Sequence[Row], id_map: dict[str, str]) -> list[str]:
    """Expected article ids that the benchmark index does not hold."""
    return sorted({r.article_id for r in rows if r.article_id and r.article_id not in id_map})


def run(
    path: Path,
    rows: Sequence[Row],
    askers: dict[str, Asker],
    id_map: dict[str, str],
    *,
    limit: int | None = None,
    seed: int = 0,
) -> dict[str, object]:
    """Score every system on the rows (a fixed random sample of ``limit`` when given)."""
    if limit:
        rows = random.Random(seed).sample(list(rows), min(limit, len(rows)))
    systems = {}
    for name, ask in askers.items():
        grades = evaluate(rows, ask, id_map, name)
        systems[name] = {
            "summary": summarise(grades),
            "unsure": unsure_shares(grades),
            "rows": [asdict(g) for g in grades],
        }
    followups = bool(rows) and all(hasattr(r, "turns") for r in rows)
    return {
        "questions": str(path),
        "n_questions": len(rows),
        "asked": "last turn alone (no conversation context)" if followups else "question",
        "systems": systems,
    }


def print_report(report: dict[str, object]) -> None:
    """One table per system."""
    print(f"{report['n_questions']} questions from {report['questions']} (asked: {report['asked']})")
    systems = report["systems"]
    assert isinstance(systems, dict)
    for name, result in systems.items():
        print()
        print(format_table(name, result["summary"]))
        if line := format_unsure(result["unsure"]):
            print(line)

"""``python -m benchmarks.llm_quality`` as a user runs it, against the LLM double on a tiny eval folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.llm_double import MODEL, LlmDouble, quote_first_passage

pytestmark = pytest.mark.slow

ARTICLES = [
    {
        "id": "n1",
        "title": "Lighthouse museum reopens",
        "text": "The Varnholm lighthouse museum will reopen on the first of May after a winter of storm repairs. "
        "Harbour commissioner Yolanda Przybylek said the museum would offer free entry for schools.",
    },
    {
        "id": "n2",
        "title": "Tram line delayed",
        "text": "The tram extension in Kelvinbury will open nine months late because of steel shortages. "
        "Transport chief Oskar Dravin said the line would cost 40 million more.",
    },
]
QUESTIONS = [
    {"question": "When will the lighthouse museum reopen?", "answers": ["first of May"], "article_id": "n1"},
    {
        "question": "Why will the Kelvinbury tram extension open late?",
        "answers": ["steel shortages"],
        "article_id": "n2",
    },
]


def _eval_dir(root: Path) -> Path:
    """NewsQA-shaped articles and questions; the other corpora empty."""
    for corpus in ("newsqa", "cnndm", "bbc"):
        (root / corpus).mkdir(parents=True)
        (root / corpus / "articles.jsonl").write_text("", encoding="utf-8")
    (root / "newsqa" / "articles.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ARTICLES))
    (root / "newsqa" / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    return root


def test_the_benchmark_command_runs_against_the_double(tmp_path: Path):
    """should index, ask each question through the model over HTTP, and print the table and the JSON report."""
    out = tmp_path / "report.json"
    with LlmDouble() as double:
        double.script(quote_first_passage)
        argv = ["--base-url", double.base_url, "--model", MODEL, "--limit", "2", "--eval-dir"]
        argv += [str(_eval_dir(tmp_path / "eval")), "--data-dir", str(tmp_path / "index"), "--out", str(out)]
        result = subprocess.run(
            [sys.executable, "-m", "benchmarks.llm_quality", *argv],
            cwd=ROOT,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[0] == f"2 questions, model {MODEL} at {double.base_url}"
    assert "| fallback_rate | 0.000 |" in result.stdout
    assert len(double.requests) == 2 and all(r.body["model"] == MODEL for r in double.requests)
    report = json.loads(out.read_text())
    assert report["n_questions"] == 2 and report["fallback_reasons"] == {}
    llm = report["llm"]
    assert (llm["quotes_verified"], llm["sentences_dropped"], llm["fallback_rate"]) == (1.0, 0.0, 0.0)
    assert (llm["answer_sentence@1"], llm["verbatim_rate"]) == (1.0, 1.0)

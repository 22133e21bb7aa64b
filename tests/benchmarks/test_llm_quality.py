"""The LLM benchmark's scoring, on the local LLM double (no model can run in tests)."""

from __future__ import annotations

import json

import pytest

from benchmarks.llm_quality import RecordingAnswerer, Trial, fallback_reasons, run_trials, score
from benchmarks.llm_support import scores, sweep
from benchmarks.quality import newsdesk_system
from index.models import RawArticle
from retrieval.llm.answerer import LlmAnswerer, LlmReport
from retrieval.llm.client import ChatClient, LlmConfig
from retrieval.llm.verify import SUPPORT_THRESHOLD
from tests.conftest import MakeEngine
from tests.llm_double import LlmDouble, Reply

MALFORMED = "the language model's answer was not in the expected form"


def test_score_pins_every_metric():
    """should compute the shares over quotes and sentences, the fallback rate and latency percentiles."""
    trials = [
        Trial(LlmReport(sentences=3, quotes=2, verified_quotes=1, dropped=1), True, True, True, 100.0),
        Trial(LlmReport(sentences=1, quotes=2, verified_quotes=2), True, False, True, 200.0),
        Trial(LlmReport(fallback=MALFORMED), False, False, True, 300.0),
        Trial(LlmReport(sentences=2, dropped=2, fallback="x"), True, True, False, 400.0),
    ]
    assert score(trials) == {
        "quotes_verified": 0.75,
        "sentences_dropped": 0.5,
        "fallback_rate": 0.5,
        "latency_p50_ms": 250.0,
        "latency_p95_ms": pytest.approx(385.0),
        "answer_sentence@1": 0.5,
        "verbatim_rate": 2 / 3,
    }
    assert fallback_reasons(trials) == {MALFORMED: 1, "x": 1}


def test_run_on_the_double(make_engine: MakeEngine):
    """should run questions through retrieval and the LLM answerer, recording what the model's answers became."""
    engine = make_engine(chunk_words=25)
    engine.ingest(
        [
            RawArticle(
                title="Talks collapse",
                text='Talks collapsed on Friday. The mediator, Anna Berg, left early. "We have reached the end of the '
                'road," Berg said. The dispute concerns fishing rights.',
            ),
            RawArticle(
                title="Storm closes pier",
                text="The harbour master, Tomas Lind, inspected the damaged pier on Monday. "
                "He said the pier would stay closed for six weeks of repairs.",
            ),
        ]
    )
    faithful = {
        "sentences": [
            {"text": 'Berg said "We have reached the end of the road,"', "passages": [1], "quote": None},
        ]
    }
    questions = [
        {"question": "What did Berg say about the talks?", "answers": ["end of the road"]},
        {"question": "How long will the pier stay closed for repairs?", "answers": ["six weeks"]},
    ]
    with LlmDouble() as double:
        double.script(Reply(content=json.dumps(faithful)), Reply(content='{"sentences": [{"text'))
        llm = LlmAnswerer(ChatClient(LlmConfig(base_url=double.base_url, model="m", timeout=5)), engine.answerer)
        recorder = RecordingAnswerer(llm)
        engine.answerer = recorder
        trials = run_trials(newsdesk_system(engine, "hybrid"), recorder, questions)
    metrics = score(trials)
    assert [t.report.fallback for t in trials] == [None, MALFORMED]
    assert (metrics["quotes_verified"], metrics["sentences_dropped"], metrics["fallback_rate"]) == (1.0, 0.0, 0.5)
    assert (metrics["answer_sentence@1"], metrics["verbatim_rate"]) == (1.0, 1.0)
    assert 0 < metrics["latency_p50_ms"] <= metrics["latency_p95_ms"]


def test_support_threshold_as_documented():
    """should keep 21 of 22 faithful sentences and drop every unsupported one (not contradictions) at 0.5."""
    scored = scores()
    assert len(scored) == 40
    (shipped,) = [row for row in sweep(scored) if row["threshold"] == SUPPORT_THRESHOLD]
    assert shipped == {
        "threshold": 0.5,
        "faithful_kept": 21 / 22,
        "unsupported_dropped": 1.0,
        "contradictions_dropped": 0.0,
    }

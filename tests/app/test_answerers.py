"""Choosing the answerer from the configuration, and deferring a model's answer to the bot's event loop."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.answerers import dropped_notes, fallback_notes, make_answerer, public_notes
from app.config import EngineConfig
from app.deferred import DeferredModel, PendingAnswer, deferred
from app.engine import Engine
from index.store import Store
from retrieval.answer import Answer, ExtractiveAnswerer
from retrieval.llm.answerer import LlmAnswerer, ModelAnswer
from retrieval.llm.client import LlmConfig
from retrieval.llm.streaming import Draft
from retrieval.reader.answerer import UNSURE, UPGRADE_NOTE, ReaderAnswerer
from tests.conftest import MakeEngine
from tests.fakes import FakeEncoder
from tests.llm_cases import CONCERNED, OPPOSITE, PESKOV, faithful
from tests.llm_double import LlmDouble

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
UNDATED = "undated"
FAILED = "The language model failed (HTTP 500); this is newsdesk's extractive answer instead."
LEFT_OUT = "Left out 1 model sentence that the cited passage does not support."


@pytest.fixture
def double() -> Iterator[LlmDouble]:
    with LlmDouble() as server:
        yield server


def _engine(make_engine: MakeEngine, llm: LlmConfig | None) -> Engine:
    engine = make_engine(llm=llm)
    engine.ingest_paths([SEEDS])
    return engine


def test_quoting_answerer_unless_a_model_is_configured(tmp_path: Path):
    """should build the reader (or, without its model, the extractive scorer), and the LLM answerer over it."""
    store = Store(tmp_path)
    assert type(make_answerer(EngineConfig(data_dir=tmp_path), FakeEncoder(), store)) is ReaderAnswerer
    no_reader = EngineConfig(data_dir=tmp_path, reader_dir=None)
    assert type(make_answerer(no_reader, FakeEncoder(), store)) is ExtractiveAnswerer
    llm_config = LlmConfig("http://127.0.0.1:9/v1", "m")
    llm = make_answerer(EngineConfig(data_dir=tmp_path, llm=llm_config), FakeEncoder(), store)
    assert isinstance(llm, LlmAnswerer) and type(llm.fallback) is ReaderAnswerer
    assert llm.client.config.model == "m"


def test_notes_are_sorted_by_audience():
    """should show the asker the engine's notes and the fallback, and keep the moderators' notes from them."""
    answer = Answer("q", True, "a [1]", notes=(LEFT_OUT, UNDATED, UNSURE, UPGRADE_NOTE, FAILED))
    assert fallback_notes(answer) == [FAILED]
    assert dropped_notes(answer) == [LEFT_OUT]
    assert public_notes(answer) == [UNDATED, UNSURE, FAILED]


def test_engine_asks_the_configured_model(make_engine: MakeEngine, double: LlmDouble):
    """should answer in the model's checked words, with verbatim citations, through Engine.ask unchanged."""
    double.script(faithful())
    engine = _engine(make_engine, LlmConfig(double.base_url, "double-model", timeout=5))
    try:
        answer = engine.ask(PESKOV)
    finally:
        engine.close()
    assert isinstance(answer, ModelAnswer)
    assert answer.text.splitlines() == [f"{CONCERNED} [1]", f"{OPPOSITE} [1]"]
    article = engine.store.article(answer.citations[0].article_id)
    assert article is not None
    assert [c.quote for c in answer.citations] == [
        "we are very concerned",
        "Everything turned out to be exactly opposite",
    ]
    assert all(article.text[c.start : c.end] == c.quote for c in answer.citations)
    assert [r.body["model"] for r in double.requests] == ["double-model"]


async def test_deferred_engine_returns_what_the_model_will_answer_from(make_engine: MakeEngine, double: LlmDouble):
    """should leave the model unasked in Engine.ask, and stream its answer from the pending one."""
    double.script(faithful())
    engine = _engine(make_engine, LlmConfig(double.base_url, "double-model", timeout=5))
    engine.answerer = deferred(engine.answerer)
    try:
        pending = engine.ask(PESKOV)
    finally:
        engine.close()
    assert isinstance(engine.answerer, DeferredModel)
    assert isinstance(pending, PendingAnswer) and double.requests == []
    assert pending.query.text == PESKOV and pending.hits and pending.latency_ms > 0
    *drafts, final = [u async for u in pending.updates()]
    assert drafts == [Draft(f"{CONCERNED} [1]")]
    assert isinstance(final, ModelAnswer) and final.text.splitlines()[1] == f"{OPPOSITE} [1]"


def test_deferring_keeps_an_extractive_answerer():
    """should leave any answerer but the LLM one as it is."""
    extractive = ExtractiveAnswerer(FakeEncoder())
    assert deferred(extractive) is extractive


def test_completed_keeps_the_engines_notes_and_time(make_engine: MakeEngine, double: LlmDouble):
    """should add the engine's notes to an answer (not to "not found") and the model's time to retrieval's."""
    engine = _engine(make_engine, LlmConfig(double.base_url, "double-model", timeout=5))
    engine.answerer = deferred(engine.answerer)
    try:
        pending = engine.ask(PESKOV)
    finally:
        engine.close()
    assert isinstance(pending, PendingAnswer)
    pending = replace(pending, notes=(UNDATED,), latency_ms=10.0)
    done = pending.completed(Answer("q", True, "a [1]", notes=("model",)), model_ms=5.0)
    assert (done.notes, done.latency_ms) == (("model", UNDATED), 15.0)
    assert pending.completed(Answer("q", False, "none"), model_ms=1.0).notes == ()


def test_fall_back_answers_extractively_with_a_note(make_engine: MakeEngine, double: LlmDouble):
    """should give the extractive answer, saying why the model's is missing."""
    engine = _engine(make_engine, LlmConfig(double.base_url, "double-model", timeout=5))
    engine.answerer = deferred(engine.answerer)
    try:
        pending = engine.ask(PESKOV)
        assert isinstance(pending, PendingAnswer)
        answer = pending.fall_back("the language model did not answer in time")
    finally:
        engine.close()
    assert type(answer) is Answer and answer.text.startswith("> ")
    assert answer.notes == ("The language model did not answer in time; this is newsdesk's extractive answer instead.",)
    assert double.requests == []

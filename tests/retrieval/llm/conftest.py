"""Fixtures of the LLM answerer tests: hits, a lexical index, the fallback, and the LLM double."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from index.lexical import LexicalIndex
from retrieval.hybrid import Hit
from retrieval.llm.answerer import LlmAnswerer
from retrieval.question import Question, analyse
from tests.llm_double import LlmDouble

from ._cases import BUDGET, PIER, TALKS, RecordingFallback, make_answerer, paragraph_hit


@pytest.fixture
def hits() -> list[Hit]:
    """[1] talks, first paragraph; [2] pier, first paragraph; [3] talks, second paragraph; [4] the injection."""
    return [
        paragraph_hit(TALKS, 0, 0),
        paragraph_hit(PIER, 0, 1),
        paragraph_hit(TALKS, 1, 2),
        paragraph_hit(BUDGET, 0, 3),
    ]


@pytest.fixture
def lexical() -> LexicalIndex:
    return LexicalIndex.build([TALKS.text, PIER.text, BUDGET.text, "Unrelated text about football and weather."])


@pytest.fixture
def question() -> Question:
    return analyse("Why did the talks collapse?")


@pytest.fixture
def fallback() -> RecordingFallback:
    return RecordingFallback()


@pytest.fixture
def double() -> Iterator[LlmDouble]:
    with LlmDouble() as server:
        yield server


@pytest.fixture
def answerer(double: LlmDouble, fallback: RecordingFallback) -> LlmAnswerer:
    return make_answerer(double, fallback)

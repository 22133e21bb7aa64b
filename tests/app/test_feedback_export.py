"""Feedback exported as a question set: verdicts per answer, in the benchmark's own format."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.feedback_export import export_rows
from benchmarks.questions.score import Reply, grade
from benchmarks.questions.sets import UserQuestion, parse_rows
from index.convstore import StoredAnswer, StoredQuote
from index.feedbackstore import FeedbackStore
from index.store import Store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW.replace(hour=14)
PESKOV = "What did Peskov say about the strikes?"
QUOTE = '"Everything turned out to be exactly opposite. We are very sorry about that," Peskov added.'
OTHER = "The threat of a direct collision had significantly increased, the Kremlin said."


def answer(answer_id: str, question: str = PESKOV, quotes: tuple[str, ...] = (QUOTE, OTHER)) -> StoredAnswer:
    stored = tuple(StoredQuote(i + 1, f"art{i}", "T", q, 0, len(q)) for i, q in enumerate(quotes))
    return StoredAnswer(answer_id, "c1", ("111", "global"), question, question, bool(quotes), stored, NOW)


@pytest.fixture
def feedback(tmp_path: Path):
    store = Store(tmp_path)
    yield FeedbackStore(store)
    store.close()


def test_each_verdict_becomes_a_valid_row(feedback: FeedbackStore):
    """should export liked answers as expected phrases, reported ones as wrong phrases, and refusals."""
    feedback.vote(answer("liked0000000"), 1, True, now=NOW)
    feedback.vote(answer("liked0000000"), 2, True, now=NOW)
    feedback.vote(answer("liked0000000"), 3, False, now=NOW)
    feedback.report(answer("speaker00000"), 1, "wrong_speaker", "not Peskov", now=NOW.replace(hour=13))
    feedback.vote(answer("sourceless00", "How many died in the quake?"), 1, False, now=LATER)
    feedback.report(answer("sourceless00", "How many died in the quake?"), 2, "not_in_sources", None, now=LATER)
    feedback.report(answer("sourceless00", "How many died in the quake?"), 3, "not_in_sources", None, now=LATER)
    rows = export_rows(feedback.all())
    assert rows == [
        {
            "qid": "fb-liked0000000",
            "question": PESKOV,
            "kind": "speaker",
            "article_id": "art0",
            "expected": ['"Everything turned out to be exactly opposite. We'],
            "absent": [],
            "wrong": [],
        },
        {
            "qid": "fb-speaker00000",
            "question": PESKOV,
            "kind": "speaker",
            "article_id": "art0",
            "expected": [],
            "absent": [],
            "wrong": [
                '"Everything turned out to be exactly opposite. We',
                "The threat of a direct collision had significantly",
            ],
        },
        {
            "qid": "fb-sourceless00",
            "question": "How many died in the quake?",
            "kind": "refuse",
            "article_id": None,
            "expected": [],
            "absent": [],
            "wrong": [
                '"Everything turned out to be exactly opposite. We',
                "The threat of a direct collision had significantly",
            ],
        },
    ]
    assert [type(r) for r in parse_rows(rows)] == [UserQuestion] * 3


def test_ties_and_empty_answers_are_left_out(feedback: FeedbackStore):
    """should export nothing for a tied vote or an answer that quoted nothing."""
    feedback.vote(answer("tied00000000"), 1, True, now=NOW)
    feedback.vote(answer("tied00000000"), 2, False, now=NOW)
    feedback.vote(answer("nothing00000", quotes=()), 1, False, now=NOW)
    assert export_rows(feedback.all()) == []


def test_a_replay_is_right_when_it_no_longer_leads_with_the_quote_judged_wrong(feedback: FeedbackStore):
    """should grade a replay wrong while it repeats the reported quote, and right once it quotes something else."""
    feedback.report(answer("speaker00000"), 1, "wrong_quote", None, now=NOW)
    [row] = parse_rows(export_rows(feedback.all()))
    assert grade(row, Reply(True, (QUOTE,), ("art0",)), "art0").right is False
    assert grade(row, Reply(True, ("Peskov said ties were at zero.",), ("art0",)), "art0").right is True
    assert grade(row, Reply(False), "art0").right is False

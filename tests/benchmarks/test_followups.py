"""The follow-up benchmark's scoring loop on a fake engine (``benchmarks.followups``)."""

from __future__ import annotations

from datetime import UTC, datetime

from benchmarks.followups import evaluate, report, standalone_changes
from benchmarks.questions.sets import Followup
from retrieval.answer import Answer, Citation
from retrieval.conversation import Turn

NOW = datetime(2026, 3, 1, tzinfo=UTC)
ANSWERS = {
    "What did Peskov say about the strikes?": ("a1", '"We are concerned," Peskov said.'),
    "What else did Peskov say about the strikes?": ("a1", '"It is a very bad sign," Peskov added.'),
    "what else did he say?": ("a2", "He said the weather was fine."),
}


def fake_ask(question: str) -> Answer:
    if question not in ANSWERS:
        return Answer(question, False, "")
    article, quote = ANSWERS[question]
    return Answer(question, True, "", (Citation(1, article, "T", None, None, None, quote, 0, len(quote)),))


def row() -> Followup:
    return Followup(
        qid="c1",
        turns=["What did Peskov say about the strikes?", "what else did he say?"],
        kind="speaker",
        article_id="e1",
        expected=["very bad sign"],
    )


def test_scores_the_second_turn_alone_and_rewritten():
    """should ask the rewritten follow-up and grade both readings with the question-set rules."""
    [outcome] = evaluate([row()], fake_ask, {"e1": "a1"}, NOW)
    assert outcome.asked == "What else did Peskov say about the strikes?"
    assert (outcome.rule, outcome.first_answered) == ("reference", True)
    assert (outcome.alone.right, outcome.alone.cited_expected) == (False, False)
    assert (outcome.rewritten.right, outcome.rewritten.cited_expected) == (True, True)
    result = report([outcome], standalone_changes([], [], NOW))
    assert (result["rewritten"], result["alone"]["overall"]["right"], result["with_rewrite"]["overall"]["right"]) == (
        1,
        0.0,
        1.0,
    )


def test_standalone_check_counts_changes_and_inherited_speakers():
    """should count every standalone question a previous turn changes, and those that took its speaker."""
    turn = Turn(question="q", rewritten="What did Peskov say about the strikes?", speaker="Peskov", asked_at=NOW)
    result = standalone_changes(["What did Obama say about Syria?", "how old is he?"], [turn], NOW)
    assert (result["pairs"], result["changed"], result["took_old_speaker"]) == (2, 1, 1)
    assert result["examples"] == [
        {
            "after": "What did Peskov say about the strikes?",
            "question": "how old is he?",
            "read_as": "How old is Peskov?",
        }
    ]

"""Users' feedback as a question set that ``benchmarks.quality --questions`` replays after a change.

Rows have the shape of ``benchmarks/questions/user.jsonl`` (validated by
``benchmarks.questions.sets``): ``qid``, ``question`` (the question that was searched, so a
follow-up is replayed as it was read), ``kind``, ``article_id`` (the article the judged answer
cited), ``expected``, ``absent`` and ``wrong`` (phrases of the quotes judged wrong). The verdict
on an answer is its users' together:

- reported, or more votes down than up: wrong. Its leading quotes go in ``wrong`` (a replay is
  right when it no longer leads with them); when most reports say "not in the sources" the row
  is a refusal (right when the replay abstains);
- more votes up than down and no report: right. Its first quote goes in ``expected``;
- a tie, or an answer that quoted nothing: no row (there is nothing to check a replay against).

Phrases are a quote's first ``PHRASE_WORDS`` words, as hand-written answer keys are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from index.feedbackstore import Judgement
from retrieval.question import analyse

__all__ = ["PHRASE_WORDS", "export_rows"]

PHRASE_WORDS = 8
QUOTES_JUDGED = 2
"""Leading quotes a reader judges (``benchmarks.questions.score.QUOTES_READ``)."""


def _phrase(quote: str) -> str:
    return " ".join(quote.split()[:PHRASE_WORDS])


def _kind(question: str) -> str:
    return "speaker" if analyse(question).asks_for_quote else "fact"


def _row(group: Sequence[Judgement]) -> dict[str, object] | None:
    """The row of one answer's judgements, or None when they give no verdict."""
    first = group[0]
    if not first.quotes:
        return None
    reasons = Counter(j.reason for j in group if j.reason is not None)
    ups = sum(j.vote == 1 for j in group)
    downs = sum(j.vote == -1 for j in group)
    row: dict[str, object] = {"qid": f"fb-{first.answer_id}", "question": first.question}
    if reasons or downs > ups:
        wrong = list(dict.fromkeys(_phrase(q.quote) for q in first.quotes[:QUOTES_JUDGED]))
        if reasons and reasons.most_common(1)[0][0] == "not_in_sources":
            return row | {"kind": "refuse", "article_id": None, "expected": [], "absent": [], "wrong": wrong}
        return row | {
            "kind": _kind(first.question),
            "article_id": first.quotes[0].article_id,
            "expected": [],
            "absent": [],
            "wrong": wrong,
        }
    if ups > downs:
        return row | {
            "kind": _kind(first.question),
            "article_id": first.quotes[0].article_id,
            "expected": [_phrase(first.quotes[0].quote)],
            "absent": [],
            "wrong": [],
        }
    return None


def export_rows(judgements: Iterable[Judgement]) -> list[dict[str, object]]:
    """One question-set row per judged answer with a verdict, in the order the answers were first judged."""
    groups: dict[str, list[Judgement]] = {}
    for judgement in judgements:
        groups.setdefault(judgement.answer_id, []).append(judgement)
    return [row for group in groups.values() if (row := _row(group)) is not None]

"""Scoring of question-set answers: pure functions, pinned by tests on tiny rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.metrics import contains_any, mean
from benchmarks.questions.sets import KINDS, Row
from retrieval.answer import Answer
from retrieval.reader.answerer import UNSURE

#: How many leading quotes may hold the expected phrase: the part of an answer a user reads first.
QUOTES_READ = 2


@dataclass(frozen=True)
class Reply:
    """What a system answered: its quotes in order, the articles they cite, and whether it said it was unsure."""

    answered: bool
    quotes: tuple[str, ...] = ()
    cited: tuple[str, ...] = ()
    unsure: bool = False

    @classmethod
    def of(cls, answer: Answer) -> Reply:
        """The scoring view of newsdesk's ``answer``."""
        return cls(
            answered=answer.answered,
            quotes=tuple(c.quote for c in answer.citations),
            cited=tuple(c.article_id for c in answer.citations),
            unsure=answer.answered and UNSURE in answer.notes,
        )


@dataclass(frozen=True)
class Grade:
    """One row's outcome. ``cited_expected`` is None for refusals (no article is expected)."""

    qid: str
    kind: str
    answered: bool
    right: bool
    cited_expected: bool | None
    unsure: bool = False  # answered with the reader's "not sure" note


def grade(row: Row, reply: Reply, expected_article: str | None) -> Grade:
    """Right when a refusal is not answered, or an answer's first quotes hold an expected phrase and none judged wrong.

    Args:
        row: the question and its answer key.
        reply: what the system said.
        expected_article: the expected article's id in the system's own ids (None for refusals).
    """
    if row.kind == "refuse":
        return Grade(row.qid, row.kind, reply.answered, not reply.answered, None, reply.unsure)
    leading = reply.quotes[:QUOTES_READ]
    holds_expected = not row.expected or any(contains_any(q, row.expected) for q in leading)
    right = reply.answered and holds_expected and not any(contains_any(q, row.wrong) for q in leading)
    cited = reply.answered and expected_article in reply.cited
    return Grade(row.qid, row.kind, reply.answered, right, cited, reply.unsure)


def summarise(grades: Sequence[Grade]) -> dict[str, dict[str, float | int | None]]:
    """Per kind and overall: count, right rate, answer rate, and rate of citing the expected article."""

    def line(group: Sequence[Grade]) -> dict[str, float | int | None]:
        cited = [float(g.cited_expected) for g in group if g.cited_expected is not None]
        return {
            "n": len(group),
            "right": mean([float(g.right) for g in group]),
            "answered": mean([float(g.answered) for g in group]),
            "cites_expected": mean(cited) if cited else None,
        }

    table: dict[str, dict[str, float | int | None]] = {
        kind: line([g for g in grades if g.kind == kind]) for kind in KINDS if any(g.kind == kind for g in grades)
    }
    table["overall"] = line(grades)
    return table


def unsure_shares(grades: Sequence[Grade]) -> dict[str, float | int | None]:
    """How often the "not sure" note came with right answers, wrong answers and answered refusals.

    The note is worth showing only if it flags wrong answers more often than right ones.
    """

    def share(group: Sequence[Grade]) -> float | None:
        return mean([float(g.unsure) for g in group]) if group else None

    answered = [g for g in grades if g.answered]
    answerable = [g for g in answered if g.kind != "refuse"]
    return {
        "answered": len(answered),
        "right": share([g for g in answerable if g.right]),
        "wrong": share([g for g in answerable if not g.right]),
        "refusals_answered": share([g for g in answered if g.kind == "refuse"]),
    }


def format_unsure(shares: dict[str, float | int | None]) -> str:
    """One line of ``unsure_shares``; empty when no answer was flagged (a system without the note)."""
    flagged = {k: v for k, v in shares.items() if k != "answered" and isinstance(v, float)}
    if not any(flagged.values()):
        return ""
    return 'flagged "not sure": ' + ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in flagged.items())


def format_table(name: str, table: dict[str, dict[str, float | int | None]]) -> str:
    """A Markdown table of one system's summary."""

    def cell(value: float | int | None) -> str:
        return "-" if value is None else str(value) if isinstance(value, int) else f"{value:.3f}"

    lines = [f"{name}", "| kind | n | right | answered | cites expected article |", "|---|---|---|---|---|"]
    lines += [f"| {kind} | " + " | ".join(cell(v) for v in row.values()) + " |" for kind, row in table.items()]
    return "\n".join(lines)

from __future__ import annotations

from benchmarks.questions.sets import UserQuestion
from benchmarks.speaker_coverage import coverage

ARTICLE = (
    "Top seed Roger Federer squeezed past Juan Carlos Ferrero in Dubai. "
    "Federer was not unduly worried. "
    "The world number one went the distance against Ivan Ljubicic in Rotterdam. "
    '"I definitely had a slow start again," he said.'
)


def _row(qid: str, question: str, kind: str = "speaker") -> UserQuestion:
    article = "a1" if kind != "refuse" else None
    expected = ["slow start"] if kind != "refuse" else []
    absent = ["Nadal"] if kind == "refuse" else []
    return UserQuestion(qid=qid, kind=kind, article_id=article, expected=expected, absent=absent, question=question)


def test_coverage_counts_questions_whose_speaker_the_table_quotes(capsys):
    """should count the asked speaker as covered, another as a miss, and skip what is no speaker question."""
    rows = [
        _row("s1", "what did federer say after dubai"),
        _row("s2", "what did nadal say after dubai"),
        _row("s3", "why was the match so long"),
        _row("f1", "who won in dubai", kind="fact"),
        _row("r1", "what did nadal say about clay", kind="refuse"),
    ]
    counts = coverage(rows, {"a1": ("Federer through", ARTICLE)}, misses=True)
    assert counts == {"questions": 3, "no_speaker": 1, "covered": 1}
    assert "s2: asked 'nadal'" in capsys.readouterr().err

"""Scoring and checking of the hand-written question sets (``benchmarks.questions``) on tiny rows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from pydantic import ValidationError

from benchmarks.questions.bench import evaluate, missing_articles, run, tutorial_asker
from benchmarks.questions.score import Reply, format_table, format_unsure, grade, summarise, unsure_shares
from benchmarks.questions.sets import Followup, UserQuestion, is_question_set, load_rows, parse_rows
from benchmarks.questions.verify import absence_problems, corpus_texts, key_problems
from benchmarks.tutorial import TutorialResult
from retrieval.answer import NOT_FOUND, Answer, Citation
from retrieval.reader.answerer import UNSURE
from tests.conftest import EVAL_DIR

SETS = Path(__file__).resolve().parents[2] / "benchmarks" / "questions"
HELD_OUT = ("user.jsonl", "heldout.jsonl", "followups.jsonl")


def speaker(qid: str = "s1", expected: tuple[str, ...] = ("very concerned",), article: str = "e1") -> UserQuestion:
    return UserQuestion(
        qid=qid, question="what did peskov say", kind="speaker", article_id=article, expected=list(expected)
    )


def refusal(qid: str = "r1") -> UserQuestion:
    return UserQuestion(
        qid=qid, question="weather in paris?", kind="refuse", article_id=None, expected=[], absent=["weather"]
    )


def test_answer_is_right_when_one_of_the_first_two_quotes_holds_an_expected_phrase():
    """should match case- and whitespace-insensitively, in quote 1 or 2 but not 3."""
    row = speaker(expected=("Very  Concerned", "zero"))
    second = Reply(True, ("Ties are bad.", "We are very\nconcerned, he said."), ("a1", "a1"))
    third = Reply(True, ("One.", "Two.", "We are very concerned."), ("a1", "a2", "a3"))
    assert grade(row, second, "a1").right is True
    assert grade(row, third, "a1").right is False


def test_unanswered_question_is_wrong_even_with_a_matching_quote():
    """should count an abstention as wrong for speaker and fact questions, and as not citing."""
    result = grade(speaker(), Reply(False, ("very concerned",), ("a1",)), "a1")
    assert (result.right, result.answered, result.cited_expected) == (False, False, False)


def test_citing_the_expected_article_is_reported_separately_from_rightness():
    """should flag the expected article among any citation, whether or not the quote is right."""
    assert grade(speaker(), Reply(True, ("nothing",), ("a2", "a1")), "a1").cited_expected is True
    assert grade(speaker(), Reply(True, ("very concerned",), ("a2",)), "a1").cited_expected is False


def test_refusal_is_right_exactly_when_not_answered():
    """should score a refusal by abstention alone, with no article to cite."""
    assert grade(refusal(), Reply(False), None).right is True
    answered = grade(refusal(), Reply(True, ("It is sunny.",), ("a1",)), None)
    assert (answered.right, answered.cited_expected) == (False, None)


def test_summary_per_kind_and_overall():
    """should give n, right, answered and cites_expected per kind, none for refusals."""
    grades = [
        grade(speaker("s1"), Reply(True, ("very concerned",), ("a1",)), "a1"),
        grade(speaker("s2"), Reply(True, ("other",), ("a2",)), "a1"),
        grade(refusal("r1"), Reply(False), None),
        grade(refusal("r2"), Reply(True, ("x",), ("a3",)), None),
    ]
    table = summarise(grades)
    assert table["speaker"] == {"n": 2, "right": 0.5, "answered": 1.0, "cites_expected": 0.5}
    assert table["refuse"] == {"n": 2, "right": 0.5, "answered": 0.5, "cites_expected": None}
    assert table["overall"] == {"n": 4, "right": 0.5, "answered": 0.75, "cites_expected": 0.5}
    assert "fact" not in table
    assert format_table("newsdesk", table).splitlines()[3:5] == [
        "| speaker | 2 | 0.500 | 1.000 | 0.500 |",
        "| refuse | 2 | 0.500 | 0.500 | - |",
    ]


def test_rows_validate_their_answer_key():
    """should reject a refusal naming an article, an answer without phrases, and an ``id`` key."""
    with pytest.raises(ValidationError, match="refusal names no article"):
        UserQuestion(qid="r", question="q", kind="refuse", article_id="e1", expected=[], absent=["x"])
    with pytest.raises(ValidationError, match="lists what the corpus must not contain"):
        UserQuestion(qid="r", question="q", kind="refuse", article_id=None, expected=[])
    with pytest.raises(ValidationError, match="needs article_id and expected"):
        UserQuestion(qid="f", question="q", kind="fact", article_id="e1", expected=[" "])
    with pytest.raises(ValidationError, match="id"):
        parse_rows([{"qid": "f", "id": "e1", "question": "q", "kind": "fact", "article_id": "e1", "expected": ["x"]}])
    with pytest.raises(ValueError, match="duplicate qid"):
        parse_rows([speaker().model_dump(), speaker().model_dump()])


def test_followup_asks_its_last_turn_alone():
    """should put only the second turn to the system (the baseline without conversation context)."""
    row = Followup(
        qid="c1", turns=["what did kerry say", "and the ayatollah?"], kind="speaker", article_id="e1", expected=["x"]
    )
    assert row.asked == "and the ayatollah?"
    assert isinstance(parse_rows([row.model_dump()])[0], Followup)


def test_question_sets_are_told_apart_from_newsqa_questions():
    """should route rows with a kind to this scoring and NewsQA rows to the old one."""
    assert is_question_set([speaker().model_dump(), refusal().model_dump()])
    assert not is_question_set([{"qid": "q", "question": "q", "answers": ["a"], "article_id": "e1"}])
    assert not is_question_set([])


def test_evaluate_maps_expected_eval_ids_to_newsdesk_ids():
    """should compare citations with the newsdesk id of the expected eval article."""
    rows = [speaker("s1", article="e1"), refusal("r1")]
    asked: list[str] = []

    def ask(question: str) -> Reply:
        asked.append(question)
        return Reply(True, ("very concerned",), ("nd-1",))

    grades = evaluate(rows, ask, {"e1": "nd-1"})
    assert asked == ["what did peskov say", "weather in paris?"]
    assert [(g.right, g.cited_expected) for g in grades] == [(True, True), (False, None)]
    assert missing_articles([speaker(article="e9"), refusal()], {"e1": "nd-1"}) == ["e9"]


def test_unsure_note_is_read_from_the_answer_and_split_by_outcome():
    """should flag only answers carrying the reader's note, and share them among right, wrong and refusals."""
    citation = Citation(1, "a1", "T", "src", None, None, "very concerned", 0, 14)
    assert Reply.of(Answer("q", True, "> very concerned [1]", (citation,), notes=(UNSURE,))) == Reply(
        True, ("very concerned",), ("a1",), unsure=True
    )
    assert Reply.of(Answer("q", False, NOT_FOUND, notes=(UNSURE,))).unsure is False
    grades = [
        grade(speaker("s1"), Reply(True, ("very concerned",), ("a1",)), "a1"),
        grade(speaker("s2"), Reply(True, ("very concerned",), ("a1",), unsure=True), "a1"),
        grade(speaker("s3"), Reply(True, ("other",), ("a1",), unsure=True), "a1"),
        grade(refusal("r1"), Reply(True, ("x",), ("a3",)), None),
        grade(refusal("r2"), Reply(False), None),
    ]
    shares = unsure_shares(grades)
    assert shares == {"answered": 4, "right": 0.5, "wrong": 1.0, "refusals_answered": 0.0}
    assert format_unsure(shares) == 'flagged "not sure": right 0.500, wrong 1.000, refusals answered 0.000'
    assert format_unsure(unsure_shares(grades[:1])) == ""


def test_run_reports_every_system_and_says_what_was_asked():
    """should name the asking mode: follow-up sets are asked their last turn alone."""
    rows = parse_rows(
        [{"qid": "c1", "turns": ["a", "why?"], "kind": "fact", "article_id": "e1", "expected": ["because"]}]
    )
    report = run(Path("f.jsonl"), rows, {"x": lambda q: Reply(True, (f"{q} because",), ("n1",))}, {"e1": "n1"})
    assert report["asked"] == "last turn alone (no conversation context)"
    assert report["systems"]["x"]["summary"]["fact"]["right"] == 1.0  # type: ignore[index]
    assert report["systems"]["x"]["rows"] == [  # type: ignore[index]
        {"qid": "c1", "kind": "fact", "answered": True, "right": True, "cited_expected": True, "unsure": False}
    ]


def test_tutorial_asker_cites_newsdesk_ids_and_abstains_without_a_quote():
    """should translate the tutorial's eval ids and treat an empty quote as no answer."""

    class Pipeline:
        def __init__(self, quote: str) -> None:
            self.quote = quote

        def run(self, question: str) -> TutorialResult:
            return TutorialResult(["e1"], [], self.quote, "e1" if self.quote else "", 0, len(self.quote))

    assert tutorial_asker(Pipeline("Quote."), {"e1": "n1"})("q") == Reply(True, ("Quote.",), ("n1",))  # type: ignore[arg-type]
    assert tutorial_asker(Pipeline(""), {"e1": "n1"})("q") == Reply(False)  # type: ignore[arg-type]


def test_verify_finds_missing_phrases_long_phrases_and_present_absences():
    """should check phrases verbatim up to whitespace, and absences alone or together."""
    texts = {"e1": 'Peskov said:\n  "we are very   concerned".', "e2": "Paris weather is fine. It rains."}
    rows = [speaker("s1", expected=("very concerned", "not there", "one two three four five six seven eight nine"))]
    assert key_problems(rows, texts) == [
        "s1: 'not there' not in e1",
        "s1: expected phrase over 8 words: 'one two three four five six seven eight nine'",
        "s1: 'one two three four five six seven eight nine' not in e1",
    ]
    absent = UserQuestion(
        qid="r1", question="q", kind="refuse", article_id=None, expected=[],
        absent=["snow", ["paris", "rains"], ["paris", "snow"]],
    )  # fmt: skip
    assert absence_problems([absent], texts) == ["r1: ['paris', 'rains'] occurs in e2"]


def test_committed_sets_have_the_agreed_shape():
    """should hold 80+ questions (half speaker, a quarter each fact and refuse) and 30+ follow-ups."""
    user = load_rows(SETS / "user.jsonl")
    kinds = Counter(r.kind for r in user)
    assert len(user) >= 80
    assert kinds["speaker"] * 2 == len(user) and kinds["fact"] == kinds["refuse"] == len(user) // 4
    followups = load_rows(SETS / "followups.jsonl")
    assert len(followups) >= 30 and all(isinstance(r, Followup) for r in followups)


def test_dev_set_has_the_agreed_shape_and_no_held_out_article():
    """should hold 2,686 questions (about half speaker, a quarter fact, a quarter refuse) on no held-out article."""
    dev = load_rows(SETS / "dev.jsonl")
    assert Counter(r.kind for r in dev) == {"speaker": 1368, "fact": 690, "refuse": 628}
    assert len({r.qid for r in dev}) == len(dev)
    held_out = {r.article_id for name in HELD_OUT for r in load_rows(SETS / name)}
    assert {r.article_id for r in dev if r.article_id} & held_out == set()


def test_second_held_out_set_has_its_shape_and_its_own_questions():
    """should hold 1,375 questions (half speaker, a quarter fact, a quarter refuse) that no other set holds."""
    rows = load_rows(SETS / "heldout.jsonl")
    assert Counter(r.kind for r in rows) == {"speaker": 699, "fact": 350, "refuse": 326}
    others = [r for name in ("dev.jsonl", "user.jsonl", "followups.jsonl") for r in load_rows(SETS / name)]
    assert {r.qid for r in rows} & {r.qid for r in others} == set()
    assert {r.article_id for r in rows if r.article_id} & {r.article_id for r in others if r.article_id} == set()


@pytest.mark.slow
@pytest.mark.skipif(not (EVAL_DIR / "cnndm" / "articles.jsonl").exists(), reason="eval data not available")
def test_committed_sets_match_the_eval_corpus():
    """should find every expected phrase in its article and no refusal's absent entry anywhere."""
    texts = corpus_texts(EVAL_DIR)
    for name in (*HELD_OUT, "dev.jsonl"):
        rows = load_rows(SETS / name)
        assert key_problems(rows, texts) + absence_problems(rows, texts) == []

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from retrieval.errors import BadQuestionError
from retrieval.question import MAX_QUESTION_CHARS, Question, analyse, validate
from retrieval.speaker_question import SpeakerQuestion
from retrieval.timeexpr import TimeFilter

NOW = datetime(2024, 3, 13, 15, 0, tzinfo=UTC)  # a Wednesday


def test_question_analysis():
    """should find the speaker, the content terms and the search terms of a question."""
    assert analyse("  What did   Peskov say about the strikes? ") == Question(
        text="What did Peskov say about the strikes?",
        terms=("peskov", "strike"),
        search_terms=("peskov", "say", "strike"),
        speaker_terms=("peskov",),
        speaker=SpeakerQuestion("Peskov", "the strikes"),
    )


def test_the_else_of_a_follow_up_is_no_content_term():
    """should leave "else" out of the content terms, so "What else did Peskov say?" is matched like its question."""
    follow_up = analyse("What else did Peskov say about the strikes?")
    assert follow_up.terms == analyse("What did Peskov say about the strikes?").terms == ("peskov", "strike")
    assert "els" in follow_up.search_terms  # still a word BM25 may match


def test_time_words_are_read_once_and_taken_out_of_the_search():
    """should hold the time window of "last week" and search only the rest of the question."""
    q = analyse("How many strikes were there last week?", now=NOW)
    assert q.time == TimeFilter(
        start=datetime(2024, 3, 4, tzinfo=UTC), end=datetime(2024, 3, 11, tzinfo=UTC), matched="last week"
    )
    assert (q.text, q.terms, q.answer_type) == ("How many strikes were there ?", ("mani", "strike"), "number")


def test_time_words_are_search_words_without_now():
    """should leave the time words in the text when the caller reads no dates (it set its own range)."""
    q = analyse("How many strikes were there last week?")
    assert (q.time, q.text, q.terms) == (
        None,
        "How many strikes were there last week?",
        ("mani", "strike", "last", "week"),
    )


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("What did Pes\u200bkov say?", id="zero-width-space"),
        pytest.param("What did Pes\u200dkov say?", id="zero-width-joiner"),
        pytest.param("\ufeffWhat did Peskov say?", id="byte-order-mark"),
    ],
)
def test_invisible_characters_are_removed_as_in_articles(question: str):
    """should normalise a question the way article text is normalised, so "Pes\\u200bkov" finds Peskov."""
    q = analyse(question)
    assert (q.text, q.speaker_terms) == ("What did Peskov say?", ("peskov",))


def test_curly_quotes_are_straightened_as_in_articles():
    """should straighten quotes like the article cleaner does."""
    assert validate("What is \u201cthe end of the road\u201d?") == 'What is "the end of the road"?'


@pytest.mark.parametrize(
    ("question", "code_point"),
    [
        pytest.param("What did Peskov say\udc80?", "U+DC80", id="lone-low-surrogate"),
        pytest.param("\ud83dWhat did Peskov say?", "U+D83D", id="lone-high-surrogate"),
        pytest.param("What did Peskov say\uffff?", "U+FFFF", id="noncharacter"),
        pytest.param("What did Peskov say\U0010fffe?", "U+10FFFE", id="plane-16-noncharacter"),
    ],
)
def test_code_points_that_are_not_text_are_refused(question: str, code_point: str):
    """should refuse a question holding a surrogate or a noncharacter with a clear message, not a tokenizer crash."""
    with pytest.raises(BadQuestionError) as err:
        analyse(question)
    assert str(err.value) == f"That question holds a character that is not text ({code_point}); please type it again."


@pytest.mark.parametrize(
    ("question", "message"),
    [
        pytest.param("", "Please ask a question: the text is empty.", id="empty"),
        pytest.param("   \n\t", "Please ask a question: the text is empty.", id="blank"),
        pytest.param("\u200b\u200c", "Please ask a question: the text is empty.", id="invisible-only"),
        pytest.param(
            "x" * (100 * 1024),
            f"That question is 102,400 characters long; please keep it under {MAX_QUESTION_CHARS:,}.",
            id="100KB",
        ),
    ],
)
def test_empty_and_huge_questions_are_refused(question: str, message: str):
    """should refuse empty and huge questions, each with its own message."""
    with pytest.raises(BadQuestionError) as err:
        validate(question)
    assert str(err.value) == message


@pytest.mark.parametrize("question", ["What else did Peskov say?", "What exactly did Peskov say?"])
def test_a_follow_up_word_does_not_hide_the_speaker(question: str):
    """should still read Peskov as the speaker asked about when "else" or "exactly" follows the question word."""
    assert analyse(question).speaker_terms == ("peskov",)

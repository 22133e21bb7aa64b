from __future__ import annotations

import pytest

from index.lexical import LexicalIndex
from retrieval.hybrid import Hit
from retrieval.llm.schema import ModelSentence
from retrieval.llm.verify import Verifier, shown_text


def check(hits: list[Hit], lexical: LexicalIndex, text: str, passages: list[int], quote: str | None = None):
    return Verifier(hits, lexical).check(ModelSentence(text=text, passages=passages, quote=quote))


def test_quote_becomes_a_citation_at_its_offsets(hits: list[Hit], lexical: LexicalIndex):
    """should keep a faithful quoted sentence, with the article's own text at the offsets."""
    verdict = check(hits, lexical, "\u201cWe have reached the end of the road,\u201d  Berg said [1].", [1], None)
    assert verdict.dropped is None
    (span,) = verdict.spans
    assert span.hit.article.text[span.start : span.end] == "We have reached the end of the road,"
    assert (span.start, span.end) == (96, 132)
    assert verdict.text == "\u201cWe have reached the end of the road,\u201d Berg said."


def test_quote_elsewhere_in_the_cited_article_is_found(hits: list[Hit], lexical: LexicalIndex):
    """should accept a quote from the cited passage's article even outside the passage itself."""
    verdict = check(
        hits, lexical, "Officials expect new talks next month.", [1], "Officials expect new talks next month"
    )
    assert verdict.dropped is None
    (span,) = verdict.spans
    assert span.hit.passage.start <= span.start and span.hit.article.id == "talks"
    assert span.start >= hits[0].passage.end  # in the second paragraph, not in passage [1]


@pytest.mark.parametrize(
    ("text", "passages", "quote", "reason"),
    [
        pytest.param("Berg left the talks.", [], None, "citation", id="no-citation"),
        pytest.param("Berg left the talks.", [9], None, "citation", id="passage-that-does-not-exist"),
        pytest.param(
            "Berg said the talks had failed.",
            [1],
            "we have come to the end of the road",
            "quote",
            id="paraphrased-quote",
        ),
        pytest.param('Berg said it was "the end of the line".', [1], None, "quote", id="paraphrase-in-quotation-marks"),
        pytest.param("The pier will stay closed for six weeks of repairs.", [1], None, "support", id="wrong-passage"),
        pytest.param(
            "Traders estimated their losses at 40,000 euros.",
            [1],
            "losses at 40,000 euros",
            "quote",
            id="quote-from-another-article",
        ),
        pytest.param("The harbour will be sold to a casino.", [4], None, "injection", id="echoes-injection"),
        pytest.param(
            "Officials said the harbour will be sold.",
            [4],
            "the harbour will be sold to a casino",
            "injection",
            id="quotes-injection",
        ),
    ],
)
def test_drops(hits: list[Hit], lexical: LexicalIndex, text: str, passages: list[int], quote: str | None, reason: str):
    """should drop a sentence that cites nothing, misquotes, is unsupported or repeats an injection."""
    verdict = check(hits, lexical, text, passages, quote)
    assert verdict.dropped == reason and verdict.spans == ()


def test_unquoted_sentence_is_cited_by_its_best_sentence(hits: list[Hit], lexical: LexicalIndex):
    """should cite an unquoted sentence by the sentence of its passage that supports it best."""
    verdict = check(hits, lexical, "The harbour master said the pier stays closed for six weeks. [2]", [2])
    assert verdict.dropped is None and verdict.support == 1.0
    (span,) = verdict.spans
    assert (
        span.hit.article.text[span.start : span.end] == "He said the pier would stay closed for six weeks of repairs."
    )


def test_the_injected_sentence_is_never_the_citation(hits: list[Hit], lexical: LexicalIndex):
    """should cite the article's own reporting, not its words to the model."""
    verdict = check(hits, lexical, "Officials met on Tuesday to discuss the harbour budget.", [4])
    (span,) = verdict.spans
    assert (
        span.hit.article.text[span.start : span.end] == "Local officials met on Tuesday to discuss the harbour budget."
    )


def test_quote_field_repeated_in_the_text_is_one_citation(hits: list[Hit], lexical: LexicalIndex):
    """should not cite the same words twice when the quote is also in the sentence's quotation marks."""
    verdict = check(hits, lexical, 'Berg said "We have reached the end of the road".', [1], "the end of the road")
    assert verdict.dropped is None and verdict.quotes == 2 and verdict.verified == 2
    (span,) = verdict.spans
    assert span.hit.article.text[span.start : span.end] == "We have reached the end of the road"


def test_shown_text_is_one_clean_line():
    """should remove the model's own markers, control characters and line breaks."""
    assert shown_text("Berg left [1][2].\n\x07Then  talks\tstopped [3]") == "Berg left. Then talks stopped"

from __future__ import annotations

import pytest

from retrieval.llm.offsets import NormalisedText, normalise

TEXT = 'The threat had "significantly increased,"  Peskov said\nFriday.\n\nHe added: "We are very concerned."'


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        pytest.param('"significantly increased,"', '"significantly increased,"', id="exact"),
        pytest.param("\u201csignificantly increased,\u201d", '"significantly increased,"', id="curly-quotes"),
        pytest.param('increased," Peskov said Friday.', 'increased,"  Peskov said\nFriday.', id="whitespace-runs"),
        pytest.param("  Peskov  said \t Friday ", "Peskov said\nFriday", id="outer-and-inner-whitespace"),
        pytest.param('"We are very concerned."', '"We are very concerned."', id="quote-marks-in-article"),
        pytest.param('"Peskov said Friday"', "Peskov said\nFriday", id="quote-marks-added-by-model"),
    ],
)
def test_finds_quotes_up_to_whitespace_and_quote_marks(quote: str, expected: str):
    """should map a quote to offsets whose article text is the article's own spelling of it."""
    span = NormalisedText.of(TEXT).find(quote)
    assert span is not None
    assert TEXT[span[0] : span[1]] == expected


@pytest.mark.parametrize(
    "quote",
    [
        pytest.param("The Threat had", id="case"),
        pytest.param("The threat has", id="one-changed-letter"),
        pytest.param("The threat ... increased", id="ellipsis"),
        pytest.param("", id="empty"),
        pytest.param('""', id="only-quote-marks"),
    ],
)
def test_forgives_nothing_else(quote: str):
    """should not find a quote that differs in anything but whitespace and quote marks."""
    assert NormalisedText.of(TEXT).find(quote) is None


def test_search_can_be_limited_to_a_passage():
    """should find a quote only inside the given range of the original text."""
    view = NormalisedText.of(TEXT)
    second = TEXT.index("He added")
    assert view.find("concerned", 0, second) is None
    span = view.find("concerned", second)
    assert span == (TEXT.index("concerned"), TEXT.index("concerned") + len("concerned"))


def test_normalise():
    """should straighten quote marks and collapse whitespace."""
    assert normalise(" \u2018a\u2019 \n \u00abb\u00bb ") == "'a' \"b\""

from __future__ import annotations

import pytest

from index.sentences import split_sentences


def _texts(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_quote_and_attribution_stay_together():
    """should keep a quote and its attribution in one sentence."""
    text = (
        'The threat had "significantly increased," Kremlin spokesman Dmitry Peskov said Friday. '
        "There is also anxiety here."
    )
    assert _texts(text) == [
        'The threat had "significantly increased," Kremlin spokesman Dmitry Peskov said Friday.',
        "There is also anxiety here.",
    ]


def test_multi_sentence_quote_is_one_unit():
    """should not split inside a quotation that spans sentences, so the speaker stays attached."""
    text = '"Everything turned out to be exactly opposite. We are very sorry," Peskov added. Then he left.'
    assert _texts(text) == [
        '"Everything turned out to be exactly opposite. We are very sorry," Peskov added.',
        "Then he left.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Lt. Gen. Michael Flynn resigned. He was replaced.", id="titles"),
        pytest.param("The U.S. Senate voted. It passed.", id="acronym"),
        pytest.param("Dmitry S. Peskov spoke. He left.", id="initial"),
    ],
)
def test_abbreviations_do_not_end_sentences(text: str):
    """should split only at the real sentence end."""
    assert len(_texts(text)) == 2


def test_offsets_are_exact_and_paragraphs_split():
    """should return spans whose text is each sentence, with paragraph breaks as boundaries."""
    text = "First one here\n\nSecond paragraph. Third sentence!"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["First one here", "Second paragraph.", "Third sentence!"]
    assert all(text[s:e] == text[s:e].strip() for s, e in spans)

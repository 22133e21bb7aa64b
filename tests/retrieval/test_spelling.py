"""A word the index never saw, one typing slip from a word it holds often, is read as that word."""

from __future__ import annotations

import numpy as np
import pytest

from index.lexical import LexicalIndex
from retrieval.spelling import MIN_ROWS, Respelt, respell

PASSAGES = [
    "Jose Mourinho said the referee had been wrong.",
    "Mourinho later said he would not appeal.",
    "Chelsea's manager Mourinho praised the supporters.",
    "The government announced an investigation into the bailout.",
    "Critics of the bailout said it came too late.",
    "The bailout was approved on Friday.",
    "Police said the raping of the village had been reported.",
    "Reports of raping were investigated.",
    "Officials described the raping as systematic.",
    "Somebody mentioned Kjellberg once.",
    "Kjellberg again.",
]


@pytest.fixture(scope="module")
def lexical() -> LexicalIndex:
    return LexicalIndex.build(PASSAGES)


def test_a_swapped_name_is_read_as_the_indexed_one(lexical: LexicalIndex):
    """should read "Mouirnho" as "Mourinho", keep its capital, and say so."""
    read = respell("What did Mouirnho say about the referee?", lexical)
    assert read == Respelt("What did Mourinho say about the referee?", (("Mouirnho", "Mourinho"),))
    assert read.note() == 'Read "Mouirnho" as "Mourinho".'


def test_a_long_word_may_lose_or_gain_a_letter(lexical: LexicalIndex):
    """should correct any one edit in a word of eight letters or more ("baillout" has one letter too many)."""
    assert respell("what about the baillout", lexical).text == "what about the bailout"


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("what did mourinho say", id="known-word"),
        pytest.param("what did the study say about vaping", id="short-word-one-letter-off-a-known-one"),
        pytest.param("what did Kjelberg say", id="correction-held-too-rarely"),
        pytest.param("theres a new bailout", id="contraction-without-apostrophe"),
        pytest.param("what did Zyxwvut say", id="nothing-one-slip-away"),
    ],
)
def test_what_is_not_a_slip_is_left_alone(lexical: LexicalIndex, question: str):
    """should change nothing when the word is known, short and not two letters swapped, or has no frequent neighbour."""
    assert respell(question, lexical) == Respelt(question)


def test_another_scope_s_words_are_never_suggested(lexical: LexicalIndex):
    """should correct only into words of the passages the asker may see (another server's are masked off)."""
    mask = np.ones(len(PASSAGES), dtype=bool)
    mask[:3] = False  # the Mourinho passages belong to another server
    assert respell("what did mouirnho say", lexical, mask).changes == ()
    assert respell("what did mouirnho say", lexical).changes == (("mouirnho", "mourinho"),)


def test_the_threshold_counts_rows_in_scope(lexical: LexicalIndex):
    """should count how many visible passages hold the correction (``MIN_ROWS``)."""
    assert lexical.doc_freq("mourinho") == 3 >= MIN_ROWS
    assert lexical.doc_freq("mourinho", np.arange(len(PASSAGES)) >= 1) == 2
    assert lexical.doc_freq("nothing-like-it") == 0


def test_gibberish_costs_at_most_a_few_lookups(lexical: LexicalIndex):
    """should look at no more than a few unknown words of a question full of them."""
    question = " ".join(["Qwertyuiop"] * 200)
    assert respell(question, lexical).text == question


def test_the_benchmark_slips_are_read_back(lexical: LexicalIndex):
    """should read back both slips that ``benchmarks.chat_noise`` measures, on a name the index holds."""
    from benchmarks.chat_noise import SLIPS

    for name, slip in SLIPS.items():
        assert respell(slip("what did mourinho say"), lexical).text == "what did mourinho say", name

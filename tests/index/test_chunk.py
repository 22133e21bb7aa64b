from __future__ import annotations

import itertools

import pytest

from index.chunk import chunk_article
from index.sentences import split_sentences

TEXT = " ".join(f"Sentence number {i} has exactly seven words." for i in range(40))


def test_passages_are_whole_sentences_with_exact_offsets():
    """should cut only at sentence boundaries and keep offsets into the text."""
    passages = chunk_article("a1", TEXT, target_words=30, overlap_sentences=1)
    boundaries = {s for s, _ in split_sentences(TEXT)} | {e for _, e in split_sentences(TEXT)}
    for p in passages:
        assert TEXT[p.start : p.end] == p.text
        assert p.start in boundaries and p.end in boundaries
        assert p.article_id == "a1"
    assert [p.position for p in passages] == list(range(len(passages)))
    assert passages[-1].end == len(TEXT)


def test_target_size_and_overlap():
    """should aim at the target size and share one sentence between neighbours."""
    passages = chunk_article("a1", TEXT, target_words=28, overlap_sentences=1)
    assert all(len(p.text.split()) == 28 for p in passages[:-1])
    for left, right in itertools.pairwise(passages):
        assert right.sentence_spans[0] == left.sentence_spans[-1]


def test_no_overlap():
    """should tile the text without overlap when asked."""
    passages = chunk_article("a1", TEXT, target_words=28, overlap_sentences=0)
    assert all(a.end < b.start for a, b in itertools.pairwise(passages))


def test_long_sentence_is_not_cut():
    """should keep a sentence longer than the target whole."""
    long = "word " * 200 + "end."
    (passage,) = chunk_article("a1", long.strip(), target_words=20)
    assert passage.text == long.strip()


def test_invalid_settings():
    """should refuse nonsensical sizes."""
    with pytest.raises(ValueError):
        chunk_article("a1", TEXT, target_words=0)

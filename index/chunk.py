"""Sentence-aware chunking: passages are runs of whole sentences with offsets."""

from __future__ import annotations

from index.models import Passage
from index.sentences import split_sentences


def chunk_article(
    article_id: str,
    text: str,
    *,
    target_words: int = 80,
    overlap_sentences: int = 1,
) -> list[Passage]:
    """Group an article's sentences into passages of about ``target_words`` words.

    No sentence is ever cut: a passage ends after the sentence that reaches the target,
    and the next passage starts ``overlap_sentences`` sentences earlier so that an answer
    near a boundary keeps its context in at least one passage.

    Args:
        article_id: id of the article the passages belong to.
        text: the cleaned article text; offsets index into it.
        target_words: passage size to aim for, in words.
        overlap_sentences: sentences shared by consecutive passages (0 for none).

    Returns:
        Passages in article order, ``position`` counting from 0.
    """
    if target_words < 1 or overlap_sentences < 0:
        raise ValueError("target_words must be >= 1 and overlap_sentences >= 0")
    sentences = split_sentences(text)
    passages: list[Passage] = []
    first = 0
    while first < len(sentences):
        last, words = first, 0
        while last < len(sentences):
            s, e = sentences[last]
            words += text.count(" ", s, e) + 1
            last += 1
            if words >= target_words:
                break
        spans = tuple(sentences[first:last])
        start, end = spans[0][0], spans[-1][1]
        passages.append(Passage(article_id, len(passages), start, end, text[start:end], spans))
        if last >= len(sentences):
            break
        first = max(last - overlap_sentences, first + 1)
    return passages

"""Where the direct quotations of a text are: pairs of straight double quotes, with the stray ones survived.

Cleaned text has only straight quotes (``index/clean.py``), so opening and closing marks look alike.
Each mark is typed by its neighbours (an opening one follows a space and precedes a word, a closing one
follows a word and precedes a space or punctuation); a mark that can only open, met inside a quotation,
means the previous quotation was never closed, which is how a quotation that runs over several
paragraphs reads when the paragraphs have been joined. A quotation still open at a paragraph end ends
there.
"""

from __future__ import annotations

import re

_OPEN_BEFORE = frozenset(" \n([{/—–-")
_CLOSE_AFTER = frozenset(" \n,.;:!?)]}—–-'")
_PARAGRAPH = re.compile(r"[^\n]+")


def _kind(text: str, i: int) -> str:
    """``open``, ``close`` or ``either`` for the quote mark at ``i``."""
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    opens = before in _OPEN_BEFORE and after not in " \n"
    closes = before not in " \n" and (after in _CLOSE_AFTER or after == '"')
    if opens and not closes:
        return "open"
    if closes and not opens:
        return "close"
    return "either"


def quote_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the direct quotations in ``text``, quote marks included, in order and disjoint.

    Returns:
        ``(start, end)`` with ``text[start] == '"'``; ``end`` is one past the closing mark, or the
        end of the paragraph (or of the next opening mark) when the quotation is never closed.
    """
    spans: list[tuple[int, int]] = []
    for para in _PARAGRAPH.finditer(text):
        start: int | None = None
        for i in range(para.start(), para.end()):
            if text[i] != '"':
                continue
            kind = _kind(text, i)
            if start is None:
                if kind != "close":
                    start = i
            elif kind == "open":
                spans.append((start, i))
                start = i
            else:
                spans.append((start, i + 1))
                start = None
        if start is not None:
            end = para.end()
            while end > start + 1 and text[end - 1].isspace():
                end -= 1
            spans.append((start, end))
    return [(s, e) for s, e in spans if e - s > 2]

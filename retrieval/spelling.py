"""A misspelt word of a question read as the indexed word one typing slip away ("mouirnho" -> "mourinho").

Search, the reader's coverage features and the speaker tables all match words exactly, so one slip in the
name a question turns on lost the answer: on the held-out Discord-style questions, two letters swapped in
each question's longest word took the speaker questions from 0.767 right to 0.488. ``respell`` changes
only a word the index (in the asker's scope) has never seen, only into a word at least ``MIN_ROWS`` of
the scope's passages hold, and only by one edit (from ``MIN_LETTERS_ANY_EDIT`` letters a letter dropped, added,
changed or two swapped; shorter words only two swapped or one put back). The answer says what it read
("Read ... as ..."), so a wrong guess is visible.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from index.lexical import LexicalIndex, terms

#: Shorter words are too often another real word one slip away ("vaping", "raping"): from 8 letters any one
#: edit is tried; from 6, only two neighbouring letters swapped or a dropped letter put back.
MIN_LETTERS_ANY_EDIT = 8
MIN_LETTERS = 6
#: A correction must be a word the scope's passages hold this often (a one-off typo in an article is not one).
MIN_ROWS = 3
#: Unknown words looked at per question (each costs a few hundred lookups); a question of gibberish stays cheap.
MAX_UNKNOWN = 4
# Contractions typed without their apostrophe are words, not slips ("theres" is not "threes").
_CONTRACTIONS = frozenset(
    {"theres", "wheres", "theyre", "doesnt", "werent", "couldnt", "shouldnt", "wouldnt", "havent", "theyve", "theyll"}
)
_WORD = re.compile(r"[A-Za-z]+")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class Respelt:
    """The question as it will be read, and each (typed, read as) word that changed."""

    text: str
    changes: tuple[tuple[str, str], ...] = ()

    def note(self) -> str:
        """What the answer says it read."""
        return "Read " + ", ".join(f'"{typed}" as "{read}"' for typed, read in self.changes) + "."


def _one_edit(word: str, *, short: bool = False) -> Iterator[str]:
    """Every string one swap, insertion, deletion or substitution away from ``word`` (``short``: swap, insertion)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    for left, right in splits:
        if len(right) > 1:
            yield left + right[1] + right[0] + right[2:]
        for c in _LETTERS:
            yield left + c + right
        if right and not short:
            yield left + right[1:]
            for c in _LETTERS:
                if c != right[0]:
                    yield left + c + right[1:]


def _correction(lowered: str, lexical: LexicalIndex, mask: npt.NDArray[np.bool_] | None) -> str | None:
    """The word one edit from unknown ``lowered`` whose stem the scope holds most often (at least ``MIN_ROWS``)."""
    best, best_rows = None, MIN_ROWS - 1
    short = len(lowered) < MIN_LETTERS_ANY_EDIT
    for candidate in sorted(set(_one_edit(lowered, short=short))):
        stem = terms(candidate)
        if len(stem) != 1 or (short and len(candidate) > len(lowered) > len(stem[0])):
            continue  # a letter added only for the stemmer to cut: "sweary" is not "swearly" (stem "swear")
        rows = lexical.doc_freq(stem[0], mask)
        if rows > best_rows:
            best, best_rows = candidate, rows
    return best


def respell(text: str, lexical: LexicalIndex, mask: npt.NDArray[np.bool_] | None = None) -> Respelt:
    """``text`` with each word the index does not know replaced by its one-slip correction, if any.

    Args:
        text: a validated question.
        lexical: the passages' BM25 index, whose vocabulary is what is known.
        mask: the passage rows the asker may see (another server's words are never suggested).
    """
    changes: list[tuple[str, str]] = []
    looked = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal looked
        word = match.group()
        stems = terms(word.lower())
        if len(word) < MIN_LETTERS or len(stems) != 1 or looked >= MAX_UNKNOWN or word.lower() in _CONTRACTIONS:
            return word
        if lexical.doc_freq(stems[0], mask):
            return word
        looked += 1
        read = _correction(word.lower(), lexical, mask)
        if read is None:
            return word
        read = read.capitalize() if word[0].isupper() else read
        changes.append((word, read))
        return read

    return Respelt(_WORD.sub(fix, text), tuple(changes))

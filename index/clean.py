"""Text cleaning: the cleaned text is what passages, quotes and offsets refer to.

Cleaning is deliberately conservative: it removes what is certainly not article prose
(video-caption lines with timestamps, captions repeated verbatim, "Watch ... »" link
teasers, the "Moscow (CNN) --" dateline) and normalises quotes and whitespace, so that
a quote shown to users reads as the article did.

Control characters (C0 and C1, except newline and tab) are removed, or become a space where
they separate words (vertical tab, form feed, NEL...): an ESC or BEL sequence in a title, a
source or the text is data that must never reach a terminal or a chat message as a command.
Removing them here keeps every offset consistent, since the cleaned text is what they index.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u200b": "",
        "\u200c": "",
        "\u200d": "",
        "\ufeff": "",
    }
)
# "Putin 'didn't expect' Trump would win 06:30": a video caption with its running time.
_TIMESTAMPED = re.compile(r"^.{1,150}?\s\d{1,2}:\d{2}(?::\d{2})?$")
_TEASER = re.compile(r"(?:Watch|Read|See|Listen to|Explore|Learn|Check out|Click)\b[^.!?»\n]{0,140}»")
_DATELINE = re.compile(
    r"^\s*(?P<place>[A-Z][A-Za-z.'\- ,]{0,60}?)?\s*\((?P<agency>CNN|AP|Reuters|AFP|BBC|UPI|CNN Money|EW\.com)\)"
    r"\s*(?:--|—|–|-)?\s*"
)
_SENTENCE_END = (".", "!", "?", '"', "'", ")", ":", ";")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class CleanedBody:
    """Cleaned article text plus what cleaning learnt about it."""

    text: str
    dateline: str | None = None
    agency: str | None = None


def strip_controls(text: str) -> str:
    """Drop C0/C1 control characters other than newline and tab; those that separate words become a space."""
    return _CONTROL.sub(lambda m: " " if m[0].isspace() else "", text)


def normalise(text: str) -> str:
    """Unicode-normalise, straighten quotes and drop invisible and control characters, line structure kept."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    return strip_controls(text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))


def _is_caption(line: str, counts: Counter[str]) -> bool:
    if _TIMESTAMPED.match(line) and not line.endswith(_SENTENCE_END):
        return True
    # Captions repeat verbatim and carry no sentence punctuation; headings appear once.
    return counts[line] > 1 and len(line) <= 150 and not line.endswith(_SENTENCE_END)


def _join_wrapped(lines: list[str]) -> list[str]:
    """Re-join hard-wrapped lines: a line that ends mid-sentence continues in lower case."""
    paragraphs: list[str] = []
    for line in lines:
        if paragraphs and not paragraphs[-1].endswith(_SENTENCE_END) and line[:1].islower():
            paragraphs[-1] = f"{paragraphs[-1]} {line}"
        else:
            paragraphs.append(line)
    return paragraphs


def clean_body(text: str) -> CleanedBody:
    """Clean an article body into paragraphs separated by blank lines.

    Args:
        text: raw body text (no title line).

    Returns:
        The cleaned text, and the dateline place and news agency when the body opened with one.
    """
    lines = [re.sub(r" {2,}", " ", line).strip() for line in normalise(text).split("\n")]
    lines = [line for line in lines if line]
    counts = Counter(lines)
    kept = [_TEASER.sub("", line).strip() for line in lines if not _is_caption(line, counts)]
    kept = [line for line in kept if line]
    dateline = agency = None
    if kept and (match := _DATELINE.match(kept[0])):
        rest = kept[0][match.end() :]
        if rest:
            kept[0] = rest
            place = (match.group("place") or "").strip(" ,")
            dateline, agency = place or None, match.group("agency")
    return CleanedBody(text="\n\n".join(_join_wrapped(kept)), dateline=dateline, agency=agency)


def clean_title(title: str) -> str:
    """One line, normalised quotes and spaces, no control characters (titles and source names)."""
    return re.sub(r"\s+", " ", normalise(title)).strip()

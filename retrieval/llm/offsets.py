"""Find a model's quote in an article: exact text, up to whitespace and the shape of quote marks.

A model copies ``"significantly increased,"`` as ``“significantly increased,”`` or breaks a
line where the article had a space. Matching is done on a normalised view of the article
(quote marks straightened, every run of whitespace one space) that keeps, for each of its
characters, the offset of the character it came from; a match is mapped back, so the quote
a citation shows is always ``article.text[start:end]``. Nothing else is forgiven: not case,
not dashes, not an ellipsis, not one changed word.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass

# One character to one character, so that the normalised view maps back position by position.
_QUOTE_MARKS = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u2039": "'",
        "\u203a": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """The normalised form of a quote: straight quote marks, single spaces, no outer whitespace."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text).translate(_QUOTE_MARKS)).strip()


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """A normalised view of ``original``; ``origin[i]`` is where its ``i``-th character came from."""

    original: str
    text: str
    origin: tuple[int, ...]

    @classmethod
    def of(cls, original: str) -> NormalisedText:
        """Build the view of an (already cleaned) article text."""
        chars: list[str] = []
        origin: list[int] = []
        for i, char in enumerate(original.translate(_QUOTE_MARKS)):
            if char.isspace():
                if chars and chars[-1] == " ":
                    continue
                char = " "
            chars.append(char)
            origin.append(i)
        return cls(original, "".join(chars), tuple(origin))

    def find(self, quote: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
        """Offsets in ``original`` of the first match of ``quote`` lying inside ``original[start:end]``.

        A quote wrapped in quote marks that the article does not have around it is matched without
        them: models often add them.

        Returns:
            ``(start, end)`` with ``original[start:end]`` the article's own text, or ``None``.
        """
        needle = normalise(quote)
        for candidate in (needle, _unwrapped(needle)):
            if candidate and (span := self._find(candidate, start, len(self.original) if end is None else end)):
                return span
        return None

    def _find(self, needle: str, start: int, end: int) -> tuple[int, int] | None:
        lo = bisect_left(self.origin, start)
        hi = bisect_left(self.origin, end)
        at = self.text.find(needle, lo, hi)
        if at < 0:
            return None
        return self.origin[at], self.origin[at + len(needle) - 1] + 1


def _unwrapped(needle: str) -> str:
    if len(needle) > 2 and needle[0] == needle[-1] and needle[0] in "\"'":
        return needle[1:-1].strip()
    return ""

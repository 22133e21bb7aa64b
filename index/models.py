"""The article and passage records that flow from ingestion to retrieval.

``RawArticle`` is the pydantic boundary: whatever a file, a JSON record or a web page
gives us is validated into it. ``Article`` and ``Passage`` are the cleaned, immutable
records the store keeps; a passage's ``start``/``end`` index into ``Article.text``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator

from index.dates import parse_published, plausible_published

GLOBAL_COLLECTION = "global"


class RawArticle(BaseModel):
    """An article as read from a file, record or page, before cleaning."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = ""
    text: str = Field(min_length=1)
    url: str | None = None
    source: str | None = None
    published: datetime | None = None
    highlights: list[str] = Field(default_factory=list)
    author: str | None = None

    @field_validator("published", mode="before")
    @classmethod
    def _parse_published(cls, value: object) -> object:
        # Strings and epoch numbers are read by ``parse_published``, which makes a date it cannot
        # trust unknown instead of failing the whole record (pydantic would reject year 10000).
        if value in ("", None):
            return None
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return parse_published(value)
        return value

    @field_validator("published")
    @classmethod
    def _plausible(cls, value: datetime | None) -> datetime | None:
        return plausible_published(value)

    @field_validator("url", "source", "author", mode="before")
    @classmethod
    def _empty_to_none(cls, value: object) -> object:
        return None if value == "" else value


@dataclass(frozen=True, slots=True)
class Article:
    """A cleaned article; ``text`` is the exact text that quotes and offsets refer to."""

    id: str
    collection: str
    title: str
    text: str
    source: str | None = None
    url: str | None = None
    published: datetime | None = None
    highlights: tuple[str, ...] = ()
    dateline: str | None = None
    author: str | None = None

    @property
    def key(self) -> str:
        """Identity of "the same article" across edits: its URL; without one, its content.

        An article without URL that comes back edited is recognised as a near-duplicate
        with the same title (``index/pipeline.py``), not by its key, so that two different
        stories that happen to share a title are both kept.
        """
        return self.url or f"id:{self.id}"

    @staticmethod
    def make_id(collection: str, title: str, text: str) -> str:
        """Content hash: re-ingesting identical content yields the same id (a no-op)."""
        digest = hashlib.sha256(f"{collection}\x00{title}\x00{text}".encode()).hexdigest()
        return digest[:16]


@dataclass(frozen=True, slots=True)
class Passage:
    """A run of whole sentences of one article, with offsets into the cleaned text."""

    article_id: str
    position: int
    start: int
    end: int
    text: str
    sentence_spans: tuple[tuple[int, int], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ArticleSentences:
    """Every sentence of one article as the reader cuts it, embedded once at ingest.

    The reader scores whole stories at question time without encoding anything but the
    question: these vectors (float16, unit length, one row per span) and the attribution
    table (who is quoted where, ``index/attribution.py``) are read from the store per question.
    """

    spans: tuple[tuple[int, int], ...]
    vectors: npt.NDArray[np.float16]
    attributions: str = "[]"

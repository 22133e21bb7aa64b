"""Turn a validated ``RawArticle`` into the cleaned ``Article`` the store keeps."""

from __future__ import annotations

import re

from index.clean import clean_body, clean_title
from index.errors import NotAnArticleError
from index.models import Article, RawArticle
from index.sentences import split_sentences

MIN_WORDS = 5
MAX_TITLE_CHARS = 200
# Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, Chinese, Japanese kana, ...).
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]"
)


def count_words(text: str) -> int:
    """Words in ``text``: runs between spaces, except that each character of a script without spaces counts as one."""
    return len(_UNSPACED.findall(text)) + len(_UNSPACED.sub(" ", text).split())


def prepare_article(raw: RawArticle, *, collection: str) -> Article:
    """Clean text and title, take the dateline out of the body, and compute the content id.

    Raises:
        NotAnArticleError: when no article text is left after cleaning.
    """
    body = clean_body(raw.text)
    if count_words(body.text) < MIN_WORDS:
        raise NotAnArticleError("no article text left after cleaning (fewer than 5 words)")
    title = clean_title(raw.title)
    if not title:
        first = split_sentences(body.text)[0]
        title = body.text[first[0] : first[1]]
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    highlights = tuple(h for h in (clean_title(x) for x in raw.highlights) if h)
    return Article(
        id=Article.make_id(collection, title, body.text),
        collection=collection,
        title=title,
        text=body.text,
        source=clean_title(raw.source or "") or body.agency,
        url=raw.url,
        published=raw.published,
        highlights=highlights,
        dateline=body.dateline,
        author=raw.author,
    )

"""Articles from the web: fetch a link safely, extract the article, validate it as a ``RawArticle``.

The fetching rules (http/https only, public addresses only, 5 redirects, 10 s, 5 MB, HTML
only) live in ``index/fetch.py``; the extraction in ``index/extract.py``. This module joins
them for the CLI (synchronous) and the bot (asynchronous, with one shared client).
"""

from __future__ import annotations

import httpx

from index.extract import extract_html
from index.feeds import canonical_url
from index.fetch import HTML_TYPES, FetchedPage, fetch_url, fetch_url_sync
from index.models import RawArticle
from index.readers import ReadResult


def page_to_article(page: FetchedPage, *, requested: str) -> RawArticle:
    """Extract the article of a fetched HTML page; its URL (tracking parameters removed) is kept for citations.

    Raises:
        NotAnArticleError: when the page holds no article.
    """
    url = canonical_url(page.url or requested)
    extracted = extract_html(page.body, url=url)
    return RawArticle(
        title=extracted.title,
        text=extracted.text,
        url=url,
        source=extracted.source,
        published=extracted.published,
        author=extracted.author,
    )


def read_url(url: str, *, allow_private: bool = False) -> ReadResult:
    """Fetch and extract one article (blocking).

    Raises:
        FetchError: when the page cannot be fetched (with a user-facing reason).
        NotAnArticleError: when it holds no article.
    """
    page = fetch_url_sync(url, allow_private=allow_private, accept=HTML_TYPES)
    return ReadResult(url, article=page_to_article(page, requested=url))


async def read_url_async(
    url: str, *, client: httpx.AsyncClient | None = None, allow_private: bool = False
) -> RawArticle:
    """Fetch one article without blocking the event loop (extraction runs in a thread)."""
    import asyncio

    page = await fetch_url(url, client=client, allow_private=allow_private, accept=HTML_TYPES)
    return await asyncio.to_thread(page_to_article, page, requested=url)

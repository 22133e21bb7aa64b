"""Article extraction from HTML pages with trafilatura.

A fetched news page is mostly navigation, ads, related links and footers; only the
article body is evidence worth indexing. trafilatura finds the main content and the
metadata (title, author, date, site name). We add what it lacks for our use: a precise
publication time from the page's own meta tags (trafilatura keeps only the day), a
paragraph layout the chunker understands, and a refusal for pages that hold no article
(login walls, paywalls, empty shells), so users get a clear message instead of an index
entry made of "Sign in to continue".
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import trafilatura
from lxml.html import HtmlElement

from index.dates import parse_published
from index.errors import NotAnArticleError

log = logging.getLogger(__name__)

__all__ = ["MIN_WORDS", "Extracted", "extract_html"]

MIN_WORDS = 40
"""Fewer words than this is not an article: real briefs run 50+, login walls and cookie shells 5-30."""

_PAYWALL_MAX_WORDS = 150
_PAYWALL_RE = re.compile(
    r"subscribe to (?:continue|keep) reading|sign in to (?:continue|read)|log in to (?:continue|read)"
    r"|create a free account|you have reached your (?:limit|free)|already a subscriber|this content is for subscribers"
    r"|to continue reading,? (?:please )?(?:sign|log) in|enable javascript",
    re.IGNORECASE,
)
# <meta> names carrying the publication time, best first; trafilatura's date only has day precision.
_META_TIME_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "publishdate",
    "publish-date",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.created",
    "dc.date",
)
_TABLE_RULE_RE = re.compile(r"^\|[\s|:-]+\|?$")


@dataclass(frozen=True, slots=True)
class Extracted:
    """The article found in a page.

    Attributes:
        title: headline, possibly ``""`` when the page has none.
        text: body paragraphs separated by one blank line; list items and table rows of
            one block stay on consecutive lines.
        author: byline as the page gives it (may name several people), or ``None``.
        published: publication time in UTC, or ``None`` when the page does not say.
        source: the site's name (``og:site_name``) or else the URL's host without ``www.``.
        url: the URL the page was fetched from when given, else the page's canonical URL.
    """

    title: str
    text: str
    author: str | None
    published: datetime | None
    source: str | None
    url: str | None


def _meta_times(tree: HtmlElement) -> Iterator[str]:
    """Yield publication-time candidates from meta tags, ``<time>`` in the article, and JSON-LD."""
    metas: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        value = (meta.get("content") or "").strip()
        if key and value and key not in metas:
            metas[key] = value
    for key in _META_TIME_KEYS:
        if key in metas:
            yield metas[key]
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        yield from _json_ld_dates(data)
    for node in tree.iter("time"):
        if node.get("itemprop", "").lower() == "datepublished" or node.get("pubdate") is not None:
            value = node.get("datetime")
            if value:
                yield value


def _json_ld_dates(data: Any) -> Iterator[str]:
    if isinstance(data, list):
        for item in data:
            yield from _json_ld_dates(item)
    elif isinstance(data, dict):
        value = data.get("datePublished")
        if isinstance(value, str):
            yield value
        yield from _json_ld_dates(data.get("@graph", []))


def _page_published(tree: HtmlElement) -> datetime | None:
    for candidate in _meta_times(tree):
        parsed = parse_published(candidate)
        if parsed is not None:
            return parsed
    return None


def _paragraphs(raw: str, title: str) -> str:
    """Turn trafilatura's one-element-per-line text into blank-line separated blocks.

    Consecutive list items (``- ``) and table rows (``|``) stay together in one block so a
    list or table is not split into dozens of one-line "paragraphs"; a leading line equal
    to the title (the page's ``<h1>``) is dropped because the title is stored separately.
    """
    lines = [line.strip() for line in raw.splitlines()]
    lines = [line for line in lines if line and not _TABLE_RULE_RE.match(line)]
    if lines and title and lines[0].casefold() == title.strip().casefold():
        lines = lines[1:]
    blocks: list[list[str]] = []
    previous_kind = ""
    for line in lines:
        kind = "list" if line.startswith("- ") else "table" if line.startswith("|") else "para"
        if blocks and kind != "para" and kind == previous_kind:
            blocks[-1].append(line)
        else:
            blocks.append([line])
        previous_kind = kind
    return "\n\n".join("\n".join(block) for block in blocks)


def _source(sitename: str | None, *urls: str | None) -> str | None:
    if sitename and sitename.strip():
        return sitename.strip()
    for url in urls:
        if not url:
            continue
        try:
            host = urlsplit(url).hostname
        except ValueError:
            continue
        if host:
            return host.removeprefix("www.")
    return None


def extract_html(html: str | bytes, *, url: str | None = None, min_words: int = MIN_WORDS) -> Extracted:
    """Extract the article body and metadata from an HTML page.

    Args:
        html: the page; bytes are decoded from the page's declared or detected charset.
        url: where the page came from, used for the source name and relative links. When
            given it is kept as the article URL: a page's own canonical link could point
            anywhere and must not decide which site a citation names.
        min_words: bodies shorter than this are refused as "not an article".

    Returns:
        The extracted article.

    Raises:
        NotAnArticleError: the page is empty, not HTML, or holds no article body (login
            wall, paywall teaser, index page with only links).
    """
    if not html.strip():
        raise NotAnArticleError("the page is empty")
    tree = trafilatura.load_html(html)
    if tree is None:
        raise NotAnArticleError("this page isn't readable HTML")
    # Read the meta tags before trafilatura prunes the tree in place.
    page_published = _page_published(tree)
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
    )
    meta: dict[str, Any] = {} if doc is None else doc if isinstance(doc, dict) else doc.as_dict()
    title = str(meta.get("title") or "").strip()
    text = _paragraphs(str(meta.get("text") or ""), title)
    words = len(text.split())
    if words < min_words or (words < _PAYWALL_MAX_WORDS and _PAYWALL_RE.search(text)):
        log.info("no article body at %s (%d words)", url or "<html>", words)
        raise NotAnArticleError("I couldn't find an article on that page (it may be empty or behind a login)")
    page_url = str(meta.get("url") or "") or None
    return Extracted(
        title=title,
        text=text,
        author=str(meta.get("author") or "").strip() or None,
        published=page_published or parse_published(meta.get("date")),
        source=_source(meta.get("sitename"), url, page_url),
        url=url or page_url,
    )

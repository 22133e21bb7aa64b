"""Show context: a citation's quote inside its paragraph, so a reader can check what surrounds it.

The answer stores each quote with its offsets into the cleaned article; the paragraph is the run
of text between blank lines around them (``index/clean.py`` separates paragraphs with one), with
its neighbours when it is hardly more than the quote. An
article re-ingested with other text since is searched for the quote; one that no longer holds it
gets a notice. The paragraph is article text: it is escaped, and only the quote is set in bold.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.feedback import UNKNOWN_ANSWER, find_answer
from bot.render import DESCRIPTION_LIMIT, TITLE_LIMIT, Reply, escape_markdown, source_line
from bot.timing import timed
from retrieval.answer import Citation, shorten

if TYPE_CHECKING:
    from bot.desk import Asker, Desk
    from bot.responders import Responder
    from index.convstore import StoredQuote
    from index.models import Article

__all__ = ["CHANGED", "GONE", "context_reply", "locate", "paragraph_around", "show_context"]

CONTEXT_CHARS = 1500
"""Characters of paragraph shown on each side of the quote at most (cut at a word)."""
MIN_CONTEXT = 240
"""Characters around the quote below which the neighbouring paragraphs are shown too."""
MAX_EXTRA_PARAGRAPHS = 1
GONE = "That article is no longer indexed here."
CHANGED = "That article has changed since this answer, and the quote is no longer in it."
CONTEXT_COLOUR = 0x5865F2


def locate(text: str, quote: StoredQuote) -> tuple[int, int] | None:
    """Where the quote is in ``text``: at its stored offsets, else its first occurrence, else None."""
    if text[quote.start : quote.end] == quote.quote:
        return quote.start, quote.end
    found = text.find(quote.quote)
    return None if found < 0 else (found, found + len(quote.quote))


def paragraph_around(text: str, start: int, end: int, *, min_context: int = MIN_CONTEXT) -> tuple[str, str, str]:
    """The text before the quote in its paragraph, the quote, and the text after it.

    A paragraph that is little more than the quote (news sites often make each sentence one)
    takes in the paragraphs before and after it, up to ``MAX_EXTRA_PARAGRAPHS`` on each side.
    """
    lo, hi = _paragraph_start(text, start), _paragraph_end(text, end)
    for _ in range(MAX_EXTRA_PARAGRAPHS):
        if (start - lo) + (hi - end) >= min_context:
            break
        if lo > 0:  # the blank line before the paragraph starts at lo - 2
            lo = _paragraph_start(text, lo - 2)
        if hi < len(text):
            hi = _paragraph_end(text, hi + 2)
    return text[lo:start], text[start:end], text[end:hi]


def _paragraph_start(text: str, at: int) -> int:
    found = text.rfind("\n\n", 0, at)
    return 0 if found < 0 else found + 2


def _paragraph_end(text: str, at: int) -> int:
    found = text.find("\n\n", at)
    return len(text) if found < 0 else found


def _cut_before(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return "…" + re.sub(r"^\S*\s+", "", text[-(limit - 1) :])


def context_reply(article: Article, n: int, start: int, end: int, *, embeds: bool) -> Reply:
    """The quote in bold inside its paragraph, with the article's source line."""
    before, quote, after = paragraph_around(article.text, start, end)
    room = max(200, (DESCRIPTION_LIMIT - len(quote) - 200) // 2)
    before = _cut_before(before, min(room, CONTEXT_CHARS))
    after = shorten(after, min(room, CONTEXT_CHARS))
    body = f"{escape_markdown(before)}**{escape_markdown(quote.strip())}**{escape_markdown(after)}"
    citation = Citation(n, article.id, article.title, article.source, article.url, article.published, quote, start, end)
    source = source_line(citation, angle_links=not embeds)
    if embeds:
        title = shorten(f"Quote [{n}] in context", TITLE_LIMIT)
        description = shorten(body, DESCRIPTION_LIMIT)
        embed = {"title": title, "description": description, "color": CONTEXT_COLOUR, "fields": []}
        embed["fields"] = [{"name": "Source", "value": source, "inline": False}]
        return Reply(embed=embed)
    return Reply(content=shorten(f"{body}\n\n{source}", 2000))


async def show_context(desk: Desk, responder: Responder, asker: Asker, answer_id: str, index: int) -> None:
    """Show the ``index``-th citation (0-based) of an answer inside its paragraph, to the asker only."""
    async with timed("context", asker) as outcome:
        await responder.defer(ephemeral=True)
        answer = await find_answer(desk, asker, answer_id)
        if answer is None or desk.records is None or index >= len(answer.quotes):
            outcome.status = "unknown answer"
            await responder.notice(UNKNOWN_ANSWER)
            return
        quote = answer.quotes[index]
        article = await desk.quick(desk.records.store.article, quote.article_id)
        if article is None or article.collection not in (asker.scope.collections or ()):
            outcome.status = "article gone"
            await responder.notice(GONE)
            return
        span = locate(article.text, quote)
        if span is None:
            outcome.status = "article changed"
            await responder.notice(CHANGED)
            return
        outcome.status = "shown"
        await responder.send([context_reply(article, quote.n, *span, embeds=desk.use_embeds)], ephemeral=True)

"""Digests: the main stories of a time window, each with a short cited summary.

A digest reads the store, not the search index: the articles published in the window (in
the caller's collections), grouped into stories by ``retrieval/stories.py``, ranked by
coverage (distinct outlets, then further articles) and recency, each summarized in one or
two verbatim sentences of its most central article, chosen as ``summarize_article`` does.
Articles of unknown date are never guessed into a window. A quiet window gives a digest
with no stories, which says so in one line rather than padding with weak ones.

Repeated digests (a daily schedule in a channel) pass the stories they already posted,
``{story key: article ids shown}``; a story comes back only when it has articles not shown
before, and keeps its key. A story's key is the id of its earliest article.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np

from index.dates import parse_published
from index.encoder import Encoder
from index.lexical import terms
from index.models import Article
from index.sentences import split_sentences
from index.store import Store
from retrieval.answer import Citation, shorten
from retrieval.errors import BadQuestionError
from retrieval.stories import LEDE_CHARS, GroupingWeights, Signals, central, group, signals, similarity
from retrieval.summarize import summarize_article
from retrieval.timeexpr import parse_time_filter

MAX_WINDOW = timedelta(days=366)
MAX_ARTICLES = 2000  # newest articles grouped per digest: bounds the pairwise similarity matrix
DEFAULT_STORIES = 10
SUMMARY_SENTENCES = 2
TOPIC_COSINE = 0.45  # lede or article vector this close to the topic: on topic (checked by hand on CNN/DM)
TITLE_CHARS = 200
WHEN_HELP = "use e.g. '24h', '3 days', 'yesterday', 'monday', 'last week' or a date (YYYY-MM-DD)"

_SHORTHAND = re.compile(r"(\d{1,3})\s*(h|hrs?|hours?|d|days?|w|wks?|weeks?|mo|mos|months?)", re.IGNORECASE)
_UNITS = (("mo", "months"), ("h", "hours"), ("d", "days"), ("w", "weeks"))


@dataclass(frozen=True, slots=True)
class Window:
    """The half-open publication window ``[since, until)`` of a digest, in UTC."""

    since: datetime
    until: datetime


def parse_when(text: str, *, now: datetime) -> datetime:
    """A point in time from "24h", "3 days", "yesterday", "monday", "last week", "March 3" or a date.

    A leading "since" is optional. Calendar words give the start of their period ("yesterday"
    is yesterday 00:00 UTC), spans count back from ``now``, a weekday is its most recent
    occurrence (today included), a day without a year the most recent one.

    Raises:
        BadQuestionError: when the whole text is not one such expression.
    """
    phrase = " ".join(text.split())
    bare = phrase[6:] if phrase.casefold().startswith("since ") else phrase
    for candidate in (bare, f"since {bare}"):  # "since" is implied: "monday" and "since monday" agree
        if shorthand := _SHORTHAND.fullmatch(candidate):
            unit = next(name for prefix, name in _UNITS if shorthand[2].casefold().startswith(prefix))
            candidate = f"last {shorthand[1]} {unit}"
        if re.match(r"\d{4}-\d\d-\d\d", candidate) and (absolute := parse_published(candidate)) is not None:
            return absolute
        found = parse_time_filter(candidate, now=now)
        if found is not None and found.start is not None and found.matched.casefold() == candidate.casefold():
            return found.start
    raise BadQuestionError(f"I can't read {text.strip()[:80]!r} as a time: {WHEN_HELP}.")


def make_window(since: str | datetime, until: str | datetime | None = None, *, now: datetime) -> Window:
    """Validate a digest window; ``until`` defaults to ``now`` and is capped there.

    Raises:
        BadQuestionError: for an unreadable time, a start in the future, an end before the
            start, or a window longer than a year.
    """
    start = parse_when(since, now=now) if isinstance(since, str) else since
    end = now if until is None else parse_when(until, now=now) if isinstance(until, str) else until
    if start > now:
        raise BadQuestionError(f"The window starts in the future ({start:%Y-%m-%d %H:%M} UTC): 'since' must be past.")
    end = min(end, now)
    if end <= start:
        raise BadQuestionError("The window ends before it starts: 'until' must come after 'since'.")
    if end - start > MAX_WINDOW:
        raise BadQuestionError("The window is longer than a year: choose a later 'since' or an earlier 'until'.")
    return Window(start.astimezone(UTC), end.astimezone(UTC))


@dataclass(frozen=True, slots=True)
class Story:
    """Articles about one event, with the summary of the most central one.

    Attributes:
        key: stable id of the story: its earliest article's id, or the key it was posted under.
        article_ids: the central article first, then the others newest first.
        sources: every outlet that ran it, merged near-duplicate copies included.
        new_article_ids: for a story posted before (``updated``), the articles it did not have then.
    """

    key: str
    title: str
    article_ids: tuple[str, ...]
    sources: tuple[str, ...]
    first_published: datetime
    last_published: datetime
    score: float
    summary: str
    citations: tuple[Citation, ...]
    new_article_ids: tuple[str, ...] = ()

    @property
    def updated(self) -> bool:
        """Whether this story was posted before and is back with new articles."""
        return bool(self.new_article_ids)

    def to_json(self) -> dict[str, object]:
        """The ``digest --json`` shape of one story."""
        return {
            "key": self.key,
            "title": self.title,
            "sources": list(self.sources),
            "article_ids": list(self.article_ids),
            "published": self.last_published.isoformat(),
            "updated": self.updated,
            "summary": self.summary,
            "citations": [c.to_json() for c in self.citations],
        }


@dataclass(frozen=True, slots=True)
class Digest:
    """The stories of one window, best first; no stories means a quiet window."""

    window: Window
    stories: tuple[Story, ...]
    articles: int  # articles in the window that matched the filters
    topic: str | None = None
    sources: tuple[str, ...] | None = None

    @property
    def quiet(self) -> bool:
        """Nothing (new) to report."""
        return not self.stories

    def quiet_line(self) -> str:
        """The one line a quiet digest shows instead of stories."""
        on = f" on {self.topic!r}" if self.topic else ""
        by = f" from {', '.join(self.sources)}" if self.sources else ""
        return f"No new stories{on}{by} since {self.window.since:%Y-%m-%d %H:%M} UTC."

    def to_json(self) -> dict[str, object]:
        """The ``digest --json`` shape."""
        return {
            "since": self.window.since.isoformat(),
            "until": self.window.until.isoformat(),
            "stories": [s.to_json() for s in self.stories],
        }


@dataclass(frozen=True)
class _Pool:
    """The window's articles (newest first) with what ranking and rendering need of each."""

    articles: list[Article]
    when: list[datetime]
    outlets: list[list[str]]


def _outlets(article: Article, copies: Sequence[Mapping[str, str | None]]) -> list[str]:
    names = [article.source, *(c["source"] for c in copies)]
    return list(dict.fromkeys(n for n in names if n))


def _title(article: Article) -> str:
    """The headline, or the whole first sentence when the title is only the start of the lede."""
    title = article.title
    if not title or article.text.startswith(title):
        spans = split_sentences(article.text)
        title = article.text[spans[0][0] : spans[0][1]] if spans else title
    return shorten(" ".join(title.split()), TITLE_CHARS)


def _on_topic(topic: str, articles: Sequence[Article], sig: Signals, encoder: Encoder) -> list[bool]:
    """Whether each article is about ``topic``: all its terms in headline or lede, or lede or whole close in meaning.

    Any passage would be too loose: a Yemen story that mentions Netanyahu once is not about him.
    """
    wanted = set(terms(topic))
    vector = encoder.encode([topic])[0]
    close = np.maximum(sig.ledes @ vector, sig.vectors @ vector) >= TOPIC_COSINE
    return [
        (bool(wanted) and wanted <= set(terms(f"{a.title}\n{a.text[:LEDE_CHARS]}"))) or bool(near)
        for a, near in zip(articles, close.tolist(), strict=True)
    ]


def _score(rows: Sequence[int], pool: _Pool, window: Window) -> float:
    """Coverage (1 per outlet, 0.5 per further article or copy) times recency (0.5 at the start, 1 at the end)."""
    distinct = len({o for r in rows for o in pool.outlets[r]}) or 1
    copies = sum(max(len(pool.outlets[r]), 1) for r in rows)
    recency = (max(pool.when[r] for r in rows) - window.since) / (window.until - window.since)
    return (distinct + 0.5 * (copies - distinct)) * (0.5 + 0.5 * min(max(recency, 0.0), 1.0))


def _posted_key(ids: Collection[str], posted: Mapping[str, Collection[str]]) -> str | None:
    """The key a story was posted under: the posted story sharing the most articles with it."""
    best = max(((len(set(ids) & set(shown)), key) for key, shown in posted.items()), default=(0, ""))
    return best[1] if best[0] else None


def build_digest(
    store: Store,
    encoder: Encoder,
    window: Window,
    *,
    collections: Sequence[str] | None = None,
    topic: str | None = None,
    sources: Sequence[str] | None = None,
    posted: Mapping[str, Collection[str]] | None = None,
    limit: int | None = DEFAULT_STORIES,
    weights: GroupingWeights | None = None,
) -> Digest:
    """The main stories published in ``window``, best first.

    Stories are grouped from every article in the window, so a story and its key do not
    depend on the filters; ``topic`` and ``sources`` then choose which stories are shown.

    Args:
        store: the article store.
        encoder: sentence encoder for the summaries (and the topic).
        window: from ``make_window``.
        collections: the collections the reader may see (``None``: all).
        topic: keep only stories with an article about this.
        sources: keep only stories that one of these outlets ran (case-insensitive); their
            title and summary then come from that outlet's article.
        posted: ``{story key: article ids}`` already posted; those stories are left out unless
            they have new articles.
        limit: at most this many stories (``None``: all).
        weights: grouping weights (default: the measured ones).
    """
    weights = weights or GroupingWeights()
    found = store.published_between(window.since, window.until, collections=collections, limit=MAX_ARTICLES)
    vectors = store.passage_vectors(a.id for a in found)
    articles = [a for a in found if a.id in vectors]
    empty = Digest(window, (), 0, topic, tuple(sources) if sources else None)
    if not articles:
        return empty
    copies = store.other_sources(a.id for a in articles)
    pool = _Pool(
        articles,
        [a.published or window.since for a in articles],  # never None: the window only matches dated articles
        [_outlets(a, copies[a.id]) for a in articles],
    )
    sig = signals(articles, [vectors[a.id] for a in articles])
    wanted = {s.casefold() for s in sources} if sources else None
    keep = [wanted is None or any(o.casefold() in wanted for o in outs) for outs in pool.outlets]
    if topic and any(keep):
        keep = [k and t for k, t in zip(keep, _on_topic(topic, articles, sig, encoder), strict=True)]
    if not any(keep):
        return empty
    ranked: list[tuple[float, datetime, tuple[int, ...], int]] = []
    for rows in group(similarity(sig, weights), weights.threshold):
        chosen = [r for r in rows if keep[r]]
        if chosen:
            ranked.append(
                (_score(rows, pool, window), max(pool.when[r] for r in rows), tuple(rows), central(chosen, sig.vectors))
            )
    ranked.sort(key=lambda item: (-item[0], -item[1].timestamp(), item[2]))
    stories: list[Story] = []
    for score, _, members, middle in ranked:
        story = _story(members, middle, score, pool, encoder, posted or {})
        if story is not None:
            stories.append(story)
        if limit is not None and len(stories) >= limit:
            break
    return replace(empty, stories=tuple(stories), articles=sum(keep))


def _story(
    rows: Sequence[int],
    middle: int,
    score: float,
    pool: _Pool,
    encoder: Encoder,
    posted: Mapping[str, Collection[str]],
) -> Story | None:
    """The story of one group, or ``None`` when every one of its articles was posted before."""
    ids = [pool.articles[r].id for r in rows]
    seen = {aid for shown in posted.values() for aid in shown}
    if seen.issuperset(ids):
        return None
    oldest = min(rows, key=lambda r: (pool.when[r], pool.articles[r].id))
    central_article = pool.articles[middle]
    others = sorted((r for r in rows if r != middle), key=lambda r: pool.when[r], reverse=True)
    summary = summarize_article(central_article, encoder, sentences=SUMMARY_SENTENCES)
    return Story(
        key=_posted_key(ids, posted) or pool.articles[oldest].id,
        title=_title(central_article),
        article_ids=(central_article.id, *(pool.articles[r].id for r in others)),
        sources=tuple(dict.fromkeys(o for r in (middle, *others) for o in pool.outlets[r])),
        first_published=min(pool.when[r] for r in rows),
        last_published=max(pool.when[r] for r in rows),
        score=round(score, 4),
        summary=" ".join(c.quote for c in summary.citations),
        citations=summary.citations,
        new_article_ids=tuple(aid for aid in ids if aid not in seen) if seen.intersection(ids) else (),
    )

"""``/stats``: what this server can ask about, how its feeds are doing, and how the bot has been answering.

Counts cover the asker's collections only (the server's and ``global``); questions and latency
are the whole bot's since it started (``bot.metrics``), feedback the server's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.feedback import NO_RECORDS
from bot.render import FIELD_VALUE_LIMIT, Reply, escape_markdown
from bot.timing import timed
from index.overview import collection_overview
from retrieval.answer import shorten

if TYPE_CHECKING:
    from bot.desk import Asker, Desk
    from bot.metrics import MetricsSnapshot
    from bot.responders import Responder
    from index.feedbackstore import FeedbackCounts
    from index.feedstore import Feed
    from index.overview import CollectionOverview

__all__ = ["render_stats", "stats"]

STATS_COLOUR = 0x2E7D6B
MAX_SOURCES = 5
MAX_FEEDS = 10


def _collection_line(overview: CollectionOverview, asker_collection: str) -> tuple[str, str]:
    name = "This server" if overview.collection == asker_collection else "Shared (global)"
    if overview.collection == "global" and asker_collection == "global":
        name = "Articles"
    if not overview.articles:
        return name, "No articles yet."
    sources = ", ".join(
        f"{escape_markdown(shorten(source or 'unknown source', 60))} ({n:,})"
        for source, n in overview.sources[:MAX_SOURCES]
    )
    if len(overview.sources) > MAX_SOURCES:
        sources += f", and {len(overview.sources) - MAX_SOURCES} more"
    lines = [f"**{overview.articles:,}** articles from {len(overview.sources):,} sources: {sources}"]
    if overview.newest_title:
        date = overview.newest_published.date().isoformat() if overview.newest_published else "date unknown"
        lines.append(f"Newest: {escape_markdown(shorten(overview.newest_title, 150))} ({date})")
    if overview.last_added:
        lines.append(f"Last added <t:{int(overview.last_added.timestamp())}:R>")
    return name, "\n".join(lines)


def _feed_line(feed: Feed) -> str:
    name = escape_markdown(shorten(feed.name, 80))
    if feed.failures:
        return f"\N{WARNING SIGN} {name}: failing ({feed.failures}× in a row)"
    if feed.last_success is None:
        return f"\N{HOURGLASS} {name}: not read yet"
    return f"\N{WHITE HEAVY CHECK MARK} {name}: read <t:{int(feed.last_success.timestamp())}:R>"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s" if value >= 1 else f"{value * 1000:.0f} ms"


def render_stats(
    overviews: list[CollectionOverview],
    feeds: list[Feed],
    metrics: MetricsSnapshot,
    counts: FeedbackCounts,
    asker_collection: str,
) -> Reply:
    """The ``/stats`` embed."""
    fields: list[dict[str, Any]] = []
    for overview in overviews:
        name, value = _collection_line(overview, asker_collection)
        fields.append({"name": name, "value": shorten(value, FIELD_VALUE_LIMIT), "inline": False})
    if feeds:
        failing = sum(1 for f in feeds if f.failures)
        name = f"Feeds ({len(feeds)}, {failing} failing)" if failing else f"Feeds ({len(feeds)}, all healthy)"
        lines = [_feed_line(f) for f in feeds[:MAX_FEEDS]]
        if len(feeds) > MAX_FEEDS:
            lines.append(f"… and {len(feeds) - MAX_FEEDS} more (/feed list)")
        fields.append({"name": name, "value": shorten("\n".join(lines), FIELD_VALUE_LIMIT), "inline": False})
    else:
        fields.append({"name": "Feeds", "value": "None followed (moderators: /feed add).", "inline": False})
    since = f"<t:{int(metrics.started_at.timestamp())}:R>"
    answered = f"{metrics.answered:,} of {metrics.questions:,} answered with quotes"
    fields.append(
        {
            "name": "Questions since the bot started",
            "value": f"{answered} (started {since})\nLatency p50 {_seconds(metrics.p50)}, p95 {_seconds(metrics.p95)}",
            "inline": False,
        }
    )
    fields.append(
        {
            "name": "Feedback in this server",
            "value": f"\N{THUMBS UP SIGN} {counts.up:,} · \N{THUMBS DOWN SIGN} {counts.down:,} · "
            f"\N{TRIANGULAR FLAG ON POST} {counts.reports:,} reports",
            "inline": False,
        }
    )
    return Reply(embed={"title": "newsdesk stats", "color": STATS_COLOUR, "fields": fields})


async def stats(desk: Desk, responder: Responder, asker: Asker) -> None:
    """Articles and sources per collection, feeds and their health, questions and latency, feedback (ephemeral)."""
    async with timed("stats", asker) as outcome:
        records = desk.records
        if records is None:
            outcome.status = "no records"
            await responder.notice(NO_RECORDS)
            return
        await responder.defer(ephemeral=True)
        collections = list(asker.scope.collections or ())
        overviews = await desk.quick(collection_overview, records.store, collections)
        feeds = await desk.quick(records.feeds.list, collections)
        counts = await desk.quick(records.feedback.counts, [asker.collection])
        reply = render_stats(overviews, feeds, desk.metrics.snapshot(), counts, asker.collection)
        await responder.send([reply], ephemeral=True)

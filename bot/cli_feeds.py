"""``newsdesk feeds``: follow RSS/Atom feeds from the command line, and run one polling round.

The CLI is the operator's tool, so it sees every collection: ``list`` shows all feeds (or
those of ``--collection``), and ``remove`` takes any feed id. New feeds go into ``global``
unless ``--collection`` names a server id. ``poll`` runs the same ``FeedPoller`` as the bot
(without announcing anything): useful from cron when the bot is not running, or to check a
feed by hand.

Exit codes: 0 success; 1 a feed could not be added or failed to poll; 2 no such feed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.terminal import echo

if TYPE_CHECKING:
    import httpx

    from app.engine import Engine
    from bot.settings import Settings
    from index.feedpoller import FeedPoller, PollResult, Writer
    from index.feedstore import Feed

EXIT_FAILED, EXIT_NO_FEED = 1, 2


def add_feeds_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register ``newsdesk feeds add|list|remove|poll`` on the main parser's subcommands."""
    feeds = subparsers.add_parser("feeds", help="follow RSS/Atom feeds: add, list, remove, poll")
    sub = feeds.add_subparsers(dest="feeds_command", required=True)
    add = sub.add_parser("add", help="follow a feed (checked first: it must be a readable RSS or Atom feed)")
    add.add_argument("url", help="the feed's http(s) URL")
    add.add_argument("--collection", default="global", help="collection its articles go to (default: global)")
    add.add_argument("--channel", type=int, help="Discord channel id where the bot announces new articles")
    listing = sub.add_parser("list", help="followed feeds, with their last poll and last error")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.add_argument("--collection", action="append", help="only feeds of this collection (default: all)")
    remove = sub.add_parser("remove", help="stop following a feed (its articles stay indexed)")
    remove.add_argument("id", type=int, help="the feed id (see `newsdesk feeds list`)")
    poll = sub.add_parser("poll", help="one polling round: fetch due feeds and ingest their new articles")
    poll.add_argument("--all", action="store_true", help="poll every feed now, due or not")
    return feeds


def _write(line: str = "", *, err: bool = False) -> None:
    echo(line, err=err)  # feed names and errors come from the web: never raw to the terminal


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else "never"


def _feed_json(feed: Feed) -> dict[str, Any]:
    return {
        "id": feed.id,
        "collection": feed.collection,
        "url": feed.url,
        "title": feed.title,
        "channel_id": feed.channel_id,
        "added_at": feed.added_at.isoformat(),
        "last_polled": feed.last_polled.isoformat() if feed.last_polled else None,
        "last_success": feed.last_success.isoformat() if feed.last_success else None,
        "next_poll": feed.next_poll.isoformat(),
        "failures": feed.failures,
        "last_error": feed.last_error,
    }


def make_poller(
    engine: Engine, settings: Settings, client: httpx.AsyncClient | None, *, write: Writer | None = None
) -> FeedPoller:
    """The feed poller as the settings configure it; the CLI and the bot (``bot/run.py``) both build it here.

    Args:
        engine: the open engine; feeds live in its store.
        settings: interval, entries per poll, private-address rule.
        client: the HTTP client to share (``None``: one per fetch).
        write: the write path (the bot passes its desk's); the poller's own serial writer by default.
    """
    from index.feedpoller import FeedPoller
    from index.feedstore import FeedStore

    return FeedPoller(
        engine,
        FeedStore(engine.store),
        client,
        allow_private=settings.allow_private_urls,
        interval_minutes=settings.feed_interval_minutes,
        max_entries=settings.feed_max_entries,
        write=write,
    )


async def _add(args: argparse.Namespace, engine: Engine, settings: Settings) -> int:
    from index.errors import IngestError
    from index.fetch import make_client

    async with make_client(allow_private=settings.allow_private_urls) as client:
        try:
            feed, created = await make_poller(engine, settings, client).subscribe(
                args.url, collection=args.collection, channel_id=args.channel
            )
        except IngestError as exc:
            _write(f"newsdesk feeds: cannot follow {args.url}: {exc}", err=True)
            return EXIT_FAILED
    if created:
        _write(f"following feed {feed.id}: {feed.name} (collection {feed.collection}); "
               "`newsdesk feeds poll` fetches its articles")  # fmt: skip
    else:
        _write(f"already following this feed as {feed.id}: {feed.name} (collection {feed.collection})")
    return 0


def _print_result(result: PollResult) -> None:
    feed = result.feed
    head = f"feed {feed.id} {feed.name} [{feed.collection}]"
    if result.error:
        _write(f"{head}: FAILED: {result.error}")
        return
    if result.not_modified:
        _write(f"{head}: not modified")
        return
    extra = " (backlog)" if result.backlog else ""
    if result.pending:
        extra += f", {result.pending} left for the next poll"
    if result.beyond_cap:
        extra += f", {result.beyond_cap} older entries not read (NEWSDESK_FEED_MAX_ENTRIES)"
    _write(f"{head}: {len(result.new_articles)} new{extra}")
    for article in result.new_articles:
        _write(f"  + {article.title} <{article.url}> id={article.article_id}")
    for skipped in result.skipped:
        _write(f"  skipped {skipped}")


async def _poll(args: argparse.Namespace, engine: Engine, settings: Settings) -> int:
    from index.fetch import make_client

    async with make_client(allow_private=settings.allow_private_urls) as client:
        poller = make_poller(engine, settings, client)
        if args.all:
            results = await poller.poll_many(await asyncio.to_thread(poller.feeds.list))
        else:
            results = await poller.poll_due()
    if not results:
        _write("no feed is due (`newsdesk feeds poll --all` polls every feed now)")
    for result in results:
        _print_result(result)
    queued = await asyncio.to_thread(_queue_announcements, engine, results)
    if queued:
        _write(f"{queued} announcement{'s' * (queued != 1)} queued: the bot posts them to the feeds' channels")
    return EXIT_FAILED if any(r.error for r in results) else 0


def _queue_announcements(engine: Engine, results: list[PollResult]) -> int:
    """Put the new articles of feeds with a channel in the outbox, as the bot's and the worker's polls do."""
    from index.announcements import Outbox

    outbox = Outbox(engine.store)
    return sum(outbox.add(result) for result in results)


def _list(args: argparse.Namespace, engine: Engine) -> int:
    from index.feedstore import FeedStore

    feeds = FeedStore(engine.store).list(args.collection)
    if args.json:
        _write(json.dumps([_feed_json(f) for f in feeds], ensure_ascii=False, indent=2))
        return 0
    if not feeds:
        _write("no feeds followed (add one with `newsdesk feeds add URL`)")
    for f in feeds:
        channel = f" -> channel {f.channel_id}" if f.channel_id else ""
        _write(f"{f.id}  [{f.collection}] {f.name} <{f.url}>{channel}")
        status = f"last success {_when(f.last_success)}, next poll {_when(f.next_poll)}"
        if f.failures:
            status += f", {f.failures} failures in a row, last error: {f.last_error}"
        elif f.last_error:
            status += f" (earlier error: {f.last_error})"
        _write(f"    {status}")
    return 0


def _remove(args: argparse.Namespace, engine: Engine) -> int:
    from index.feedstore import FeedStore

    feed = FeedStore(engine.store).remove(args.id)
    if feed is None:
        _write(f"newsdesk feeds: no feed with id {args.id} (see `newsdesk feeds list`)", err=True)
        return EXIT_NO_FEED
    _write(f"unfollowed feed {feed.id}: {feed.name}; its articles stay indexed")
    return 0


def run_feeds(args: argparse.Namespace, engine: Engine, settings: Settings | None = None) -> int:
    """Run ``newsdesk feeds <command>`` on an open engine; returns the exit code.

    ``settings`` defaults to the process settings, so ``run_feeds`` fits the CLI's
    ``(args, engine)`` handler table as it is.
    """
    if settings is None:
        from bot.settings import get_settings

        settings = get_settings()
    if args.feeds_command == "add":
        return asyncio.run(_add(args, engine, settings))
    if args.feeds_command == "poll":
        return asyncio.run(_poll(args, engine, settings))
    if args.feeds_command == "list":
        return _list(args, engine)
    return _remove(args, engine)

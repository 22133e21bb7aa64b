"""``newsdesk digest``: the main stories of a time window, each with a short cited summary.

    newsdesk digest --since 24h [--until WHEN] [--topic T] [--source S] [--collection C] [--json]

The CLI is the operator's tool, so it sees every collection unless ``--collection`` names
some. Stored text is third-party data: the text form shows it on one line per field with
control and formatting characters escaped, so an article cannot move the cursor, recolour
the terminal or hide text. A bad window (unreadable, in the future, longer than a year)
exits 2 with a message, through the main CLI's handling of ``RetrievalError``.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.terminal import echo, one_line

if TYPE_CHECKING:
    from app.engine import Engine
    from retrieval.digest import Digest, Story


def add_digest_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register ``newsdesk digest`` on the main parser's subcommands."""
    digest = subparsers.add_parser("digest", help="the main stories since a time, grouped across outlets, cited")
    digest.add_argument("--since", required=True, help="start: e.g. 24h, '3 days', yesterday, monday, YYYY-MM-DD")
    digest.add_argument("--until", help="end (default: now), in the same forms")
    digest.add_argument("--topic", help="only stories about this")
    digest.add_argument("--source", action="append", help="only stories this outlet ran (repeatable)")
    digest.add_argument("--collection", action="append", help="only these collections (default: all)")
    digest.add_argument("--limit", type=int, default=10, help="at most this many stories (default: 10)")
    digest.add_argument("--json", action="store_true", help="print JSON")
    return digest


def _print_story(n: int, story: Story) -> None:
    ids = ", ".join(story.article_ids)
    count = len(story.article_ids)
    sources = ", ".join(one_line(s) for s in story.sources) or "unknown source"
    when = story.last_published.strftime("%Y-%m-%d %H:%M UTC")
    updated = " (updated)" if story.updated else ""
    echo(f"{n}. {one_line(story.title)}{updated}")
    echo(f"   {sources} · {count} article{'s' * (count != 1)} · latest {when}")
    for citation in story.citations:
        echo(f"   > {one_line(citation.quote)} [{citation.n}]")
    echo(f"   key={story.key} ids={ids}")


def print_digest(digest: Digest) -> None:
    """The text form of a digest, or its one quiet line."""
    if digest.quiet:
        echo(digest.quiet_line())
        return
    since, until = (f"{t:%Y-%m-%d %H:%M}" for t in (digest.window.since, digest.window.until))
    stories, articles = len(digest.stories), digest.articles
    counts = f"{stories} stor{'ies' if stories != 1 else 'y'} from {articles} article{'s' * (articles != 1)}"
    echo(f"{counts}, {since} to {until} UTC")
    for n, story in enumerate(digest.stories, 1):
        echo()
        _print_story(n, story)


def run_digest(args: argparse.Namespace, engine: Engine, *, now: datetime | None = None) -> int:
    """Run ``newsdesk digest`` on an open engine; returns the exit code.

    Raises:
        BadQuestionError: for a bad window or limit (the main CLI exits 2 with its message).
    """
    from retrieval.digest import build_digest, make_window
    from retrieval.errors import BadQuestionError

    if args.limit < 1:
        raise BadQuestionError("--limit must be at least 1")
    window = make_window(args.since, args.until, now=now or datetime.now(UTC))
    digest = build_digest(
        engine.store,
        engine.query_encoder,
        window,
        collections=args.collection,
        topic=args.topic,
        sources=args.source,
        limit=args.limit,
    )
    if args.json:
        echo(json.dumps(digest.to_json(), ensure_ascii=False, indent=2))
    else:
        print_digest(digest)
    return 0

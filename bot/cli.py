"""The ``newsdesk`` command line: ingest, ask, summarize, stats, reindex, bot.

Exit codes: 0 success; 1 some inputs were skipped (``ingest --strict``) or nothing could be
ingested; 2 bad usage or a bad question; 3 the index cannot be used (missing, corrupt,
other model); 4 the bot cannot start.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pydantic import ValidationError

from bot.cli_digest import add_digest_parser, run_digest
from bot.cli_feeds import add_feeds_parser, run_feeds

if TYPE_CHECKING:
    from bot.settings import Settings
    from index.readers import ReadResult
    from retrieval.answer import Answer
    from retrieval.engine import Engine, Scope

EXIT_PARTIAL, EXIT_USAGE, EXIT_INDEX, EXIT_BOT = 1, 2, 3, 4
log = logging.getLogger("newsdesk")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsdesk", description="Answer questions about news articles, with sources.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="add articles from files, folders or URLs")
    ingest.add_argument("paths", nargs="+", help=".txt, .json, .jsonl, .html files, folders, or http(s) URLs")
    ingest.add_argument("--collection", default="global", help="collection to add to (default: global)")
    ingest.add_argument("--strict", action="store_true", help="exit 1 when any input was skipped")

    ask = sub.add_parser("ask", help="answer a question with quoted sources")
    ask.add_argument("question", nargs="?", help="the question (or use --batch)")
    ask.add_argument("--batch", type=Path, help="file with one question per line, or JSONL with a 'question' field")
    ask.add_argument("--json", action="store_true", help="print JSON (one object per line with --batch)")
    _scope_arguments(ask)
    ask.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid", help=argparse.SUPPRESS)

    summarize = sub.add_parser("summarize", help="summarize one article, or what the articles say on a topic")
    summarize.add_argument("article_id", nargs="?", help="id of an article (see `newsdesk stats --articles`)")
    summarize.add_argument("--topic", help="summarize the passages on this topic instead")
    summarize.add_argument("--json", action="store_true", help="print JSON")
    _scope_arguments(summarize)

    stats = sub.add_parser("stats", help="what is indexed")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.add_argument("--articles", action="store_true", help="also list article ids and titles")

    sub.add_parser("reindex", help="re-chunk and re-embed every stored article (after a model or chunking change)")
    add_feeds_parser(sub)
    add_digest_parser(sub)
    sub.add_parser("bot", help="run the Discord bot (needs DISCORD_TOKEN)")
    return parser


def _scope_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--collection", action="append", help="search these collections (default: all)")
    parser.add_argument("--source", action="append", help="only articles from this source")
    parser.add_argument("--article", action="append", help="only this article id")
    parser.add_argument("--since", type=_date, help="only articles published on or after YYYY-MM-DD")
    parser.add_argument("--until", type=_date, help="only articles published before YYYY-MM-DD")


def _date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _scope(args: argparse.Namespace) -> Scope:
    from retrieval.engine import Scope

    return Scope(
        collections=tuple(args.collection) if args.collection else None,
        sources=tuple(args.source) if args.source else None,
        article_ids=tuple(args.article) if args.article else None,
        since=args.since,
        until=args.until,
    )


def _print_answer(answer: Answer, out: TextIO) -> None:
    print(answer.text, file=out)
    if answer.citations:
        print("\nSources:", file=out)
        seen: set[int] = set()
        for c in answer.citations:
            if c.n in seen:
                continue
            seen.add(c.n)
            date = c.published.date().isoformat() if c.published else "date unknown"
            where = f" <{c.url}>" if c.url else ""
            print(f"[{c.n}] {c.title} ({c.source or 'unknown source'}, {date}){where} id={c.article_id}", file=out)


def _questions(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    yield str(json.loads(line).get("question", ""))
                    continue
                except (json.JSONDecodeError, AttributeError):
                    pass
            yield line


def _open_engine(settings: Settings, *, must_exist: bool, check_model: bool = True) -> Engine:
    from retrieval.engine import Engine

    if must_exist and not (settings.data_dir / "newsdesk.db").exists():
        raise FileNotFoundError(
            f"no index in {settings.data_dir.resolve()}: run `newsdesk ingest PATH` first "
            "(or set NEWSDESK_DATA_DIR to where the index is)"
        )
    return Engine(settings.engine_config(), check_model=check_model)


def _cmd_ingest(args: argparse.Namespace, engine: Engine) -> int:
    from tqdm import tqdm

    from index.fetch import is_web_url

    urls = [p for p in args.paths if is_web_url(p)]
    paths = [Path(p) for p in args.paths if p not in urls]
    with tqdm(desc="indexing", unit=" passages", file=sys.stderr, disable=None) as bar:

        def progress(passages: int, _articles: int) -> None:
            bar.update(passages - bar.n)

        items = list(_read_urls(urls)) if urls else []
        report = engine.ingest([*items, *_lazy_read(paths)], collection=args.collection, progress=progress)
    for error in report.errors:
        print(f"skipped: {error}", file=sys.stderr)
    print(report.summary())
    if report.errors and (args.strict or not (report.added or report.replaced or report.unchanged)):
        return EXIT_PARTIAL
    return 0


def _lazy_read(paths: Sequence[Path]) -> Iterator[ReadResult]:
    from index.readers import read_paths

    yield from read_paths(paths)


def _read_urls(urls: Sequence[str]) -> Iterator[ReadResult]:
    from bot.settings import get_settings
    from index.readers import ReadResult
    from index.web import read_url

    for url in urls:
        try:
            yield read_url(url, allow_private=get_settings().allow_private_urls)
        except Exception as exc:
            yield ReadResult(url, error=f"{url}: {exc}")


def _cmd_ask(args: argparse.Namespace, engine: Engine) -> int:
    from retrieval.errors import RetrievalError

    scope = _scope(args)
    if args.batch:
        for question in _questions(args.batch):
            try:
                answer = engine.ask(question, scope, mode=args.mode)
                record = answer.to_json()
            except RetrievalError as exc:
                record = {
                    "question": question,
                    "answered": False,
                    "answer": str(exc),
                    "citations": [],
                    "latency_ms": 0.0,
                    "error": str(exc),
                }
            if args.json:
                print(json.dumps(record, ensure_ascii=False), flush=True)
            else:
                print(f"Q: {question}\n{record['answer']}\n", flush=True)
        return 0
    if args.question is None:
        print("newsdesk ask: give a QUESTION or --batch FILE", file=sys.stderr)
        return EXIT_USAGE
    answer = engine.ask(args.question, scope, mode=args.mode)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_answer(answer, sys.stdout)
    return 0


def _cmd_summarize(args: argparse.Namespace, engine: Engine) -> int:
    if bool(args.article_id) == bool(args.topic):
        print("newsdesk summarize: give an ARTICLE_ID or --topic TEXT (one of them)", file=sys.stderr)
        return EXIT_USAGE
    scope = _scope(args)
    summary = (
        engine.summarize_topic(args.topic, scope) if args.topic else engine.summarize_article(args.article_id, scope)
    )
    if args.json:
        print(json.dumps(summary.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_answer(summary, sys.stdout)
    return 0


def _cmd_stats(args: argparse.Namespace, engine: Engine) -> int:
    stats = engine.stats()
    if args.articles:
        stats["article_list"] = [
            {
                "id": a.id,
                "title": a.title,
                "collection": a.collection,
                "published": a.published.isoformat() if a.published else None,
            }
            for a in engine.store.iter_articles()
        ]
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=2, default=str))
        return 0
    for key, value in stats.items():
        if key == "article_list":
            print("articles:")
            for a in value:  # type: ignore[attr-defined]
                print(f"  {a['id']}  [{a['collection']}] {a['title']}")
        else:
            print(f"{key}: {value}")
    return 0


def _cmd_reindex(_args: argparse.Namespace, engine: Engine) -> int:
    from tqdm import tqdm

    total_articles = engine.store.article_count()
    with tqdm(total=total_articles, desc="re-embedding", unit=" articles", file=sys.stderr, disable=None) as bar:
        passages = engine.reindex(progress=lambda _p, a: bar.update(a - bar.n))
    print(f"re-indexed {total_articles} articles into {passages} passages")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``newsdesk`` console script."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    args = _parser().parse_args(argv)
    from bot.settings import get_settings
    from index.errors import IngestError
    from retrieval.errors import RetrievalError

    try:
        settings = get_settings()
    except ValidationError as exc:
        print(f"newsdesk: invalid setting: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}", file=sys.stderr)
        return EXIT_USAGE
    # The CLI prints its results; logs are for problems unless asked for (-v), the bot logs at log_level.
    level = logging.DEBUG if args.verbose else getattr(logging, settings.log_level)
    if args.command != "bot" and not args.verbose:
        level = max(level, logging.WARNING)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "sentence_transformers", "transformers", "faiss", "bm25s"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))

    if args.command == "bot":
        from bot.run import run_bot

        code: int = run_bot(settings)
        return code
    handlers = {
        "ingest": _cmd_ingest,
        "ask": _cmd_ask,
        "summarize": _cmd_summarize,
        "stats": _cmd_stats,
        "reindex": _cmd_reindex,
        "feeds": run_feeds,
        "digest": run_digest,
    }
    try:
        must_exist = args.command not in ("ingest", "feeds")
        engine = _open_engine(settings, must_exist=must_exist, check_model=args.command != "reindex")
        return handlers[args.command](args, engine)
    except FileNotFoundError as exc:
        print(f"newsdesk: {exc}", file=sys.stderr)
        return EXIT_INDEX
    except RetrievalError as exc:
        print(f"newsdesk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except IngestError as exc:
        print(f"newsdesk: {exc}", file=sys.stderr)
        return EXIT_INDEX
    except KeyboardInterrupt:
        print("newsdesk: interrupted; everything committed so far is kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

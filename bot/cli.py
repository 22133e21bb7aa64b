"""The ``newsdesk`` command line: ingest, ask, chat, summarize, stats, reindex, feeds, db, bot, worker, ...

Exit codes (``bot.exit_codes``): 0 success; 1 some inputs were skipped (``ingest --strict``)
or nothing could be ingested; 2 bad usage (an unreadable ``--batch`` file included) or a bad
question; 3 the index cannot be used (missing, not a folder, corrupt, other model); 4 the bot
cannot start; 130 interrupted (what was committed is kept).

Text that is not text: ``ask --batch FILE`` reads UTF-8, one question per line (or JSON lines
with a ``question`` field). A line that is not UTF-8 (say, a latin-1 file), or a question that
is not valid text (a lone surrogate from a JSON escape), is answered with an error in its place
(an error object with ``--json``) and the rest of the file is answered; as for any bad question
in a batch, the exit code stays 0. A question, topic or filter on the command line that is not
valid UTF-8 (Python decodes argv with surrogateescape) is bad usage: exit 2.

Conversations: JSON lines of a batch that carry the same ``"conversation"`` value are the turns of
one conversation, in file order; every object printed adds ``rewritten``, the standalone question
searched (a follow-up's reading, the question itself otherwise). ``newsdesk chat`` is the same in
the terminal (``bot/cli_talk.py``).

Every line printed goes through ``bot.terminal``: stored text never reaches the terminal raw.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from bot.batch import BatchLine, batch_lines, text_problem
from bot.cli_db import add_db_parser, run_db
from bot.cli_digest import add_digest_parser, run_digest
from bot.cli_feeds import add_feeds_parser, run_feeds
from bot.cli_talk import add_talk_parsers, run_chat, run_feedback
from bot.cli_worker import add_jobs_parser, add_worker_parser, run_jobs, run_worker
from bot.exit_codes import EXIT_BOT, EXIT_INDEX, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE
from bot.terminal import SafeFormatter, echo, print_answer
from index.errors import IngestError, NoIndexError, UnusableIndexError

if TYPE_CHECKING:
    from app.config import EngineConfig
    from app.engine import Engine
    from bot.settings import Settings
    from bot.shards import ShardPlan
    from index.readers import ReadResult
    from retrieval.conversation import Conversation
    from retrieval.scope import Scope

__all__ = ["EXIT_BOT", "EXIT_INDEX", "EXIT_PARTIAL", "EXIT_USAGE", "OpenEngine", "main"]

log = logging.getLogger("newsdesk")
OpenEngine = Callable[["EngineConfig", bool], "Engine"]
"""Opens the engine on a config, checking the index's model or not (tests inject a fake encoder)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsdesk", description="Answer questions about news articles, with sources.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="add articles from files, folders or URLs")
    ingest.add_argument("paths", nargs="+", help=".txt, .json, .jsonl, .html files, folders, or http(s) URLs")
    ingest.add_argument("--collection", default="global", type=_text, help="collection to add to (default: global)")
    ingest.add_argument("--strict", action="store_true", help="exit 1 when any input was skipped")

    ask = sub.add_parser("ask", help="answer a question with quoted sources")
    ask.add_argument("question", nargs="?", type=_text, help="the question (or use --batch)")
    ask.add_argument(
        "--batch",
        type=_batch_file,
        metavar="FILE",
        help="UTF-8 file with one question per line, or JSONL with a 'question' field",
    )
    ask.add_argument("--json", action="store_true", help="print JSON (one object per line with --batch)")
    _scope_arguments(ask)
    ask.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid", help=argparse.SUPPRESS)

    summarize = sub.add_parser("summarize", help="summarize one article, or what the articles say on a topic")
    summarize.add_argument(
        "article_id", nargs="?", type=_text, help="id of an article (see `newsdesk stats --articles`)"
    )
    summarize.add_argument("--topic", type=_text, help="summarize the passages on this topic instead")
    summarize.add_argument("--json", action="store_true", help="print JSON")
    _scope_arguments(summarize)

    stats = sub.add_parser("stats", help="what is indexed")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.add_argument("--articles", action="store_true", help="also list article ids and titles")

    reindex = sub.add_parser(
        "reindex", help="re-chunk and re-embed every stored article (after a model or chunking change)"
    )
    reindex.add_argument(
        "--attributions",
        action="store_true",
        help="only rebuild who-is-quoted-where tables from the stored text (after an upgrade; no re-embedding)",
    )
    add_feeds_parser(sub)
    add_digest_parser(sub)
    add_talk_parsers(sub, _scope_arguments)
    add_db_parser(sub)
    bot = sub.add_parser("bot", help="run the Discord bot (needs DISCORD_TOKEN)")
    # Also after `bot`, for `python -m bot -v`; SUPPRESS keeps a `newsdesk -v bot` from being reset to False.
    bot.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log debug messages")
    # Strings, checked by bot.shards after parsing: a mistake there is one line and exit 2, not argparse's usage.
    bot.add_argument(
        "--shard-ids",
        metavar="IDS",
        help="Discord shards this process runs, e.g. 0,1 or 0-3 (needs --shard-count; docs/scaling.md)",
    )
    bot.add_argument("--shard-count", metavar="N", help="total number of shards across all bot processes")
    add_worker_parser(sub)
    add_jobs_parser(sub)
    return parser


def _scope_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--collection", action="append", type=_text, help="search these collections (default: all)")
    parser.add_argument("--source", action="append", type=_text, help="only articles from this source")
    parser.add_argument("--article", action="append", type=_text, help="only this article id")
    parser.add_argument("--since", type=_date, help="only articles published on or after YYYY-MM-DD")
    parser.add_argument("--until", type=_date, help="only articles published before YYYY-MM-DD")


def _date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _text(value: str) -> str:
    """Type of free-text arguments: argv bytes that are not UTF-8 come in surrogate-escaped."""
    problem = text_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def _batch_file(value: str) -> list[BatchLine]:
    """Type of ``--batch``: the file's questions, read before any model or index is loaded."""
    try:
        data = Path(value).read_bytes()
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {value}: {exc.strerror or exc}") from None
    return list(batch_lines(data))


def _scope(args: argparse.Namespace) -> Scope:
    from retrieval.scope import Scope

    return Scope(
        collections=tuple(args.collection) if args.collection else None,
        sources=tuple(args.source) if args.source else None,
        article_ids=tuple(args.article) if args.article else None,
        since=args.since,
        until=args.until,
    )


def load_engine(config: EngineConfig, check_model: bool) -> Engine:
    """The real engine, loading the configured model."""
    from app.engine import Engine

    return Engine(config, check_model=check_model)


def _open_index(settings: Settings, open_engine: OpenEngine, *, must_exist: bool, check_model: bool) -> Engine:
    """Open the engine on ``NEWSDESK_DATA_DIR``, or say why the index there cannot be used."""
    data_dir = settings.data_dir
    if data_dir.exists() and not data_dir.is_dir():
        raise UnusableIndexError(
            f"NEWSDESK_DATA_DIR is {data_dir.resolve()}, a file, not a folder: point it at the index folder"
        )
    if must_exist and settings.database_url is None and not (data_dir / "newsdesk.db").exists():
        raise NoIndexError(
            f"no index in {data_dir.resolve()}: run `newsdesk ingest PATH` first "
            "(or set NEWSDESK_DATA_DIR to where the index is)"
        )
    try:
        return open_engine(settings.engine_config(), check_model)
    except OSError as exc:  # a parent that is a file, no permission, a full disk
        raise UnusableIndexError(f"cannot open the index in {data_dir.resolve()}: {exc}") from exc


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
        echo(f"skipped: {error}", err=True)
    echo(report.summary())
    accepted = report.added + report.replaced + report.unchanged + report.merged
    if not accepted:
        echo("newsdesk: nothing could be ingested", err=True)
        return EXIT_PARTIAL
    return EXIT_PARTIAL if report.errors and args.strict else EXIT_OK


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


def _batch_record(
    engine: Engine,
    line: BatchLine,
    scope: Scope,
    mode: str,
    conversations: dict[str, Conversation],
    now: datetime,
) -> dict[str, object]:
    """The answer to one batch line as ``ask --json`` prints it (with ``rewritten``), or an error object.

    A line with a ``conversation`` continues the earlier lines with the same value (``conversations``
    holds each one's state); all lines share one clock, ``now``, so a long batch ends no conversation.
    """
    from app.conversations import ask_in_conversation, new_conversation
    from retrieval.errors import RetrievalError

    error = line.error
    if error is None:
        key = line.conversation
        conversation = conversations.get(key) if key is not None else None
        try:
            exchange = ask_in_conversation(
                functools.partial(engine.ask, mode=mode),
                line.question,
                conversation or new_conversation(),
                scope,
                now=now,
            )
        except RetrievalError as exc:
            error = str(exc)
        else:
            if key is not None:
                conversations[key] = exchange.conversation
            record = exchange.answer.to_json()
            return {**record, "question": line.question, "rewritten": exchange.asked.question}
    return {
        "question": line.question,
        "rewritten": None,
        "answered": False,
        "answer": error,
        "citations": [],
        "latency_ms": 0.0,
        "error": error,
    }


def _cmd_ask(args: argparse.Namespace, engine: Engine) -> int:
    scope = _scope(args)
    if args.batch is not None:
        conversations: dict[str, Conversation] = {}
        now = datetime.now(UTC)
        for line in args.batch:
            record = _batch_record(engine, line, scope, args.mode, conversations, now)
            if args.json:
                echo(json.dumps(record, ensure_ascii=False))
                continue
            read_as = f"Read as: {record['rewritten']}\n" if record["rewritten"] not in (None, line.question) else ""
            echo(f"Q: {line.question}\n{read_as}{record['answer']}\n")
        return EXIT_OK
    if args.question is None:
        echo("newsdesk ask: give a QUESTION or --batch FILE", err=True)
        return EXIT_USAGE
    answer = engine.ask(args.question, scope, mode=args.mode)
    if args.json:
        echo(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        print_answer(answer)
    return EXIT_OK


def _cmd_chat(args: argparse.Namespace, engine: Engine) -> int:
    from bot.settings import get_settings

    return run_chat(engine, _scope(args), get_settings())


def _cmd_summarize(args: argparse.Namespace, engine: Engine) -> int:
    if bool(args.article_id) == bool(args.topic):
        echo("newsdesk summarize: give an ARTICLE_ID or --topic TEXT (one of them)", err=True)
        return EXIT_USAGE
    scope = _scope(args)
    summary = (
        engine.summarize_topic(args.topic, scope) if args.topic else engine.summarize_article(args.article_id, scope)
    )
    if args.json:
        echo(json.dumps(summary.to_json(), ensure_ascii=False, indent=2))
    else:
        print_answer(summary)
    return EXIT_OK


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
        echo(json.dumps(stats, ensure_ascii=False, indent=2, default=str))
        return EXIT_OK
    for key, value in stats.items():
        if key == "article_list":
            echo("articles:")
            for a in value:  # type: ignore[attr-defined]
                echo(f"  {a['id']}  [{a['collection']}] {a['title']}")
        else:
            echo(f"{key}: {value}")
    return EXIT_OK


def _cmd_reindex(args: argparse.Namespace, engine: Engine) -> int:
    from tqdm import tqdm

    total_articles = engine.store.article_count()
    if args.attributions:
        with tqdm(total=total_articles, desc="attributions", unit=" articles", file=sys.stderr, disable=None) as bar:
            rebuilt = engine.refresh_attributions(progress=lambda _p, a: bar.update(a - bar.n))
        echo(f"rebuilt the attribution tables of {rebuilt} articles")
        return EXIT_OK
    with tqdm(total=total_articles, desc="re-embedding", unit=" articles", file=sys.stderr, disable=None) as bar:
        passages = engine.reindex(progress=lambda _p, a: bar.update(a - bar.n))
    echo(f"re-indexed {total_articles} articles into {passages} passages")
    return EXIT_OK


def _configure_logging(args: argparse.Namespace, settings: Settings) -> None:
    """The CLI prints its results; logs are for problems unless asked for (-v), the bot logs at log_level."""
    level = logging.DEBUG if args.verbose else getattr(logging, settings.log_level)
    if args.command not in ("bot", "worker") and not args.verbose:
        level = max(level, logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    for noisy in ("httpx", "sentence_transformers", "transformers", "faiss", "bm25s"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _setting_error(exc: ValidationError) -> str:
    """The first problem with the settings, as ``name: message`` (no name for a check across settings)."""
    error = exc.errors()[0]
    return f"{error['loc'][0]}: {error['msg']}" if error["loc"] else str(error["msg"])


def _shard_plan(args: argparse.Namespace, settings: Settings) -> ShardPlan | None:
    """The shards this bot runs: the flags, each over its setting (NEWSDESK_SHARD_IDS, NEWSDESK_SHARD_COUNT).

    Raises:
        ValueError: a flag or the pair that makes no sense, with a one-line reason.
    """
    from bot.shards import parse_shard_count, parse_shard_ids, plan_shards

    ids = settings.shard_ids if args.shard_ids is None else parse_shard_ids(args.shard_ids)
    count = settings.shard_count if args.shard_count is None else parse_shard_count(args.shard_count)
    return plan_shards(ids, count)


def main(argv: Sequence[str] | None = None, *, open_engine: OpenEngine = load_engine) -> int:
    """Entry point of the ``newsdesk`` console script; returns the exit code.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).
        open_engine: how to open the engine (tests pass one on a fake encoder).
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    args = _parser().parse_args(argv)
    from bot.settings import get_settings
    from retrieval.errors import RetrievalError

    try:
        settings = get_settings()
    except ValidationError as exc:
        echo(f"newsdesk: invalid setting: {_setting_error(exc)}", err=True)
        return EXIT_USAGE
    _configure_logging(args, settings)
    if args.command == "bot":
        from bot.run import run_bot

        try:
            shards = _shard_plan(args, settings)
        except ValueError as exc:
            echo(f"newsdesk bot: {exc}", err=True)
            return EXIT_USAGE
        code: int = run_bot(settings, shards=shards)
        return code
    if args.command == "db":  # the database only: no model to load
        return run_db(args, settings)
    if args.command == "jobs":  # the queue only: no model to load
        return run_jobs(args, settings)
    if args.command == "worker":
        return run_worker(args, settings, open_engine)
    if args.command == "feedback":  # reads the database only: no model to load
        return run_feedback(args, settings)
    handlers = {
        "ingest": _cmd_ingest,
        "ask": _cmd_ask,
        "summarize": _cmd_summarize,
        "stats": _cmd_stats,
        "reindex": _cmd_reindex,
        "feeds": run_feeds,
        "digest": run_digest,
        "chat": _cmd_chat,
    }
    try:
        must_exist = args.command not in ("ingest", "feeds")
        try:
            engine = _open_index(settings, open_engine, must_exist=must_exist, check_model=args.command != "reindex")
        except IngestError as exc:  # no index, not a folder, unreadable, corrupt, another model
            echo(f"newsdesk: {exc}", err=True)
            return EXIT_INDEX
        try:
            return handlers[args.command](args, engine)
        finally:
            engine.close()
    except RetrievalError as exc:
        echo(f"newsdesk: {exc}", err=True)
        return EXIT_USAGE
    except IngestError as exc:
        echo(f"newsdesk: {exc}", err=True)
        return EXIT_INDEX
    except KeyboardInterrupt:
        echo("newsdesk: interrupted; everything committed so far is kept", err=True)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

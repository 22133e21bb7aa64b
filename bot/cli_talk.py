"""``newsdesk chat`` (a conversation in the terminal) and ``newsdesk feedback export``.

``chat`` reads a question per line, answers it like the bot does (a follow-up is read in
context, shown as "Read as: ...", and searched in the previous answer's articles first; "any
news?" outside a story gets the digest of the window it names), and loops until end of input
(Ctrl-D). ``/new`` starts a new conversation. Input is read as UTF-8 bytes, so a line that is
not UTF-8 gets a message, not a traceback; everything printed goes through ``bot.terminal``.

``feedback export`` writes users' votes and reports as a question set (``app.feedback_export``)
for ``python -m benchmarks.quality --questions FILE``. It reads the database only, loading no
model; ``--out`` writes the file atomically.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from bot.batch import text_problem
from bot.exit_codes import EXIT_INDEX, EXIT_OK
from bot.terminal import echo, print_answer

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.engine import Engine
    from bot.settings import Settings
    from retrieval.scope import Scope

__all__ = ["add_talk_parsers", "run_chat", "run_feedback"]

NEW_CONVERSATION = "/new"
WELCOME = (
    "Ask about the news; follow-up questions are read with the conversation in mind. "
    f"{NEW_CONVERSATION} starts a new conversation, Ctrl-D quits."
)


def add_talk_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], scope: Callable[..., None]) -> None:
    """Add ``chat`` (with the scope options ``scope`` adds) and ``feedback export``."""
    chat = sub.add_parser("chat", help="a conversation in the terminal: follow-up questions are read in context")
    scope(chat)
    feedback = sub.add_parser("feedback", help="users' votes and reports on the bot's answers")
    actions = feedback.add_subparsers(dest="feedback_command", required=True)
    export = actions.add_parser(
        "export", help="write them as a question set (JSONL) that `python -m benchmarks.quality --questions` replays"
    )
    export.add_argument("--out", type=Path, metavar="FILE", help="write to FILE (atomically) instead of stdout")


def _read_line(prompt: str) -> bytes | None:
    """One line of input (prompted on a terminal), or None at end of input."""
    if prompt:
        sys.stdout.write(prompt)
        sys.stdout.flush()
    line = sys.stdin.buffer.readline()
    return line or None


def run_chat(engine: Engine, scope: Scope, settings: Settings) -> int:
    """Answer questions from standard input, one conversation at a time, until end of input."""
    from datetime import UTC, datetime, timedelta

    from app.conversations import ask_in_conversation, new_conversation
    from bot.cli_digest import print_digest
    from bot.digests import asked_window
    from retrieval.digest import build_digest, make_window
    from retrieval.errors import RetrievalError
    from retrieval.intent import GENERAL_NEWS

    ttl = timedelta(minutes=settings.conversation_minutes)
    interactive = sys.stdin.isatty()
    if interactive:
        echo(WELCOME)
    conversation = new_conversation(ttl)
    while (raw := _read_line("> " if interactive else "")) is not None:
        try:
            question = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            echo(f"newsdesk: that line is not UTF-8 (byte 0x{raw[exc.start]:02x} at {exc.start + 1})", err=True)
            continue
        if not question:
            continue
        if question == NEW_CONVERSATION:
            conversation = new_conversation(ttl)
            echo("(a new conversation)")
            continue
        if problem := text_problem(question):
            echo(f"newsdesk: the question is {problem}", err=True)
            continue
        try:
            exchange = ask_in_conversation(engine.ask, question, conversation, scope)
        except RetrievalError as exc:  # a bad question, an empty index: say so and keep going
            echo(f"newsdesk: {exc}", err=True)
            continue
        conversation = exchange.conversation
        if exchange.asked.read_as:
            echo(exchange.asked.read_as)
        if exchange.answer.text == GENERAL_NEWS and (since := asked_window(question)):
            # "any news?" outside a story: the digest of the window it names is the answer, as in Discord
            window = make_window(since, now=datetime.now(UTC))
            print_digest(build_digest(engine.store, engine.query_encoder, window, collections=scope.collections))
        else:
            print_answer(exchange.answer)
        echo()
    if interactive:
        echo()
    return EXIT_OK


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it, so a reader never sees half of it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_feedback(args: argparse.Namespace, settings: Settings) -> int:
    """``feedback export``: the question set of every judged answer, to stdout or ``--out``."""
    from app.feedback_export import export_rows
    from bot.cli_db import open_store
    from index.errors import IngestError
    from index.feedbackstore import FeedbackStore

    try:
        store = open_store(settings)
    except IngestError as exc:  # no index, or not a newsdesk database
        echo(f"newsdesk: {exc}", err=True)
        return EXIT_INDEX
    try:
        rows = export_rows(FeedbackStore(store).all())
    finally:
        store.close()
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if args.out is None:
        if text:
            echo(text.rstrip("\n"))
        return EXIT_OK
    _write_atomically(args.out, text)
    echo(f"wrote {len(rows)} question(s) judged by users to {args.out}", err=True)
    return EXIT_OK

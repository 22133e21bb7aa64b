r"""Output for the operator's terminal: stored text (titles, sources, feed names) never reaches it raw.

An article title or feed name can carry ESC/BEL sequences that would recolour, retitle or
clear the terminal. Cleaning strips control characters from new articles, but the index may
hold older ones and feeds name themselves, so every line the CLI prints goes through
``terminal_safe``: C0/C1 control characters (except newline and tab), lone surrogates and the
invisible format characters that reorder or hide text (bidi overrides, zero-width characters)
become visible ``\uXXXX`` escapes. That is also a valid JSON string escape of the same
character, so ``--json`` output stays valid JSON carrying the exact text.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from retrieval.answer import Answer

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_SPACE = re.compile(r"\s+")


def terminal_safe(text: str) -> str:
    r"""``text`` with control characters (not newline or tab) and lone surrogates as ``\uXXXX``."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def one_line(text: str) -> str:
    """Stored text as one safe line: runs of whitespace (newlines too) become one space."""
    return terminal_safe(_SPACE.sub(" ", text).strip())


def echo(text: str = "", *, err: bool = False) -> None:
    """Print one line (or several) to stdout, or stderr with ``err``, made safe for a terminal."""
    print(terminal_safe(text), file=sys.stderr if err else sys.stdout, flush=True)


class SafeFormatter(logging.Formatter):
    """A log formatter whose lines are safe for a terminal (log messages quote titles and URLs)."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record, made safe."""
        return terminal_safe(super().format(record))


def print_answer(answer: Answer) -> None:
    """An answer as the CLI prints it: its lines, each cited article once with its id, and all its notes."""
    from retrieval.llm.answerer import ModelAnswer

    echo(answer.text)
    if isinstance(answer, ModelAnswer):  # the model's words: show the article text each citation checked
        echo("\n(In the language model's words, checked against these quotes:)")
        for c in answer.citations:
            echo(f'[{c.n}] "{c.quote}"')
    if answer.citations:
        echo("\nSources:")
        seen: set[int] = set()
        for c in answer.citations:
            if c.n in seen:
                continue
            seen.add(c.n)
            date = c.published.date().isoformat() if c.published else "date unknown"
            where = f" <{c.url}>" if c.url else ""
            echo(f"[{c.n}] {c.title} ({c.source or 'unknown source'}, {date}){where} id={c.article_id}")
    if answer.notes:  # whoever runs the CLI runs newsdesk: every note, the engine's and the model's
        echo("\nNotes:")
        for note in answer.notes:
            echo(f"- {note}")

r"""Questions as they enter the CLI: text that is not text gets a clear error, not a traceback.

Python decodes argv with surrogateescape, so bytes that are not UTF-8 reach a question as lone
surrogates (``\udce9``); a JSON line can spell one out (``"\ud800"``). Neither is text the
model's tokenizer accepts, so both are refused where they enter: ``text_problem`` says why.
A ``--batch`` file is read as UTF-8 line by line, so one bad line (a latin-1 "é") is reported
in its place and the others are still asked.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class BatchLine:
    """One question of a ``--batch`` file, or why its line cannot be asked.

    ``conversation`` is the line's ``"conversation"`` value as JSON text, when it has one: lines
    with the same value are the turns of one conversation, in file order.
    """

    number: int
    question: str
    error: str | None = None
    conversation: str | None = None


def text_problem(text: str) -> str | None:
    """Why ``text`` is not valid text (a byte that was not UTF-8, a lone surrogate), or None when it is."""
    match = _SURROGATE.search(text)
    if match is None:
        return None
    code = ord(match[0])
    what = f"byte 0x{code - 0xDC00:02x} is not UTF-8" if 0xDC80 <= code <= 0xDCFF else f"lone surrogate U+{code:04X}"
    return f"not valid text ({what}, at character {match.start() + 1})"


def batch_lines(data: bytes) -> Iterator[BatchLine]:
    """The questions of a batch file, one per non-blank line; bad lines carry an error instead."""
    for number, raw in enumerate(data.removeprefix(codecs.BOM_UTF8).splitlines(), start=1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            shown = raw.decode("utf-8", "backslashreplace").strip()
            error = (
                f"line {number} is not UTF-8 (byte 0x{raw[exc.start]:02x} at {exc.start + 1}): save the file as UTF-8"
            )
            yield BatchLine(number, shown, error)
            continue
        if not line:
            continue
        question: str = line
        conversation: str | None = None
        if line.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError, AttributeError):  # not JSON: the line is the question
                record = json.loads(line)
                question = str(record.get("question", ""))
                if record.get("conversation") is not None:
                    conversation = json.dumps(record["conversation"], ensure_ascii=False, sort_keys=True)
        problem = text_problem(question)
        yield BatchLine(
            number, question, f"line {number}: the question is {problem}" if problem else None, conversation
        )

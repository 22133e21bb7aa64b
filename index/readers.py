"""Read articles from files: plain text, JSON, JSONL and HTML.

Readers never raise for one bad record: each yields ``ReadResult`` items that carry
either an article or a short error naming the file (and line), so a batch ingest
reports what it skipped and indexes the rest.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from index.errors import IngestError, NotAnArticleError
from index.models import RawArticle

log = logging.getLogger(__name__)

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md"})
JSON_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | JSON_SUFFIXES | HTML_SUFFIXES
_BULLETS = ("•", "*", "-", "·", "–")
MAX_FILE_BYTES = 200_000_000


@dataclass(frozen=True, slots=True)
class ReadResult:
    """One article read from ``origin``, or the reason it could not be."""

    origin: str
    article: RawArticle | None = None
    error: str | None = None


def decode_text(data: bytes, origin: str) -> str:
    """Decode UTF-8 text, refusing binary data with a clear message."""
    if not data.strip():
        raise NotAnArticleError(f"{origin}: the file is empty")
    if b"\x00" in data[:8192]:
        raise NotAnArticleError(f"{origin}: this is a binary file, not an article")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotAnArticleError(f"{origin}: not UTF-8 text (byte {exc.start}); re-save it as UTF-8") from None


def parse_plain_text(text: str) -> RawArticle:
    """Parse the plain-text layout: a title line, optional "Story highlights" bullets, then the body."""
    lines = text.splitlines()
    idx = 0
    while idx < len(lines) and not lines[idx].strip():
        idx += 1
    title = lines[idx].strip() if idx < len(lines) else ""
    idx += 1
    highlights: list[str] = []
    rest = list(lines[idx:])
    nonblank = [i for i, line in enumerate(rest) if line.strip()]
    if nonblank and rest[nonblank[0]].strip().casefold() == "story highlights":
        pos = nonblank[0] + 1
        while pos < len(rest) and (not rest[pos].strip() or rest[pos].strip().startswith(_BULLETS)):
            if rest[pos].strip():
                highlights.append(rest[pos].strip().lstrip("".join(_BULLETS)).strip())
            pos += 1
        rest = rest[pos:]
    body = "\n".join(rest)
    if not body.strip():
        if not title:
            raise NotAnArticleError("the file holds no text")
        body, title = title, ""
    return RawArticle(title=title, text=body, highlights=highlights)


def _validate(record: object, origin: str) -> RawArticle:
    if not isinstance(record, dict):
        raise NotAnArticleError(f"{origin}: expected a JSON object with 'text', got {type(record).__name__}")
    try:
        return RawArticle.model_validate(record)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        raise NotAnArticleError(f"{origin}: {where}: {first['msg']}") from None


def _loads(text: str, where: str) -> object:
    """``json.loads``, with nesting deeper than Python's recursion limit reported as a bad input, not a crash."""
    try:
        return json.loads(text)
    except RecursionError:
        raise NotAnArticleError(f"{where}: the JSON is nested too deeply to be an article") from None


def _read_jsonl(text: str, origin: str) -> Iterator[ReadResult]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        try:
            yield ReadResult(where, article=_validate(_loads(line, where), where))
        except json.JSONDecodeError as exc:
            yield ReadResult(where, error=f"{where}: malformed JSON ({exc.msg} at column {exc.colno})")
        except IngestError as exc:
            yield ReadResult(where, error=str(exc))


def _read_json(text: str, origin: str) -> Iterator[ReadResult]:
    try:
        data = _loads(text, origin)
    except json.JSONDecodeError:
        # Many "JSON" news dumps are really JSON lines.
        yield from _read_jsonl(text, origin)
        return
    records = data if isinstance(data, list) else [data]
    for number, record in enumerate(records, start=1):
        where = f"{origin}[{number}]" if isinstance(data, list) else origin
        try:
            yield ReadResult(where, article=_validate(record, where))
        except IngestError as exc:
            yield ReadResult(where, error=str(exc))


def read_bytes(data: bytes, name: str) -> Iterator[ReadResult]:
    """Read the articles in one file's content; ``name`` picks the format by its suffix."""
    suffix = Path(name).suffix.lower()
    try:
        text = decode_text(data, name)
        if suffix in (".jsonl", ".ndjson"):
            yield from _read_jsonl(text, name)
        elif suffix == ".json":
            yield from _read_json(text, name)
        elif suffix in HTML_SUFFIXES:
            from index.extract import extract_html

            page = extract_html(text)
            yield ReadResult(
                name,
                article=RawArticle(
                    title=page.title,
                    text=page.text,
                    url=page.url,
                    source=page.source,
                    published=page.published,
                    author=page.author,
                ),
            )
        else:
            yield ReadResult(name, article=parse_plain_text(text))
    except NotAnArticleError as exc:
        message = str(exc)
        yield ReadResult(name, error=message if message.startswith(name) else f"{name}: {message}")
    except (IngestError, ValidationError) as exc:
        yield ReadResult(name, error=f"{name}: {exc}")


def iter_files(paths: Iterable[Path]) -> Iterator[Path | ReadResult]:
    """Expand directories (sorted, hidden files skipped); report paths that do not exist."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(p.startswith(".") for p in child.relative_to(path).parts):
                    if child.suffix.lower() in SUPPORTED_SUFFIXES:
                        yield child
                    else:
                        log.info("skipping %s: unsupported file type", child)
        elif path.is_file():
            yield path
        else:
            yield ReadResult(str(path), error=f"{path}: no such file or directory")


def read_paths(paths: Iterable[Path]) -> Iterator[ReadResult]:
    """Read every article under ``paths`` (files or directories)."""
    for item in iter_files(paths):
        if isinstance(item, ReadResult):
            yield item
            continue
        try:
            if item.stat().st_size > MAX_FILE_BYTES:
                yield ReadResult(str(item), error=f"{item}: larger than {MAX_FILE_BYTES // 1_000_000} MB")
                continue
            data = item.read_bytes()
        except OSError as exc:
            yield ReadResult(str(item), error=f"{item}: cannot read ({exc.strerror})")
            continue
        yield from read_bytes(data, str(item))

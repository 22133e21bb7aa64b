"""The structured answer a model must give, its JSON schema, and readers for what models really send.

The model is asked (``response_format`` json_schema) for::

    {"sentences": [{"text": "...", "passages": [1, 3], "quote": "exact words" | null}]}

Servers that ignore ``response_format`` may wrap that JSON in prose or a code fence, or write
plain sentences with ``[n]`` markers and quotation marks: ``parse_reply`` reads all three, and
refuses text that starts out as JSON but is broken (a truncated reply is not guessed at).
``complete_sentences`` reads the sentences already finished in a reply that is still streaming.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import from_json

from index.sentences import split_sentences
from retrieval.llm.errors import LlmReplyError

MAX_SENTENCE_CHARS = 1_000


class ModelSentence(BaseModel):
    """One sentence of the model's answer, the passages it relies on, and what it quotes."""

    model_config = ConfigDict(extra="ignore")

    text: str = Field(min_length=1, max_length=MAX_SENTENCE_CHARS)
    passages: list[int] = Field(default_factory=list, max_length=20)
    quote: str | None = Field(default=None, max_length=MAX_SENTENCE_CHARS)


class ModelReply(BaseModel):
    """The whole structured answer; no sentences means "the passages do not answer this"."""

    model_config = ConfigDict(extra="ignore")

    sentences: list[ModelSentence] = Field(default_factory=list)


# Length limits are checked when the reply is read; strict-mode servers reject some of these keywords.
_UNSENT_KEYWORDS = frozenset({"title", "default", "minLength", "maxLength", "minItems", "maxItems"})


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """Inline ``$defs`` and make every property required with no others (OpenAI's strict mode asks that)."""
    defs = schema.pop("$defs", {})

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return visit(copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]]))
        out = {k: visit(v) for k, v in node.items() if k not in _UNSENT_KEYWORDS and k != "properties"}
        if "properties" in node:
            out["properties"] = {name: visit(sub) for name, sub in node["properties"].items()}
            out["required"] = list(node["properties"])
            out["additionalProperties"] = False
        return out

    result: dict[str, Any] = visit(schema)
    return result


REPLY_SCHEMA: dict[str, Any] = _strict(ModelReply.model_json_schema())
RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "cited_answer", "strict": True, "schema": REPLY_SCHEMA},
}

_FENCE = re.compile(r"```(?:json)?\s*(.*?)(?:```|$)", re.DOTALL | re.IGNORECASE)
_MARKER = re.compile(r"\[(\d{1,3})\]")
_QUOTED = re.compile(r"[\"\u201c\u201d]([^\"\u201c\u201d]+)[\"\u201c\u201d]")
_LEADING_MARKERS = re.compile(r"^(?:\[\d{1,3}\][ ,]*)+")


def _json_part(content: str) -> str | None:
    """The JSON in ``content``: all of it, a fenced block, or the outermost braces; ``None`` for plain text."""
    text = content.strip()
    if fence := _FENCE.search(text):
        return fence.group(1).strip()
    if text.startswith(("{", "[")):
        return text
    start, end = text.find('{"'), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else None


def parse_reply(content: str) -> ModelReply:
    """Read a model's reply: structured JSON when there is some, plain cited sentences otherwise.

    Raises:
        LlmReplyError: when the reply is empty, or is JSON that is broken or of another shape.
    """
    if not content.strip():
        raise LlmReplyError("the language model sent an empty answer")
    part = _json_part(content)
    if part is None:
        return _plain_reply(content)
    try:
        data = from_json(part)
        if isinstance(data, list):  # a bare list of sentences
            data = {"sentences": data}
        return ModelReply.model_validate(data)
    except (ValueError, ValidationError) as exc:
        raise LlmReplyError("the language model's answer was not in the expected form") from exc


def _plain_sentences(content: str) -> list[str]:
    """Sentences of plain text; a marker written after the full stop (``... said. [2]``) stays with its sentence."""
    pieces: list[str] = []
    for line in content.splitlines():
        for start, end in split_sentences(line):
            piece = line[start:end]
            if pieces and (lead := _LEADING_MARKERS.match(piece)):
                pieces[-1] = f"{pieces[-1]} {lead.group().strip()}"
                piece = piece[lead.end() :]
            if piece.strip():
                pieces.append(piece.strip())
    return pieces


def _plain_reply(content: str) -> ModelReply:
    """Sentences of a plain-text reply, each citing its ``[n]`` markers and quoting its first quotation."""
    sentences = []
    for piece in _plain_sentences(content):
        if len(piece) > MAX_SENTENCE_CHARS:
            continue
        quoted = _QUOTED.search(piece)
        sentences.append(
            ModelSentence(
                text=piece,
                passages=[int(n) for n in _MARKER.findall(piece)],
                quote=quoted.group(1) if quoted else None,
            )
        )
    return ModelReply(sentences=sentences)


def complete_sentences(partial: str) -> list[ModelSentence]:
    """The sentences a still-streaming JSON reply has finished (all but the one being written)."""
    part = _json_part(partial)
    if part is None:
        return []
    try:
        data = from_json(part, allow_partial=True)
    except ValueError:
        return []
    items = data.get("sentences") if isinstance(data, dict) else data if isinstance(data, list) else None
    if not isinstance(items, list):
        return []
    try:
        return [ModelSentence.model_validate(item) for item in items[:-1]]
    except ValidationError:
        return []

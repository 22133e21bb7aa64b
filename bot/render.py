"""Turn answers into Discord messages: an embed per message, or plain text, within Discord's limits.

A ``Reply`` carries message content and/or an embed in Discord's JSON shape
(``discord.Embed.from_dict`` builds the object), so the limits can be tested without a client.
The limits (Discord docs, "Embed Limits" and "Create Message"): content 2,000 characters;
embed title 256, description 4,096, 25 fields, field name 256, field value 1,024, footer 2,048,
and 6,000 characters in all the embeds of one message.

Splitting is by whole lines, and every line of an answer is one citation (a quote and its
``[n]`` marker), so a citation is never cut in half across messages. A single quote longer
than a whole message is shortened at a word boundary, keeping its marker.

Article text is data, never markup: quotes, titles, sources and questions are escaped
(``escape_markdown``) before they are measured against the limits, so Discord shows the
article's characters as written (a masked link stays visible text, a mention stays text) while
``Answer`` and ``ask --json`` keep the exact text. A language model's sentences are escaped the
same way, and labelled as its words: a ``ModelAnswer`` shows them, then the verified quotes
they cite (verbatim), so "quotes are verbatim" stays true of every line shown as a quote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from discord.utils import escape_mentions

from app.answerers import public_notes
from bot.controls import AnswerControls, PageControls
from index.fetch import is_web_url
from retrieval.answer import Answer, Citation, shorten
from retrieval.llm.answerer import ModelAnswer
from retrieval.reader.answerer import UNSURE

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_COUNT_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
MAX_ANSWER_PARTS = 4  # messages of answer text; more than that is a runaway answer, cut with a note
MAX_LINK_CHARS = 512
MODEL_LABEL = "*In the language model's words, checked against the articles:*"
QUOTES_LABEL = "*What they cite, verbatim:*"
DRAFT_NOTE = "-# Writing… only sentences checked against the articles are shown."
WHY_TITLE = "**Why this answer?** (only moderators see this)"

ANSWERED_COLOUR = 0x2E7D6B
UNANSWERED_COLOUR = 0x8A8F98
UNSURE_COLOUR = 0xB7791F  # answered, but the reader is unsure the articles answer it (retrieval.reader.answerer.UNSURE)

_MARKERS = re.compile(r"((?:\s*\[\d+\])+)\s*$")
# What Discord would render in text: inline markup characters anywhere (``<`` opens mentions,
# channels, timestamps and custom emoji), and block markup at a line start (quotes, headings and
# ``-#`` subtext, lists). URLs are kept whole: Discord links them as they are, and a backslash
# inside one would end up in the link. discord.utils.escape_markdown is not enough: it leaves
# ``<@id>``, numbered lists and the inside of a masked link (``[*x*](url)``) unescaped.
_MARKDOWN = re.compile(
    r"(?P<url>https?://[^\s<>\[\]()\\]+)"
    r"|(?P<char>[\\*_~`|\[\]<])"
    r"|^(?P<lead>[ \t]*)(?:(?P<block>[>#+-])|(?P<number>\d+)\.(?=\s))",
    re.MULTILINE,
)
_ANSWER_LINE = re.compile(r"(?P<quote>> )?(?P<body>.*?)(?P<marker>(?:\s*\[\d+\])*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send: content, an embed (Discord's JSON shape), or both, and the buttons under it."""

    content: str | None = None
    embed: dict[str, Any] | None = field(default=None)
    controls: AnswerControls | PageControls | None = None


def _escape(match: re.Match[str]) -> str:
    if match["url"]:
        return match["url"]
    if match["char"]:
        return "\\" + match["char"]
    if match["block"]:
        return f"{match['lead']}\\{match['block']}"
    return f"{match['lead']}{match['number']}\\."


def escape_markdown(text: str) -> str:
    """Escape user or article text so that Discord shows it as written, with no markup, link or mention.

    Every escape is a backslash before punctuation (Discord drops it when rendering), except
    ``@everyone``/``@here``, which get a zero-width space (``discord.utils.escape_mentions``).
    """
    return escape_mentions(_MARKDOWN.sub(_escape, text))


def escape_answer_line(line: str) -> str:
    """Escape one line of an answer's text, keeping the ``> `` block quote and the ``[n]`` markers it was given."""
    match = _ANSWER_LINE.fullmatch(line)
    assert match is not None  # the pattern matches any text
    return f"{match['quote'] or ''}{escape_markdown(match['body'])}{match['marker']}"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def fit_line(line: str, limit: int) -> str:
    """Shorten one citation line to ``limit`` characters at a word boundary, keeping its ``[n]`` markers."""
    if len(line) <= limit:
        return line
    match = _MARKERS.search(line)
    marker = " " + " ".join(re.findall(r"\[\d+\]", match.group(1))) if match else ""
    body = line[: match.start()] if match else line
    return shorten(body, limit - len(marker)) + marker


def _link(url: str | None) -> str | None:
    """A URL safe to put inside ``[text](...)``, or None when it should not be linked."""
    if not url or not is_web_url(url) or len(url) > MAX_LINK_CHARS or re.search(r"\s", url):
        return None
    return url.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def source_line(citation: Citation, *, angle_links: bool, limit: int = FIELD_VALUE_LIMIT) -> str:
    """``**[n]** [Title](url) · Source · 2017-04-07``: the title links to the article when it has a URL."""
    date = citation.published.date().isoformat() if citation.published else "date unknown"
    meta = f" · {escape_markdown(citation.source or 'unknown source')} · {date}"
    url = _link(citation.url)
    prefix = f"**[{citation.n}]** "
    room = limit - len(prefix) - len(meta) - (len(url) + 6 if url else 0)
    title = escape_markdown(shorten(_one_line(citation.title) or "(untitled)", max(room, 20)))
    if url:
        target = f"<{url}>" if angle_links else url
        return f"{prefix}[{title}]({target}){meta}"
    return f"{prefix}{title}{meta}"


def _sources(citations: Sequence[Citation], used: set[int]) -> list[Citation]:
    seen: set[int] = set()
    out = []
    for c in citations:
        if c.n in used and c.n not in seen:
            seen.add(c.n)
            out.append(c)
    return out


def pack(units: Iterable[str], limit: int, *, sep: str = "\n") -> list[str]:
    """Join units into as few chunks of at most ``limit`` characters as possible, never splitting a unit.

    Units longer than ``limit`` are cut at a word boundary (callers fit citation lines first).
    """
    chunks: list[str] = []
    current = ""
    for unit in units:
        unit = unit if len(unit) <= limit else shorten(unit, limit)
        if current and len(current) + len(sep) + len(unit) <= limit:
            current = f"{current}{sep}{unit}"
            continue
        if current:
            chunks.append(current)
        current = unit
    if current:
        chunks.append(current)
    return chunks


def split_text(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """Split free text into message-sized chunks at line breaks (then word boundaries)."""
    units: list[str] = []
    for line in text.splitlines() or [""]:
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            units.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        units.append(line)
    return [chunk.strip("\n") for chunk in pack(units, limit)] or [""]


def _display_lines(answer: Answer) -> list[str]:
    """The answer's lines, escaped; a model's answer is labelled as its words and followed by the quotes it cites."""
    lines = [escape_answer_line(line) for line in answer.text.splitlines() if line.strip()]
    if not isinstance(answer, ModelAnswer):
        return lines
    quotes = [escape_answer_line(f"> {_one_line(c.quote)} [{c.n}]") for c in answer.citations]
    return [MODEL_LABEL, *lines, QUOTES_LABEL, *quotes]


def _answer_parts(answer: Answer, limit: int) -> tuple[list[str], list[Citation]]:
    """The answer's lines packed into at most ``MAX_ANSWER_PARTS`` chunks, and the sources they cite."""
    lines = [fit_line(line, limit) for line in _display_lines(answer)]
    parts = pack(lines, limit)
    if len(parts) > MAX_ANSWER_PARTS:
        kept = parts[:MAX_ANSWER_PARTS]
        shown = sum(part.count("\n") + 1 for part in kept)
        note = f"*… {len(lines) - shown} more quotes not shown.*"
        last = kept[-1].split("\n")
        while len(last) > 1 and len("\n".join([*last, note])) > limit:
            last.pop()
        kept[-1] = "\n".join([*last, note]) if len("\n".join([*last, note])) <= limit else kept[-1]
        parts = kept
    used = {int(n) for part in parts for n in re.findall(r"\[(\d+)\]", part)}
    return parts, _sources(answer.citations, used)


def _wording(answer: Answer) -> str:
    if isinstance(answer, ModelAnswer):
        return "Sentences in the language model's words; quotes verbatim from the articles"
    return "Quotes are verbatim from the articles"


def _footer(answer: Answer) -> str:
    """What the reader should know: the answer's notes for everyone (``public_notes``), then whose words these are."""
    last = (
        f"{_wording(answer)} · {answer.latency_ms:.0f} ms"
        if answer.answered
        else "Try other words, or /summary with a topic."
    )
    return " · ".join([*public_notes(answer), last])


def _embed_size(embed: dict[str, Any]) -> int:
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    return size + len(embed.get("footer", {}).get("text", ""))


def render_embeds(answer: Answer, *, title: str | None = None) -> list[Reply]:
    """The answer as one embed per message: title, quoted evidence, then a Sources field list."""
    colour = (UNSURE_COLOUR if UNSURE in answer.notes else ANSWERED_COLOUR) if answer.answered else UNANSWERED_COLOUR
    footer = shorten(_footer(answer), FOOTER_LIMIT)
    parts, sources = _answer_parts(answer, DESCRIPTION_LIMIT)
    embeds: list[dict[str, Any]] = [{"description": part, "color": colour} for part in parts or ["…"]]
    if title:
        embeds[0]["title"] = shorten(escape_markdown(_one_line(title)), TITLE_LIMIT)
    lines = [source_line(c, angle_links=False) for c in sources]
    for i, value in enumerate(pack(lines, FIELD_VALUE_LIMIT)):
        name = "Sources" if i == 0 else "Sources (continued)"
        target = embeds[-1]
        grown = _embed_size(target) + len(name) + len(value) + len(footer)
        if len(target.get("fields", [])) >= FIELD_COUNT_LIMIT or grown > EMBED_TOTAL_LIMIT:
            target = {"color": colour}
            embeds.append(target)
        target.setdefault("fields", []).append({"name": name, "value": value, "inline": False})
    embeds[-1]["footer"] = {"text": footer}
    return [Reply(embed=embed) for embed in embeds]


def render_plain(answer: Answer, *, title: str | None = None) -> list[Reply]:
    """The answer as plain messages: the question in bold, the quotes, then the sources (links in ``<>``)."""
    header = [f"**{shorten(escape_markdown(_one_line(title)), 300)}**"] if title else []
    parts, sources = _answer_parts(answer, CONTENT_LIMIT - 1)
    units = header + [line for part in parts for line in part.split("\n")]
    if sources:
        lines = [source_line(c, angle_links=True, limit=CONTENT_LIMIT - 20) for c in sources]
        units += ["\n**Sources**\n" + lines[0], *lines[1:]]
    units += [f"-# {note}" for note in public_notes(answer)]
    if isinstance(answer, ModelAnswer):
        units.append(f"-# {_wording(answer)} · {answer.latency_ms:.0f} ms")
    elif answer.answered:
        units.append(f"-# {answer.latency_ms:.0f} ms")
    return [Reply(content=chunk.strip("\n")) for chunk in pack(units, CONTENT_LIMIT)]


def render_answer(answer: Answer, *, embeds: bool, title: str | None = None) -> list[Reply]:
    """Render an answer or a summary: embeds when enabled, else plain text."""
    return render_embeds(answer, title=title) if embeds else render_plain(answer, title=title)


def render_draft(text: str, *, title: str | None = None) -> str:
    """The message content while a model writes: its verified sentences so far (escaped), under the question."""
    header = [f"**{shorten(escape_markdown(_one_line(title)), 300)}**"] if title else []
    room = CONTENT_LIMIT - len(DRAFT_NOTE) - 3
    lines = [fit_line(escape_answer_line(line), room) for line in text.splitlines() if line.strip()]
    chunks = pack([*header, *lines], room)
    body = chunks[0] + ("\n…" if len(chunks) > 1 else "") if chunks else ""
    return f"{body}\n{DRAFT_NOTE}".lstrip("\n")


def render_why(notes: Sequence[str]) -> str:
    """The moderators' note on a model's answer: which of its sentences were left out, and why."""
    return shorten("\n".join([WHY_TITLE, *(f"- {note}" for note in notes)]), CONTENT_LIMIT)


def render_notice(text: str) -> list[Reply]:
    """A plain message (or several) for short notices and errors."""
    return [Reply(content=chunk) for chunk in split_text(text)]

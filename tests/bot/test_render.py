"""Rendering answers within Discord's limits, without cutting a citation in half."""

from __future__ import annotations

import re
from dataclasses import replace

import discord
import pytest

from bot.render import (
    ANSWERED_COLOUR,
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    FIELD_COUNT_LIMIT,
    FIELD_VALUE_LIMIT,
    TITLE_LIMIT,
    UNSURE_COLOUR,
    Reply,
    escape_markdown,
    fit_line,
    render_answer,
    render_notice,
    source_line,
    split_text,
)
from retrieval.answer import NOT_FOUND, Answer
from retrieval.reader.answerer import UNSURE, UPGRADE_NOTE
from retrieval.timeexpr import TimeFilter
from retrieval.timeframe import undated_note

from .conftest import answer_of, citation

QUESTION = "What did Peskov say about the strikes?"


def _sentence(i: int, words: int = 60) -> str:
    return f"Quote number {i} says " + " ".join(f"word{i}x{j}" for j in range(words)) + "."


def _oversized(n_quotes: int = 40, words: int = 60, distinct_articles: bool = True) -> Answer:
    cites = [
        citation(
            i if distinct_articles else 1,
            _sentence(i, words),
            title=f"Article {i} " + "t" * 80,
            url=f"https://example.com/news/{i}",
        )
        for i in range(1, n_quotes + 1)
    ]
    text = "\n".join(f"> {c.quote} [{c.n}]" for c in cites)
    return Answer(QUESTION, True, text, tuple(cites), latency_ms=5)


def assert_within_limits(replies: list[Reply]) -> None:
    for reply in replies:
        assert reply.content is None or len(reply.content) <= CONTENT_LIMIT
        if reply.embed is None:
            continue
        embed = reply.embed
        assert len(embed.get("title", "")) <= TITLE_LIMIT
        assert len(embed.get("description", "")) <= DESCRIPTION_LIMIT
        assert len(embed.get("fields", [])) <= FIELD_COUNT_LIMIT
        assert all(len(f["value"]) <= FIELD_VALUE_LIMIT and len(f["name"]) <= 256 for f in embed.get("fields", []))
        built = discord.Embed.from_dict(embed)
        assert len(built) <= EMBED_TOTAL_LIMIT  # discord.py counts the way Discord does


def _all_text(replies: list[Reply]) -> str:
    out = []
    for r in replies:
        out.append(r.content or "")
        if r.embed:
            out += [r.embed.get("title", ""), r.embed.get("description", "")]
            out += [f["value"] for f in r.embed.get("fields", [])]
    return "\n".join(out)


def test_embed_has_question_quotes_and_linked_sources():
    """should put the question in the title, the quotes in the description and linked sources in a field."""
    answer = answer_of(QUESTION, ['"We are very concerned," Peskov added.'], url="https://edition.cnn.com/a")
    [reply] = render_answer(answer, embeds=True, title=QUESTION)
    embed = reply.embed
    assert embed is not None and reply.content is None
    assert embed["title"] == QUESTION
    assert embed["description"] == '> "We are very concerned," Peskov added. [1]'
    [sources] = embed["fields"]
    assert sources["name"] == "Sources"
    assert sources["value"] == "**[1]** [Russia-US ties face long haul](https://edition.cnn.com/a) · CNN · 2017-04-07"
    assert "ms" in embed["footer"]["text"]


def test_plain_text_quotes_question_and_suppresses_previews():
    """should write the question in bold, the quotes, and sources with <url> links when embeds are off."""
    answer = answer_of(QUESTION, ["Peskov said it."], url="https://edition.cnn.com/a")
    [reply] = render_answer(answer, embeds=False, title=QUESTION)
    assert reply.embed is None and reply.content is not None
    lines = reply.content.split("\n")
    assert lines[0] == f"**{QUESTION}**"
    assert lines[1] == "> Peskov said it. [1]"
    assert "**Sources**" in reply.content
    assert "[Russia-US ties face long haul](<https://edition.cnn.com/a>) · CNN · 2017-04-07" in reply.content


@pytest.mark.parametrize("embeds", [pytest.param(True, id="embeds"), pytest.param(False, id="plain")])
def test_oversized_answer_is_split_without_cutting_citations(embeds: bool):
    """should split a long answer into several messages, each within limits, every quote line whole."""
    answer = _oversized(n_quotes=12)
    replies = render_answer(answer, embeds=embeds, title=QUESTION)
    assert len(replies) > 1
    assert_within_limits(replies)
    text = _all_text(replies)
    for line in answer.text.split("\n"):
        assert text.count(line) == 1, line
    for i in range(1, 13):
        assert f"https://example.com/news/{i}" in text


def test_many_sources_spill_into_more_fields_and_embeds():
    """should keep at most 25 fields and 6,000 characters per embed when sources are many."""
    answer = _oversized(n_quotes=60, words=3)
    replies = render_answer(answer, embeds=True, title=QUESTION)
    assert_within_limits(replies)
    text = _all_text(replies)
    assert all(f"**[{i}]**" in text for i in range(1, 61))


def test_single_quote_longer_than_a_message_is_shortened_keeping_its_marker():
    """should shorten one enormous quote at a word boundary and keep its [n] marker."""
    answer = answer_of(QUESTION, [_sentence(1, words=2000)])
    for embeds in (True, False):
        replies = render_answer(answer, embeds=embeds, title=QUESTION)
        assert_within_limits(replies)
        text = _all_text(replies)
        assert re.search(r"… \[1\]", text)


def test_runaway_answer_is_capped_with_a_note():
    """should stop after a few messages and say how many quotes were left out, listing only the shown sources."""
    answer = _oversized(n_quotes=200, words=60)
    replies = render_answer(answer, embeds=False, title=QUESTION)
    assert_within_limits(replies)
    assert len(replies) <= 6
    text = _all_text(replies)
    assert "more quotes not shown" in text
    assert "https://example.com/news/200" not in text


def test_unanswered_has_no_sources():
    """should show the not-found text without a sources list."""
    answer = Answer(QUESTION, False, NOT_FOUND)
    [reply] = render_answer(answer, embeds=True, title=QUESTION)
    assert reply.embed is not None
    assert reply.embed["description"] == NOT_FOUND
    assert "fields" not in reply.embed
    [plain] = render_answer(answer, embeds=False, title=QUESTION)
    assert plain.content is not None and "Sources" not in plain.content


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://x.com/a_(b)", "[T](https://x.com/a_%28b%29)", id="parentheses-encoded"),
        pytest.param("HTTPS://x.com/a", "[T](HTTPS://x.com/a)", id="uppercase-scheme-linked"),
        pytest.param("javascript:alert(1)", "**[1]** T ·", id="not-http-not-linked"),
        pytest.param(None, "**[1]** T ·", id="no-url"),
    ],
)
def test_source_links_are_safe(url: str | None, expected: str):
    """should only link http(s) URLs and keep markdown links intact."""
    assert expected in source_line(citation(1, "q", title="T", url=url), angle_links=False)


def test_titles_are_markdown_escaped():
    """should escape markdown in article titles so they cannot break the link."""
    line = source_line(citation(1, "q", title="A [b] *c*", url="https://x.com"), angle_links=False)
    assert line.startswith(r"**[1]** [A \[b\] \*c\*](https://x.com)")


def test_fit_line_keeps_marker():
    """should shorten a citation line to the limit with its marker."""
    line = "> " + "word " * 100 + "[3]"
    fitted = fit_line(line, 60)
    assert len(fitted) <= 60 and fitted.endswith("… [3]")


def test_split_text_and_notice():
    """should split long notices at line breaks within the content limit."""
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(60))
    chunks = split_text(text)
    assert len(chunks) > 1 and all(len(c) <= CONTENT_LIMIT for c in chunks)
    assert "\n".join(chunks).count("line 59") == 1
    assert [r.content for r in render_notice("short")] == ["short"]
    assert all(len(c) <= 100 for c in split_text("y" * 1000, 100))


# Every markdown construct Discord renders, and the mention forms, as they could appear in article text.
HOSTILE = (
    "See [the official site](http://evil.example/phish) now.",
    "```py\nprint(1)``` and `code`",
    "It was ||hidden|| and *bold* and _it_ and ~~gone~~ and back\\slash.",
    "# A heading",
    "-# subtext",
    "> a block quote",
    ">>> a long quote",
    "## Two",
    "  - a list item",
    "1. a numbered item",
    "Hi <@123> and <@&456> in <#789> at <t:1700000000:R>, @everyone and @here.",
    "A link https://example.com/a_b_c stays a link.",
)


def discord_display(markdown: str) -> str:
    """What Discord shows for text with no live markdown left: escapes removed, zero-width spaces invisible."""
    return re.sub(r"\\([^0-9A-Za-z\s])", r"\1", markdown).replace("\u200b", "")


@pytest.mark.parametrize("quote", HOSTILE)
def test_escape_markdown_shows_the_text_as_written(quote: str):
    """should escape article text so that Discord shows exactly the original characters."""
    assert discord_display(escape_markdown(quote)) == quote


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        pytest.param(
            "[the official site](http://evil.example/phish)",
            r"\[the official site\](http://evil.example/phish)",
            id="masked-link",
        ),
        pytest.param("[*b*](http://x.example)", r"\[\*b\*\](http://x.example)", id="masked-link-with-markup"),
        pytest.param("```py\nx```", "\\`\\`\\`py\nx\\`\\`\\`", id="code-fence"),
        pytest.param("||spoiler||", r"\|\|spoiler\|\|", id="spoiler"),
        pytest.param("# heading", r"\# heading", id="heading"),
        pytest.param("### heading", r"\### heading", id="heading-3"),
        pytest.param("-# subtext", r"\-# subtext", id="subtext"),
        pytest.param("> quote", r"\> quote", id="block-quote"),
        pytest.param(">>> quote", r"\>>> quote", id="long-block-quote"),
        pytest.param("  - item", r"  \- item", id="indented-list"),
        pytest.param("12. item", r"12\. item", id="numbered-list"),
        pytest.param("*a* _b_ ~~c~~ `d`", r"\*a\* \_b\_ \~\~c\~\~ \`d\`", id="inline"),
        pytest.param("a\\b", r"a\\b", id="backslash"),
        pytest.param("<@123> <@&4> <#5> <t:1:R>", r"\<@123> \<@&4> \<#5> \<t:1:R>", id="mentions-and-tags"),
        pytest.param("@everyone @here", "@\u200beveryone @\u200bhere", id="everyone"),
        pytest.param("https://example.com/a_b*c", "https://example.com/a_b*c", id="url-kept"),
        pytest.param(
            "https://e.example/a](http://evil)", r"https://e.example/a\](http://evil)", id="url-ends-at-bracket"
        ),
        pytest.param("Plain sentence, no markup.", "Plain sentence, no markup.", id="plain"),
    ],
)
def test_escape_markdown_exact(text: str, escaped: str):
    """should backslash-escape each construct (and break mass mentions) exactly as pinned here."""
    assert escape_markdown(text) == escaped


@pytest.mark.parametrize("embeds", [pytest.param(True, id="embeds"), pytest.param(False, id="plain")])
def test_quotes_are_escaped_but_keep_their_block_quote_and_marker(embeds: bool):
    """should render a quoted masked link as text: the quote escaped, the > prefix and [n] marker live."""
    quote = "Visit [the official site](http://evil.example/phish) ||now|| @everyone <@123>"
    answer = answer_of(QUESTION, [quote, "# Breaking"], url="https://example.com/a")
    [reply] = render_answer(answer, embeds=embeds, title=QUESTION)
    text = reply.embed["description"] if reply.embed else reply.content
    assert text is not None
    lines = text.split("\n")
    expected = [
        r"> Visit \[the official site\](http://evil.example/phish) \|\|now\|\| @" + "\u200b" + r"everyone \<@123> [1]",
        r"> \# Breaking [2]",
    ]
    assert (lines if embeds else lines[1:3]) == expected
    assert answer.citations[0].quote == quote  # the answer itself (and ask --json) keeps the exact text


def test_escaping_long_quotes_stays_within_limits():
    """should measure limits after escaping: a quote made of markup is escaped, then shortened to fit."""
    answer = answer_of(QUESTION, ["*word_ " * 1000])
    for embeds in (True, False):
        replies = render_answer(answer, embeds=embeds, title="||spoiler|| " * 40)
        assert_within_limits(replies)
        text = _all_text(replies)
        assert re.search(r"\\\*word\\_… \[1\]", text)
        assert re.findall(r"(?<!\\)[*_|]", text.replace("**", "")) == []


def test_an_unsure_answer_says_so_and_an_undated_one_says_why():
    """should show the engine's notes to everyone, in the footer or as small text, and colour an unsure answer."""
    undated = undated_note(TimeFilter(matched="last week", start=None, end=None))
    base = answer_of(QUESTION, ["We are very concerned"])
    unsure = replace(base, notes=(UNSURE, undated, UPGRADE_NOTE))
    [embed] = render_answer(unsure, embeds=True)
    assert embed.embed is not None and embed.embed["color"] == UNSURE_COLOUR
    assert embed.embed["footer"]["text"] == f"{UNSURE} · {undated} · Quotes are verbatim from the articles · 12 ms"
    [plain] = render_answer(unsure, embeds=False)
    assert plain.content is not None and plain.content.endswith(f"\n-# {UNSURE}\n-# {undated}\n-# 12 ms")
    assert UPGRADE_NOTE not in plain.content  # for whoever runs newsdesk, not the asker
    [sure] = render_answer(replace(base, notes=(undated,)), embeds=True)
    assert sure.embed is not None and sure.embed["color"] == ANSWERED_COLOUR

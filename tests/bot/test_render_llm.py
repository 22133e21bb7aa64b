"""Rendering a language model's answer: its words labelled and escaped, the quotes it cites, notes on fallbacks."""

from __future__ import annotations

from bot.render import (
    CONTENT_LIMIT,
    DRAFT_NOTE,
    MODEL_LABEL,
    QUOTES_LABEL,
    WHY_TITLE,
    fit_line,
    render_answer,
    render_draft,
    render_why,
)
from retrieval.answer import Answer
from retrieval.llm.answerer import ModelAnswer

from .conftest import answer_of, citation

FAILED = "The language model failed (HTTP 500); this is newsdesk's extractive answer instead."


def _model_answer() -> ModelAnswer:
    cites = (citation(1, "We are very concerned", url="https://example.com/1"), citation(2, "Talks collapsed"))
    text = "Peskov said *they* are concerned. [1]\nBoth sides spoke. [1] [2]"
    return ModelAnswer("q", True, text, cites, confidence=0.9, latency_ms=812.0)


def test_embed_labels_the_models_words_and_lists_its_quotes():
    """should label the model's sentences, escape them, keep every marker, and show each cited quote verbatim."""
    [reply] = render_answer(_model_answer(), embeds=True, title="q")
    assert reply.embed is not None
    assert reply.embed["description"].splitlines() == [
        MODEL_LABEL,
        r"Peskov said \*they\* are concerned. [1]",
        "Both sides spoke. [1] [2]",
        QUOTES_LABEL,
        "> We are very concerned [1]",
        "> Talks collapsed [2]",
    ]
    assert [line[:7] for line in reply.embed["fields"][0]["value"].splitlines()] == ["**[1]**", "**[2]**"]
    assert reply.embed["footer"]["text"] == (
        "Sentences in the language model's words; quotes verbatim from the articles · 812 ms"
    )


def test_plain_text_says_whose_words_they_are():
    """should end a plain-text model answer with the same label as the embed's footer."""
    replies = render_answer(_model_answer(), embeds=False, title="q")
    content = "\n".join(r.content or "" for r in replies)
    assert MODEL_LABEL in content.splitlines()
    assert content.endswith("\n-# Sentences in the language model's words; quotes verbatim from the articles · 812 ms")


def test_a_fallback_says_why_in_the_footer():
    """should put the fallback's note before the usual footer, in embeds and in plain text."""
    answer = answer_of("q", ["We are very concerned"])
    answer = Answer(answer.question, True, answer.text, answer.citations, latency_ms=5.0, notes=(FAILED,))
    [embed] = render_answer(answer, embeds=True)
    assert embed.embed is not None
    assert embed.embed["footer"]["text"] == f"{FAILED} · Quotes are verbatim from the articles · 5 ms"
    [plain] = render_answer(answer, embeds=False)
    assert plain.content is not None and plain.content.endswith(f"\n-# {FAILED}\n-# 5 ms")


def test_an_extractive_answer_renders_as_before():
    """should show no model label or note on an extractive answer without model notes."""
    answer = answer_of("q", ["We are very concerned"])
    [reply] = render_answer(answer, embeds=True, title="q")
    assert reply.embed is not None
    assert reply.embed["description"] == "> We are very concerned [1]"
    assert reply.embed["footer"]["text"] == "Quotes are verbatim from the articles · 12 ms"


def test_fit_line_keeps_every_marker():
    """should shorten a long model sentence and keep all of its citation markers."""
    line = "word " * 100 + "[1] [2]"
    fitted = fit_line(line, 60)
    assert len(fitted) <= 60 and fitted.endswith("… [1] [2]")


def test_a_long_draft_fits_one_message():
    """should cut a draft that outgrew one message, keeping the note that it is being written."""
    draft = render_draft("\n".join(f"Sentence number {i} is here. [1]" for i in range(200)), title="q")
    assert len(draft) <= CONTENT_LIMIT
    assert draft.startswith("**q**\nSentence number 0 is here. [1]") and draft.endswith(f"\n…\n{DRAFT_NOTE}")


def test_why_lists_each_note():
    """should list the notes on left-out sentences under its title."""
    assert render_why(["Left out 2 model sentences that the cited passage does not support."]) == (
        f"{WHY_TITLE}\n- Left out 2 model sentences that the cited passage does not support."
    )

"""Help and "the news in general" are told apart from questions about the news."""

from __future__ import annotations

import pytest

from retrieval.intent import Intent, intent


@pytest.mark.parametrize("text", ["help", "help me", "what can you do", "how do I use this", "commands", "who are you"])
def test_requests_for_help(text: str):
    """should read a request for help as help."""
    assert intent(text) is Intent.HELP


@pytest.mark.parametrize(
    "text",
    [
        "any news?",
        "whats the latest news",
        "what happened today",
        "give me a summary of today's news",
        "What's going on in the world?",
        "tell me everything",
        "summarise the news",
        "what's the big story this week",
    ],
)
def test_requests_for_the_news_in_general(text: str):
    """should read a message made only of request, news, time and filler words as asking for the news at large."""
    assert intent(text) is Intent.GENERAL_NEWS


@pytest.mark.parametrize(
    "text",
    [
        "What did Peskov say about the strikes?",
        "any news on ukraine?",
        "what happened to the hostages",
        "what's new with the nhs",
        "did the government help the miners",
        "help me find the peskov quote",
        "who won today",
        "what did he say",
        "what is it",
        "",
        "news " * 13,  # a long message is a question, whatever its words
    ],
)
def test_questions_stay_questions(text: str):
    """should leave a message with any word naming something (a person, place, event, action) a question."""
    assert intent(text) is Intent.QUESTION

"""Help and "the news in general" are told apart from questions about the news."""

from __future__ import annotations

import pytest

from retrieval.intent import Intent, intent

HELP, NEWS, QUESTION = Intent.HELP, Intent.GENERAL_NEWS, Intent.QUESTION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *((t, HELP) for t in ("help", "help me", "what can you do", "how do I use this", "commands", "who are you")),
        # only request, news, time and filler words: the news at large
        ("any news?", NEWS),
        ("whats the latest news", NEWS),
        ("what happened today", NEWS),
        ("give me a summary of today's news", NEWS),
        ("What's going on in the world?", NEWS),
        ("tell me everything", NEWS),
        ("summarise the news", NEWS),
        ("what's the big story this week", NEWS),
        # one word naming a person, place, event or action makes it a question
        ("What did Peskov say about the strikes?", QUESTION),
        ("any news on ukraine?", QUESTION),
        ("what happened to the hostages", QUESTION),
        ("what's new with the nhs", QUESTION),
        ("did the government help the miners", QUESTION),
        ("help me find the peskov quote", QUESTION),
        ("who won today", QUESTION),
        ("what did he say", QUESTION),
        ("what is it", QUESTION),
        ("", QUESTION),
        ("news " * 13, QUESTION),  # a long message is a question, whatever its words
    ],
)
def test_what_a_message_asks_for(text: str, expected: Intent):
    """should read help as help, a message of news and filler words as the news in general, the rest as questions."""
    assert intent(text) is expected

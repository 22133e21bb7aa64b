"""What a chat message wraps around a question is taken off; the question's own words never are."""

from __future__ import annotations

import pytest

from benchmarks.chat_noise import WRAPPINGS
from retrieval.chat import plain
from retrieval.errors import BadQuestionError
from retrieval.question import analyse, validate

QUESTION = "what did mourinho say about the referee"


@pytest.mark.parametrize(
    ("message", "question"),
    [
        pytest.param(f"<@!398127398127398127> {QUESTION}", QUESTION, id="user-mention"),
        pytest.param(f"<@&398127398127398127> {QUESTION} <#398127398127398127>", QUESTION, id="role-and-channel"),
        pytest.param(f"{QUESTION} <:kekw:812345678901234567>", QUESTION, id="custom-emoji"),
        pytest.param(f"{QUESTION} <a:party:812345678901234567>", QUESTION, id="animated-emoji"),
        pytest.param(f"{QUESTION} :thinking:", QUESTION, id="emoji-shortcode"),
        pytest.param(f"{QUESTION} \U0001f914\U0001f44d\U0001f3fd", QUESTION, id="emoji-and-skin-tone"),
        pytest.param(f"{QUESTION} :)", QUESTION, id="emoticon"),
        pytest.param(f"**{QUESTION}**", QUESTION, id="bold"),
        pytest.param(f"> {QUESTION}", QUESTION, id="block-quote"),
        pytest.param(f"{QUESTION} https://example.com/a/story-123456", QUESTION, id="link"),
        pytest.param(f"{QUESTION} <https://example.com/x>", QUESTION, id="link-without-preview"),
        pytest.param(f"{QUESTION}??? lol", f"{QUESTION}?", id="question-marks-and-laughter"),
        pytest.param(f"lol {QUESTION}", QUESTION, id="leading-laughter"),
        pytest.param(f"{QUESTION} lmao?", f"{QUESTION}?", id="mark-after-laughter"),
        pytest.param(f"{QUESTION}? anyone?", f"{QUESTION}?", id="sign-off-after-the-question"),
        pytest.param(f"@newsdesk: {QUESTION}", QUESTION, id="typed-handle"),
        pytest.param(f"@everyone {QUESTION}", QUESTION, id="everyone"),
        pytest.param(f"hey @newsdesk\n{QUESTION}", QUESTION, id="greeting-line"),
        pytest.param(f"hi all, {QUESTION}", QUESTION, id="greeting"),
    ],
)
def test_chat_around_the_question_is_taken_off(message: str, question: str):
    """should leave the question as typed without what the chat message added around it."""
    assert plain(message) == question


@pytest.mark.parametrize(
    "question",
    [
        "did the fire hurt anyone",
        "hi-tech stocks fell, why",
        "Hi Tech's results: what did the chief executive say",
        "hello world cup winners?",
        "What O`Donnell said about her love life?",
        'Who called Bishop "wacko?"',
        "Who was back on the set at E!?",
        "How much is £5 in $?",
        "who scored at 10:30:45",
        "so... what did he say",
        "is bmw doing hybrids? what did panke say",
        "What did O'Neill say about ~30 people at 9:00?",
    ],
)
def test_a_question_without_chat_is_unchanged(question: str):
    """should change nothing in a question typed without chat markup (none of the NewsQA questions change)."""
    assert plain(question) == question


def test_every_benchmark_wrapping_comes_off():
    """should undo each wrapping that ``benchmarks.chat_noise`` measures (up to a question mark)."""
    for name, wrap in WRAPPINGS.items():
        assert plain(wrap(QUESTION)).rstrip("?") == QUESTION, name


def test_the_analysed_question_is_the_plain_one():
    """should search, embed and parse the question without the chatter: the speaker is still Mourinho."""
    q = analyse("<@!398127398127398127> **What did Mourinho say about the referee??** lol <:kekw:812345678901234567>")
    assert q.text == "What did Mourinho say about the referee?"
    assert q.speaker_terms == ("mourinho",)


@pytest.mark.parametrize(
    "message", ["\U0001f914", "<@!398127398127398127> <:kekw:812345678901234567>", "https://example.com/x"]
)
def test_a_message_with_nothing_to_ask_is_refused(message: str):
    """should refuse, with its own message, a message that holds no words once the chatter is off."""
    with pytest.raises(BadQuestionError) as err:
        validate(message)
    assert str(err.value) == "Please ask a question in words: that message holds only mentions, links or emoji."


def test_hostile_runs_of_punctuation_are_read_quickly():
    """should not backtrack on long runs of marks and laughter (a question is at most 1,000 characters)."""
    assert plain("?" * 999) == "?"
    assert plain("lol " * 249 + "who won") == "who won"


def test_a_follow_up_is_rewritten_without_the_chatter():
    """should read "what else did he say lol <:kekw:...>" as the follow-up it is, not as a new question."""
    from datetime import UTC, datetime

    from retrieval.conversation import Conversation, Turn, rewrite

    now = datetime(2026, 12, 3, tzinfo=UTC)
    turn = Turn(
        question="What did Peskov say about the strikes?",
        rewritten="What did Peskov say about the strikes?",
        speaker="Peskov",
        topic="the strikes",
        quoted=("Peskov",),
        article_ids=("a1",),
        asked_at=now,
    )
    asked = rewrite("what else did he say lol <:kekw:812345678901234567>", Conversation(turns=(turn,)), now=now)
    assert asked.rewritten
    assert "Peskov" in asked.question and "kekw" not in asked.question

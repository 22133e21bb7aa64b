"""A language model's answer streamed into Discord (``bot.streaming``), with a scripted model and a fake clock.

The model is a stand-in ``ChatClient`` that streams its reply piece by piece, moving the fake
clock forward before each piece; the desk's pacing reads that clock and "sleeps" by moving it.
So the tests see exactly when each edit would happen, and never wait for real time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from unittest.mock import MagicMock

import discord
import pytest

from app.deferred import deferred
from app.engine import Engine
from bot import talk
from bot.desk import Asker, Desk
from bot.ratelimit import RateLimiter
from bot.render import MODEL_LABEL, WHY_TITLE, Reply
from bot.responders import InteractionResponder, MessageResponder
from bot.streaming import Pacing
from retrieval.answer import ExtractiveAnswerer
from retrieval.llm.answerer import LlmAnswerer
from retrieval.llm.errors import LlmError, LlmHttpError, LlmReplyError
from tests.llm_cases import (
    CONCERNED,
    ECHO,
    FAITHFUL,
    INJECTED_CLAIM,
    INJECTION,
    LEFT_OUT_INJECTION,
    OPPOSITE,
    PESKOV,
)
from tests.llm_double import Cite, RecordedRequest, citing

from .conftest import GUILD, USER, FakeClock, RecordingResponder

MEMBER = Asker(USER, GUILD)
MODERATOR = Asker(USER, GUILD, is_moderator=True)
TRUMP = Cite(
    'Peskov said Trump had "proclaimed the fight against international terrorism and ISIS as one of his main goals".',
    needle="proclaimed the fight",
)
CALCULUS = Cite("Russia's calculus in Syria appears unchanged.", needle="calculus in Syria")
FAILED = "The language model failed (HTTP 500); this is newsdesk's extractive answer instead."
LATE = "The language model did not answer in time; this is newsdesk's extractive answer instead."


@dataclass
class ScriptedModel:
    """A ``ChatClient`` stand-in: streams one JSON item per piece, the clock moved by ``delays`` before each.

    ``fail`` is raised after the pieces (a failing or cut stream); ``stall`` waits forever after them.
    """

    clock: FakeClock
    sentences: Sequence[Cite] = FAITHFUL
    delays: Sequence[float] = ()
    fail: LlmError | None = None
    stall: bool = False
    calls: list[object] = field(default_factory=list)

    def _items(self, messages: Sequence[dict[str, str]]) -> list[str]:
        reply = citing(*self.sentences)(RecordedRequest({}, {"messages": list(messages)}))
        return [json.dumps(item) for item in json.loads(reply.content)["sentences"]]

    async def stream(self, messages: Sequence[dict[str, str]]) -> AsyncIterator[str]:
        self.calls.append(messages)
        items = self._items(messages)
        pieces = ['{"sentences": [' + items[0], *(f", {item}" for item in items[1:]), "]}"]
        pieces = pieces if self.fail is None and not self.stall else pieces[:-1]
        for i, piece in enumerate(pieces):
            self.clock.now += self.delays[i] if i < len(self.delays) else 0.0
            yield piece
        if self.stall:
            await asyncio.Event().wait()
        if self.fail is not None:
            raise self.fail


@dataclass
class Sleeps:
    """The pacing's sleep: moves the fake clock instead of waiting."""

    clock: FakeClock
    slept: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.now += seconds


class TimedResponder(RecordingResponder):
    """Records the fake clock at every message edit (``update``/``finish``)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.edits: list[tuple[float, str]] = []

    async def update(self, text: str) -> None:
        self.edits.append((self.clock.now, "update"))
        await super().update(text)

    async def finish(self, replies: Sequence[Reply]) -> None:
        self.edits.append((self.clock.now, "finish"))
        await super().finish(replies)


@pytest.fixture
def llm_engine(real_engine: Engine) -> Engine:
    """The seed and an injection article in GUILD's collection."""
    real_engine.ingest([INJECTION], collection=str(GUILD))
    return real_engine


@pytest.fixture
def sleeps(clock: FakeClock) -> Sleeps:
    return Sleeps(clock)


@pytest.fixture
def timed(clock: FakeClock) -> TimedResponder:
    return TimedResponder(clock)


def _desk(engine: Engine, model: ScriptedModel, clock: FakeClock, sleeps: Sleeps, deadline: float = 60.0) -> Desk:
    engine.answerer = deferred(LlmAnswerer(model, ExtractiveAnswerer(engine.query_encoder)))  # type: ignore[arg-type]
    pacing = Pacing(interval=1.0, deadline=deadline, clock=clock, sleep=sleeps)
    return Desk(engine, limiter=RateLimiter(600, clock=clock), pacing=pacing)


@pytest.fixture
def make_desk(llm_engine: Engine, clock: FakeClock, sleeps: Sleeps) -> Iterator[object]:
    desks: list[Desk] = []

    def make(model: ScriptedModel, **kwargs: float) -> Desk:
        desks.append(_desk(llm_engine, model, clock, sleeps, **kwargs))
        return desks[-1]

    yield make
    for desk in desks:
        desk.close()


async def test_drafts_edit_at_most_once_a_second_then_the_answer_replaces_them(
    make_desk, clock: FakeClock, sleeps: Sleeps, timed: TimedResponder
):
    """should show verified sentences as they come, skip a draft due too soon, and wait out the second."""
    model = ScriptedModel(clock, sentences=[*FAITHFUL, TRUMP, CALCULUS], delays=[0.0, 0.3, 0.5, 0.6])
    await talk.ask(make_desk(model), timed, MEMBER, PESKOV)
    # Drafts after 0.3 s (1 sentence), 0.8 s (2: skipped, too soon), 1.4 s (3); the answer a second later.
    assert timed.edits == [(1000.3, "update"), (1001.4, "update"), (1002.4, "finish")]
    assert sleeps.slept == [pytest.approx(1.0)]
    first, second = timed.of("update")
    assert first.splitlines() == [
        f"**{PESKOV}**",
        f"{CONCERNED} [1]",
        "-# Writing… only sentences checked against the articles are shown.",
    ]
    assert len(second.splitlines()) == 5
    [final] = timed.of("finish")
    assert final.embed is not None and final.embed["title"] == PESKOV
    lines = final.embed["description"].splitlines()
    assert lines[:5] == [
        MODEL_LABEL,
        f"{CONCERNED} [1]",
        f"{OPPOSITE} [1]",
        'Peskov said Trump had "proclaimed the fight against international terrorism and ISIS as one of his main '
        'goals". [1]',
        "Russia's calculus in Syria appears unchanged. [1]",
    ]
    assert "> we are very concerned [1]" in lines
    assert final.embed["footer"]["text"].startswith(
        "Sentences in the language model's words; quotes verbatim from the articles · "
    )
    assert [f["name"] for f in final.embed["fields"]] == ["Sources"]
    assert timed.of("send") == [] and timed.of("whisper") == []


async def test_a_moderator_is_told_privately_what_was_left_out(make_desk, clock: FakeClock, timed: TimedResponder):
    """should never post the claim an article injected, and tell only a moderator that a sentence was left out."""
    model = ScriptedModel(clock, sentences=[FAITHFUL[0], ECHO, FAITHFUL[1]])
    await talk.ask(make_desk(model), timed, MODERATOR, PESKOV)
    assert INJECTED_CLAIM not in timed.text
    assert "resigned" not in timed.text
    assert timed.of("whisper") == [f"{WHY_TITLE}\n- {LEFT_OUT_INJECTION}"]
    [final] = timed.of("finish")
    assert final.embed is not None and LEFT_OUT_INJECTION not in final.embed["footer"]["text"]


async def test_a_member_gets_no_note_on_left_out_sentences(make_desk, clock: FakeClock, timed: TimedResponder):
    """should not tell a member about left-out sentences (nor show them)."""
    model = ScriptedModel(clock, sentences=[FAITHFUL[0], ECHO, FAITHFUL[1]])
    await talk.ask(make_desk(model), timed, MEMBER, PESKOV)
    assert timed.of("whisper") == []
    assert INJECTED_CLAIM not in timed.text


async def test_a_model_error_falls_back_to_quotes_with_a_note(make_desk, clock: FakeClock, timed: TimedResponder):
    """should answer with the extractive quotes, and say why, when the model fails before any draft."""
    model = ScriptedModel(clock, sentences=FAITHFUL[:1], fail=LlmHttpError(500))
    await talk.ask(make_desk(model), timed, MEMBER, PESKOV)
    [reply] = timed.of("send")
    assert reply.embed is not None
    assert all(line.startswith("> ") for line in reply.embed["description"].splitlines())
    assert reply.embed["footer"]["text"].startswith(f"{FAILED} · Quotes are verbatim from the articles · ")
    assert timed.of("update") == [] and timed.of("finish") == []


async def test_a_stream_cut_after_a_draft_is_replaced_by_the_fallback(
    make_desk, clock: FakeClock, timed: TimedResponder
):
    """should turn the draft message into the extractive answer when the stream breaks midway."""
    cut = LlmReplyError("the language model's answer was cut off")
    model = ScriptedModel(clock, sentences=[*FAITHFUL, TRUMP], delays=[0.0, 0.2, 0.2], fail=cut)
    await talk.ask(make_desk(model), timed, MEMBER, PESKOV)
    assert [kind for _, kind in timed.edits] == ["update", "finish"]
    [final] = timed.of("finish")
    assert final.embed is not None
    assert final.embed["footer"]["text"].startswith(
        "The language model's answer was cut off; this is newsdesk's extractive answer instead. · Quotes are verbatim"
    )
    assert MODEL_LABEL not in final.embed["description"]


async def test_a_model_past_the_deadline_is_cut_off(make_desk, clock: FakeClock, timed: TimedResponder):
    """should stop waiting at the deadline and answer with the quotes, noting the model was too slow."""
    model = ScriptedModel(clock, sentences=FAITHFUL, stall=True)
    await talk.ask(make_desk(model, deadline=0.05), timed, MEMBER, PESKOV)
    assert [kind for _, kind in timed.edits] == ["update", "finish"]  # the draft, then the quotes in its place
    [final] = timed.of("finish")
    assert final.embed is not None
    assert final.embed["footer"]["text"].startswith(f"{LATE} · Quotes are verbatim from the articles · ")


async def test_markdown_in_the_models_words_is_escaped(make_desk, clock: FakeClock, timed: TimedResponder):
    """should show a model's markup as typed, in drafts and in the answer, like article text."""
    marked = Cite("Peskov said **we are very concerned**, <@123> `x`.", needle="very concerned")
    model = ScriptedModel(clock, sentences=[marked, FAITHFUL[1]], delays=[0.0, 0.0])
    await talk.ask(make_desk(model), timed, MEMBER, PESKOV)
    escaped = r"Peskov said \*\*we are very concerned\*\*, \<@123> \`x\`. [1]"
    [draft] = timed.of("update")
    assert escaped in draft.splitlines()
    [final] = timed.of("finish")
    assert final.embed is not None and escaped in final.embed["description"].splitlines()


# ---------------------------------------------------------------------------------------------- responders
def _interaction() -> MagicMock:
    interaction = MagicMock(spec=discord.Interaction)
    interaction.response = MagicMock(spec=discord.InteractionResponse)
    interaction.response.is_done.return_value = True
    interaction.followup = MagicMock(spec=discord.Webhook)
    return interaction


async def test_interaction_finish_edits_the_drafts_into_the_answer():
    """should edit the deferred response into the first reply (dropping the draft text) and follow up the rest."""
    interaction = _interaction()
    responder = InteractionResponder(interaction)
    await responder.update("draft")
    await responder.finish([Reply(embed={"description": "answer"}), Reply(content="more")])
    edit = interaction.edit_original_response.await_args_list[-1].kwargs
    assert edit["content"] is None and edit["embed"].description == "answer"
    assert interaction.followup.send.await_args.kwargs["content"] == "more"


async def test_interaction_finish_without_drafts_sends():
    """should send the answer as a follow-up (replacing "thinking…") when no draft was shown."""
    interaction = _interaction()
    await InteractionResponder(interaction).finish([Reply(content="answer")])
    interaction.edit_original_response.assert_not_awaited()
    assert interaction.followup.send.await_args.kwargs["content"] == "answer"


async def test_interaction_whisper_is_ephemeral():
    """should send the moderators' note as an ephemeral follow-up."""
    interaction = _interaction()
    await InteractionResponder(interaction).whisper("why")
    assert interaction.followup.send.await_args.kwargs["ephemeral"] is True


async def test_a_mention_never_whispers():
    """should send nothing for a whisper in reply to a mention: every reply there is public."""
    message = MagicMock(spec=discord.Message)
    message.channel = MagicMock(spec=discord.TextChannel)
    message.author = MagicMock(spec=discord.Member)
    await MessageResponder(message).whisper("why")
    message.channel.send.assert_not_called()


class SlowDiscord(TimedResponder):
    """Discord timing out on an edit (aiohttp raises the built-in ``TimeoutError``)."""

    async def update(self, text: str) -> None:
        raise TimeoutError


async def test_a_discord_timeout_is_not_taken_for_the_models(make_desk, clock: FakeClock):
    """should let a timeout of Discord's reach the error handler, not answer as if the model were late."""
    responder = SlowDiscord(clock)
    with pytest.raises(TimeoutError):
        await talk.ask(make_desk(ScriptedModel(clock)), responder, MEMBER, PESKOV)
    assert responder.of("send") == [] and responder.of("finish") == []

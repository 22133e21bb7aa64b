"""Follow-up questions: a short conversation record, and follow-ups rewritten into standalone questions.

After "What did Peskov say about the strikes?", the question "What else did he say?" asks about
Peskov and the strikes. ``rewrite`` turns it into "What else did Peskov say about the strikes?",
which the engine answers like any question and the user sees in small print ("Read as: ...").
Rules only, no model: the previous turn gives the speaker it asked about (or the person its
quotes cite), the topic phrase of its question, and the articles it cited (searched first).

Patterns, tried in order (the phrase rules are in ``retrieval._phrases``):

- event: "why?", "when was that?", "where?" ask about the previous question's event;
- ellipsis: "and X?", "what about X?" repeat the previous question with X as its speaker (when X
  looks like a person or organisation) or as its topic;
- reference: he/she/they/his/her... stand for the previous speaker, when the question has no
  subject of its own; it/this/that used as pronouns stand for the previous topic;
- carried topic: a speaker question without a topic that says it follows on ("what else did he
  say?", "what did the Houthis say back?") takes the previous topic.

Anything else is standalone and left exactly as typed: a new question with its own subject never
inherits the old speaker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from retrieval._phrases import (
    Frame,
    carries_on,
    looks_like_agent,
    parse_frame,
    pronoun_role,
    quoted_speakers,
    starts_with_preposition,
    subject_is_own,
    words,
)
from retrieval.answer import Answer
from retrieval.chat import plain
from retrieval.question import MAX_QUESTION_CHARS, SPEECH_VERBS

MAX_TURNS = 5
MAX_SHOWN = 20  # quotes a run of "what else" follow-ups remembers not to show again
DEFAULT_TTL = timedelta(minutes=30)

_PERSONAL = frozenset({"he", "she", "they", "him", "them", "his", "her", "their", "hers", "theirs"})
_DEMONSTRATIVE = frozenset({"it", "this", "that"})
_EVENT = re.compile(
    r"^(?:(?:and|but|so|ok|okay)\s*,?\s+)?(?P<w>why|when|where|how)"
    r"(?:\s+(?:so|not|exactly|then|come|did (?:that|this|it) happen|was (?:that|this|it)|is (?:that|this|it)"
    r"|did (?:he|she|they) (?:say|do) (?:that|this|it)|did (?:that|this|it) (?:start|begin|end)))?\s*[?.!]*$",
    re.IGNORECASE,
)
_ELLIPSIS = re.compile(
    r"^(?:(?:and|but|so|or)\s*,?\s+(?:(?:what|how)\s+about\s+)?|(?:what|how)\s+about\s+)(?P<x>.+?)"
    r"(?:\s*,?\s+(?:then|too|as well|instead))?\s*[?.!]*$",
    re.IGNORECASE,
)
# An elliptical phrase is short and is no question of its own ("and what did he say about ...?" is one).
_NOT_A_PHRASE = re.compile(
    r"^(?:what|who|whom|whose|which|when|where|why|how|did|does|do|is|was|are|were|has|have|had|will|would|can|could)\b",
    re.IGNORECASE,
)
_MAX_PHRASE_WORDS = 8
_LINK = re.compile(r"^(?:and|but|so|ok|okay)\s*,?\s+", re.IGNORECASE)


class Turn(BaseModel):
    """One answered question of a conversation: what later follow-ups can refer to.

    Attributes:
        question: as the user typed it.
        rewritten: the standalone question that was asked (``question`` itself when it stood alone).
        speaker: the person or organisation asked about, or else the main person its quotes cite.
        topic: what the question was about, as a phrase of ``rewritten`` ("the strikes").
        quoted: the speakers named in the answer's quotes, most quoted first.
        article_ids: the articles the answer cited, in citation order.
        shown: the quotes the answer showed (with those a "what else" skipped), as ``(article id, start, end)``:
            the next "what else" skips them.
        asked_at: when it was asked (UTC).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    question: str
    rewritten: str
    speaker: str | None = None
    topic: str | None = None
    quoted: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()
    shown: tuple[tuple[str, int, int], ...] = ()
    asked_at: datetime


class Conversation(BaseModel):
    """The last few turns of one user's conversation, JSON-serialisable so that a store can keep it.

    A conversation is immutable: ``add`` returns the next one. It expires ``ttl`` after its last
    turn, after which a question is read as the start of a new conversation.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    turns: tuple[Turn, ...] = ()
    max_turns: int = Field(default=MAX_TURNS, ge=1)
    ttl: timedelta = DEFAULT_TTL
    expires_at: datetime | None = None

    def add(self, turn: Turn) -> Conversation:
        """This conversation with ``turn`` appended, the oldest turns dropped past ``max_turns``."""
        turns = (*self.turns, turn)[-self.max_turns :]
        return self.model_copy(update={"turns": turns, "expires_at": turn.asked_at + self.ttl})

    def last(self, now: datetime | None = None) -> Turn | None:
        """The previous turn, or None when there is none or the conversation has expired at ``now``."""
        if not self.turns or (self.expires_at is not None and (now or datetime.now(UTC)) >= self.expires_at):
            return None
        return self.turns[-1]


@dataclass(frozen=True, slots=True)
class Rewrite:
    """A question read in its conversation.

    Attributes:
        question: the standalone question to ask.
        original: the question as typed.
        rewritten: whether ``question`` differs from ``original``.
        rule: the pattern that made it a follow-up (event, ellipsis-speaker, ellipsis-topic, reference,
            carried-topic), or None for a standalone question.
        search_first: the previous turn's cited articles, for a follow-up; empty otherwise.
        avoid: quotes not to show again (those shown so far, when the follow-up asks for something
            else: "What else did he say?"), as ``(article id, start, end)``.
    """

    question: str
    original: str
    rewritten: bool
    rule: str | None = None
    search_first: tuple[str, ...] = ()
    avoid: tuple[tuple[str, int, int], ...] = ()

    @property
    def read_as(self) -> str | None:
        """The small print shown under a rewritten question's answer."""
        return f"Read as: {self.question}" if self.rewritten else None


_MORE = re.compile(r"\b(?:else|more|other|another|again|too|also)\b", re.IGNORECASE)


def rewrite(question: str, conversation: Conversation, *, now: datetime | None = None) -> Rewrite:
    """Rewrite a follow-up into a standalone question; leave a standalone question as it is.

    Args:
        question: the question as typed (not validated: an empty one comes back unchanged).
        conversation: the conversation so far.
        now: the time of the question (default: the current time), for expiry.

    Returns:
        The question to ask, whether it was rewritten, and the articles to search first.
    """
    standalone = Rewrite(question, question, False)
    previous = conversation.last(now)
    text = plain(" ".join(question.split()))  # "what else did he say lol <:kekw:...>" is read without the chatter
    if previous is None or not text:
        return standalone
    frame = parse_frame(previous.rewritten)
    resolved = _resolve(text, frame, previous)
    if resolved is None:
        return standalone
    rule, new_text = resolved
    new_text = _finish(new_text) if new_text != text else question
    avoid = previous.shown if _MORE.search(text) else ()
    if new_text == question or len(new_text) > MAX_QUESTION_CHARS:
        return Rewrite(question, question, False, rule, previous.article_ids, avoid)
    return Rewrite(new_text, question, True, rule, previous.article_ids, avoid)


def record_turn(asked: Rewrite, answer: Answer, *, now: datetime | None = None) -> Turn:
    """The turn a question and its answer leave for the next follow-up.

    The speaker is the one the question asked about; when it asked about nobody, the person its
    quotes cite most. The topic is the phrase the question was about.
    """
    frame = parse_frame(asked.question)
    quoted = quoted_speakers([c.quote for c in answer.citations]) if answer.answered else ()
    speaker = frame.phrase(frame.speaker) if frame.speaker else None
    if speaker is None or speaker.casefold() in _PERSONAL | _DEMONSTRATIVE:
        speaker = quoted[0] if quoted else None
    return Turn(
        question=asked.original,
        rewritten=asked.question,
        speaker=speaker,
        topic=frame.phrase(frame.topic) if frame.topic else None,
        quoted=quoted,
        article_ids=tuple(dict.fromkeys(c.article_id for c in answer.citations)),
        shown=_shown(asked, answer),
        asked_at=now or datetime.now(UTC),
    )


def _shown(asked: Rewrite, answer: Answer) -> tuple[tuple[str, int, int], ...]:
    """The quotes shown so far: this answer's, and for "what else" the ones it was asked to skip.

    A second "what else" then goes on from both answers instead of showing the first one again.
    """
    quoted = [(c.article_id, c.start, c.end) for c in answer.citations] if answer.answered else []
    return tuple(dict.fromkeys([*asked.avoid, *quoted]))[-MAX_SHOWN:]


def _resolve(text: str, frame: Frame, previous: Turn) -> tuple[str, str] | None:
    """The rule that makes ``text`` a follow-up and its standalone form, or None when it stands alone."""
    if event := _EVENT.match(text):
        return "event", _event_question(event.group("w").lower(), frame, previous)
    ellipsis = _ELLIPSIS.match(text)
    if ellipsis and not _NOT_A_PHRASE.match(ellipsis.group("x")):
        x = ellipsis.group("x").strip(" ,")
        if 0 < len(x.split()) <= _MAX_PHRASE_WORDS:
            names = [n for n in (previous.speaker, *previous.quoted) if n]
            if not starts_with_preposition(x) and looks_like_agent(x, names):
                return "ellipsis-speaker", _with_speaker(frame, x, previous.topic)
            return "ellipsis-topic", _with_topic(frame, x)
    return _references(text, previous)


def _event_question(w: str, frame: Frame, previous: Turn) -> str:
    """Why/when/where/how of the previous question's event."""
    if frame.speaker:
        about = f" about {previous.topic}" if previous.topic else ""
        return f"{w} did {frame.phrase(frame.speaker)} say that{about}"
    if frame.aux is not None:
        return f"{w} {frame.text[frame.aux[0] :]}"
    if previous.topic:
        return f"{w} was {previous.topic}" if w in ("when", "where") else f"{w} did {previous.topic} happen"
    return f"{w}: {frame.text}"


def _with_speaker(frame: Frame, x: str, topic: str | None) -> str:
    """The previous question asked of another speaker."""
    if frame.speaker:
        return frame.replace(frame.speaker, x)
    return f"what did {x} say about {topic}" if topic else f"what did {x} say"


def _with_topic(frame: Frame, x: str) -> str:
    """The previous question about another topic (with its preposition when X brings one)."""
    if frame.topic is None:
        return f"{frame.text}, and {x}" if not frame.speaker else f"{frame.text} about {x}"
    span = frame.topic
    if frame.topic_prep is not None and starts_with_preposition(x):
        span = (frame.topic_prep, span[1])
    return frame.replace(span, x)


def _references(text: str, previous: Turn) -> tuple[str, str] | None:
    """Pronouns replaced by the previous speaker and topic; a follow-on speaker question takes the topic."""
    tokens = words(text)
    own_subject = subject_is_own(text)
    replacements: list[tuple[int, int, str]] = []
    subject_resolved = False
    pointed = False  # a pronoun points outside the question, even when the previous turn cannot resolve it
    for i, (start, end, word) in enumerate(tokens):
        low, role = word.lower(), pronoun_role(tokens, i)
        after = tokens[i + 1][2].lower() if i + 1 < len(tokens) else ""
        if role is None:
            continue
        if low in _PERSONAL or (low == "it" and role == "subject" and re.fullmatch(SPEECH_VERBS, after)):
            pointed = pointed or not own_subject
            # "how much did they sell him for": the subject and the object of one clause are two people.
            if role == "object" and subject_resolved:
                continue
            if previous.speaker and not own_subject:
                subject_resolved = subject_resolved or role == "subject"
                speaker = previous.speaker
                replacements.append((start, end, f"{speaker}'s" if role == "possessive" else speaker))
        else:
            pointed = True
            if previous.topic:
                replacements.append((start, end, previous.topic))
    out = text
    for start, end, value in reversed(replacements):
        out = out[:start] + value + out[end:]
    frame = parse_frame(out)
    if frame.speaker and frame.topic is None and previous.topic and (replacements or carries_on(text)):
        return ("reference" if replacements else "carried-topic"), f"{frame.text} about {previous.topic}"
    return ("reference", out) if pointed else None


def _finish(text: str) -> str:
    """One spaced, capitalised question ending in a question mark, without the "and" that linked it."""
    text = _LINK.sub("", " ".join(text.split())).rstrip(" ?.!,")
    return text[:1].upper() + text[1:] + "?"

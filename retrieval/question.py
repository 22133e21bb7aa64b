"""A question, parsed once: what to search for, what kind of answer it wants, and when.

Everything downstream (retrieval, the answerer) reads the one ``Question`` that ``analyse``
makes. "What did Peskov say about the strikes last week?" becomes the text to search
("What did Peskov say about the strikes?"), its terms, the speaker it asks about (the
answerer then prefers sentences where Peskov is the speaker of a quotation) and the date
range of "last week".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from index.clean import normalise
from index.lexical import terms
from retrieval.chat import plain
from retrieval.errors import BadQuestionError
from retrieval.speaker_question import SpeakerQuestion, question_speaker
from retrieval.timeexpr import TimeFilter, parse_time_filter

MAX_QUESTION_CHARS = 1_000
SPEECH_VERBS = (
    "say|says|said|saying|tell|tells|told|add|adds|added|claim|claims|claimed|warn|warns|warned|state|states|stated|"
    "announce|announced|explain|explained|note|noted|insist|insisted|argue|argued|respond|responded|reply|replied|"
    "describe|described|call|called|comment|commented|write|wrote|think|thinks|believe|believes|admit|admitted|"
    "acknowledge|acknowledged|deny|denied|suggest|suggested|urge|urged|tweet|tweeted|declare|declared|lament|lamented"
)
_SPEECH = re.compile(rf"\b(?:{SPEECH_VERBS}|according to)\b", re.IGNORECASE)
# Words that carry no content for matching: question words (with the "else" of a follow-up, "what else did he say?")
# and the speech verbs themselves.
_QUESTION_NOISE = frozenset(
    terms("what who whom whose which when where why how else did does do say says said tell told")
)


_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|sept?|jan|feb|mar|apr|jun|jul|aug|oct|nov|dec"
)
_TIME_WORDS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tomorrow|tonight"
    "|morning|evening|night|week|month|year|decade|century"
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty"
    "|hundred|thousand|million|billion|dozens?|hundreds|thousands|millions|half"
)
_ANSWER_TYPES = (
    (
        "number",
        re.compile(
            r"\bhow (?:many|much|old|long|far|big|large|often|tall)\b|\bwhat (?:percentage|percent|number|age)\b", re.I
        ),
    ),
    ("time", re.compile(r"\bwhen\b|\bwhat (?:year|day|date|month|time)\b|\bhow long ago\b", re.I)),
    ("person", re.compile(r"\bwho(?:m|se)?\b", re.I)),
    ("place", re.compile(r"\bwhere\b|\bwhat (?:country|city|state|town|region)\b", re.I)),
)
_TYPE_EVIDENCE = {
    "number": re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I),
    "time": re.compile(rf"\b(?:1[89]\d\d|20\d\d)\b|\b(?:{_MONTHS}|{_TIME_WORDS})\b", re.I),
}
_PROPER_NOUN = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]+")


# Code points that are not text: UTF-16 surrogates (what undecodable bytes become in a command line) and
# Unicode noncharacters. Tokenizers refuse them, so a question holding one is refused here, with a reason.
_NOT_TEXT = re.compile(
    "[\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(p + 0xFFFE)}{chr(p + 0xFFFF)}" for p in range(0, 0x110000, 0x10000))
    + "]"
)


@dataclass(frozen=True, slots=True)
class Question:
    """A validated question and its analysis.

    Attributes:
        text: what is searched and embedded: the question without its time words, if it had any.
        terms: its content terms (question words and speech verbs left out), each once.
        search_terms: every term of ``text`` in order, for BM25.
        speaker_terms: who it asks a quote of ("What did Peskov say ..."), as terms.
        speaker: the speaker phrase and topic as asked (``retrieval.speaker_question``), or ``None``.
        answer_type: number, time, person or place: what kind of words the answer has.
        time: the time expression it held ("last week", "latest"), or ``None``.
    """

    text: str
    terms: tuple[str, ...]
    search_terms: tuple[str, ...]
    speaker_terms: tuple[str, ...] = ()
    answer_type: str | None = None
    time: TimeFilter | None = None
    speaker: SpeakerQuestion | None = None

    @property
    def asks_for_quote(self) -> bool:
        """Whether the question asks what somebody said."""
        return bool(self.speaker_terms)


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def validate(text: str) -> str:
    """Normalise a question as article text is normalised (quotes, invisible characters), and check it.

    What a chat message adds around the question (mentions, emoji, links, Markdown, "lol") is taken
    off first (``retrieval.chat.plain``): none of it is asked.

    Raises:
        BadQuestionError: when it is empty (or holds nothing but such chatter), longer than
            ``MAX_QUESTION_CHARS`` or holds code points that are not text.
    """
    if bad := _NOT_TEXT.search(text or ""):
        raise BadQuestionError(
            f"That question holds a character that is not text (U+{ord(bad.group()):04X}); please type it again."
        )
    typed = _collapse(normalise(text or ""))
    if not typed:
        raise BadQuestionError("Please ask a question: the text is empty.")
    if len(typed) > MAX_QUESTION_CHARS:
        raise BadQuestionError(
            f"That question is {len(typed):,} characters long; please keep it under {MAX_QUESTION_CHARS:,}."
        )
    text = plain(typed)
    if not text:
        raise BadQuestionError("Please ask a question in words: that message holds only mentions, links or emoji.")
    return text


def _without_time_words(text: str, window: TimeFilter) -> str:
    """The question without its time words, which would otherwise count as content to match."""
    rest = re.compile(re.escape(window.matched), re.IGNORECASE).sub(" ", text, count=1).strip(" ,")
    return _collapse(rest) if rest.strip(" ?.!") else text


def analyse(text: str, *, now: datetime | None = None) -> Question:
    """Validate and analyse a question.

    Args:
        text: the question as asked.
        now: the time to read its time words against ("yesterday"); ``None`` reads none, and they
            stay words to search for (a caller that set its own date range passes ``None``).

    Raises:
        BadQuestionError: see ``validate``.
    """
    text = validate(text)
    window = parse_time_filter(text, now=now) if now is not None else None
    if window is not None:
        text = _without_time_words(text, window)
    asked = question_speaker(text)
    speaker = tuple(t for t in terms(asked.speaker) if t not in _QUESTION_NOISE) if asked else ()
    search_terms = tuple(terms(text))
    content = tuple(dict.fromkeys(t for t in search_terms if t not in _QUESTION_NOISE))
    answer_type = next((name for name, pattern in _ANSWER_TYPES if pattern.search(text)), None)
    return Question(
        text=text,
        terms=content,
        search_terms=search_terms,
        speaker_terms=speaker,
        answer_type=answer_type,
        time=window,
        speaker=asked,
    )


def has_answer_type(question: Question, sentence: str) -> bool:
    """Whether a sentence holds the kind of words the question asks for (a number for "how many", ...).

    People and places are recognised as capitalised words inside the sentence that the
    question does not already contain: the answer is what the question lacks.
    """
    if question.answer_type in _TYPE_EVIDENCE:
        return bool(_TYPE_EVIDENCE[question.answer_type].search(sentence))
    if question.answer_type in ("person", "place"):
        asked = {w.casefold() for w in re.findall(r"\w+", question.text)}
        return any(name.casefold() not in asked for name in _PROPER_NOUN.findall(sentence))
    return False


def is_attributed_quote(sentence: str) -> bool:
    """Whether a sentence reports speech: a quotation or a speech verb."""
    return '"' in sentence or bool(_SPEECH.search(sentence))

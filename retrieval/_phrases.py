"""English phrase rules for follow-up questions: a question's frame, agent-like phrases, quoted speakers.

No parser and no model: questions to a news bot are short and formulaic ("what did X say about
Y", "how many people died in Y"), so a few patterns find the parts a follow-up can replace. Users
often type in lower case, so a phrase is judged a person or organisation by its head noun (a role,
an institution, a demonym plural) and by its shape, not only by capital letters.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from retrieval.question import SPEECH_VERBS
from retrieval.timeexpr import parse_time_filter

Span = tuple[int, int]
Token = tuple[int, int, str]


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``: how the word lists below are written."""
    return frozenset(text.split())


_WORD = re.compile(r"[^\W_][\w'’&-]*")  # "v&a" is one word, not "v" and the article "a"
_WH = word_set("what who whom whose which when where why how")
_AUX = word_set("did does do has have had is was are were will would can could should")
_DO = word_set("do does did")
_CONJ = word_set("and but so ok okay")
_PREPOSITIONS = word_set(
    "about on in at of for from over against with during after before into between regarding concerning by"
)
_DETERMINERS = word_set("the a an this that these those some any")
_POSSESSIVES = word_set("his her their its my our your")
_PRONOUNS = word_set("he she they him them his her their it there this that")
# Words after which "this"/"that" is a pronoun rather than a determiner ("when did that happen").
_AFTER_PRONOUN = (
    _AUX
    | _PREPOSITIONS
    | word_set(
        "be been being and or but happen happened happens mean means meant cost costs affect affected change changed "
        "matter matters start started end ended begin began lead led cause caused work worked come came go went "
        "take took make made"
    )
)
_SPEAKER_QUESTION = re.compile(
    r"^(?:(?:and|but|so)\s*,?\s+)?(?:(?:what|how|why|when|where)(?:\s+else)?\s+)?"
    rf"(?P<aux>did|does|do|has|have|had|is|was|will|would)\s+(?P<who>.+?)\s+(?P<verb>{SPEECH_VERBS})\b(?P<rest>.*)$",
    re.IGNORECASE,
)
_FOLLOW_ON = r"anything|something|else|more|back|again|also|then|next|now|further|publicly|in response|later"
_SPEECH_TOPIC = re.compile(
    rf"^\s*(?:(?:{_FOLLOW_ON})\s+)*(?P<prep>about|on|over|regarding|concerning|of)\s+(?P<topic>\S.*)$", re.IGNORECASE
)
_CARRIES_ON = re.compile(rf"\b(?:{_FOLLOW_ON}|too|as well|in return)\b", re.IGNORECASE)
_MAX_TOPIC_WORDS = 6

# Head nouns of phrases that name a person, a group of people or an organisation.
_AGENTS = word_set(
    """staff president minister secretary spokesman spokeswoman spokesperson spokespeople official officer police
    policeman cop government ministry department administration agency authority authorities lawyer attorney judge court
    prosecutor senator congressman congresswoman lawmaker legislator governor mayor leader chief head ceo chairman
    chairwoman director founder owner boss manager coach player captain team club company firm union party army
    military general commander soldier troops rebel militant group family relative mother father mom dad parent wife
    husband son daughter brother sister friend mate neighbor neighbour colleague teacher doctor expert analyst critic
    supporter opponent opposition candidate campaign witness victim resident student fan pilot airline regulator
    investigator researcher scientist professor ambassador diplomat envoy king queen prince princess pope bishop
    priest cleric imam embassy kremlin pentagon parliament congress senate fbi cia un nato eu board council committee
    commission panel network newspaper pollster source insider aide adviser advisor staff worker employee organizer
    organiser activist protester demonstrator agent star actor actress singer host producer author writer journalist
    reporter editor man woman boy girl people men women children kids guy partner ally allies neighbours neighbors
    spokesmen officials brigade firefighter rescuer paramedic"""
)
_AGENT_PHRASES = ("white house", "downing street", "state department", "foreign office", "home office")
_DEMONYM_PLURAL = re.compile(r"(?:ians|cans|ese|[^s]is)$")
_TOPIC_SUFFIX = re.compile(r"(?:tion|sion|ment|ism|ity|ness|ance|ence|ship|ing|ure|ics|cy)s?$")

_SAID = (
    "said|says|added|explained|noted|insisted|argued|warned|stated|wrote|tweeted|continued|recalled|declared|"
    "claimed|admitted|replied|responded|told"
)
_NAME = r"[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3}"
_NAME_BEFORE_VERB = re.compile(rf"(?P<name>{_NAME})(?:,[^,\"]{{1,80}},)?\s+(?:{_SAID})\b")
# After the verb the speaker is the last capitalised run before the clause ends ("said Kremlin spokesman Dmitry
# Peskov."); "told" is left out, its object is the listener.
_AFTER_VERB = re.compile(rf"\b(?:{_SAID.replace('|told', '')}|according to)\s+(?P<tail>[^,.;:\"!?]{{1,80}})")
_NOT_NAMES = word_set(
    """he she it they we i you this that these those there the a an his her their its our my but and so yet however
    also still then when while as if in on at by for monday tuesday wednesday thursday friday saturday sunday january
    february march april may june july august september october november december mr mrs ms dr"""
)


def words(text: str) -> list[Token]:
    """The words of ``text`` with their character spans."""
    return [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


@dataclass(frozen=True, slots=True)
class Frame:
    """The parts of a question a follow-up can refer to or replace, as spans of ``text``.

    Attributes:
        text: the question, spaces collapsed, without its final punctuation.
        speaker: who a "what did X say" question asks about.
        topic: what the question is about ("the strikes", "the Nepal earthquake").
        topic_prep: where the preposition before the topic starts, when there is one.
        aux: the auxiliary after the question word ("did" in "what did ..."), when there is one.
    """

    text: str
    speaker: Span | None = None
    topic: Span | None = None
    topic_prep: int | None = None
    aux: Span | None = None

    def phrase(self, span: Span) -> str:
        """The text of a span."""
        return self.text[span[0] : span[1]]

    def replace(self, span: Span, value: str) -> str:
        """The question with ``span`` replaced by ``value``."""
        return self.text[: span[0]] + value + self.text[span[1] :]


def parse_frame(question: str) -> Frame:
    """Find the speaker, topic and auxiliary of a question."""
    text = " ".join(question.split()).rstrip(" ?.!")
    if m := _SPEAKER_QUESTION.match(text):
        topic = prep = None
        rest = m.start("rest")
        if t := _SPEECH_TOPIC.match(m.group("rest")):
            topic, prep = _without_time(text, (rest + t.start("topic"), rest + t.end("topic"))), rest + t.start("prep")
        return Frame(text, m.span("who"), topic, prep, m.span("aux"))
    tokens = words(text)
    aux = _aux(tokens)
    topic, prep = _generic_topic(text, tokens, aux)
    return Frame(text, None, topic, prep, (tokens[aux][0], tokens[aux][1]) if aux is not None else None)


def _aux(tokens: Sequence[Token]) -> int | None:
    """Index of the auxiliary of a wh-question ("how many people did ..."), or of a yes/no question's first word."""
    i = 1 if tokens and tokens[0][2].lower() in _CONJ else 0
    if i < len(tokens) and tokens[i][2].lower() in _AUX:
        return i
    if i < len(tokens) and tokens[i][2].lower() in _WH:
        for j in range(i + 1, min(i + 5, len(tokens))):
            if tokens[j][2].lower() in _AUX:
                return j
    return None


def _generic_topic(text: str, tokens: Sequence[Token], aux: int | None) -> tuple[Span | None, int | None]:
    """The question's last "the ..." phrase, else its last prepositional object, else its subject.

    "who won the election in Nigeria" is about "the election in Nigeria"; its last preposition is
    kept too, so that "and in Ghana?" replaces "in Nigeria" only. A stranded preposition ("what is
    the exhibition about") and the verb that ends a do-question ("how many jobs did the US add")
    are not part of the topic.
    """
    end = _without_time(text, (0, len(text)))[1]
    tokens = [t for t in tokens if t[1] <= end]
    while tokens and tokens[-1][2].lower() in _PREPOSITIONS:
        tokens.pop()
    near = range(max(len(tokens) - _MAX_TOPIC_WORDS, 0), len(tokens))
    prep = next((i for i in reversed(near[:-1]) if tokens[i][2].lower() in _PREPOSITIONS), None)
    det = next((i for i in reversed(near) if tokens[i][2].lower() in ("the", "a", "an")), None)
    if det is not None:
        start: int | None = det
    elif prep is not None:
        start = prep + 1
    else:
        start = aux + 1 if aux is not None and aux + 1 in near else None
    if start is None:
        return None, None
    last = len(tokens) - 1
    if aux is not None and start == aux + 1 and last > start and tokens[aux][2].lower() in _DO:
        last -= 1  # "did the US add": the subject is "the US", the last word its verb
    prep_at = tokens[prep][0] if prep is not None and prep <= last else None
    return (tokens[start][0], tokens[last][1]), prep_at


def _without_time(text: str, span: Span) -> Span:
    """The span without a time expression that ends it ("the strikes last week" -> "the strikes")."""
    phrase = text[span[0] : span[1]]
    tf = parse_time_filter(phrase, now=datetime.now(UTC))
    if tf is not None and (tf.start or tf.end) and phrase.endswith(tf.matched):
        cut = phrase[: -len(tf.matched)].rstrip(" ,")
        if cut:
            return span[0], span[0] + len(cut)
    return span


def subject_is_own(question: str) -> bool:
    """Whether the question has a subject of its own that a pronoun in it may refer to.

    "What did Obama do after his speech?" has one ("his" may be Obama's); "What else did he say?",
    "What happened to her?" and "What is the name of his wife?" have none a person pronoun could mean.
    """
    tokens = words(question)
    aux = _aux(tokens)
    if aux is None:
        return False
    subject: list[str] = []
    for _start, _end, word in tokens[aux + 1 :]:
        low = word.lower()
        if low in _PRONOUNS or low in _PREPOSITIONS or re.fullmatch(SPEECH_VERBS, low) or len(subject) == 4:
            break
        subject.append(word)
    return bool(subject) and looks_like_agent(" ".join(subject))


def pronoun_role(tokens: Sequence[Token], i: int) -> str | None:
    """The role of a pronoun that can only point outside the question: subject, object or possessive.

    A subject pronoun counts only in the question's own subject slot ("what else did *he* say", "why
    did *it* happen"): elsewhere it belongs to a clause of the question ("the jawbone they found",
    "when it apologised"). "it", "this" and "that" count as objects only after a preposition ("about
    that"), and "this"/"that" only when no noun follows them ("that deal").
    """
    word = tokens[i][2].lower()
    before = tokens[i - 1][2].lower() if i else None
    after = tokens[i + 1][2].lower() if i + 1 < len(tokens) else None
    aux = _aux(tokens)
    subject_slot = i == 0 or (aux is not None and i == aux + 1) or (i == 1 and before in _CONJ | _WH)
    if word in ("his", "their", "hers", "theirs") or (word == "her" and after and after not in _AFTER_PRONOUN):
        return "possessive"
    if word in ("him", "them", "her"):
        return "object"
    if word in ("he", "she", "they"):
        return "subject" if subject_slot else None
    if word in ("this", "that") and not (after is None or after in _AFTER_PRONOUN):
        return None
    if word in ("it", "this", "that"):
        if before in _PREPOSITIONS:
            return "object"
        # "is it true that ...": that "it" announces a clause and names nothing.
        return "subject" if subject_slot and after not in _DUMMY_IT else None
    return None


_DUMMY_IT = word_set("true possible likely clear known expected reported unusual")


def starts_with_preposition(phrase: str) -> bool:
    """Whether a phrase opens with a preposition ("in Ghana")."""
    first = phrase.split(maxsplit=1)[0].lower() if phrase.strip() else ""
    return first in _PREPOSITIONS


def carries_on(question: str) -> bool:
    """Whether a question says it continues the previous one ("what else", "say back", "respond in return")."""
    return bool(_CARRIES_ON.search(question))


def looks_like_agent(phrase: str, names: Sequence[str] = ()) -> bool:
    """Whether a phrase looks like a person, a group or an organisation rather than a topic.

    Args:
        phrase: e.g. "the Kremlin", "scott walker", "his mates from the gliding club", "the budget".
        names: people already named in the conversation (their words count as names).
    """
    tokens = [w for _s, _e, w in words(phrase)]
    if not tokens:
        return False
    low = [t.lower().replace("’", "'") for t in tokens]
    head_at = next((i - 1 for i, w in enumerate(low) if w in _PREPOSITIONS and i > 0), len(low) - 1)
    head = low[head_at].removesuffix("'s")
    known = {w.lower() for n in names for w in n.split() if w.lower() not in _NOT_NAMES}
    if head in known or _singular(head) in _AGENTS or any(p in " ".join(low) for p in _AGENT_PHRASES):
        return True
    if low[0] in _POSSESSIVES:
        return False
    if low[0] in _DETERMINERS:
        return tokens[head_at][:1].isupper() or bool(_DEMONYM_PLURAL.search(head))
    content = low[: head_at + 1]
    if any(w[:1].isdigit() for w in content) or any(_TOPIC_SUFFIX.search(w) for w in content):
        return False
    return any(t[:1].isupper() for t in tokens) or len(content) <= 3


def _singular(word: str) -> str:
    if word in _AGENTS:
        return word
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", "")):
        if word.endswith(suffix) and word[: -len(suffix)] + repl in _AGENTS:
            return word[: -len(suffix)] + repl
    return word


def quoted_speakers(quotes: Sequence[str]) -> tuple[str, ...]:
    """People named as the speakers of quotations, most often quoted first, each in its longest form.

    "..., Kremlin spokesman Dmitry Peskov said" and "Peskov added" both name Dmitry Peskov.
    """
    found: list[str] = []
    for quote in quotes:
        found += [m.group("name") for m in _NAME_BEFORE_VERB.finditer(quote)]
        for m in _AFTER_VERB.finditer(quote):
            runs = re.findall(_NAME, m.group("tail"))
            if runs:
                found.append(runs[-1])
    names = [n for n in (_clean_name(f) for f in found) if n]
    by_surname: dict[str, list[str]] = {}
    for name in names:
        by_surname.setdefault(name.split()[-1].casefold(), []).append(name)
    counts = Counter(name.split()[-1].casefold() for name in names)
    ranked = sorted(by_surname, key=lambda s: -counts[s])  # stable: first quoted first among equals
    return tuple(max(by_surname[s], key=len) for s in ranked)


def _clean_name(name: str) -> str | None:
    """A person's name from a capitalised run, or None when it names nobody.

    Leading function words and titles go ("But Peskov", "Pollster Avi Degani" -> "Avi Degani"), and
    a possessive ("McQueen's") or an initial ("U" of "U.S.") is no speaker.
    """
    parts = name.split()
    while parts and parts[0].casefold().rstrip(".") in _NOT_NAMES:
        parts.pop(0)
    while parts and parts[-1].casefold().rstrip(".") in _NOT_NAMES:
        parts.pop()
    titles = [i for i, p in enumerate(parts[:-1]) if _singular(p.casefold()) in _AGENTS]
    parts = parts[titles[-1] + 1 :] if titles else parts
    cleaned = " ".join(parts).rstrip(".")
    if len(cleaned) < 3 or cleaned.endswith(("'s", "’s", "'", "’")) or (cleaned.isupper() and len(cleaned) <= 3):
        return None
    return cleaned

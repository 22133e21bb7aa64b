"""Who a question asks about, and how well an attribution's speaker fits that.

"What did the head of the Alzheimer's Society say about dementia?" names its speaker by role; the
article says "Jeremy Hughes, chief executive of the Alzheimer's Society, said". ``question_speaker``
finds the speaker phrase and the topic in the question, and ``speaker_match`` scores an attribution
against the phrase by name (full name, surname, first name) and by role (synonym groups from
``index/roles.py``: head ~ chief executive, manager ~ boss ~ coach) plus the organisation the role
is of ("Chelsea's manager" ~ "Chelsea manager").
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from index.attribution import Attribution
from index.roles import ROLE_NOUNS, SYNONYMS, is_title, role_words, same_role, word_set

_SPEECH = (
    r"say|said|says|tell|told|think|thinks|thought|feel|feels|felt|respond|responded|react|reacted|reply|replied|"
    r"claim|claimed|warn|warned|announce|announced|explain|explained|describe|described|comment|commented|"
    r"predict|predicted|promise|promised|suggest|suggested|argue|argued|admit|admitted|deny|denied|add|added|"
    r"write|wrote|tweet|tweeted|believe|believes|reveal|revealed|insist|insisted|stress|stressed|note|noted|"
    r"mean|meant|call|called|want|wanted|make|made|state|stated|confirm|confirmed|blame|blamed|criticize|"
    r"criticise|criticized|criticised|praise|praised|urge|urged|ask|asked|acknowledge|acknowledged|"
    r"reckon|reckons|apologi[sz]e|apologi[sz]ed|agree|agreed|defend|defended|justify|justified|answer|answered|"
    r"hit\s+back|talk\s+up|sum\s+up|complain|complained|moan|moaned|rule\s+out|ruled\s+out"
)
#: "What's X saying about Y": the progressive forms people type.
_SAYING = (
    r"saying|telling|warning|claiming|arguing|hyping|promising|predicting|suggesting|reckoning|thinking|feeling|"
    r"complaining|moaning|blaming|pushing\s+for|asking|taking|reacting|making\s+of|"
    r"admitting|denying|insisting|explaining|slamming|calling|pitching|defending|spinning|justifying"
)
#: "Is X worried about Y", "how confident is X that Y": a stance, which the news gives as a quote.
_STANCE = (
    r"mad|angry|upset|worried|concerned|happy|unhappy|pleased|confident|optimistic|pessimistic|annoyed|furious|"
    r"disappointed|critical|sceptical|skeptical|keen|excited|fuming|gutted|hopeful|nervous|scared|afraid|sorry|"
    r"proud|relieved|frustrated|bothered|surprised|shocked|embarrassed"
)
_AUX = r"did|does|do|has|have|had|is|was|were|are|will|would|could|can|should|might"
_ASKING = r"(?:what|how|why|when|where|whom?)"
#: "whats", "how's", "why's": a question word and its auxiliary in one.
_ASKING_AUX = rf"(?:{_ASKING}(?:\s+(?:else|exactly|really|then))?\s+(?:{_AUX})|(?:what|how|why|where)['’]?s)"
_TOPIC_LINK = (
    r"(?:(?:in\s+)?(?:response|reaction)\s+to|with\s+regard\s+to|regarding|concerning|about|on|of|to|over|"
    r"after|when|that|for|with|at)"
)
_NOUNS = (
    r"reaction|response|view|views|opinion|opinions|position|stance|comment|comments|take|message|explanation|"
    r"assessment|verdict|answer|argument|arguments|warning|claim|claims|statement|statements|thoughts|feelings|"
    r"remarks|words|advice|prediction|criticism|defence|defense|account|version|plan|promise|quote|line|beef|"
    r"problem|case|reasoning|excuse|point|side|issue|complaint|reason|pitch|plea|dig|comeback|gripe"
)
_END = r"\s*[?!.]*$"
_PATTERNS = (
    # What did X say about Y / How did X respond to Y / What does X think of Y / Did X say that Y / whats X said
    re.compile(
        rf"^(?:{_ASKING_AUX}|{_AUX})\s+(?P<who>[^?!;]+?)"
        rf"\s+(?:have\s+to\s+say|{_SPEECH})\b"
        rf"(?:\s+(?P<object>(?!{_TOPIC_LINK}\b)[^?]{{1,80}}?))??(?:\s+{_TOPIC_LINK}\b\s*(?P<topic>.*?))?{_END}",
        re.I,
    ),
    # (Tell me) what X said about Y
    re.compile(
        rf"^what\s+(?P<who>(?!(?:{_AUX})\b)[^?,]+?)\s+(?:said|says|thinks|thought|told|meant|wrote|tweeted)\b"
        rf"(?:\s+{_TOPIC_LINK}\b\s*(?P<topic>.*?))?{_END}",
        re.I,
    ),
    # How did X take Y / how is X coping with Y
    re.compile(
        rf"^how(?:['’]?s|\s+(?:{_AUX}))\s+(?P<who>[^?!;]+?)\s+(?:take|took|find|found|handle|handled|cope|coped|deal|dealt)"
        rf"(?:\s+with)?\b\s*(?P<topic>.*?){_END}",
        re.I,
    ),
    # What's X saying about Y / how are X taking Y / why's X moaning about Y
    re.compile(
        rf"^(?:what|how|why)(?:['’]?s|\s+(?:is|are|was|were|has|have))\s+(?P<who>[^?!;]+?)\s+(?:been\s+)?(?:{_SAYING})\b"
        rf"(?:\s+(?:people|us|everyone|fans|reporters|investors|voters|parents))?"
        rf"(?:\s+(?:about|on|of|over|to|for|regarding|with|at)\b)?\s*(?P<topic>.*?){_END}",
        re.I,
    ),
    # Is X worried about Y / why is X so mad about Y / how confident is X about Y
    re.compile(
        rf"^(?:(?:why|how)\s+)?(?:is|was|are|were|['’]s|s)\s+(?P<who>[^?!;]+?)\s+(?:so\s+|still\s+|really\s+|not\s+)?"
        rf"(?:{_STANCE})\b(?:\s+(?:about|with|over|at|on|of|by|that|for)\b\s*(?P<topic>.*?))?{_END}",
        re.I,
    ),
    re.compile(
        rf"^how\s+(?:{_STANCE})\s+(?:is|was|are|were)\s+(?P<who>[^?!;]+?)\s+(?:about|with|over|that|of|on|for)\b"
        rf"\s*(?P<topic>.*?){_END}",
        re.I,
    ),
    # What was X's reaction to Y / X's take on Y?
    re.compile(
        rf"^(?:what|how)(?:['’]?s|\s+(?:is|was|are|were|has\s+been))\s+(?P<who>[^?!;]+?)(?:['’]s|(?<=s)['’])\s+(?:{_NOUNS})\b"
        rf"(?:\s+{_TOPIC_LINK}\b\s*(?P<topic>.*?))?{_END}",
        re.I,
    ),
    re.compile(
        rf"^(?!{_ASKING}\b|who\b|which\b)(?P<who>[^?,]+?)(?:['’]s|(?<=s)['’])\s+(?:{_NOUNS})\b(?:\s+{_TOPIC_LINK}\b\s*(?P<topic>.*?))?{_END}",
        re.I,
    ),
    # X say anything about Y? (no auxiliary: "rosberg say anything about hamilton")
    re.compile(
        rf"^(?P<who>[^?,]+?)\s+(?:say|said)\s+(?:anything|something)\b(?:\s+{_TOPIC_LINK}\b\s*(?P<topic>.*?))?{_END}",
        re.I,
    ),
    # What was said by X about Y
    re.compile(
        rf"\b(?:said|stated|claimed|announced)\s+by\s+(?P<who>[^?!;]+?)(?:\s+{_TOPIC_LINK}\b\s*(?P<topic>.*?))?{_END}",
        re.I,
    ),
    # According to X, what ... / What ..., according to X?
    re.compile(r"^according\s+to\s+(?P<who>[^,?]+?)\s*,\s*(?P<topic>.*?)\s*\??$", re.I),
    re.compile(r"^(?P<topic>.+?),?\s+according\s+to\s+(?P<who>[^,?]+?)\s*\??$", re.I),
    # X on Y? ("mauresmo on the coaching job"): at most three words before "on", no question word or auxiliary
    re.compile(
        rf"^(?P<who>(?!(?:{_ASKING}|{_AUX}|who|which)\b)[\w'’.\-]+(?:\s+[\w'’.\-]+){{0,2}})\s+on\s+(?P<topic>.+?){_END}",
        re.I,
    ),
)
#: Roles that speak for their organisation: "a Five spokesman" answers "what did Five say".
_SPEAKS_FOR = word_set(
    """
    spokesman spokeswoman spokesperson spokesmen spokeswomen representative statement chief executive ceo head
    president chairman chairwoman director boss owner founder
    """
)
#: Speakers attribution leaves as a common noun ("the company said"): whoever the article is about.
_INSTITUTIONS = word_set(
    """
    company firm group club corporation organisation organization agency ministry department government party
    council union bank network channel broadcaster retailer airline charity body board federation association
    league institute studio website site team maker giant
    """
)
_FUNCTION_WORDS = word_set("the a an of for at in on from with and to by")
_NO_SPEAKER = word_set(
    """
    he she they it you we i people anyone someone everyone this that there news update updates thoughts info
    anything more latest story details any views opinions take reaction everybody somebody u ya
    """
)
#: Chatter before the question itself ("hey", "wait", "anyone know").
_LEAD = re.compile(
    r"^(?:(?:and|so|but|also|then|hey|hi|yo|ok|okay|oh|wait|lol|lmao|hmm+|um+|btw|guys|quick\s+q(?:uestion)?|"
    r"(?:does\s+)?any\s*one\s+know|do\s+(?:you|u)\s+know|random\s+q(?:uestion)?|please|pls|"
    r"(?:can|could)\s+(?:you|u)\s+(?:please\s+)?tell\s+me|tell\s+me|i\s+wonder|i['’]?m\s+wondering)[,:!]?\s+)+",
    re.I,
)
#: Where a later clause may hold the question ("is bmw doing hybrids? what did panke say").
_CLAUSE = re.compile(r"(?<=[?!.;,])\s+")
#: Words that end a speaker phrase rather than name anyone ("did Rice ever apologise").
_TRAILING = re.compile(
    r"(?:\s+(?:ever|actually|really|just|even|finally|also|still|already|publicly|first|now))+$", re.I
)
_MAX_SPEAKER_WORDS = 12
_QUESTION_WORDS = re.compile(
    r"^(?:what|which|who|whom|how|why|when|where)\b\s*(?:did|does|do|is|was|were|are)?\s*", re.I
)


@dataclass(frozen=True, slots=True)
class SpeakerQuestion:
    """The speaker a question asks about, as worded, and what it asks them about."""

    speaker: str
    topic: str


def question_speaker(question: str) -> SpeakerQuestion | None:
    """Find the speaker phrase and the topic of a "what did X say about Y"-style question.

    The whole question is tried first, then each clause after a punctuation mark, so chatter
    around the question ("is bmw doing hybrids? what did panke say") does not hide it.

    Returns:
        ``None`` when the question does not ask what somebody said, thought or how they reacted.
    """
    text = re.sub(r"\s+", " ", question or "").strip()[:1000]
    for clause in [text, *(text[m.end() :] for m in _CLAUSE.finditer(text))]:
        if found := _match(_LEAD.sub("", clause)):
            return found
    return None


def _match(text: str) -> SpeakerQuestion | None:
    for pattern in _PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        who = _TRAILING.sub("", match.group("who").strip(" ,"))
        if not who or who.casefold() in _NO_SPEAKER or len(who.split()) > _MAX_SPEAKER_WORDS:
            continue
        topic = (match.groupdict().get("topic") or "").strip(" ?,.!")
        topic = _QUESTION_WORDS.sub("", topic) if "according" in pattern.pattern else topic
        return SpeakerQuestion(speaker=who, topic=topic)
    return None


_WORDS = re.compile(r"[\w'’-]+")
_POSSESSIVE = re.compile(r"['’]s?\b")
_NAME_WORD = re.compile(r"[A-Z][\w'’\-]*\.?")


def _name_words(phrase: str) -> list[str]:
    """Capitalised words of a phrase that are neither titles nor roles: the name part."""
    words = [_POSSESSIVE.sub("", w).rstrip(".").casefold() for w in _NAME_WORD.findall(phrase)]
    return [w for w in words if w and not is_title(w) and w not in ROLE_NOUNS and w not in {"the", "a", "an"}]


def _asked_name_words(phrase: str) -> list[str]:
    """The name part of the speaker a question asks about.

    People type questions in lower case ("what did blair say"): a phrase with no capital letter
    has every word that is not a title, a role or a function word taken as a possible name word.
    """
    if phrase != phrase.casefold():
        return _name_words(phrase)
    words = [_POSSESSIVE.sub("", w).rstrip(".") for w in _WORDS.findall(phrase)]
    return [w for w in words if w and not is_title(w) and w not in ROLE_NOUNS and w not in _FUNCTION_WORDS]


def _is_role(word: str) -> bool:
    return word in ROLE_NOUNS or word in SYNONYMS


def _split(phrase: str) -> tuple[set[str], set[str]]:
    """(role words, organisation words) of a role phrase."""
    words = role_words(phrase)
    return {w for w in words if _is_role(w)}, {w.rstrip("s") for w in words if not _is_role(w)}


def _role_score(asked: str, roles: list[str]) -> float:
    asked_roles, asked_orgs = _split(asked)
    if not asked_roles:  # an organisation: "what did Kraft say" is answered by its spokesman or its head
        best = 0.0
        for role in roles:
            have_roles, have_orgs = _split(role)
            if asked_orgs and len(asked_orgs & have_orgs) / len(asked_orgs) >= 0.5:
                best = max(best, 0.75 if have_roles & _SPEAKS_FOR else 0.3)  # "an Obama aide" is not Obama
        return best
    best = 0.0
    for role in roles:
        have_roles, have_orgs = _split(role)
        role_ok = any(same_role(a, h) for a in asked_roles for h in have_roles)
        org_share = len(asked_orgs & have_orgs) / len(asked_orgs) if asked_orgs else 1.0
        if role_ok and asked_orgs and org_share >= 0.5:
            best = max(best, 0.9)
        elif role_ok and not asked_orgs:
            best = max(best, 0.7)
        elif role_ok and not have_orgs:
            best = max(best, 0.6)  # "the Kremlin spokesman" against a role that names no organisation
        elif role_ok:
            best = max(best, 0.2)
        elif asked_orgs and org_share >= 0.5:
            best = max(best, 0.3)
    return best


def article_words(title: str, text: str) -> frozenset[str]:
    """An article's casefolded words, for ``institution_match``."""
    return frozenset(_WORDS.findall(f"{title}\n{text}".casefold()))


def institution_match(question_speaker: str, attribution: Attribution, words: AbstractSet[str]) -> float:
    """0.6 when a quote is given to "the company"-style speaker and the article names the asked one.

    Attribution leaves "the company said" unresolved; "what did Lycos say" in an article that
    names Lycos most likely means it. ``words`` are the article's (``article_words``).
    """
    speaker = _norm(attribution.speaker).split()
    asked = _norm(question_speaker).split()
    if len(speaker) != 1 or speaker[0] not in _INSTITUTIONS or not asked or _split(question_speaker)[0]:
        return 0.0
    return 0.6 if all(w in words for w in asked) else 0.0


def _norm(text: str) -> str:
    text = _POSSESSIVE.sub("", text.casefold())
    text = re.sub(r"[^\w\s\-]", " ", text)
    return re.sub(r"^(?:the|a|an)\s+", "", re.sub(r"\s+", " ", text).strip())


def speaker_match(question_speaker: str, attribution: Attribution) -> float:
    """How well an attribution's speaker fits the speaker phrase of a question, in [0, 1].

    1 for the same name; 0.95 for the surname or full name within a longer name ("Obama",
    "President Obama" for "Barack Obama"); 0.6 for a first name alone; 0.9 for a synonymous role
    of the same organisation ("the head of the Alzheimer's Society" for "chief executive of the
    Alzheimer's Society"), 0.7 for the role alone ("the prime minister"); partial credit for an
    organisation or description that shares words; 0 otherwise.
    """
    asked = _norm(question_speaker)
    speaker = _norm(attribution.speaker)
    if not asked or not speaker:
        return 0.0
    if asked == speaker:
        return 1.0
    best = 0.0
    asked_name = _asked_name_words(question_speaker)
    speaker_words = speaker.split()
    if asked_name and _name_words(attribution.speaker):
        if all(w in speaker_words for w in asked_name):
            best = 0.95 if asked_name[-1] == speaker_words[-1] or len(asked_name) >= 2 else 0.6
        elif asked_name[-1] == speaker_words[-1]:
            other_person = len(asked_name) >= 2 and len(speaker_words) >= 2 and asked_name[0] != speaker_words[0]
            best = 0.3 if other_person else 0.9  # "Michelle Obama" is not "Barack Obama"
    roles = [*attribution.roles, attribution.speaker]
    best = max(best, _role_score(question_speaker, roles))
    if best == 0.0:
        asked_set, speaker_set = set(asked.split()), set(speaker_words)
        shared = asked_set & speaker_set
        if shared and not _name_words(question_speaker):
            best = 0.8 * len(shared) / len(asked_set | speaker_set)
    return min(1.0, best)


def quote_match(question_speaker: str, attribution: Attribution, words: AbstractSet[str]) -> float:
    """How well a quote fits the asked speaker in its article: by name or role, or as "the company" named there."""
    return max(speaker_match(question_speaker, attribution), institution_match(question_speaker, attribution, words))

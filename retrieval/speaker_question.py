"""Who a question asks a quote of: "what did X say about Y", however a Discord user types it.

``question_speaker`` finds the speaker phrase and the topic ("What did Peskov say about the
strikes?", "whats khatami's take on oil money", "is li keqiang worried about the economy", "hey what
did greenspan say"); ``index.speakers`` then scores the article's attributions against the phrase.
Regular expressions only: this runs on every question. ``retrieval.question.analyse`` and the
reader's features both read the speaker from here, so they never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.roles import word_set

_SPEECH = (
    r"say|said|says|tell|told|think|thinks|thought|feel|feels|felt|respond|responded|react|reacted|reply|replied|"
    r"claim|claimed|warn|warned|announce|announced|explain|explained|describe|described|comment|commented|"
    r"predict|predicted|promise|promised|suggest|suggested|argue|argued|admit|admitted|deny|denied|add|added|"
    r"write|wrote|tweet|tweeted|believe|believes|reveal|revealed|insist|insisted|stress|stressed|note|noted|"
    r"mean|meant|call|called|want|wanted|make|made|stated|confirm|confirmed|blame|blamed|criticize|"
    r"criticise|criticized|criticised|praise|praised|urge|urged|ask|asked|acknowledge|acknowledged|"
    r"reckon|reckons|apologi[sz]e|apologi[sz]ed|agree|agreed|defend|defended|justify|justified|answer|answered|"
    r"hit\s+back|talk\s+up|sum\s+up|complain|complained|moan|moaned|rule\s+out|ruled\s+out|"
    r"(?:brush|brushed|laugh|laughed|shrug|shrugged)\s+off|(?:play|played)\s+down|(?:fire|fired)\s+back|"
    r"post|posted|scribble|scribbled"
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
    r"problem|case|reasoning|excuse|point|side|issue|complaint|reason|pitch|plea|dig|comeback|gripe|read|spin|"
    r"angle|thinking|outlook|forecast|reply|retort|apology"
)
_END = r"\s*[?!.]*$"
#: A question word or auxiliary, "whats"/"hows" included: never the first word of a speaker phrase.
_NOT_A_NAME = rf"(?:(?:{_ASKING}|who|which)(?:['’]?s)?|{_AUX})\b"
#: "What's X called": a name asked for, not a quote.
_NAMING = re.compile(r"\bcalled\s*[?!.]*$", re.I)
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
        rf"^how\s+(?:{_STANCE})\s+(?:is|was|are|were)\s+(?P<who>[^?!;]+?)\s+(?:about|with|over|that|of|on|for|before|after)\b"
        rf"\s*(?P<topic>.*?){_END}",
        re.I,
    ),
    # What was X's reaction to Y / X's take on Y?
    re.compile(
        rf"^(?:what|how)(?:['’]?s|\s+(?:is|was|are|were|has\s+been))\s+(?P<who>[^?!;]+?)(?:['’]s|(?<=s)['’]|(?<=\w\w\w)(?<!\bthi)s)\s+(?:{_NOUNS})\b"
        rf"(?:\s+{_TOPIC_LINK}\b\s*(?P<topic>.*?))?{_END}",
        re.I,
    ),
    re.compile(
        rf"^(?!{_NOT_A_NAME})(?P<who>[^?,]+?)(?:['’]s|(?<=s)['’])\s+(?:{_NOUNS})\b(?:\s+{_TOPIC_LINK}\b\s*(?P<topic>.*?))?{_END}",
        re.I,
    ),
    # Where does X stand on Y / any word from X on Y
    re.compile(rf"^where\s+(?:does|do|did|is|are)\s+(?P<who>[^?!;]+?)\s+stand\s+on\b\s*(?P<topic>.*?){_END}", re.I),
    re.compile(
        rf"^any\s+(?:update|updates|word|comment|comments|response|reaction|news)\s+from\s+(?P<who>[^?!;]+?)"
        rf"(?:\s+(?:on|about|regarding|over)\b\s*(?P<topic>.*?))?{_END}",
        re.I,
    ),
    # X worried about Y (or what)? / X happy with Y? (no auxiliary; a few words before the stance)
    re.compile(
        rf"^(?P<who>(?!{_NOT_A_NAME}|(?:any|anyone|people|everyone|nobody)\b)[\w'’.\-&]+(?:\s+[\w'’.\-&]+){{0,3}})"
        rf"\s+(?:so\s+|still\s+|really\s+|not\s+)?(?:{_STANCE})\s+(?:about|with|over|by|that|at)\b\s*(?P<topic>.*?)"
        rf"(?:,?\s+or\s+(?:what|nah|not))?{_END}",
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
        rf"^(?P<who>(?!{_NOT_A_NAME})[\w'’.\-]+(?:\s+[\w'’.\-]+){{0,2}})\s+on\s+(?P<topic>.+?){_END}",
        re.I,
    ),
)
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
    if _NAMING.search(text):
        return None
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

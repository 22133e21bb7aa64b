"""How well an attribution's speaker fits the speaker a question asks about.

"What did the head of the Alzheimer's Society say about dementia?" names its speaker by role; the
article says "Jeremy Hughes, chief executive of the Alzheimer's Society, said".
``retrieval.speaker_question`` finds the speaker phrase in the question; ``speaker_match`` scores an attribution
against the phrase by name (full name, surname, first name) and by role (synonym groups from
``index/roles.py``: head ~ chief executive, manager ~ boss ~ coach) plus the organisation the role
is of ("Chelsea's manager" ~ "Chelsea manager").
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet

from index.attribution import Attribution
from index.roles import ROLE_NOUNS, SYNONYMS, is_title, role_words, same_role, word_set

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


def _same_first(asked: list[str], speaker: list[str]) -> bool:
    """Whether two first names agree, an initial agreeing with any name it starts ("m" and "martyn")."""
    a, b = asked[0], speaker[0]
    return a == b or (min(len(a), len(b)) == 1 and a[0] == b[0])


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
            two_names = len(asked_name) == 2 and len(speaker_words) >= 2
            other_person = two_names and not _same_first(asked_name, speaker_words)
            best = 0.3 if other_person else 0.9  # "Michelle Obama" is not "Barack Obama"; "M Williams" is Martyn
        elif len(speaker_words) == 1 and speaker_words[0] in asked_name:
            best = 0.6  # "Wang" for "Wang Wenlan", "Anil" for "Anil Ambani": one name the article uses alone
        elif len(speaker_words) >= 2 and len(speaker_words[-1]) > 2 and speaker_words[-1] in asked_name:
            best = 0.8  # "rochus annoyed about the line": the surname, with more words typed after it
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

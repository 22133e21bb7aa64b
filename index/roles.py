"""The vocabulary of who people are in news prose: role nouns, titles, honorifics and their synonyms.

Attribution (``index/attribution.py``) uses it to split "Kremlin spokesman Dmitry Peskov" into a
role and a name and to resolve "the President" to the person the article gave that title; speaker
matching (``index/speakers.py``) uses the synonym groups so that "the head of the Alzheimer's
Society" finds "chief executive of the Alzheimer's Society".
"""

from __future__ import annotations

import re


def word_set(text: str) -> frozenset[str]:
    """The set of whitespace-separated words of ``text``: word lists stay readable in the source."""
    return frozenset(text.split())


# Nouns that name what somebody is or does; a capitalised name right after one of these is a person.
ROLE_NOUNS = word_set(
    """
    spokesman spokeswoman spokesperson spokesmen spokeswomen secretary minister president vice-president premier
    chancellor chairman chairwoman chair chief head leader director manager coach boss executive officer official
    officials governor gov senator sen rep representative congressman congresswoman lawmaker legislator mayor
    ambassador envoy general gen colonel col captain capt lieutenant lt sergeant sgt admiral adm commander cmdr
    major maj commissioner inspector attorney lawyer prosecutor judge justice analyst economist professor prof
    researcher scientist expert editor journalist reporter correspondent columnist writer author founder co-founder
    owner king queen prince princess pope cardinal bishop archbishop priest pastor rabbi imam cleric sheikh player
    striker midfielder defender goalkeeper winger actor actress singer producer star resident member partner adviser
    advisor aide consultant strategist teacher student doctor dr nurse surgeon physician psychologist psychiatrist
    agent detective det sheriff deputy trustee treasurer regulator investigator candidate nominee mp mep politician
    activist campaigner organizer organiser creator designer developer engineer architect historian curator
    principal dean coordinator administrator superintendent host anchor presenter commentator critic victim witness
    survivor mother father son daughter wife husband brother sister friend neighbor neighbour relative uncle aunt
    grandmother grandfather chef ceo cfo coo cto whip counsel solicitor barrister negotiator diplomat mediator
    commander-in-chief secretary-general director-general president-elect chairman-elect pilot officer soldier
    sergeant-major marshal trooper ranger warden firefighter paramedic veteran entrepreneur businessman
    businesswoman banker investor trader broker novelist poet artist musician rapper comedian filmmaker photographer
    blogger economist demographer epidemiologist virologist expert observer monitor fan referee umpire athlete
    runner cyclist swimmer golfer boxer driver jockey skipper manager-elect heir heiress specialist technician
    airman seaman petty
    """
)
# Titles that may stand before a name and are not part of it ("Capt. William Diehl", "Mr Nath").
TITLES = word_set(
    """
    mr mrs ms miss mx dr prof sir dame lord lady rev reverend sen rep gov gen lt col capt sgt maj adm cmdr det
    president king queen prince princess pope judge justice chancellor chief officer sheriff mayor secretary
    minister ambassador governor senator representative speaker archbishop bishop cardinal father sister brother
    rabbi imam sheikh ayatollah emir sultan premier general colonel captain lieutenant sergeant admiral commander
    detective inspector superintendent constable professor doctor coach
    """
)
HONORIFIC_GENDER = {"mr": "m", "sir": "m", "lord": "m", "king": "m", "prince": "m", "father": "m", "brother": "m"}
HONORIFIC_GENDER.update({"mrs": "f", "ms": "f", "miss": "f", "dame": "f", "lady": "f", "queen": "f"})
HONORIFIC_GENDER.update({"princess": "f", "sister": "f"})
_GENDERED_ROLES = {
    "m": word_set(
        """
        spokesman chairman congressman businessman father husband son brother boy man king prince
        """
    ),
    "f": word_set(
        """
        spokeswoman chairwoman congresswoman businesswoman mother wife daughter sister girl woman queen princess
        actress heiress grandmother aunt
        """
    ),
}
# Words of the same synonym group name the same kind of role when questions and articles word it differently.
_SYNONYM_GROUPS = (
    "head chief leader boss director president chairman chairwoman chair ceo executive director-general principal",
    "manager boss coach gaffer",
    "spokesman spokeswoman spokesperson spokesmen spokeswomen representative",
    "premier pm prime-minister",
    "president head-of-state",
    "lawyer attorney counsel solicitor barrister",
    "minister secretary",
    "governor gov",
    "senator sen",
    "representative rep congressman congresswoman",
    "general gen",
    "captain capt skipper",
    "lieutenant lt",
    "colonel col",
    "sergeant sgt",
    "commander cmdr",
    "professor prof",
    "doctor dr physician",
    "detective det",
    "reporter journalist correspondent",
    "founder co-founder creator",
    "owner proprietor",
    "analyst expert economist",
    "prosecutor attorney",
)
SYNONYMS: dict[str, frozenset[str]] = {}
for _group in _SYNONYM_GROUPS:
    _words = frozenset(_group.split())
    for _word in _words:
        SYNONYMS[_word] = SYNONYMS.get(_word, frozenset()) | _words
# Two-word roles that read as one ("prime minister", "chief executive").
_COMPOUNDS = {
    "prime minister": "prime-minister",
    "chief executive": "ceo",
    "chief executive officer": "ceo",
    "head of state": "head-of-state",
    "managing director": "director",
    "general manager": "manager",
    "head coach": "coach",
    "press secretary": "spokesman",
    "secretary general": "secretary-general",
    "director general": "director-general",
}
_COMPOUND_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _COMPOUNDS), key=len, reverse=True)) + r")\b")
STOPWORDS = word_set(
    """
    the a an of for at in on with and to from by its his her their our 's s
    """
)  # words that are neither role nor organisation
_WORD = re.compile(r"[a-z0-9][a-z0-9\-]*")


def role_words(phrase: str) -> list[str]:
    """Lower-case words of a role phrase, compounds joined ("chief executive" -> "ceo"), possessives dropped."""
    text = phrase.casefold().replace("'s", " ").replace("’s", " ").replace(".", " ")
    text = _COMPOUND_RE.sub(lambda m: _COMPOUNDS[m.group(1)], text)
    return [w for w in _WORD.findall(text) if w not in STOPWORDS]


def is_role_word(word: str) -> bool:
    """Whether ``word`` (any case, with or without a trailing dot) names a role."""
    return word.casefold().rstrip(".") in ROLE_NOUNS


def is_title(word: str) -> bool:
    """Whether ``word`` is a title or honorific that stands before a name."""
    return word.casefold().rstrip(".") in TITLES


def gender_of(words: list[str]) -> str | None:
    """``m`` or ``f`` when an honorific or a gendered role among ``words`` says so, else ``None``."""
    for word in words:
        key = word.casefold().rstrip(".")
        if key in HONORIFIC_GENDER:
            return HONORIFIC_GENDER[key]
        for gender, roles in _GENDERED_ROLES.items():
            if key in roles:
                return gender
    return None


def same_role(a: str, b: str) -> bool:
    """Whether two role words are synonyms (or equal)."""
    return a == b or b in SYNONYMS.get(a, frozenset())

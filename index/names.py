"""The people (and bodies) an article names, with the roles it gives them, in order of mention.

A pre-pass over the cleaned text finds runs of capitalised words, splits a leading title or role
off the name ("Kremlin spokesman Dmitry Peskov", "Aden Gov. AbdulAziz Hobtour"), reads appositives
("Jeremy Hughes, chief executive of the Alzheimer's Society,"; "Dale Barlow, 50,") and merges
surname-only mentions into the full name mentioned elsewhere. Attribution resolves speakers and
pronouns against this registry.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from index.roles import gender_of, is_role_word, is_title, word_set

_PARTICLE = r"(?:al|el|bin|ibn|abu|de|da|van|von|der|du|la|le|di|del|dos|bint)"
_NAME_PART = (
    rf"(?:(?:[A-Z]\.){{2,}}|\d+(?:st|nd|rd|th)(?= [A-Z])|[A-Z][\w'’]*(?:-[A-Za-z][\w'’]*)*\.?|{_PARTICLE}-[A-Z][\w'’]*)"
)
CAP_RUN = re.compile(rf"{_NAME_PART}(?:[ ](?:{_PARTICLE}[ ])?{_NAME_PART})*")
_INITIAL_OR_ABBREVIATION = re.compile(r"^(?:[A-Z]\.?|(?:[A-Za-z]\.){2,}[A-Za-z]?\.?|(?:St|Mt|Ft|Jr|Sr|No)\.)$")
# Capitalised words that are not names: sentence openers, calendar words, and words of bodies and places.
_NOT_NAME = word_set(
    """
    the a an in on at of for to by with from and but or as if when while after before since though although this
    that these those there here it its he she they we i you his her their our my your what who why how where which
    however meanwhile still also yet then so now today yesterday tomorrow last next earlier later monday tuesday
    wednesday thursday friday saturday sunday january february march april may june july august september october
    november december jan feb mar apr jun jul aug sep sept oct nov dec christmas easter according under over about
    many some one two three four five six seven eight nine ten both all each every no not more most other another
    such watch read see click
    """
)
ORG_WORDS = word_set(
    """
    department ministry office agency administration commission committee council court party university college
    school institute institution center centre hospital company corporation corp inc ltd group bank association
    society federation union league club team army navy force forces guard corps command police service services
    board authority bureau foundation fund trust organization organisation network news times post journal tribune
    gazette herald magazine radio tv television studios studio airlines airline airways parliament senate congress
    assembly government cabinet house church mosque temple museum castle city county state states kingdom republic
    province region district island islands river mountain ocean sea street road avenue square hall airport station
    stadium park bay coast valley lake championship championships cup games festival awards prize conference summit
    exchange index market markets reserve treasury pentagon kremlin security intelligence division unit prison jail
    brigade battalion regiment fleet financial holdings partners capital ventures media entertainment pictures
    records motors energy oil gas systems technologies software labs laboratory laboratories program programme
    project initiative campaign movement front alliance coalition nations people's democratic liberal conservative
    labour labor republican democrat democrats republicans international national federal
    open classic prix masters olympics olympic paralympics trophy marathon tour series derby invitational
    """
)
MAX_MENTIONS = 5_000  # no article names people this often; the cap bounds the cost on hostile input
_PRONOUN_GENDER = {"he": "m", "him": "m", "his": "m", "she": "f", "her": "f"}


@dataclass
class Entity:
    """A named speaker candidate: the fullest name seen, its roles, and hints about it."""

    name: str
    roles: list[str] = field(default_factory=list)
    gender: str | None = None
    org: bool = False

    def add_role(self, role: str) -> None:
        """Remember a role once, in the article's words."""
        role = role.strip(" ,")
        if role and role.casefold() not in {r.casefold() for r in self.roles} and len(self.roles) < 6:
            self.roles.append(role)
            self.gender = self.gender or gender_of(role.split())


@dataclass(frozen=True, slots=True)
class Mention:
    """One place where an entity is named."""

    start: int
    end: int
    key: str


def looks_abbreviated(word: str) -> bool:
    """Whether a word's final dot belongs to it ("U.S.", "Capt.", "S.") rather than ending a sentence."""
    return bool(_INITIAL_OR_ABBREVIATION.match(word)) or is_title(word)


def _strip_dot(word: str) -> str:
    return word if _INITIAL_OR_ABBREVIATION.match(word) or is_title(word) else word.rstrip(".")


def split_title(words: list[str]) -> tuple[list[str], list[str]]:
    """Split a capitalised run into (title or role words, name words): "State Department Spokesman Jeff Rathke"."""
    last = -1
    for i, word in enumerate(words[:-1] if words else words):
        if is_title(word) or is_role_word(word) or word.endswith(("'s", "’s")):
            last = i  # "CNN's Jim Boulden": an owner is not part of the name
        elif _ORDINAL.match(word) and i + 1 < len(words) - 1:
            last = i + 1  # "Specialist 3rd Class David Frederick"
    if words and (is_title(words[-1]) or is_role_word(words[-1])):
        last = len(words) - 1
    return words[: last + 1], words[last + 1 :]


def is_org_name(words: list[str]) -> bool:
    """Whether a name reads as a body rather than a person ("Treasury Department", "NASA")."""
    if any(w.casefold().rstrip(".") in ORG_WORDS for w in words):
        return True
    return len(words) == 1 and words[0].isupper() and len(words[0]) > 1


def is_person_like(words: list[str]) -> bool:
    """Whether a title-less capitalised run could be a person's name."""
    if not words or len(words) > 5 or is_org_name(words):
        return False
    if any(len(w.rstrip(".")) > 1 and w.split("-")[0].isupper() for w in words):
        return False  # "WRAZ-TV Fox": call signs and acronyms are not people
    return all(w.casefold().rstrip(".") not in _NOT_NAME for w in words)


_ROLE_MODIFIERS = word_set(
    """
    former shadow deputy acting interim assistant senior chief then top foreign prime vice general managing
    executive state defense defence home finance junior associate principal lead head press
    """
)
_STOP_LEFT = word_set(
    """
    the a an and or but of in on at by for to with from as is was are were be been has have had who which that said
    says told when after before while his her their its our
    """
)
_COPULA = re.compile(
    r"\s+(?:is|was|has been|had been|became|becomes)\s+(?:the|a|an)\s+(?P<role>[^,.;:\"()]{2,80}?)(?=[,.;:]|$)"
)
_APPOSITIVE = re.compile(
    r",\s+(?:(?:a|an|the)\s+)?(?P<role>[^,.;:\"()]{2,120}?)(?=,|\.(?:\s|$)|;|\s+(?:who|whose|which|where|said|says|told)\b|$)"
)
_ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th)$")
_AGE = re.compile(r"^\d{1,3}$")
_POSSESSIVE = re.compile(r"['’]s?$")


def _left_role(text: str, start: int) -> str:
    """The lower-case role words right before a name ("former NFL player" before "Frank Garcia")."""
    words = text[max(0, start - 80) : start].split()
    taken: list[str] = []
    for word in reversed(words):
        bare = word.strip(",;:\"'()").casefold()
        if word != word.rstrip(',;:"()') or not bare:
            break
        if not taken and not is_role_word(bare):
            break
        if not taken:
            pass
        elif (
            bare in _STOP_LEFT
            or (bare.endswith("ed") and not word[0].isupper())
            or (
                len(taken) >= 2
                and not (word[0].isupper() or bare in _ROLE_MODIFIERS or is_role_word(bare) or bare.endswith("'s"))
            )
        ):
            break
        taken.append(word)
        if len(taken) >= 4:
            break
    return " ".join(reversed(taken))


def _appositive_roles(text: str, end: int, stop: int) -> list[str]:
    """Roles given right after a name.

    An appositive ("Jeremy Hughes, chief executive of ...,"), an age ("Dale Barlow, 50,"), a copula
    ("Peskov is the Kremlin spokesman"), or an age and then a copula.
    """
    roles: list[str] = []
    for pattern in (_APPOSITIVE, _COPULA):
        match = pattern.match(text, end, stop)
        if not match:
            continue
        role = match.group("role").strip()
        words = role.split()
        if _AGE.match(role):
            roles.append(f"{role}-year-old")
            end = match.end() + 1
        elif words and any(is_role_word(_POSSESSIVE.sub("", w)) for w in words[:5]) and len(words) <= 16:
            roles.append(role)
    return roles


def _runs(text: str) -> list[tuple[int, list[str]]]:
    """Capitalised runs, cut where a word ends a sentence ("... Garcia. He said")."""
    runs: list[tuple[int, list[str]]] = []
    for match in CAP_RUN.finditer(text):
        start, words = match.start(), match.group().split(" ")
        current: list[str] = []
        for word in words:
            current.append(word)
            if word.endswith(".") and not _INITIAL_OR_ABBREVIATION.match(word) and not is_title(word):
                runs.append((start, current))
                start += len(" ".join(current)) + 1
                current = []
        if current:
            runs.append((start, current))
    return runs


class Registry:
    """Entities keyed by their fullest name, and every mention of them outside quotations."""

    def __init__(self) -> None:
        self.entities: dict[str, Entity] = {}
        self.mentions: list[Mention] = []
        self._by_last: dict[str, list[str]] = {}

    def add(self, words: list[str], start: int, end: int, *, org: bool | None = None) -> str:
        """Register a name mention and return its entity key (a surname joins the full name it abbreviates)."""
        key = self.canonical(words, start)
        entity = self.entities.get(key)
        if entity is None:
            entity = self.entities[key] = Entity(key, org=is_org_name(words) if org is None else org)
            if len(words) > 1 or not entity.org:
                self._by_last.setdefault(words[-1].casefold(), []).append(key)
        if len(self.mentions) < MAX_MENTIONS:
            bisect.insort(self.mentions, Mention(start, end, key), key=lambda m: m.start)
        return key

    def canonical(self, words: list[str], position: int) -> str:
        """The fullest known name ending with the same words, else the words themselves."""
        name = " ".join(words)
        if len(words) >= 3 or name in self.entities:
            return name
        for key in reversed(self._by_last.get(words[-1].casefold(), [])):
            key_words = key.split()
            if len(key_words) > len(words) and [w.casefold() for w in key_words[-len(words) :]] == [
                w.casefold() for w in words
            ]:
                return key
        return name

    def upgrade_surnames(self) -> dict[str, str]:
        """Merge single-word entities into a later full name with that surname; returns old key -> new key."""
        moved: dict[str, str] = {}
        for key in list(self.entities):
            if " " in key:
                continue
            fuller = [k for k in self._by_last.get(key.casefold(), []) if k != key and " " in k]
            if len(fuller) == 1 or (fuller and len(set(fuller)) == 1):
                target = fuller[0]
                for role in self.entities[key].roles:
                    self.entities[target].add_role(role)
                self.entities[target].gender = self.entities[target].gender or self.entities[key].gender
                del self.entities[key]
                moved[key] = target
        if moved:
            self.mentions = [Mention(m.start, m.end, moved.get(m.key, m.key)) for m in self.mentions]
        return moved

    def mentions_between(self, start: int, end: int) -> list[Mention]:
        """Mentions that start in ``[start, end)``, in text order."""
        lo = bisect.bisect_left(self.mentions, start, key=lambda m: m.start)
        hi = bisect.bisect_left(self.mentions, end, key=lambda m: m.start)
        return self.mentions[lo:hi]


def _known_surname(registry: Registry, name: list[str]) -> bool:
    """Whether a lone capitalised word is the surname of somebody already named ("Garcia" after "Frank Garcia")."""
    return len(name) == 1 and any(key.split()[-1] == name[0] for key in registry.entities)


def collect_names(text: str, inside_quote: list[bool]) -> Registry:
    """Register every name the text gives outside quotations, with the roles around it.

    Args:
        text: cleaned article text.
        inside_quote: per character, whether it lies inside a direct quotation.
    """
    registry = Registry()
    for start, raw in _runs(text):
        if inside_quote[start]:
            continue
        words = [_strip_dot(w) for w in raw]
        while words and words[0].casefold() in _NOT_NAME:
            start += len(words[0]) + 1
            words = words[1:]
        if not words:
            continue
        end = start + len(" ".join(words))
        title, name = split_title(words)
        if name and (owner := _POSSESSIVE.search(name[-1])) and len(name[-1]) > owner.end() - owner.start():
            end -= owner.end() - owner.start()  # "Andre Agassi's involvement": the name is Andre Agassi
            name = [*name[:-1], name[-1][: owner.start()]]
        if not name:
            continue
        name_start = end - len(" ".join(name))
        stop = text.find("\n", end)
        roles = _appositive_roles(text, end, len(text) if stop < 0 else stop)
        left = _left_role(text, start) if not title else ""
        plain = not (title or roles or left)
        if plain and not (len(name) >= 2 and is_person_like(name)) and not _known_surname(registry, name):
            continue
        key = registry.add(name, name_start, end)
        entity = registry.entities[key]
        prefix = " ".join(filter(None, [left, " ".join(title)]))
        for found in (prefix, *roles):
            if found:
                entity.add_role(found)
        entity.gender = entity.gender or gender_of([*title, *left.split()])
        if title or left:
            entity.org = False
    registry.upgrade_surnames()
    return registry


def pronoun_gender(pronoun: str) -> str | None:
    """``m`` for he, ``f`` for she, ``None`` otherwise."""
    return _PRONOUN_GENDER.get(pronoun.casefold())

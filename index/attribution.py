"""The attribution table: who is quoted where in an article, built once at ingest.

For every quotation (direct, in quote marks, and reported, ``X said (that) ...``) the table records
the span of the quoted words in the cleaned text, the sentence it is in, and its speaker resolved to
the fullest name the article gives: through pronouns ("he said"), surnames ("Peskov added") and
definite descriptions ("the President said") to the nearest fitting earlier mention, with the roles
the article attaches to that person ("Kremlin spokesman", "chief executive of the Alzheimer's
Society"). A question about what somebody said can then be matched against speakers instead of
hoping the name sits in the same sentence as the quote.

Heuristics only (regexes and word lists, no model): it runs on every article, in about a millisecond.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Sequence
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter

from index.names import Entity, Registry, collect_names, pronoun_gender, split_title
from index.quotes import quote_spans
from index.roles import ROLE_NOUNS, is_role_word, role_words, same_role, word_set
from index.speech import PRONOUNS, Site, find_sites

VERSION = 2
"""The extractor's version, bumped when its tables change (2: pronouns by salience, possessive names, events).

Stores record the oldest version their tables may have (``Store.attribution_version``);
``newsdesk reindex --attributions`` rebuilds older tables from the stored text, without re-embedding."""
MAX_TEXT_CHARS = 400_000  # longer input is cut: no article is this long, and the cost stays bounded
_DESCRIBED_LOOKBACK = 300  # mentions searched back for the person "the President" stands for
_PRONOUN_WINDOW = 4  # sentences looked back for the person a pronoun stands for
_WINDOW_CHARS = 1_200  # how far within one sentence a quotation's frame or a pronoun's person is looked for
_SITES_PER_SENTENCE = 20  # earlier speech sites of a sentence considered for a pronoun
_SALIENCE = 0.8  # the most a pronoun candidate gains for being named often (five times or more)
_SUBJECT_WORDS = 3  # a name this close to a sentence's start is taken as its subject
_SUBJECT_CHARS = 80  # ... and within this many characters of it
_ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th)$")
_YEAR_OLD = re.compile(r"^\d{1,3}-year-old$")
_COLLECTIVE = word_set(  # singular bodies that news prose calls "they"
    """
    family government police team company club party group council committee board staff crew management union
    campaign army ministry department
    """
)
_PP_WORDS = word_set("from in at of for with by on to")
_DETERMINER = re.compile(r"^(?:the|a|an|his|her|their|its|our|this|that|another)\s+", re.I)


class Attribution(BaseModel):
    """One quotation and who said it.

    ``start``/``end`` index the cleaned article text: for a direct quotation they include the quote
    marks, for reported speech they cover the reported words. ``sentence`` and ``last_sentence``
    are indices into the article's sentence spans.
    """

    model_config = ConfigDict(frozen=True)

    start: int
    end: int
    sentence: int
    last_sentence: int
    speaker: str
    roles: tuple[str, ...] = ()
    cue: str = ""  # how the site names the speaker when that is not the name: "he", "the President"
    kind: Literal["direct", "reported"] = "direct"


_TABLE = TypeAdapter(list[Attribution])


def dumps(attributions: Sequence[Attribution]) -> str:
    """Compact JSON for storage (defaults left out)."""
    return _TABLE.dump_json(list(attributions), exclude_defaults=True).decode()


def loads(data: str | bytes) -> list[Attribution]:
    """The table stored by ``dumps``."""
    return _TABLE.validate_json(data)


def speakers_by_sentence(attributions: Sequence[Attribution]) -> dict[int, tuple[str, ...]]:
    """Sentence index -> the speakers quoted in that sentence, in order of their quotations."""
    out: dict[int, dict[str, None]] = {}
    for item in sorted(attributions, key=lambda a: a.start):
        for index in range(item.sentence, item.last_sentence + 1):
            out.setdefault(index, {})[item.speaker] = None
    return {index: tuple(names) for index, names in sorted(out.items())}


class _Resolver:
    """Turns a site's speaker phrase into a speaker name, using the article's names and earlier sites."""

    def __init__(self, text: str, sentences: Sequence[tuple[int, int]], registry: Registry) -> None:
        self.text = text
        self.sentences = sentences
        self.registry = registry
        self.sites: list[Site] = []
        self.sites_by_sentence: dict[int, list[Site]] = {}

    def done(self, site: Site) -> None:
        """Remember a resolved site: later pronouns may refer to its speaker."""
        self.sites.append(site)
        self.sites_by_sentence.setdefault(site.sentence, []).append(site)

    def resolve(self, site: Site) -> None:
        phrase = self.text[site.np_start : site.np_end].strip()
        words = phrase.split()
        if not words:
            return
        if len(words) == 1 and words[0].casefold() in PRONOUNS:
            self._pronoun(site, words[0].casefold())
            return
        definite = words[0].casefold() in {"the", "this"}
        bare = _DETERMINER.sub("", phrase)
        words = bare.split()
        run = _trailing_capitals(words)
        if run and len(words) > run and words[len(words) - run - 1].casefold() in _PP_WORDS:
            run = 0  # "recent reports from China" is a description, not China
        title, name = split_title(words[len(words) - run :]) if run else ([], [])
        age = next((w for w in words if _YEAR_OLD.match(w)), None)
        if definite and age:
            name = []  # "the 27-year-old Austrian" describes somebody; "Austrian" is not a name
        if name and not (len(name) == 1 and name[0].isupper() and len(words) > run):
            prefix = words[: len(words) - run] + title
            self._name(site, name, prefix)
            return
        if definite and words and (is_role_word(words[-1]) or age):
            entity = self._described(age or words[-1], site.np_start, bare)
            if entity is None and age:
                entity = self._nearest_person(site, None)  # "the 27-year-old Austrian" with no age given earlier
            if entity is not None:
                site.speaker, site.roles = entity.name, tuple(entity.roles)
                return
        site.speaker = bare.rstrip(".,")
        site.org = True
        if site.role:
            site.roles = (site.role,)

    def _name(self, site: Site, name: list[str], prefix: list[str]) -> None:
        key = self.registry.add(name, site.np_end - len(" ".join(name)), site.np_end)
        entity = self.registry.entities[key]
        role = " ".join(prefix)
        if role and any(is_role_word(w) for w in prefix):
            entity.add_role(role)
            entity.org = False
        if site.role:
            entity.add_role(site.role)
            entity.org = False
        site.speaker, site.roles, site.org = entity.name, tuple(entity.roles), entity.org

    def _described(self, head: str, before: int, phrase: str) -> Entity | None:
        """The nearest earlier named entity the article gave this role ("the President" -> Obama)."""
        head = head.casefold()
        wanted = [w for w in role_words(phrase) if w in ROLE_NOUNS] or [head]
        for mention in reversed(self.registry.mentions_between(0, before)[-_DESCRIBED_LOOKBACK:]):
            entity = self.registry.entities.get(mention.key)
            if entity is None or not entity.roles:
                continue
            have = {w for role in entity.roles for w in role_words(role)}
            if head in have or any(same_role(w, h) for w in wanted for h in have):
                return entity
        return None

    def _pronoun(self, site: Site, pronoun: str) -> None:
        if pronoun in {"i", "we"}:
            return
        if pronoun in {"it", "they"}:
            found = self._group(site, plural=pronoun == "they")
            if found is not None:
                site.speaker, site.roles, site.org = found.speaker, found.roles, True
            return
        entity = self._nearest_person(site, pronoun_gender(pronoun))
        if entity is not None:
            site.speaker, site.roles = entity.name, tuple(entity.roles)

    def _nearest_person(self, site: Site, gender: str | None) -> Entity | None:
        """The person a pronoun most likely stands for, by recency and salience.

        The nearest fitting person used to win outright, so "he said" after "against Ivan Ljubicic in
        the final" went to Ljubicic in a story about Federer. Each candidate in the window now scores
        minus its distance in sentences (one more once outside the pronoun's own sentence), plus one for being
        a sentence's subject (named first, not after a preposition), one for having spoken already, and up to
        0.8 for how often the article names them.
        """
        best: Entity | None = None
        best_score = float("-inf")
        for distance, index in enumerate(range(site.sentence, max(-1, site.sentence - _PRONOUN_WINDOW - 1), -1)):
            s_start, s_end = self.sentences[index]
            limit = site.np_start if index == site.sentence else s_end
            for order, (entity, subject, spoke) in enumerate(
                self._candidates(index, max(s_start, limit - _WINDOW_CHARS), limit)
            ):
                if entity.org or (gender is not None and entity.gender not in (None, gender)):
                    continue
                salience = _SALIENCE * min(self._mention_counts.get(entity.name, 0) - 1, 4) / 4
                near = -distance - float(distance > 0)  # the pronoun's own sentence counts twice over
                score = near + float(subject) + float(spoke) + max(salience, 0.0) - 0.01 * order
                if score > best_score:
                    best, best_score = entity, score
        return best

    @cached_property
    def _mention_counts(self) -> Counter[str]:
        return Counter(m.key for m in self.registry.mentions)

    def _is_subject(self, index: int, start: int) -> bool:
        """Whether a mention at ``start`` opens sentence ``index`` (within its first words, not after a preposition)."""
        opens = self.sentences[index][0]
        if start - opens > _SUBJECT_CHARS:
            return False  # also keeps this cheap in a hostile "sentence" of 400,000 characters
        before = self.text[opens:start].split()
        return len(before) <= _SUBJECT_WORDS and not (before and before[-1].casefold().strip(",") in _PP_WORDS)

    def _candidates(self, index: int, start: int, end: int) -> list[tuple[Entity, bool, bool]]:
        """People in a sentence as (entity, is the subject, has spoken): earlier sites' speakers first, then names."""
        out: dict[str, tuple[Entity, bool, bool]] = {}
        for other in self.sites_by_sentence.get(index, [])[-_SITES_PER_SENTENCE:]:
            if start <= other.np_start < end and other.speaker and not other.org:
                entity = self.registry.entities.get(other.speaker)
                if entity is not None:
                    out.setdefault(entity.name, (entity, self._is_subject(index, other.np_start), True))
        for mention in self.registry.mentions_between(start, end):
            entity = self.registry.entities.get(mention.key)
            if entity is not None:
                out.setdefault(entity.name, (entity, self._is_subject(index, mention.start), False))
        return list(out.values())

    def _group(self, site: Site, *, plural: bool) -> Site | None:
        """The body or group an "it"/"they" refers to: the nearest earlier site with such a speaker."""
        fallback = None
        for other in reversed(self.sites):
            if other.sentence < site.sentence - 2:
                break
            if other.np_start >= site.np_start or not other.speaker or not other.org:
                continue
            is_plural = other.speaker.endswith("s") or " and " in other.speaker
            if is_plural == plural:
                return other
            if plural and other.speaker.split()[-1].casefold() in _COLLECTIVE:
                fallback = fallback or other  # "the family ... they said"
        return fallback


def _trailing_capitals(words: list[str]) -> int:
    """How many words at the end of a phrase are capitalised (a name, maybe after a title)."""
    n = 0
    for word in reversed(words):
        particle = word.casefold() in {"al", "bin", "de", "van", "von", "la", "le"} or _ORDINAL.match(word)
        if word[:1].isupper() or (n and particle):
            n += 1
        else:
            break
    return n


def _inside_mask(length: int, spans: Sequence[tuple[int, int]]) -> list[bool]:
    mask = [False] * (length + 1)
    for start, end in spans:
        mask[start:end] = [True] * (end - start)
    return mask


class _Table:
    """Assembles the attributions of one article."""

    def __init__(self, text: str, sentences: Sequence[tuple[int, int]]) -> None:
        self.text = text
        self.sentences = list(sentences)
        self.starts = [s for s, _ in self.sentences]
        self.quotes = quote_spans(text)
        self.inside = _inside_mask(len(text), self.quotes)
        self.registry = collect_names(text, self.inside)
        self.resolver = _Resolver(text, self.sentences, self.registry)
        self.by_sentence: dict[int, list[Site]] = {}
        self.site_starts: list[int] = []

    def sentence_of(self, position: int) -> int:
        return max(0, bisect.bisect_right(self.starts, position) - 1)

    def build(self) -> list[Attribution]:
        sites = find_sites(self.text, self.sentences, self.inside)
        sites.sort(key=lambda site: site.start)
        for site in sites:
            self.by_sentence.setdefault(site.sentence, []).append(site)
        self.site_starts = [site.start for site in sites]
        for site in sorted(sites, key=lambda site: site.verb_start):
            if site.parent is not None:
                parent = site.parent
                site.speaker, site.roles, site.org = parent.speaker, parent.roles, parent.org
            else:
                self.resolver.resolve(site)
            self.resolver.done(site)
        out = [
            self._make(start, end, site, "reported")
            for site in sites
            if site.speaker and (site.content)
            for start, end in [site.content]
        ]
        out.extend(self._direct(sites))
        return self._final(out)

    def _direct(self, sites: list[Site]) -> list[Attribution]:
        out: list[Attribution] = []
        by_opening = {site.opens_quote: site for site in sites if site.opens_quote is not None}
        previous: tuple[int, Site] | None = None  # the last attributed quote's end and its site
        for start, end in self.quotes:
            site = self._after(end, sites) or by_opening.get(start) or self._frame(start, end, sites)
            if site is None and previous is not None and self._continues(previous[0], start):
                site = previous[1]
            if site is None:
                site = self._introduced(start, end)
            if site is None or not site.speaker:
                previous = None
                continue
            out.append(self._make(start, end, site, "direct"))
            previous = (end, site)
        return out

    def _after(self, end: int, sites: list[Site]) -> Site | None:
        """A site right after the closing mark: ``"...," Peskov said`` / ``"...," said Peskov``."""
        if self.text[end - 1] != '"':
            return None
        inner = self.text[max(0, end - 6) : end - 1].rstrip(" '")  # "... for fun,' " closes a nested quote too
        follow = self.text[end : end + 3]
        if not (inner.endswith((",", "?", "!", "-", "—", "–")) or follow.lstrip().startswith(",")):
            return None
        k = bisect.bisect_left(self.site_starts, end)
        while k < len(sites) and sites[k].start <= end + 3:
            site = sites[k]
            if not self.text[end : site.start].strip(" ,"):
                forward = site.content is not None and site.content[0] >= site.verb_end
                return None if forward else site
            k += 1
        return None

    def _frame(self, start: int, end: int, sites: list[Site]) -> Site | None:
        """A quotation inside reported speech: ``X said the results were "respectable"``."""
        index = self.sentence_of(start)
        best = None
        here = self.by_sentence.get(index, [])
        lo = bisect.bisect_left(here, start - _WINDOW_CHARS, key=lambda site: site.start)
        hi = bisect.bisect_right(here, end + _WINDOW_CHARS, key=lambda site: site.start)
        for site in here[lo:hi]:
            if site.verb_end <= start and (site.content is None or site.content[0] <= start):
                best = site
            elif site.content is not None and site.content[0] <= start and end <= site.content[1] + 2:
                best = best or site
        return best

    def _continues(self, previous_end: int, start: int) -> bool:
        """Whether a quotation without attribution goes on with the previous one (next sentence or paragraph)."""
        if not self.text[previous_end:start].strip():
            return True  # right after it: a quotation left open runs into the next one
        index = self.sentence_of(start)
        if self.text[self.sentences[index][0] : start].strip():
            return False
        return index - self.sentence_of(max(0, previous_end - 1)) <= 1

    def _introduced(self, start: int, end: int) -> Site | None:
        """A whole-sentence quotation right after a sentence about a speaker: ``Henman urged X. "Alex is ..."``."""
        index = self.sentence_of(start)
        if index == 0 or self.text[self.sentences[index][0] : start].strip():
            return None
        inner = self.text[start + 1 : end].rstrip()
        closed = inner.endswith('"')
        if len(inner.split()) < 4 or (closed and not inner[:-1].rstrip().endswith((".", "?", "!"))):
            return None  # a title or a phrase, not speech
        people = [site for site in self.by_sentence.get(index - 1, []) if site.speaker and not site.org]
        return people[-1] if people else None

    def _make(self, start: int, end: int, site: Site, kind: Literal["direct", "reported"]) -> Attribution:
        cue = self.text[site.np_start : site.np_end]
        speaker = site.speaker or ""
        return Attribution(
            start=start,
            end=end,
            sentence=self.sentence_of(start),
            last_sentence=self.sentence_of(max(start, end - 1)),
            speaker=speaker,
            roles=site.roles,
            cue="" if cue == speaker else cue,
            kind=kind,
        )

    def _final(self, items: list[Attribution]) -> list[Attribution]:
        roles: dict[str, tuple[str, ...]] = {}
        for key, entity in self.registry.entities.items():
            roles[key] = tuple(entity.roles)
        out = []
        for item in sorted(items, key=lambda a: (a.start, a.end)):
            fuller = roles.get(item.speaker)
            out.append(item.model_copy(update={"roles": fuller}) if fuller and fuller != item.roles else item)
        return out


def extract_attributions(text: str, sentences: Sequence[tuple[int, int]]) -> list[Attribution]:
    """The attribution table of one cleaned article.

    Args:
        text: cleaned article text (``index/clean.py``).
        sentences: its sentence spans (``index/sentences.py``), in order.

    Returns:
        One attribution per quotation whose speaker could be told, in text order. Never raises on
        odd input: empty text, no sentences or unbalanced quote marks give fewer attributions.
    """
    if not text or not sentences:
        return []
    text = text[:MAX_TEXT_CHARS]
    spans = [(max(0, s), min(e, len(text))) for s, e in sentences if s < len(text) and e > s]
    if not spans:
        return []
    return _Table(text, spans).build()


__all__ = ["Attribution", "dumps", "extract_attributions", "loads", "speakers_by_sentence"]

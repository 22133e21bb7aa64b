"""Speech sites: where a sentence says that somebody said something, and what they said.

A site is a speech verb outside quotation marks with its speaker phrase: ``Peskov said``, ``said the
President``, ``Jeremy Hughes, chief executive of the Alzheimer's Society, said``, ``according to
court documents``. When the verb reports speech rather than introducing a direct quotation, the
site also carries the span of the reported words (``X said (that) ...``, ``..., X said.``).
Regex and word lists only: this runs on every article at ingest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.names import looks_abbreviated
from index.roles import is_role_word, word_set

# Verbs whose object is what was said, so "X said the plan failed" reports speech without "that".
_SAY = (
    "said says say added adds add stated explained explains noted stressed stresses warned warns argued argues "
    "insisted insists maintained maintains replied replies responded responds exclaimed complained testified "
    "told tells tell assured informed reminded insist warn argue explain maintain cautioned cautions conceded "
    "concedes commented"
)
# Verbs that often take a plain noun object ("announced the decision", "wrote a book"): speech only
# before a clause (that, a pronoun, or a finite verb soon after).
_NEEDS_CLAUSE = (
    "announced announces confirmed confirms denied denies revealed reveals suggested suggests indicated indicates "
    "hinted hints promised vowed pledged repeated accused accuses accuse urged urges estimated reported suggest "
    "predict reveal deny confirm announce wrote writes tweeted recalled recalls continued concluded cracked "
    "observed countered agreed agrees predicted predicts acknowledged acknowledges admitted admits asked asks ask "
    "declared declares claimed claim stress emphasized emphasised described describes"
)
# Words that are nouns as often as verbs: speech only when "that" follows.
_NEEDS_THAT = "states notes claims reports"
# Verbs besides the "say" class that may follow what was said ("..., the Coast Guard reported.").
_PREPOSABLE = frozenset({"reported", "confirmed", "announced", "wrote", "tweeted", "predicted", "concluded"})
_PARTICIPLES = (
    "saying adding noting warning telling insisting arguing claiming explaining stating declaring stressing "
    "suggesting predicting promising urging describing"
)
VERB_CLASS: dict[str, str] = {}
for _cls, _list in (("say", _SAY), ("clause", _NEEDS_CLAUSE), ("that", _NEEDS_THAT), ("part", _PARTICIPLES)):
    VERB_CLASS.update(dict.fromkeys(_list.split(), _cls))
_TELL = word_set(
    """
    told tells tell telling assured informed reminded warned warns asked asks
    """
)
_INVERTIBLE = word_set(
    """
    said says added asked explained wrote noted continued recalled concluded warned exclaimed replied admitted
    insisted cautioned argued declared stated says
    """
)
VERBS = re.compile(r"\b(?:" + "|".join(sorted(VERB_CLASS, key=len, reverse=True)) + r")\b|\b[Aa]ccording to\b")
_TOKEN = re.compile(r"\d[\d,.]*\d[\w%'’\-]*|\d[\w%'’\-]*|[\w'’\-&]+(?:\.(?=\w))?[\w'’\-&]*\.?|[^\w\s]")
_BOUNDARY_WORDS = word_set(
    """
    that and but or when after before while because as if which who whom whose where since although though so until
    unless whether than once what how why said says told added is was were are be been being has have had by to
    will would can could should may might must do does did
    """
)
_SKIP_BEFORE_VERB = word_set(
    """
    has have had also later then previously long again once recently further would will could did does do only first
    not never
    earlier reportedly initially repeatedly subsequently publicly privately quickly simply flatly even already still
    last this on monday tuesday wednesday thursday friday saturday sunday today yesterday night morning afternoon
    evening week
    """
)
_LY_NOUNS = word_set(
    """
    family assembly supply rally ally monopoly anomaly daily weekly monthly quarterly elderly italy july fly
    """
)
_WINDOW_TOKENS = 80  # how far back a speaker or an appositive is looked for
_WINDOW_CHARS = 1_200  # the longest reported clause read on either side of a speech verb
_DELIMITERS = frozenset({",", "--", "—", "–"})
_SUBORDINATORS = word_set(
    """
    that when after before while because as if which who where since although though until unless whether
    """
)
_AFTER_SPEAKER = word_set("who whose which where after before when as in on at during without adding according")
_PASSIVE = frozenset(["is", "was", "were", "are", "be", "been", "being"])
_DETERMINERS = word_set(
    """
    the a an his her their its our this that these those another one
    """
)
PRONOUNS = frozenset(["he", "she", "they", "it", "i", "we"])
_PREPOSITIONS = word_set(
    """
    of in on at during via through from after before with to about for while as by over under without
    """
)
_CONNECTORS = re.compile(r"^(?:(?:but|and|yet|so|still|however|meanwhile|instead|indeed|also|now|then)\b,?\s*)+", re.I)
_TIME = (
    r"(?:(?:on|late|early|last|this|next|earlier|later)\s+)?"
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|tonight|week|month|year|"
    r"morning|afternoon|evening|night|earlier|later|again|also|then|recently|previously)\b"
)
_ADVERBIAL = re.compile(rf"\s*(?:{_TIME}\s*)+", re.I)
_OBJECT = re.compile(
    r"\s+(?:him|her|them|us|me|you|reporters|journalists|lawmakers|voters|supporters|delegates|investigators|"
    r"police|officials|members|listeners|viewers|readers|students|parliament|MPs|"
    r"(?:the\s+)?(?:conference|crowd|audience|committee|court|jury|paper|newspaper|magazine|station|network|"
    r"agency|summit|meeting|hearing|inquiry|panel|house|senate)|"
    r"(?:the\s+)?[A-Z][\w\-.&']*(?:\s+(?:affiliate\s+|sister\s+network\s+|and\s+|of\s+(?:the\s+)?)?[A-Z][\w\-.&']*)*)"
    r"(?=[\s,.;:]|$)"
)
_OPENS_QUOTE = re.compile(r'[\s,:]*"')
_CLAUSE_START = re.compile(r"^(?:that\b|(?:he|she|they|it|we|i|there|you)\b)", re.I)
_FINITE = re.compile(
    r"^(?:[^\s,;]+\s+){0,11}?(?:would|will|is|are|was|were|has|have|had|could|can|should|may|might|must)\b", re.I
)


@dataclass
class Site:
    """A speech verb with its speaker phrase, and the reported words when there are some."""

    sentence: int
    verb_start: int
    verb_end: int
    np_start: int
    np_end: int
    role: str = ""  # an appositive at the site ("chief executive of the Alzheimer's Society")
    start: int = 0  # where the attribution phrase (speaker and verb) starts and ends
    end: int = 0
    content: tuple[int, int] | None = None
    opens_quote: int | None = None  # the quotation this site introduces ("X said: "...")
    lead: int | None = None  # where the attribution starts when that is before the speaker's name
    parent: Site | None = None  # a participle's ("..., saying ...") site of the main verb
    speaker: str | None = None  # resolved later
    roles: tuple[str, ...] = ()
    org: bool = False


@dataclass(frozen=True, slots=True)
class _Tok:
    start: int
    end: int
    text: str

    @property
    def low(self) -> str:
        return self.text.casefold()


def _tokens(text: str, start: int, end: int) -> list[_Tok]:
    return [_Tok(start + m.start(), start + m.end(), m.group()) for m in _TOKEN.finditer(text[start:end])]


def _is_np_word(tok: _Tok) -> bool:
    if not (tok.text[0].isalnum()):
        return False
    return tok.low not in _BOUNDARY_WORDS


def _demonstrative(toks: list[_Tok], j: int) -> bool:
    """``that`` as a determiner ("his lawyer in that case"), not as a conjunction."""
    return toks[j].low in {"that", "this"} and j > 0 and toks[j - 1].low in _PREPOSITIONS


def _np_left(toks: list[_Tok], i: int) -> int:
    """Index of the first token of the noun phrase that ends at token ``i`` (``i + 1`` when there is none)."""
    j = i
    while j >= 0 and (_is_np_word(toks[j]) or _demonstrative(toks, j)) and i - j < 12:
        sentence_end = toks[j].text.endswith(".") and not looks_abbreviated(toks[j].text)
        if toks[j].low in PRONOUNS or (j < i and sentence_end and toks[j + 1].text[0].isupper()):
            j -= toks[j].low in PRONOUNS
            break
        j -= 1
    first = j + 1
    # "On Tuesday an appeals court": drop a leading prepositional phrase.
    if first <= i and toks[first].low in _PREPOSITIONS:
        det = next((k for k in range(first + 1, i + 1) if toks[k].low in _DETERMINERS), None)
        cap = next((k for k in range(first + 1, i + 1) if toks[k].text[0].isupper()), None)
        if det is None and cap is None:
            return i + 1
        first = det if det is not None else cap  # type: ignore[assignment]
    for k in range(i, first, -1):
        if (
            toks[k].low in {"the", "a", "an"}
            and toks[k - 1].low not in _PREPOSITIONS
            and not toks[k - 1].low.endswith("'s")
        ):
            return k
    return first


def _adverb(tok: _Tok) -> bool:
    """A lower-case -ly word that is not one of the common -ly nouns ("family", "assembly")."""
    return tok.text.islower() and tok.low.endswith("ly") and tok.low not in _LY_NOUNS


def _skip_before_verb(toks: list[_Tok], i: int) -> int:
    while i >= 0 and (toks[i].low in _SKIP_BEFORE_VERB or _adverb(toks[i])):
        i -= 1
    if i >= 2 and [t.low for t in toks[i - 2 : i + 1]] == ["went", "on", "to"]:
        i -= 3
    return i


def _np_right(toks: list[_Tok]) -> int:
    """Number of tokens of the noun phrase that starts ``toks`` (an inverted speaker: "said Mr Nath")."""
    n = 0
    while n < len(toks) and n < 10:
        tok = toks[n]
        if not tok.text[0].isalnum():
            break
        if not (
            tok.text[0].isupper()
            or tok.low in _DETERMINERS
            or is_role_word(tok.low)
            or (n > 0 and tok.low in {"of", "for"})
            or tok.low.endswith("'s")
        ):
            break
        n += 1
        if tok.text.endswith(".") and not looks_abbreviated(tok.text):
            break
    while n and toks[n - 1].low in _DETERMINERS | {"of", "for"}:
        n -= 1
    return n


def _phrase(toks: list[_Tok], a: int, b: int) -> tuple[int, int]:
    """Character span of tokens ``a..b-1`` with a sentence-final dot dropped."""
    end = toks[b - 1].end
    if toks[b - 1].text.endswith(".") and not looks_abbreviated(toks[b - 1].text):
        end -= 1
    return toks[a].start, end


def _unquoted_comma_before(toks: list[_Tok], i: int, mark: str = ",") -> int:
    """Index of the ``mark`` (a comma or a dash) before token ``i`` that is not inside a quotation, or -1."""
    inside = False
    stop = max(-1, i - _WINDOW_TOKENS)
    while i > stop:
        if toks[i].text == '"':
            inside = not inside
        elif toks[i].text == mark and not inside:
            return i
        elif toks[i].text in {";", ":"} and not inside:
            return -1
        i -= 1
    return -1


def _trailing_name(toks: list[_Tok]) -> bool:
    """Whether tokens end with a name of two or more capitalised words after a role ("founder of X Jane Doe")."""
    n = 0
    while n < len(toks) and toks[len(toks) - 1 - n].text[0].isupper():
        n += 1
    return n >= 2 and any(is_role_word(t.low) for t in toks[: len(toks) - n])


def _coordinated(toks: list[_Tok], i: int, site: Site) -> bool:
    """``an FBI agent approached him ... and said``: the subject at the start of the clause."""
    k, stop = i - 1, max(-1, i - _WINDOW_TOKENS)
    if k >= 0 and toks[k].text == ",":
        k -= 1  # "..., but said": the clause before the comma has the subject
    while k > stop and toks[k].text not in {",", ";", ":", '"', "(", "--", "—"} and toks[k].low not in _SUBORDINATORS:
        k -= 1
    first = k + 1
    end = first
    while (
        end < i
        and (toks[end].text[0].isupper() or toks[end].low in _DETERMINERS or is_role_word(toks[end].low))
        and end - first < 8
    ):
        end += 1
    if end == first or toks[end - 1].low in _DETERMINERS:
        return False
    if end - first == 1 and toks[first].low in PRONOUNS:
        site.np_start, site.np_end = _phrase(toks, first, end)
        return True
    if not any(t.text[0].isupper() or is_role_word(t.low) for t in toks[first:end]):
        return False
    site.np_start, site.np_end = _phrase(toks, first, end)
    return True


def _has_name(toks: list[_Tok]) -> bool:
    return any(t.text[0].isupper() for t in toks) or any(t.low in PRONOUNS for t in toks)


def _describes(toks: list[_Tok]) -> bool:
    return bool(toks) and toks[0].low in {"a", "an", "the"} and any(is_role_word(t.low) for t in toks)


def _subject(text: str, toks: list[_Tok], v: int, site: Site, earlier: Sequence[Site] = ()) -> bool:
    """Fill the site's speaker span from the words before verb token ``v``; False when there is none."""
    i = _skip_before_verb(toks, v - 1)
    if i < 0:
        return False
    quoted = toks[i].text == '"' and i > 0 and toks[i - 1].text == ","
    if toks[i].low in {"and", "but", "then"}:
        if earlier:  # "could not say ..., but said": the subject of the sentence's earlier speech verb
            site.np_start, site.np_end = earlier[-1].np_start, earlier[-1].np_end
            return True
        return _coordinated(toks, i, site)
    if toks[i].low in {"who", "which"} and i >= 2 and toks[i - 1].text == ",":
        first = _np_left(toks, i - 2)  # "the National Council for Adoption, which said"
        if first > i - 2:
            return False
        site.np_start, site.np_end = _phrase(toks, first, i - 1)
        return True
    if toks[i].text not in _DELIMITERS and not quoted:
        first = _np_left(toks, i)
        if first > i:
            return False
        site.np_start, site.np_end = _phrase(toks, first, i + 1)
        return True
    # "NAME, ROLE, said" / "He, and other victims, told" / "A spokesman for X, NAME, told" / "X -- ROLE -- told"
    c = _unquoted_comma_before(toks, i if quoted else i - 1, toks[i].text if not quoted else ",")
    if c < 1:
        return False
    appositive = toks[c + 1 : i]
    if quoted and (not appositive or appositive[0].low not in {"who", "which"}):
        return False
    first = _np_left(toks, c - 1)
    if first > c - 1 or not appositive:
        return False
    head = toks[first:c]
    if appositive[0].low == "and" and _trailing_name(appositive[1:]):
        site.np_start, site.np_end = _phrase(toks, c + 2, i)  # "China-watcher, and founder of X NAME, agreed"
        return True
    if appositive[0].low in {"who", "whose", "which", "and", "along", "together", "like"} or toks[i].text != ",":
        site.np_start, site.np_end = _phrase(toks, first, c)
        return True
    appositive_is_name = all(t.text[0].isupper() for t in appositive) and len(appositive) <= 4
    if (_describes(head) or (appositive_is_name and not _has_name(head))) and not _describes(appositive):
        site.np_start, site.np_end = _phrase(toks, c + 1, i)
        site.role = text[head[0].start : head[-1].end]
        site.lead = head[0].start  # "my friend's son, Nicolas, exclaimed": the attribution starts at "my"
        return True
    if not _has_name(head):
        return False
    site.np_start, site.np_end = _phrase(toks, first, c)
    words = [t.low for t in appositive]
    if any(is_role_word(w) for w in words[:6]) or (len(words) == 1 and words[0].isdigit()):
        role = text[appositive[0].start : appositive[-1].end]
        site.role = f"{role}-year-old" if role.isdigit() else re.sub(r"^(?:a|an|the)\s+", "", role)
    return True


def _inverted(text: str, toks: list[_Tok], v: int, site: Site) -> bool:
    """``..., said Timothy Camus, deputy inspector general ...``: the speaker after the verb."""
    if toks[v].low not in _INVERTIBLE or v == 0 or toks[v - 1].text not in {",", '"'}:
        return False
    rest = toks[v + 1 : v + 40]
    n = _np_right(rest)
    if n == 0 or rest[0].low in PRONOUNS | {"that"}:
        return False
    if n < len(rest) and rest[n].text[0].isalnum() and rest[n].low not in _AFTER_SPEAKER:
        return False  # ", said Hadi's speech won't help": the words after "said" are what was said
    site.np_start, site.np_end = _phrase(rest, 0, n)
    after = rest[n:]
    if after and after[0].text == ",":
        words = after[1:]
        stop = next(
            (k for k, t in enumerate(words) if t.low in {"who", "whose", "which", "where"} or t.text in ";:"), None
        )
        words = words[:stop] if stop is not None else words
        if words and words[-1].text == ".":
            words = words[:-1]
        if words and any(is_role_word(t.low) for t in words[:6]):
            role = text[words[0].start : words[-1].end].rstrip(".,")
            site.role = re.sub(r"^(?:a|an|the)\s+", "", role)
            site.end = words[-1].end
    return True


def _according(text: str, toks: list[_Tok], v: int, site: Site) -> bool:
    """``according to X``: the speaker is the phrase after it."""
    rest = toks[v + 2 : v + 20]
    n = 0
    while n < len(rest) and n < 14:
        tok = rest[n]
        if tok.text in {",", ";", ":", '"', "(", ")"} or tok.low in {"who", "which", "that", "when", "and", "but"}:
            break
        if tok.text == "." or (tok.text.endswith(".") and not looks_abbreviated(tok.text)):
            n += tok.text != "."
            break
        n += 1
    if n == 0:
        return False
    site.np_start, site.np_end = _phrase(rest, 0, n)
    return True


def _words(text: str) -> int:
    return len(re.findall(r"[\w'’]+", text))


def _content(text: str, site: Site, verb: str, sentence: tuple[int, int]) -> None:
    """Work out whether the site introduces a quotation or reports words, and where those words are."""
    s_start, s_end = sentence
    s_start, s_end = max(s_start, site.start - _WINDOW_CHARS), min(s_end, site.end + _WINDOW_CHARS)
    cls = VERB_CLASS.get(verb, "say")
    tail = max(site.verb_end, site.np_end if site.np_start > site.verb_start else 0, site.end)
    if verb in _TELL and (obj := _OBJECT.match(text, tail, s_end)):
        tail = obj.end()
    if adverbial := _ADVERBIAL.match(text, tail, s_end):
        tail = adverbial.end()
    site.end = max(site.end, tail)
    if _OPENS_QUOTE.match(text, tail, s_end):
        site.opens_quote = text.index('"', tail)
        return
    after_raw = text[tail:s_end]
    after = after_raw.strip().rstrip(".!?")
    after_start = tail + (len(after_raw) - len(after_raw.lstrip()))
    clause_start = s_start
    before = text[s_start : site.start]
    lead = _CONNECTORS.match(before)
    if lead:
        clause_start += lead.end()
        before = before[lead.end() :]
    ends_with_comma = before.rstrip().endswith((",", ',"'))
    before = before.rstrip().rstrip(",").rstrip()
    quoted_before = before.endswith('"')  # '"...," X said': the attribution of that quotation
    preposed = _words(before) >= 3 and ends_with_comma and not quoted_before
    preposed = preposed and (cls == "say" or verb in _PREPOSABLE or verb == "according to")
    if verb == "according to":
        if after.startswith(",") and _words(after) >= 3:
            site.content = _trim(text, clause_start if _words(before) else after_start, s_end)
        elif preposed:
            site.content = (clause_start, clause_start + len(before))
        return
    first_word = after.lstrip(", ").split(" ", 1)[0].casefold() if after else ""
    if site.np_start > site.verb_start:  # "..., said X, ROLE": what follows the speaker is not what was said
        if preposed:
            site.content = (clause_start, clause_start + len(before))
        return
    if not after or _words(after) < 2 or first_word in _PREPOSITIONS or first_word in {"and", "or", "but"}:
        if preposed:
            site.content = (clause_start, clause_start + len(before))
        return
    if cls == "that" and first_word != "that":
        return
    if cls == "clause" and not (_CLAUSE_START.match(after) or _FINITE.match(after)):
        return
    if cls == "part" or not after.startswith(","):
        site.content = _trim(text, after_start, s_end)
    elif preposed:
        site.content = _trim(text, clause_start, s_end)
    else:
        site.content = _trim(text, after_start + 1, s_end)


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """A content span without leading "that"/commas and trailing punctuation; None when nothing is left."""
    while start < end and text[start] in " ,":
        start += 1
    if text.startswith("that ", start):
        start += 5
    while end > start and text[end - 1] in " .!?;":
        end -= 1
    return (start, end) if end - start >= 3 else None


def _participle(toks: list[_Tok], v: int, site: Site, sites: list[Site], first_site: int) -> bool:
    """``..., saying ...``: the speaker of the sentence's main verb, or the sentence's subject."""
    if v == 0:
        return False
    if toks[v - 1].text != ",":
        return toks[v - 1].text[0].isupper() and _subject("", toks, v, site)
    parents = [k for k in range(first_site, len(sites)) if sites[k].verb_end <= toks[v].start]
    if parents:
        site.parent = sites[parents[-1]]
        site.np_start, site.np_end = site.parent.np_start, site.parent.np_end
        return True
    first = 0
    while first < v and _CONNECTORS.match(toks[first].text):
        first += 1
    end = first
    while end < min(v, first + 6) and toks[end].text[0].isalnum() and not _verb_like(toks[end]):
        end += 1
    if end == first or end == min(v, first + 6) or not any(t.text[0].isupper() for t in toks[first:end]):
        return False
    site.np_start, site.np_end = _phrase(toks, first, end)
    return True


def _verb_like(tok: _Tok) -> bool:
    """A lower-case word that ends a subject: an auxiliary or a past-tense verb ("Fox producers defended")."""
    return tok.text.islower() and (tok.low in _BOUNDARY_WORDS or tok.low.endswith("ed"))


def find_sites(text: str, sentences: Sequence[tuple[int, int]], inside_quote: Sequence[bool]) -> list[Site]:
    """Every speech site of the text, in order.

    Args:
        text: cleaned article text.
        sentences: sentence spans into ``text``.
        inside_quote: per character, whether it lies inside a direct quotation (speech verbs there are
            the quoted person's words, not attributions).
    """
    sites: list[Site] = []
    for index, (s_start, s_end) in enumerate(sentences):
        toks: list[_Tok] = []
        where: dict[int, int] = {}
        first_site = len(sites)
        for match in VERBS.finditer(text, s_start, s_end):
            if inside_quote[match.start()]:
                continue
            if not toks:
                toks = _tokens(text, s_start, s_end)
                where = {t.start: k for k, t in enumerate(toks)}
            v = where.get(match.start())
            if v is None:
                continue
            verb = "according to" if match.group().casefold() == "according to" else match.group().casefold()
            if verb != "according to" and v > 0 and toks[v - 1].low in _PASSIVE:
                continue
            site = Site(index, match.start(), match.end(), 0, 0)
            if verb == "according to":
                found = _according(text, toks, v, site)
            elif VERB_CLASS[verb] == "part":
                found = _participle(toks, v, site, sites, first_site)
            else:
                found = _inverted(text, toks, v, site) or _subject(text, toks, v, site, sites[first_site:])
            if not found or site.np_end <= site.np_start:
                continue
            if site.lead is not None:
                site.start = site.lead
            elif site.parent is None:
                site.start = min(site.np_start, site.verb_start)
            else:
                site.start = site.verb_start
            site.end = max(site.end, site.np_end, site.verb_end)
            _content(text, site, verb, (s_start, s_end))
            sites.append(site)
    return sites

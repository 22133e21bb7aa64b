"""Training data for the reader: questions asked through the engine, their candidates, features and labels.

Two sources, both from data anyone can get:

* **NewsQA dev** questions with their crowd answers: a candidate is positive when it lies in
  the question's article and holds one of the answers. Each question is also asked with its
  article removed (the news does not say), which trains and measures abstention.
* **Speaker questions made from the attribution table** of the CNN/DailyMail and BBC articles
  (NewsQA has few "what did X say" questions): for a person quoted in an article, "What did
  <surname> say about <title words>?" or "What did the <role> say about ...?"; the sentences
  quoting that person in that article are positive. Each also has a **decoy**: the same question
  about a person the corpus never mentions, which the abstention model must refuse (people
  outside the news are what users ask about most when the news does not say), an **off-topic**
  twin (the person asked about another article's topic) and a **gone** twin (the same question
  asked with its own article removed: the person is still quoted on other stories). They train the
  models; every reported figure is on NewsQA questions out of fold.
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from tqdm import tqdm

from app.engine import Engine
from benchmarks.metrics import contains_any
from benchmarks.questions.sets import Row
from index.attribution import loads as load_attributions
from index.lexical import LexicalIndex, terms
from index.speakers import article_words, quote_match
from retrieval.question import analyse
from retrieval.reader.answerer import DEPTH
from retrieval.reader.features import SPEAKS, Candidate, Story, candidate_features, stories_of
from retrieval.scope import Scope

FOLDS = 5
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
# Names for decoy speakers; only those the index has never seen are used.
DECOY_FIRST = (
    "Marisol", "Anders", "Talia", "Bogdan", "Ines", "Corentin", "Yusra", "Teodor", "Maelle", "Ruairi", "Solveig",
    "Dariusz", "Ottilie", "Caspian", "Liesel", "Ewan", "Noor", "Florin", "Agathe", "Casimir",
)  # fmt: skip
DECOY_LAST = (
    "Vandersloot", "Okonkwo-Reyes", "Halvorsen", "Quintanilla", "Marchetti", "Lindqvist", "Abernathy", "Szymanski",
    "Delacroix", "Tavares", "Oyelaran", "Brannigan", "Kowalczyk", "Moreau-Dufresne", "Ferreira", "Nakashima",
    "Ellingham", "Radulescu", "Achterberg", "Castellanos",
)  # fmt: skip


#: How people ask what somebody said (Discord questions are often lower case, without a question mark).
TEMPLATES = (
    "What did {who} say about {topic}?",
    "what did {who} say about {topic}",
    "how did {who} respond to {topic}",
    "what was {who}'s reaction to {topic}",
    "what did {who} think of {topic}",
    "what did {who} tell reporters about {topic}",
)
_NAME = re.compile(r"^(?:[A-Z][\w'’.-]*\s+)+[A-Z][\w'’-]*$")  # a person's name, not "the report" or "Awards"
_SPOKESMAN = re.compile(r"^(?P<org>(?:[A-Z][\w&'’.-]*\s+){1,3})(?:spokesman|spokeswoman|spokesperson)$")


@dataclass
class Asked:
    """One question asked one way (full index, or with its article removed), featurised and labelled."""

    qid: str
    question: str
    gold: str
    answers: list[str]
    full: bool
    stories: list[Story]
    candidates: list[Candidate]
    matrix: np.ndarray
    labels: np.ndarray
    oof: np.ndarray = field(default_factory=lambda: np.zeros(0))
    kind: str = ""  # a development question's kind (speaker, fact, refuse); empty for the others


@dataclass(frozen=True)
class SpeakerItem:
    """A question about what one person (or organisation) said in one article, and the sentences quoting them."""

    qid: str
    who: str
    topic: str
    article_id: str
    sentences: frozenset[int]
    template: str = TEMPLATES[0]

    @property
    def question(self) -> str:
        """The question as a user would type it."""
        return self.template.format(who=self.who, topic=self.topic)


def featurise(
    engine: Engine, question_text: str, scope: Scope, lexical: LexicalIndex
) -> tuple[list[Story], list[Candidate], np.ndarray]:
    """Retrieve for a question exactly as ``Engine.ask`` does for the reader, and build its candidates."""
    question = analyse(question_text)
    hits = engine._search(engine._current(), question, scope, DEPTH, "hybrid")
    stories = stories_of(hits, engine.store.sentences(h.article.id for h in hits))
    query = engine.query_encoder.encode([question.text])[0]
    candidates, matrix = candidate_features(question, stories, query, lexical.idf(question.terms))
    return stories, candidates, matrix


def newsqa_label(candidate: Candidate, gold: str, answers: Sequence[str]) -> bool:
    """A candidate answers when it is in the question's article and holds one of the crowd's answers."""
    article = candidate.story.article
    return article.id == gold and contains_any(article.text[candidate.start : candidate.end], answers)


def ask_newsqa(engine: Engine, questions: Sequence[dict[str, Any]], id_map: dict[str, str]) -> list[Asked]:
    """Every NewsQA question on the full index and with its article removed, featurised and labelled."""
    lexical = engine._current().snapshot.lexical
    out: list[Asked] = []
    for q in tqdm(questions, desc="NewsQA questions", file=sys.stderr):
        gold, answers = id_map[str(q["article_id"])], [str(a) for a in q["answers"]]
        for full in (True, False):
            scope = Scope() if full else Scope(exclude_article_ids=(gold,))
            stories, candidates, matrix = featurise(engine, str(q["question"]), scope, lexical)
            labels = np.asarray([full and newsqa_label(c, gold, answers) for c in candidates], dtype=np.float32)
            out.append(
                Asked(str(q["qid"]), str(q["question"]), gold, answers, full, stories, candidates, matrix, labels)
            )
    return out


def ask_rows(engine: Engine, rows: Sequence[Row], id_map: dict[str, str]) -> list[Asked]:
    """Hand-written development questions on the full index, featurised and labelled.

    A candidate is positive when it lies in the row's article and holds one of its expected
    phrases; a refusal is unanswerable and is its own "article" for the folds.
    """
    lexical = engine._current().snapshot.lexical
    out: list[Asked] = []
    for row in tqdm(rows, desc="development questions", file=sys.stderr):
        gold = id_map[row.article_id] if row.article_id else f"refusal-{row.qid}"
        stories, candidates, matrix = featurise(engine, row.asked, Scope(), lexical)
        labels = np.asarray([newsqa_label(c, gold, row.expected) for c in candidates], dtype=np.float32)
        answerable = row.kind != "refuse"
        out.append(
            Asked(
                row.qid,
                row.asked,
                gold,
                list(row.expected),
                answerable,
                stories,
                candidates,
                matrix,
                labels,
                kind=row.kind,
            )
        )
    return out


def speaker_items(engine: Engine, article_ids: Iterable[str], *, per_article: int, seed: int) -> list[SpeakerItem]:
    """Questions about the people and organisations quoted directly in ``article_ids``.

    From the stored attribution tables: a person is asked about by surname, full name or role, an
    organisation whose spokesman is quoted by its name ("what did Five say"); the topic is a few
    rare words of the title or of one of their quotes; the wording is one of ``TEMPLATES``. The
    positives are the sentences the features match to that speaker, so labels and features agree.
    """
    rng = random.Random(seed)
    lexical = engine._current().snapshot.lexical
    items: list[SpeakerItem] = []
    for article_id in article_ids:
        stored = engine.store.sentences([article_id]).get(article_id)
        article = engine.store.article(article_id)
        if stored is None or article is None:
            continue
        attributions = [a for a in load_attributions(stored.attributions) if a.kind == "direct"]
        words = article_words(article.title, article.text)
        askable: dict[str, str] = {}  # the speaker as asked -> the sentence text their topic may come from
        for a in attributions:
            spokesman = _SPOKESMAN.match(a.speaker)  # lower-case "spokesman": never a _NAME as well
            if spokesman:
                who = spokesman.group("org").strip()
            elif _NAME.match(a.speaker):
                who = _person(a.speaker, a.roles, rng)
            else:
                continue
            askable.setdefault(who, article.text[a.start : a.end])
        for who in rng.sample(sorted(askable), min(per_article, len(askable))):
            quoting = {
                i
                for a in attributions
                if quote_match(who, a, words) >= SPEAKS
                for i in range(a.sentence, a.last_sentence + 1)
            }
            source, letters = (askable[who], 6) if rng.random() < 0.5 else (article.title, 4)
            topic = _topic_words(source, who, lexical, rng, min_letters=letters)
            if not topic or not quoting:
                continue
            template = rng.choice([t for t in TEMPLATES if "{who}'s" not in t or not who.endswith("s")])
            qid = f"speaker-{article_id}-{len(items)}"
            items.append(SpeakerItem(qid, who, topic, article_id, frozenset(quoting), template))
    return items


def _person(speaker: str, roles: Sequence[str], rng: random.Random) -> str:
    """How a user names a quoted person: surname, full name, or a role the article gives them."""
    draw = rng.random()
    if roles and draw < 0.3:
        return f"the {roles[0].rstrip('.')}"
    return speaker if draw > 0.85 else speaker.split()[-1]


def _topic_words(text: str, speaker: str, lexical: LexicalIndex, rng: random.Random, min_letters: int = 4) -> str:
    """Two or three of the text's rarest words that do not name the speaker (the question's topic).

    From a quote, only words of ``min_letters`` or more that are not adverbs: a quote's rarest short
    words are its interjections ("totally", "know"), which nobody asks about.
    """
    names = {w.casefold() for w in speaker.split()}
    words = [
        w
        for w in dict.fromkeys(_WORD.findall(text))
        if w.casefold() not in names and terms(w) and len(w) >= min_letters and not w.endswith("ly")
    ]
    if not words:
        return ""
    idf = lexical.idf([terms(w)[0] for w in words])
    ranked = sorted(words, key=lambda w: -idf[terms(w)[0]])
    return " ".join(ranked[: rng.choice((2, 3))]).lower()


def decoy_names(lexical: LexicalIndex, rng: random.Random) -> list[str]:
    """Full names no indexed article contains (neither the first name nor the surname)."""
    first = [n for n in DECOY_FIRST if not lexical.known(terms(n))]
    last = [n for n in DECOY_LAST if not lexical.known(terms(n))]
    names = [f"{f} {s}" for f in first for s in last]
    rng.shuffle(names)
    return names


def decoy(item: SpeakerItem, name: str) -> SpeakerItem:
    """The same question about someone the news never mentions: nothing in it is an answer."""
    return replace(item, qid=f"{item.qid}-decoy", who=name, sentences=frozenset())


def ask_speakers(
    engine: Engine, items: Sequence[SpeakerItem], *, answerable: bool = True, own_article: bool = True
) -> list[Asked]:
    """Speaker questions, featurised and labelled; ``answerable`` is false for decoys.

    ``own_article=False`` asks each with its article removed from the index (``gone``).
    """
    lexical = engine._current().snapshot.lexical
    out: list[Asked] = []
    for item in tqdm(items, desc="speaker questions", file=sys.stderr):
        scope = Scope() if own_article else Scope(exclude_article_ids=(item.article_id,))
        stories, candidates, matrix = featurise(engine, item.question, scope, lexical)
        labels = np.asarray(
            [c.story.article.id == item.article_id and c.index in item.sentences for c in candidates],
            dtype=np.float32,
        )
        out.append(Asked(item.qid, item.question, item.article_id, [], answerable, stories, candidates, matrix, labels))
    return out


def gone(items: Sequence[SpeakerItem]) -> list[SpeakerItem]:
    """The same questions, to be asked with their own article removed: nothing left answers them.

    What a Discord refusal most often is: the person is in the news, quoted on other stories,
    but the story asked about is not indexed ("what did Arum say about the drug test demands").
    NewsQA's questions are asked that way too; these give abstention the speaker-question kind.
    """
    return [replace(item, qid=f"{item.qid}-gone", sentences=frozenset()) for item in items]


def folds_by_article(asked: Sequence[Asked], seed: int) -> dict[str, int]:
    """Each article's fold: questions about one article never train the model that answers them."""
    articles = sorted({a.gold for a in asked})
    random.Random(seed).shuffle(articles)
    return {article: i % FOLDS for i, article in enumerate(articles)}


def off_topic(items: Sequence[SpeakerItem], rng: random.Random) -> list[SpeakerItem]:
    """The same speakers asked about another article's topic: they are in the news, but not on that.

    The refusals that are hard to tell from answers ("what did Navratilova say about Serena" when
    she is quoted on something else); nothing in them is an answer.
    """
    elsewhere: dict[str, list[SpeakerItem]] = {}  # per article, the items of every other article, in order
    out = []
    for item in items:
        others = elsewhere.setdefault(item.article_id, [o for o in items if o.article_id != item.article_id])
        if others:
            other = rng.choice(others)
            out.append(replace(item, qid=f"{item.qid}-off-topic", topic=other.topic, sentences=frozenset()))
    return out

"""What the learned reader sees of each candidate sentence, and of the question as a whole.

Candidates are every sentence of the best few stories (articles), not only those of the
passages that matched the question's words: news answers often sit a paragraph away. Each
candidate is described by numbers that need no model at question time beyond the question's
own embedding: cosine with the question (sentence vectors are stored at ingest), IDF-weighted
coverage of the question's terms in the sentence and around it, phrasing, answer-type
evidence, its story's retrieval score and rank, its position, and who is quoted in it and in
the sentence before it (the attribution table stored at ingest, ``index/attribution.py``),
matched against the speaker the question asks about (``index/speakers.py``). Each sentence is
also set against the best of its own story and against the other stories (cosine and coverage
leads, how far it sits from its story's best match), and checked for the numbers the question
writes out: these helped the ranker out of fold, while the same evidence as question features
did not help abstention measurably, and the question's capitalised names as a feature cost
speaker questions (see the README's reader section). Abstention does gain from the best
candidate's whole row and from a year its story cannot report (the ninth training).

``candidate_features`` and ``question_features`` are used unchanged by training
(``benchmarks/train_reader.py``) and by the answerer, so the model sees at question time
exactly what it was trained on; ``CANDIDATE_FEATURES``/``QUESTION_FEATURES`` name the columns
and are checked against the trained model's manifest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from index.attribution import Attribution
from index.attribution import loads as load_attributions
from index.lexical import terms
from index.models import Article, ArticleSentences
from index.speakers import article_words, quote_match
from retrieval.answer import MIN_SENTENCE_WORDS, coverage, phrase_overlap
from retrieval.hybrid import Hit
from retrieval.question import Question, has_answer_type, is_attributed_quote
from retrieval.speaker_question import SpeakerQuestion

STORIES = 5  # candidate stories per question (5 over 3: article hit@1 0.574 over 0.562, out of fold)
_NUMBER = re.compile(r"\d[\d,.]*")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
#: How something turned out later: a story reports the plan or the charge, rarely the outcome asked about.
#: "any more" only where it ends the question ("is he at chelsea any more?"): "any more details?" asks for more.
_OUTCOME = re.compile(
    r"\b(?:end(?:ed|s|ing)?\s+up|ever|eventually|finally|in\s+the\s+end|anymore|still|so\s+far|yet)\b"
    r"|\bany\s+more\W*$",
    re.IGNORECASE,
)
SPEAKS = 0.5  # a speaker match from which a quote counts as the asked speaker's (a surname, a role, a spokesman)
ANSWER_TYPES = ("number", "time", "person", "place")
CANDIDATE_FEATURES = (
    "cos",
    "cos_prev",
    "cos_next",
    "cos_rel",
    "cov",
    "cov_win",
    "cov_prev",
    "cov_rel",
    "win_rel",
    "nmatch",
    "phrase",
    "answer_type_evidence",
    "has_quote",
    "speech",
    "asks_quote",
    "speaker_in",
    "speaker_prev",
    "speaker_match",
    "speaker_match_prev",
    "attributed",
    "attributed_other",
    "story_speaker",
    "has_speaker_question",
    "cov_topic",
    "story_rank",
    "story_score",
    "story_gap",
    "title_cov",
    "story_cov",
    "in_hit",
    "hit_rank",
    "hit_score",
    "position",
    "relative_position",
    "words",
    "story_sentences",
    "question_terms",
    *(f"type_{t}" for t in ANSWER_TYPES),
    # Added in the second training (issue 11): the sentence against the rest of its story and the other stories.
    "cov_next",
    "cos_story_rank",
    "cos_story_rel",
    "cov_story_rel",
    "win_story_rel",
    "story_max_cos",
    "story_top3_cos",
    "story_max_cos_rel",
    "story_cov_rel",
    "num_in",
    "cov_win2",
    "dist_best_cov",
    "dist_best_cos",
    "cos_win_max",
    # Added in the third training: the topic of "what did X say about Y" around the sentence.
    "cov_topic_win",
)
QUESTION_FEATURES = (
    "best_score",
    "score_margin",
    "best_cos",
    "best_cov",
    "best_win",
    "best_story_rank",
    "story_score_raw",
    "best_dense",
    "best_lexical",
    "story_cov",
    "title_cov",
    "all_cov",
    "missing_idf",
    "max_idf",
    "question_terms",
    "asks_quote",
    "has_speaker_question",
    "story_speaker",
    "best_speaker_match",
    "story_margin",
    "second_story_cov",
    "lexical_strength",
    *(f"type_{t}" for t in ANSWER_TYPES),
    # Added in the third training: does the asked speaker say anything on the asked topic?
    "speaker_topic_cov",
    "topic_cov_best",
    # Added in the ninth training: a year the best story cannot report, and the best candidate's own row (every
    # candidate feature of the quote the answer would lead with, so abstention sees what the ranker saw of it).
    "asks_year",
    "year_not_in_story",
    "year_after_story",
    *(f"chosen_{name}" for name in CANDIDATE_FEATURES),
    # Added in the fourteenth training: asks how something turned out ("did X ever", "end up", "finally").
    "asks_outcome",
)


@dataclass(frozen=True)
class Story:
    """One candidate article: its retrieval score and rank, its stored sentences, and its retrieved passages."""

    article: Article
    rank: int
    score: float
    sentences: ArticleSentences
    hits: tuple[Hit, ...]

    @cached_property
    def attributions(self) -> list[Attribution]:
        """Who is quoted where (empty when the table cannot be read)."""
        try:
            return load_attributions(self.sentences.attributions)
        except ValueError:
            return []


@dataclass(frozen=True, slots=True)
class Candidate:
    """One sentence of one story."""

    story: Story
    index: int  # sentence number in the article
    start: int
    end: int


def stories_of(hits: Sequence[Hit], sentences: dict[str, ArticleSentences], limit: int = STORIES) -> list[Story]:
    """The best ``limit`` distinct articles of ``hits`` that have stored sentences, best first."""
    by_article: dict[str, list[Hit]] = {}
    for hit in hits:
        by_article.setdefault(hit.article.id, []).append(hit)
    ranked = sorted(by_article.values(), key=lambda hs: -hs[0].article_score)
    stories = [
        Story(hs[0].article, rank, hs[0].article_score, sentences[hs[0].article.id], tuple(hs))
        for rank, hs in enumerate(hs for hs in ranked if hs[0].article.id in sentences)
    ]
    return stories[:limit]


def question_numbers(text: str) -> list[str]:
    """The numbers the question writes out ("40", "1,200"), each once."""
    return list(dict.fromkeys(n.strip(",.") for n in _NUMBER.findall(text)))


def _share(wanted: Sequence[str], found: str) -> float:
    """Share of ``wanted`` found (-1 when nothing is wanted: "no number asked" differs from "none found")."""
    return sum(w in found for w in wanted) / len(wanted) if wanted else -1.0


def _speaker_by_sentence(story: Story, asked: SpeakerQuestion | None) -> tuple[dict[int, float], set[int], float]:
    """Best match of the asked speaker per sentence, the sentences that quote anyone, and the story's best match."""
    matches: dict[int, float] = {}
    quoted: set[int] = set()
    best = 0.0
    words = article_words(story.article.title, story.article.text) if asked else frozenset()  # only to match a speaker
    for attribution in story.attributions:
        score = quote_match(asked.speaker, attribution, words) if asked else 0.0
        best = max(best, score)
        for i in range(attribution.sentence, attribution.last_sentence + 1):
            quoted.add(i)
            matches[i] = max(matches.get(i, 0.0), score)
    return matches, quoted, best


def candidate_features(
    question: Question,
    stories: Sequence[Story],
    query: npt.NDArray[np.float32],
    idf: dict[str, float],
) -> tuple[list[Candidate], npt.NDArray[np.float32]]:
    """Every quotable sentence of ``stories`` and its feature row (columns: ``CANDIDATE_FEATURES``)."""
    asked = question.speaker
    topic = tuple(t for t in terms(asked.topic) if t in idf) if asked else ()  # question words left out
    qterms = question.terms
    numbers = question_numbers(question.text)
    top_score = max((s.score for s in stories), default=0.0) or 1.0
    story_cosines = [
        s.sentences.vectors.astype(np.float32) @ query if s.sentences.spans else np.zeros(0, np.float32)
        for s in stories
    ]
    story_max_cos = [float(c.max()) if len(c) else 0.0 for c in story_cosines]
    best_story_cos = max(story_max_cos, default=0.0)
    candidates: list[Candidate] = []
    rows: list[list[float]] = []
    for story, cosines, max_cos in zip(stories, story_cosines, story_max_cos, strict=True):
        text, spans = story.article.text, story.sentences.spans
        if not spans:
            continue
        sentence_terms = [set(terms(text[s:e])) for s, e in spans]
        covers = np.asarray([coverage(qterms, idf, t) for t in sentence_terms])
        best_cover, best_cosine = int(np.argmax(covers)), int(np.argmax(cosines))
        top3_cos = float(np.sort(cosines)[-3:].mean())
        ordered_terms = [terms(text[s:e]) for s, e in spans]
        story_terms = set(terms(story.article.title)).union(*sentence_terms)
        title_cov = coverage(qterms, idf, set(terms(story.article.title)))
        story_cov = coverage(qterms, idf, story_terms)
        matches, quoted, story_speaker = _speaker_by_sentence(story, asked)
        top_hits = [(h.passage.start, h.passage.end, h.score, h.rank) for h in story.hits if h.rank < 6]
        for i, (start, end) in enumerate(spans):
            sentence = text[start:end]
            if len(sentence.split()) < MIN_SENTENCE_WORDS:
                continue
            own = sentence_terms[i]
            prev = sentence_terms[i - 1] if i else set()
            nxt = sentence_terms[i + 1] if i + 1 < len(spans) else set()
            inside = [h for h in top_hits if h[0] <= start and end <= h[1]]
            speaker_last = question.speaker_terms[-1:]
            row = {
                "cos": float(cosines[i]),
                "cos_prev": float(cosines[i - 1]) if i else 0.0,
                "cos_next": float(cosines[i + 1]) if i + 1 < len(spans) else 0.0,
                "cov": coverage(qterms, idf, own),
                "cov_win": coverage(qterms, idf, own | prev | nxt),
                "cov_prev": coverage(qterms, idf, prev),
                "nmatch": float(sum(1 for t in qterms if t in own)),
                "phrase": phrase_overlap(qterms, ordered_terms[i]),
                "answer_type_evidence": float(has_answer_type(question, sentence)),
                "has_quote": float('"' in sentence),
                "speech": float(is_attributed_quote(sentence)),
                "asks_quote": float(question.asks_for_quote),
                "speaker_in": float(bool(speaker_last) and all(t in own for t in speaker_last)),
                "speaker_prev": float(bool(speaker_last) and all(t in prev for t in speaker_last)),
                "speaker_match": matches.get(i, 0.0),
                "speaker_match_prev": matches.get(i - 1, 0.0),
                "attributed": float(i in quoted),
                "attributed_other": float(i in quoted and matches.get(i, 0.0) < 0.5),
                "story_speaker": story_speaker,
                "has_speaker_question": float(asked is not None),
                "cov_topic": coverage(topic, idf, own) if topic else 0.0,
                "cov_topic_win": coverage(topic, idf, own | prev | nxt) if topic else -1.0,
                "story_rank": float(story.rank),
                "story_score": story.score / top_score,
                "story_gap": story.score - top_score,
                "title_cov": title_cov,
                "story_cov": story_cov,
                "in_hit": float(bool(inside)),
                "hit_rank": float(min((h[3] for h in inside), default=10)),
                "hit_score": max((h[2] for h in inside), default=0.0),
                "position": float(i),
                "relative_position": i / len(spans),
                "words": float(len(sentence.split())),
                "story_sentences": float(len(spans)),
                "question_terms": float(len(qterms)),
                "cov_next": coverage(qterms, idf, nxt),
                "cos_story_rank": float((cosines > cosines[i]).sum()),
                "cos_story_rel": float(cosines[i] - max_cos),
                "cov_story_rel": float(covers[i] - covers.max()),
                "story_max_cos": max_cos,
                "story_top3_cos": top3_cos,
                "story_max_cos_rel": max_cos - best_story_cos,
                "num_in": _share(numbers, sentence),
                "cov_win2": coverage(qterms, idf, set().union(*sentence_terms[max(0, i - 2) : i + 3])),
                "dist_best_cov": float(abs(i - best_cover)),
                "dist_best_cos": float(abs(i - best_cosine)),
                "cos_win_max": float(cosines[max(0, i - 1) : i + 2].max()),
            }
            for t in ANSWER_TYPES:
                row[f"type_{t}"] = float(question.answer_type == t)
            candidates.append(Candidate(story, i, start, end))
            rows.append([row.get(name, 0.0) for name in CANDIDATE_FEATURES])
    matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(CANDIDATE_FEATURES))
    if len(rows):
        column = {name: i for i, name in enumerate(CANDIDATE_FEATURES)}
        for target, source in (
            ("cos_rel", "cos"),
            ("cov_rel", "cov"),
            ("win_rel", "cov_win"),
            ("story_cov_rel", "story_cov"),
        ):
            values = matrix[:, column[source]]
            matrix[:, column[target]] = values - values.max()
        rank = matrix[:, column["story_rank"]]
        for story_rank in np.unique(rank):  # the window's coverage against the best window of the same story
            own_story = rank == story_rank
            window = matrix[own_story, column["cov_win"]]
            matrix[own_story, column["win_story_rel"]] = window - window.max()
    return candidates, matrix


def speaker_quoted(matrix: npt.NDArray[np.float32], *, before: bool = True) -> npt.NDArray[np.bool_]:
    """Per candidate row: is the speaker the question asks about quoted in the sentence (or the one ``before``)."""
    column = {name: i for i, name in enumerate(CANDIDATE_FEATURES)}
    match = matrix[:, column["speaker_match"]]
    if before:
        match = np.maximum(match, matrix[:, column["speaker_match_prev"]])
    return np.asarray(match >= SPEAKS, dtype=bool)


def _margin(scores: Sequence[float]) -> float:
    """How far the best score leads the next (the whole score when there is no next)."""
    top = sorted(scores, reverse=True)
    return top[0] - top[1] if len(top) > 1 else top[0] if top else 0.0


def _year_features(question: Question, story: Story | None) -> dict[str, float]:
    """Whether the question names a year, one its best story never mentions, one later than the story can know.

    A story cannot report what happened after it was written: "what did Bale say about Euro 2016" over a 2005
    article is a question the news does not answer, however well the names match.
    """
    asked = [int(y) for y in _YEAR.findall(question.text)]
    if not asked or story is None:
        return {"asks_year": float(bool(asked)), "year_not_in_story": 0.0, "year_after_story": 0.0}
    text = story.article.text
    known = [int(y) for y in _YEAR.findall(text)]
    if story.article.published is not None:
        known.append(story.article.published.year)
    return {
        "asks_year": 1.0,
        "year_not_in_story": float(any(str(y) not in text for y in asked)),
        "year_after_story": float(max(asked) > max(known, default=0)),
    }


def question_features(
    question: Question,
    stories: Sequence[Story],
    matrix: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float64],
    idf: dict[str, float],
) -> npt.NDArray[np.float32]:
    """One row (columns: ``QUESTION_FEATURES``) describing how well the best candidate and its story fit."""
    column = {name: i for i, name in enumerate(CANDIDATE_FEATURES)}
    order = np.argsort(-scores, kind="stable")
    best = matrix[order[0]]
    second = float(scores[order[1]]) if len(order) > 1 else float(scores[order[0]]) - 10.0
    story = stories[int(best[column["story_rank"]])] if stories else None
    story_terms: set[str] = set()
    all_terms: set[str] = set()
    covers = []
    for s in stories:
        words = set(terms(s.article.title + "\n" + s.article.text))
        all_terms |= words
        covers.append(coverage(question.terms, idf, words))
        if s is story:
            story_terms = words
    missing = [idf[t] for t in question.terms if t not in story_terms]
    row = {
        "best_score": float(scores[order[0]]),
        "score_margin": float(scores[order[0]]) - second,
        "best_cos": float(best[column["cos"]]),
        "best_cov": float(best[column["cov"]]),
        "best_win": float(best[column["cov_win"]]),
        "best_story_rank": float(best[column["story_rank"]]),
        "story_score_raw": story.score if story else 0.0,
        "best_dense": max((h.dense for s in stories for h in s.hits), default=0.0),
        "best_lexical": max((h.lexical for s in stories for h in s.hits), default=0.0),
        "story_cov": float(best[column["story_cov"]]),
        "title_cov": float(best[column["title_cov"]]),
        "all_cov": coverage(question.terms, idf, all_terms),
        "missing_idf": max(missing, default=0.0),
        "max_idf": max((idf[t] for t in question.terms), default=0.0),
        "question_terms": float(len(question.terms)),
        "asks_quote": float(question.asks_for_quote),
        "has_speaker_question": float(best[column["has_speaker_question"]]),
        "story_speaker": float(best[column["story_speaker"]]),
        "best_speaker_match": float(best[column["speaker_match"]]),
        # How clearly one story stands out: the article a question was written from usually does.
        "story_margin": stories[0].score - stories[1].score
        if len(stories) > 1
        else stories[0].score
        if stories
        else 0.0,
        "second_story_cov": sorted(covers)[-2] if len(covers) > 1 else 0.0,
        "lexical_strength": max((h.lexical for s in stories for h in s.hits), default=0.0)
        / max(sum(idf[t] for t in question.terms), 1e-6),
    }
    for t in ANSWER_TYPES:
        row[f"type_{t}"] = float(question.answer_type == t)
    topic = matrix[:, column["cov_topic_win"]]
    speaks = speaker_quoted(matrix)
    row["topic_cov_best"] = float(topic.max())  # -1: no topic asked
    row["speaker_topic_cov"] = float(topic[speaks].max()) if speaks.any() else -1.0 if topic.max() < 0 else -0.5
    row |= _year_features(question, story)
    row["asks_outcome"] = float(bool(_OUTCOME.search(question.text)))
    row |= {f"chosen_{name}": float(best[i]) for i, name in enumerate(CANDIDATE_FEATURES)}
    return np.asarray([[row[name] for name in QUESTION_FEATURES]], dtype=np.float32)

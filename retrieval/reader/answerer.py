"""The learned reader as an ``Answerer``: whole stories in, the sentence that answers out, or silence.

It takes the best few stories of the retrieved passages, reads their sentences and vectors
from the store (embedded at ingest: only the question is encoded per question), ranks every
sentence with the trained ranker, has the cross-encoder re-read the best few with the question
(when it loads: ``retrieval/reader/cross.py``) and asks the abstention model whether the articles hold the
answer at all. Quotes are the article's own text at the offsets cited, as with every answerer.

When the trained model is missing or cannot be trusted, or the stories have no stored
sentences yet (an index built before sentence vectors: ``newsdesk reindex`` upgrades it), it
answers with the hand-tuned ``ExtractiveAnswerer`` instead, and says so once in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from index.encoder import Encoder
from index.lexical import LexicalIndex
from index.store import Store
from retrieval.answer import NOT_FOUND, Answer, Answerer, cite, quote_start
from retrieval.hybrid import Hit
from retrieval.question import Question
from retrieval.reader.cross import CrossScorer, read, rerank
from retrieval.reader.features import (
    Candidate,
    Story,
    candidate_features,
    question_features,
    speaker_quoted,
    stories_of,
)
from retrieval.reader.model import ReaderModel

log = logging.getLogger(__name__)

UPGRADE_NOTE = "This index predates sentence vectors: run `newsdesk reindex` for the trained reader's answers."
DEPTH = 30  # passages retrieved per question: enough to name the best few stories
MAX_QUOTES = 2
NOTHING_MORE = "The indexed articles say no more on that than the quotes already shown."
UNSURE = "Not sure the articles answer this: these are the sentences that come closest."


@dataclass(frozen=True, slots=True)
class Ranked:
    """The reader's view of one question: stories, candidates, their scores and the confidence."""

    stories: list[Story]
    candidates: list[Candidate]
    scores: np.ndarray
    confidence: float
    speaks: np.ndarray  # per candidate: the speaker a "what did X say" question names is quoted here or just before
    threshold: float = 0.5  # the confidence from which to answer (the abstention model's, for how it was scored)
    own: np.ndarray | None = None  # per candidate: that speaker is quoted in this very sentence
    sure: float | None = None  # from this confidence on, an answer is not flagged unsure (``ReaderModel.sure``)


class ReaderAnswerer:
    """Quotes what the trained reader ranks first, when the abstention model believes the articles answer."""

    depth = DEPTH

    def __init__(
        self,
        encoder: Encoder,
        store: Store,
        model: ReaderModel,
        fallback: Answerer,
        cross: Callable[[], CrossScorer | None] | None = None,
    ) -> None:
        """``cross`` loads the model's cross-encoder on first use (``None``: rank with the ranker alone)."""
        self.encoder = encoder
        self.store = store
        self.model = model
        self.fallback = fallback
        self.cross = cross
        self._warned = False

    def rank(self, question: Question, hits: Sequence[Hit], *, lexical: LexicalIndex) -> Ranked | None:
        """Score every candidate sentence; ``None`` when the stories have no stored sentences."""
        articles = list(dict.fromkeys(h.article.id for h in hits))
        sentences = self.store.sentences(articles)
        if articles and not sentences:
            if not self._warned:
                log.warning("this index has no sentence vectors: run `newsdesk reindex` to use the trained reader")
                self._warned = True
            return None
        stories = stories_of(hits, sentences)
        idf = lexical.idf(question.terms)
        query = self.encoder.encode([question.text])[0]
        candidates, matrix = candidate_features(question, stories, query, idf)
        if not candidates:
            return Ranked(stories, [], np.zeros(0), 0.0, np.zeros(0, dtype=bool))
        scores = self.model.rank(matrix)
        scorer = self.cross() if self.cross and self.model.cross else None
        if scorer is not None and self.model.cross is not None:
            top, weight = self.model.cross.top, self.model.cross.weight
            scores = rerank(scores, read(scorer, question.text, candidates, scores, top), weight, top)
        row = question_features(question, stories, matrix, scores, idf)
        confidence, threshold = self.model.confidence(row, crossed=scorer is not None)
        sure = self.model.sure_at(crossed=scorer is not None)
        speaks, own = speaker_quoted(matrix), speaker_quoted(matrix, before=False)
        return Ranked(stories, candidates, scores, confidence, speaks, threshold, own, sure)

    def answer(
        self,
        question: Question,
        hits: Sequence[Hit],
        *,
        lexical: LexicalIndex,
        abstain: bool = True,
        avoid: Sequence[tuple[str, int, int]] = (),
    ) -> Answer:
        """Quote the best one or two sentences, or abstain; an answer below the model's ``sure`` says it is unsure.

        Args:
            question: the analysed question.
            hits: the retrieved passages (their best stories are read whole).
            lexical: the snapshot's BM25 index (for IDF).
            abstain: false when the caller knows the story (a follow-up): quote the best evidence anyway.
            avoid: quotes already shown, ``(article id, start, end)``: quote other sentences ("what else").
        """
        ranked = self.rank(question, hits, lexical=lexical)
        if ranked is None:
            answer = self.fallback.answer(question, hits, lexical=lexical)
            return replace(answer, notes=(*answer.notes, UPGRADE_NOTE))
        if not ranked.candidates:
            return Answer(question.text, False, NOT_FOUND)
        if abstain and ranked.confidence < ranked.threshold:
            return Answer(question.text, False, NOT_FOUND, confidence=ranked.confidence)
        chosen = self.choose(ranked, avoid)
        if not chosen:
            return Answer(question.text, False, NOTHING_MORE if avoid else NOT_FOUND, confidence=ranked.confidence)
        citations = cite((c.story.article, begin, c.end) for c, begin in chosen)
        lines = [f"> {c.quote} [{c.n}]" for c in citations]
        unsure = abstain and ranked.sure is not None and ranked.confidence < ranked.sure
        return Answer(
            question.text,
            True,
            "\n".join(lines),
            tuple(citations),
            confidence=ranked.confidence,
            notes=(UNSURE,) if unsure else (),
        )

    def choose(self, ranked: Ranked, avoid: Sequence[tuple[str, int, int]] = ()) -> list[tuple[Candidate, int]]:
        """The quotes to show for ``ranked`` (see ``choose``)."""
        return choose(ranked.candidates, ranked.scores, ranked.speaks, avoid, ranked.own)


def choose(
    candidates: Sequence[Candidate],
    scores: np.ndarray,
    speaks: np.ndarray,
    avoid: Sequence[tuple[str, int, int]] = (),
    own: np.ndarray | None = None,
) -> list[tuple[Candidate, int]]:
    """The best candidate and the next one worth showing, with their quote starts.

    For "what did X say", when the best does not quote X (``speaks``: X is quoted in the
    sentence or the one before), the second is X's best-scored sentence in the same story
    whatever its score: the reader often leads with the sentence that reports the event, and
    the asker wants X's words. Otherwise it is the next best sentence, in whichever story: a
    second quote is nearly free to read and often holds the answer the first misses (out of
    fold, always showing it put the answer in the first two quotes for 0.427 of the NewsQA
    questions instead of 0.386 with a second quote only when it scored close to the best, and
    for 0.754 / 0.696 of the Discord-style speaker / fact questions instead of 0.729 / 0.651).
    Candidates overlapping a quote in ``avoid`` (already shown) are passed over. Asked for more
    ("what else did X say?": something was shown) when X is quoted in these stories (``own``: in
    the sentence itself), only X's sentences not yet shown are quoted, and none once all were: the
    asker wants the rest of X's words, not the story's next sentence (the README's Peskov follow-up
    quoted Lavrov second).
    """
    order = [int(i) for i in np.argsort(-scores, kind="stable") if not _shown(candidates[i], avoid)]
    if avoid and own is not None and own.any():
        order = [i for i in order if own[i]]
    if not order:
        return []
    best = candidates[order[0]]
    chosen = [(best, quote_start(best.story.article.text, best.story.sentences.spans, best.index))]
    wanted = (
        [i for i in order[1:] if speaks[i] and candidates[i].story is best.story]
        if len(speaks) and not speaks[order[0]]
        else []
    )
    for i in [*wanted, *order[1:]]:
        cand = candidates[i]
        begin = quote_start(cand.story.article.text, cand.story.sentences.spans, cand.index)
        overlaps = any(c.story is cand.story and begin < c.end and b < cand.end for c, b in chosen)
        if not overlaps and not _repeats(cand, begin, chosen):
            chosen.append((cand, begin))
            break
    return chosen[:MAX_QUOTES]


def _repeats(candidate: Candidate, begin: int, chosen: Sequence[tuple[Candidate, int]]) -> bool:
    """Whether a quote says what a chosen one already says (a wire copy's sentence in another article)."""
    text = _plain(candidate.story.article.text[begin : candidate.end])
    return any(text in (other := _plain(c.story.article.text[b : c.end])) or other in text for c, b in chosen)


def _plain(text: str) -> str:
    return " ".join(text.split()).casefold()


def _shown(candidate: Candidate, avoid: Sequence[tuple[str, int, int]]) -> bool:
    """Whether the candidate sentence overlaps a quote already shown."""
    article = candidate.story.article.id
    return any(a == article and start < candidate.end and candidate.start < end for a, start, end in avoid)

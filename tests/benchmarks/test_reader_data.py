"""The reader's training data builder and out-of-fold metrics, on tiny fixtures (no eval data, no real model)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from benchmarks import train_cross
from benchmarks.questions.sets import UserQuestion
from benchmarks.reader_data import (
    FOLDS,
    TEMPLATES,
    Asked,
    SpeakerItem,
    ask_newsqa,
    ask_rows,
    ask_speakers,
    decoy,
    decoy_names,
    folds_by_article,
    gone,
    off_topic,
    speaker_items,
)
from benchmarks.train_reader import GONE_WEIGHT, Gone, _abstention, auc, development_report, reach_report
from index.models import RawArticle
from retrieval.reader.cross import sentence_text
from tests.conftest import MakeEngine

TALKS = RawArticle(
    title="Fishing quotas collapse in northern waters",
    text=(
        "Talks between the two sides collapsed on Friday. The mediator, Anna Berg, left the room early.\n"
        '"We have reached the end of the road," Anna Berg said. Officials expect new talks next month.\n'
        "The dispute concerns fishing rights in the northern sea, worth 40 million euros a year."
    ),
    source="Wire",
)
BUDGET = RawArticle(
    title="City budget approved",
    text="The city council approved its budget on Monday. The budget grows by four percent this year.",
    source="Wire",
)


CHANNEL = RawArticle(
    title="TV channel rapped over crime drama mailout",
    text=(
        "The channel sent out 55,000 promotion packs for its crime drama.\n"
        'A Five spokesman said: "We are surprised a very small minority have been offended by the packs."\n'
        "The regulator received 100 complaints about the mailout."
    ),
    source="Wire",
)


@pytest.mark.parametrize("seed", range(6))
def test_speaker_questions_come_from_the_attribution_table(make_engine: MakeEngine, seed: int):
    """should ask what a quoted person said, in one of the templates, and mark the sentences that quote them."""
    engine = make_engine(TALKS, BUDGET, reader_dir=None, chunk_words=20)
    talks = next(a for a in engine.store.iter_articles() if a.title.startswith("Fishing"))
    (item,) = speaker_items(engine, [talks.id], per_article=2, seed=seed)
    assert item.who in {"Berg", "Anna Berg"}
    assert item.template in TEMPLATES and item.question == item.template.format(who=item.who, topic=item.topic)
    assert item.article_id == talks.id and item.sentences == frozenset({2})
    (asked,) = ask_speakers(engine, [item])
    positives = [c for c, label in zip(asked.candidates, asked.labels, strict=True) if label]
    assert [talks.text[c.start : c.end] for c in positives] == [
        '"We have reached the end of the road," Anna Berg said.'
    ]


def test_an_organisation_is_asked_about_by_the_name_its_spokesman_speaks_for(make_engine: MakeEngine):
    """should ask "what did Five say" for "a Five spokesman said", with the spokesman's sentence positive."""
    engine = make_engine(CHANNEL, BUDGET, reader_dir=None, chunk_words=20)
    channel = next(a for a in engine.store.iter_articles() if a.title.startswith("TV channel"))
    (item,) = speaker_items(engine, [channel.id], per_article=2, seed=0)
    assert (item.who, item.sentences) == ("Five", frozenset({1}))


def test_decoys_ask_about_people_the_index_never_mentions(make_engine: MakeEngine):
    """should swap the speaker for an unknown full name, with nothing to label, and refuse it as unanswerable."""
    engine = make_engine(
        TALKS, RawArticle(title="Marisol visits", text="Marisol Halvorsen opened the new harbour bridge on Sunday.")
    )
    names = decoy_names(engine._current().snapshot.lexical, random.Random(0))
    assert names and not any("Marisol" in n or "Halvorsen" in n for n in names)
    item = SpeakerItem("q", "Berg", "fishing quotas", "a1", frozenset({2}))
    fake = decoy(item, "Anders Tavares")
    assert (fake.question, fake.sentences, fake.article_id) == (
        "What did Anders Tavares say about fishing quotas?",
        frozenset(),
        "a1",
    )
    (asked,) = ask_speakers(engine, [fake], answerable=False)
    assert (asked.full, asked.labels.sum()) == (False, 0)


def test_off_topic_questions_ask_a_quoted_speaker_about_another_articles_topic(make_engine: MakeEngine):
    """should keep the speaker, take a topic from another article's question, label nothing and refuse it."""
    items = [
        SpeakerItem("q1", "Berg", "fishing quotas", "a1", frozenset({2})),
        SpeakerItem("q2", "Berg", "northern sea", "a1", frozenset({2})),
        SpeakerItem("q3", "the mayor", "budget vote", "a2", frozenset({0})),
    ]
    off = off_topic(items, random.Random(0))
    assert [(o.qid, o.who, o.article_id, o.sentences) for o in off] == [
        ("q1-off-topic", "Berg", "a1", frozenset()),
        ("q2-off-topic", "Berg", "a1", frozenset()),
        ("q3-off-topic", "the mayor", "a2", frozenset()),
    ]
    assert [o.topic for o in off[:2]] == ["budget vote", "budget vote"]  # never a topic of their own article
    assert off[2].topic in {"fishing quotas", "northern sea"}
    engine = make_engine(TALKS, BUDGET, reader_dir=None, chunk_words=20)
    (asked,) = ask_speakers(engine, off[:1], answerable=False)
    assert (asked.question, asked.full, asked.labels.sum()) == ("What did Berg say about budget vote?", False, 0)
    assert off_topic(items[:2], random.Random(0)) == []  # one article: no other topic to take


def test_gone_questions_ask_a_quoted_speaker_with_their_own_article_removed(make_engine: MakeEngine):
    """should keep the question and its article (its fold), label nothing, and never retrieve that article."""
    engine = make_engine(TALKS, BUDGET, reader_dir=None, chunk_words=20)
    talks = next(a for a in engine.store.iter_articles() if a.title.startswith("Fishing"))
    item = SpeakerItem("q1", "Berg", "fishing quotas", talks.id, frozenset({2}))
    (removed,) = gone([item])
    assert (removed.qid, removed.question, removed.article_id, removed.sentences) == (
        "q1-gone",
        "What did Berg say about fishing quotas?",
        talks.id,
        frozenset(),
    )
    (there,) = ask_speakers(engine, [item])
    (asked,) = ask_speakers(engine, [removed], answerable=False, own_article=False)
    assert any(c.story.article.id == talks.id for c in there.candidates)
    assert (asked.full, asked.gold, asked.labels.sum()) == (False, talks.id, 0)
    assert all(c.story.article.id != talks.id for c in asked.candidates)


def test_gone_questions_train_abstention_and_are_reported_apart(make_engine: MakeEngine):
    """should add the gone questions as rows to refuse (weighted), keep them out of the NewsQA figures and
    report their own refusal rate."""
    engine = make_engine(TALKS, BUDGET, reader_dir=None, chunk_words=20)
    ids = {a.title: a.id for a in engine.store.iter_articles()}
    question = {"qid": "q1", "question": "What do the fishing rights earn?", "answers": ["40 million euros"]}
    newsqa = ask_newsqa(engine, [{**question, "article_id": "eval-talks"}], {"eval-talks": ids[TALKS.title]})
    item = SpeakerItem("s1", "Berg", "fishing quotas", ids[TALKS.title], frozenset({2}))
    removed = ask_speakers(engine, gone([item, item]), answerable=False, own_article=False)
    everything = newsqa * 5  # five folds of the same two rows: every fold trains on the others
    folds = np.repeat(np.arange(FOLDS), 2)
    scores = [a.labels.copy() if len(a.candidates) else np.zeros(0) for a in everything]
    kept = [i for i, a in enumerate(removed) if len(a.candidates)]
    result = _abstention(
        everything, scores, folds, engine, len(everything), 0, 0, 0,
        Gone(removed, np.asarray([0, 1]), [np.zeros(len(a.candidates)) for a in removed]),
    )  # fmt: skip
    newsqa_rows = sum(1 for a in everything if len(a.candidates))
    assert len(result.x) == newsqa_rows + len(kept)
    assert list(result.y[newsqa_rows:]) == [0.0] * len(kept)
    assert list(result.w[newsqa_rows:]) == [GONE_WEIGHT] * len(kept)
    assert result.report["questions"] == 5  # the NewsQA figures read NewsQA rows only
    assert 0.0 <= result.report["gone_speaker_questions_refused"] <= 1.0


def test_newsqa_questions_are_labelled_in_their_article_only(make_engine: MakeEngine):
    """should label candidates holding an answer in the gold article, and none once that article is removed."""
    engine = make_engine(TALKS, BUDGET, reader_dir=None, chunk_words=20)
    ids = {a.title: a.id for a in engine.store.iter_articles()}
    question = {"qid": "q1", "question": "What do the fishing rights earn?", "answers": ["40 million euros"]}
    asked = ask_newsqa(engine, [{**question, "article_id": "eval-talks"}], {"eval-talks": ids[TALKS.title]})
    full, removed = asked
    assert (full.full, removed.full) == (True, False)
    labelled = [c.story.article.text[c.start : c.end] for c, y in zip(full.candidates, full.labels, strict=True) if y]
    assert labelled == ["The dispute concerns fishing rights in the northern sea, worth 40 million euros a year."]
    assert removed.labels.sum() == 0
    assert all(c.story.article.id != ids[TALKS.title] for c in removed.candidates)


def test_folds_keep_an_articles_questions_together():
    """should give every question about one article the same fold, spreading articles over all folds."""
    asked = [
        Asked(f"q{i}", "?", f"article-{i % 7}", [], True, [], [], np.zeros((0, 1)), np.zeros(0)) for i in range(40)
    ]
    folds = folds_by_article(asked, seed=3)
    assert sorted(folds) == [f"article-{i}" for i in range(7)]
    assert set(folds.values()) == set(range(FOLDS))
    assert folds == folds_by_article(asked, seed=3)


@pytest.mark.parametrize(
    ("labels", "scores", "expected"),
    [
        pytest.param([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1], 1.0, id="perfect"),
        pytest.param([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9], 0.0, id="inverted"),
        pytest.param([1, 0], [0.5, 0.5], 0.5, id="tie"),
        pytest.param([1, 0, 1, 0], [0.9, 0.7, 0.6, 0.1], 0.75, id="one-swap"),
    ],
)
def test_auc(labels: list[int], scores: list[float], expected: float):
    """should be the probability that a positive outranks a negative, ties counting half."""
    assert auc(np.asarray(labels), np.asarray(scores)) == pytest.approx(expected)


def test_reach_report_splits_answerable_questions_by_whether_an_answer_is_a_candidate():
    """should report abstention apart for questions whose answer is among the candidates and those whose is not,
    each against every removed question, and how often the latter's own removed twins are answered."""

    def asked(qid: str, full: bool, labels: list[float]) -> Asked:
        return Asked(qid, "?", "a", [], full, [], [], np.zeros((len(labels), 1)), np.asarray(labels))

    rows = [asked("q1", True, [1, 0]), asked("q2", True, [0, 0]), asked("q3", True, [])]
    rows += [asked(q, False, [0]) for q in ("q1", "q2", "q3")]
    result = reach_report(rows, np.asarray([0.9, 0.6, 0.2, 0.1, 0.7, 0.3]), 0.5)
    assert result == {
        "answer_among_candidates": pytest.approx(1 / 3),
        "answer_rate_answer_among_candidates": 1.0,
        "confidence_auc_answer_among_candidates": 1.0,
        "answer_rate_answer_not_among_candidates": 0.5,
        "confidence_auc_answer_not_among_candidates": pytest.approx(3 / 6),
        "false_answer_rate_twins_of_answer_not_among_candidates": 0.5,
    }


DEV_ROWS = [
    UserQuestion(
        qid="d1",
        kind="speaker",
        article_id="eval-talks",
        expected=["end of the road"],
        question="what did berg say about the talks",
    ),
    UserQuestion(
        qid="r1", kind="refuse", article_id=None, expected=[], absent=["2022"], question="who won the 2022 world cup"
    ),
]


def test_development_questions_are_labelled_by_their_expected_phrases(make_engine: MakeEngine):
    """should mark the sentence holding an expected phrase in the expected article; a refusal is unanswerable."""
    engine = make_engine(TALKS, BUDGET, reader_dir=None, chunk_words=20)
    ids = {a.title: a.id for a in engine.store.iter_articles()}
    speaker, refusal = ask_rows(engine, DEV_ROWS, {"eval-talks": ids[TALKS.title]})
    marked = zip(speaker.candidates, speaker.labels, strict=True)
    labelled = [c.story.article.text[c.start : c.end] for c, y in marked if y]
    assert labelled == ['"We have reached the end of the road," Anna Berg said.']
    assert (speaker.full, speaker.kind, speaker.gold) == (True, "speaker", ids[TALKS.title])
    assert (refusal.full, refusal.kind, refusal.gold, refusal.labels.sum()) == (False, "refuse", "refusal-r1", 0)


def test_development_report_grades_as_the_question_benchmark_does(make_engine: MakeEngine):
    """should count an answered speaker question right when its first quotes hold the phrase, a refusal when silent."""
    engine = make_engine(TALKS, BUDGET, reader_dir=None, chunk_words=20)
    ids = {a.title: a.id for a in engine.store.iter_articles()}
    asked = ask_rows(engine, DEV_ROWS, {"eval-talks": ids[TALKS.title]})
    for a in asked:
        a.oof = a.labels * 10.0  # the ranker puts the labelled sentence first
    assert development_report(asked, np.asarray([0.9, 0.1]), 0.5) == {"refuse": 1.0, "speaker": 1.0, "overall": 1.0}
    assert development_report(asked, np.asarray([0.1, 0.9]), 0.5) == {"refuse": 0.0, "speaker": 0.0, "overall": 0.0}


def test_cross_encoder_pairs_come_from_answerable_questions_best_candidates(make_engine: MakeEngine):
    """should pair an answerable question with its labelled positive and at most ``NEGATIVES`` of its other top
    candidates, and leave out a question the articles cannot answer (measured: its best candidate as one more
    negative did not help; see the README)."""
    engine = make_engine(TALKS, BUDGET, reader_dir=None, chunk_words=20)
    ids = {a.title: a.id for a in engine.store.iter_articles()}
    speaker, refusal = ask_rows(engine, DEV_ROWS, {"eval-talks": ids[TALKS.title]})
    for a in (speaker, refusal):
        a.oof = np.arange(len(a.candidates), 0, -1, dtype=np.float64)  # the first candidate is the best
    pairs = train_cross.pairs([speaker, refusal], seed=0)
    assert [s for _, s, y in pairs if y == 1.0] == ['"We have reached the end of the road," Anna Berg said.']
    negatives = [s for _, s, y in pairs if y == 0.0]
    top = {sentence_text(speaker.candidates[i]) for i in range(min(train_cross.TOP, len(speaker.candidates)))}
    assert 0 < len(negatives) <= train_cross.NEGATIVES and set(negatives) <= top
    assert {q for q, _, _ in pairs} == {speaker.question}
    assert pairs == train_cross.pairs([speaker, refusal], seed=0)  # seeded

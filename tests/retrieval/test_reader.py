"""The learned reader on tiny fixtures: stored sentences, features, the model's loading and its fallbacks."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from app.engine import Engine
from index.models import RawArticle
from retrieval.answer import ExtractiveAnswerer
from retrieval.question import analyse
from retrieval.reader.answerer import NOTHING_MORE, UNSURE, UPGRADE_NOTE, ReaderAnswerer, choose
from retrieval.reader.cross import CROSS, read, rerank
from retrieval.reader.features import (
    CANDIDATE_FEATURES,
    QUESTION_FEATURES,
    Candidate,
    candidate_features,
    question_features,
    question_numbers,
    speaker_quoted,
    stories_of,
)
from retrieval.reader.model import (
    ABSTAIN,
    ABSTAIN_ALONE,
    MANIFEST,
    MODEL_DIR,
    RANKER,
    SURE_FALSE_ANSWER_RATE,
    load_reader,
    sha256,
    sure_from,
)
from retrieval.scope import Scope
from tests.conftest import MakeEngine
from tests.retrieval.test_cross import write_cross

TALKS = RawArticle(
    title="Fishing talks collapse",
    text=(
        "Talks between the two sides collapsed on Friday. The mediator, Anna Berg, left the room early.\n"
        '"We have reached the end of the road," Berg said. Officials expect new talks next month.\n'
        "The dispute concerns fishing rights in the northern sea, worth 40 million euros a year."
    ),
    source="Wire",
)
BUDGET = RawArticle(
    title="City budget approved",
    text=(
        "The city council approved its budget on Monday. Mayor Tom Reyes praised the vote.\n"
        '"This budget puts schools first," Reyes said. The budget grows by four percent.'
    ),
    source="Wire",
)


def _train_tiny_reader(
    directory: Path, *, threshold: float = 0.0, ranker_only: float | None = None, sure: float | None = None
) -> Path:
    """A real (tiny) LightGBM ranker and abstention model with a valid manifest, trained on synthetic rows.

    ``ranker_only``: also a cross-encoder, the abstention model (a copy) and this threshold for
    when it cannot be loaded, as training writes them. ``sure``: an out-of-fold curve whose
    false-answer rate meets the limit from that confidence on.
    """
    import lightgbm

    rng = np.random.default_rng(0)
    x = rng.random((200, len(CANDIDATE_FEATURES))).astype(np.float32)
    y = (x[:, CANDIDATE_FEATURES.index("cov")] > 0.5).astype(np.float32)
    params = {"verbose": -1, "num_threads": 1, "deterministic": True, "min_data_in_leaf": 5, "seed": 1}
    ranker = lightgbm.train({**params, "objective": "lambdarank"}, lightgbm.Dataset(x, y, group=[20] * 10), 5)
    q = rng.random((100, len(QUESTION_FEATURES))).astype(np.float32)
    abstain = lightgbm.train({**params, "objective": "binary"}, lightgbm.Dataset(q, (q[:, 0] > 0.5).astype(float)), 5)
    directory.mkdir(parents=True, exist_ok=True)
    ranker.save_model(str(directory / RANKER))
    abstain.save_model(str(directory / ABSTAIN))
    manifest = {
        "candidate_features": list(CANDIDATE_FEATURES),
        "question_features": list(QUESTION_FEATURES),
        "threshold": threshold,
        "sha256": {RANKER: sha256(directory / RANKER), ABSTAIN: sha256(directory / ABSTAIN)},
    }
    if sure is not None:
        manifest["curve"] = [
            {"threshold": t, "answer_rate": 0.9, "false_answer_rate": 0.2 if t >= sure else 0.6}
            for t in (threshold, sure, sure + 0.1)
        ]
    if ranker_only is not None:
        shutil.copy(directory / ABSTAIN, directory / ABSTAIN_ALONE)
        spec = write_cross(directory)
        manifest["cross"] = {**dataclasses.asdict(spec), "top": 4}
        manifest["ranker_only"] = {"threshold": ranker_only}
        manifest["sha256"][ABSTAIN_ALONE] = sha256(directory / ABSTAIN_ALONE)  # type: ignore[index]
    (directory / MANIFEST).write_text(json.dumps(manifest))
    return directory


def test_ingest_stores_every_sentence_with_its_vector_and_attributions(make_engine: MakeEngine):
    """should embed each sentence once at ingest, as float16 unit vectors, with who is quoted where."""
    engine = make_engine(TALKS, reader_dir=None)
    (article,) = engine.store.iter_articles()
    stored = engine.store.sentences([article.id])[article.id]
    assert [article.text[s:e] for s, e in stored.spans][2] == '"We have reached the end of the road," Berg said.'
    assert stored.vectors.dtype == np.float16
    assert stored.vectors.shape == (len(stored.spans), engine.encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(stored.vectors.astype(np.float32), axis=1), 1.0, atol=1e-2)
    (quote,) = json.loads(stored.attributions)
    assert (quote["speaker"], quote["sentence"]) == ("Anna Berg", 2)
    assert engine.store.articles_without_sentences() == 0


def test_reindex_rewrites_sentences(make_engine: MakeEngine):
    """should replace sentence rows with the passages on reindex, leaving one row per article."""
    engine = make_engine(TALKS, BUDGET, reader_dir=None)
    engine.store.db.execute("DELETE FROM sentences")
    assert engine.store.articles_without_sentences() == 2
    engine.reindex()
    assert engine.store.articles_without_sentences() == 0
    assert engine.store.db.execute("SELECT COUNT(*) FROM sentences").fetchone()[0] == 2


def test_candidates_are_every_sentence_of_the_best_stories(make_engine: MakeEngine):
    """should describe every quotable sentence of the retrieved stories, with the speaker the question names."""
    engine = make_engine(TALKS, BUDGET, reader_dir=None, chunk_words=20)
    question = analyse("What did Berg say about the talks?")
    hits = engine._search(engine._current(), question, Scope(), 30, "hybrid")
    stories = stories_of(hits, engine.store.sentences(h.article.id for h in hits))
    assert stories[0].article.title == "Fishing talks collapse"
    query = engine.query_encoder.encode([question.text])[0]
    candidates, matrix = candidate_features(
        question, stories, query, engine._current().snapshot.lexical.idf(question.terms)
    )
    assert matrix.shape == (len(candidates), len(CANDIDATE_FEATURES))
    talks = [c for c in candidates if c.story.article.title == "Fishing talks collapse"]
    assert len(talks) == 5  # every sentence of the story, not only those of the matching passage
    column = CANDIDATE_FEATURES.index("speaker_match")
    by_text = {c.story.article.text[c.start : c.end]: row for c, row in zip(candidates, matrix, strict=True)}
    assert by_text['"We have reached the end of the road," Berg said.'][column] == pytest.approx(0.95)
    assert by_text["Officials expect new talks next month."][column] == 0.0
    assert by_text['"This budget puts schools first," Reyes said.'][column] == 0.0
    assert matrix[:, CANDIDATE_FEATURES.index("cos_rel")].max() == 0.0


def test_question_numbers_are_what_the_question_writes():
    """should take the numbers the question writes out, each once, without trailing punctuation."""
    assert question_numbers("What happened?") == []
    assert question_numbers("Were 40 or 1,200 boats worth 40 million euros in 2009?") == ["40", "1,200", "2009"]


def test_candidates_are_described_against_their_story_and_the_question_numbers(make_engine: MakeEngine):
    """should mark the sentence holding the asked number, and compare each sentence with its story's best."""
    engine = make_engine(TALKS, BUDGET, reader_dir=None, chunk_words=20)
    question = analyse("How much are the fishing rights Berg spoke of worth, 40 million euros?")
    hits = engine._search(engine._current(), question, Scope(), 30, "hybrid")
    stories = stories_of(hits, engine.store.sentences(h.article.id for h in hits))
    query = engine.query_encoder.encode([question.text])[0]
    candidates, matrix = candidate_features(
        question, stories, query, engine._current().snapshot.lexical.idf(question.terms)
    )
    column = {name: i for i, name in enumerate(CANDIDATE_FEATURES)}
    by_text = {c.story.article.text[c.start : c.end]: row for c, row in zip(candidates, matrix, strict=True)}
    worth = by_text["The dispute concerns fishing rights in the northern sea, worth 40 million euros a year."]
    berg = by_text['"We have reached the end of the road," Berg said.']
    assert (worth[column["num_in"]], berg[column["num_in"]]) == (1.0, 0.0)
    assert (worth[column["cov_story_rel"]], worth[column["dist_best_cov"]]) == (0.0, 0.0)
    assert berg[column["dist_best_cov"]] == 2.0
    assert berg[column["cov_story_rel"]] < 0.0
    for rank in np.unique(matrix[:, column["story_rank"]]):  # each story's best sentence is the reference
        own = matrix[matrix[:, column["story_rank"]] == rank]
        assert own[:, column["cos_story_rank"]].min() == 0.0
        assert own[:, column["cos_story_rel"]].max() == 0.0
        assert own[:, column["win_story_rel"]].max() == 0.0
    assert matrix[:, column["story_max_cos_rel"]].max() == 0.0
    assert matrix[:, column["story_cov_rel"]].max() == 0.0


def test_topic_words_outside_the_question_terms_are_ignored(make_engine: MakeEngine):
    """should describe candidates when the asked topic holds a word the question's terms leave out ("say")."""
    engine = make_engine(TALKS, reader_dir=None, chunk_words=20)
    question = analyse("What did Berg say about what officials say?")
    hits = engine._search(engine._current(), question, Scope(), 30, "hybrid")
    stories = stories_of(hits, engine.store.sentences(h.article.id for h in hits))
    query = engine.query_encoder.encode([question.text])[0]
    idf = engine._current().snapshot.lexical.idf(question.terms)
    candidates, matrix = candidate_features(question, stories, query, idf)
    assert len(candidates) == 5 and np.isfinite(matrix).all()


def test_missing_model_falls_back_to_the_extractive_scorer(make_engine: MakeEngine, tmp_path: Path, caplog):
    """should log why and answer with the hand-tuned scorer when the model files are missing."""
    with caplog.at_level(logging.WARNING):
        engine = make_engine(TALKS, reader_dir=tmp_path / "nowhere")
    assert isinstance(engine.answerer, ExtractiveAnswerer)
    assert "no trained reader model" in caplog.text
    assert engine.ask("What does the dispute concern?").answered


def test_altered_model_is_refused_by_its_hash(tmp_path: Path, caplog):
    """should not load a model file whose hash differs from the manifest's."""
    directory = _train_tiny_reader(tmp_path / "reader")
    with (directory / RANKER).open("a") as fh:
        fh.write("\n")
    with caplog.at_level(logging.WARNING):
        assert load_reader(directory) is None
    assert "does not match its recorded hash" in caplog.text


def test_corrupt_model_and_other_features_are_refused(tmp_path: Path, caplog):
    """should refuse garbage model files and models trained on other feature columns, without raising."""
    directory = _train_tiny_reader(tmp_path / "reader")
    manifest = json.loads((directory / MANIFEST).read_text())
    (directory / MANIFEST).write_text(json.dumps({**manifest, "candidate_features": ["cos"]}))
    assert load_reader(directory) is None
    (directory / RANKER).write_text("not a model")
    manifest["sha256"][RANKER] = sha256(directory / RANKER)
    (directory / MANIFEST).write_text(json.dumps(manifest))
    with caplog.at_level(logging.WARNING):
        assert load_reader(directory) is None
    assert "cannot be loaded" in caplog.text


def test_reader_quotes_verbatim_from_stored_sentences(make_engine: MakeEngine, tmp_path: Path):
    """should answer with a trained model: quotes exact at their offsets, the question the only thing encoded."""
    engine = make_engine(TALKS, BUDGET, reader_dir=_train_tiny_reader(tmp_path / "reader"), chunk_words=20)
    assert isinstance(engine.answerer, ReaderAnswerer)
    calls = engine.encoder.calls
    answer = engine.ask("What does the fishing dispute concern?")
    assert engine.encoder.calls == calls + 1  # the question, and no sentence
    assert answer.answered and answer.citations
    for c in answer.citations:
        article = engine.store.article(c.article_id)
        assert article is not None and article.text[c.start : c.end] == c.quote


@pytest.mark.slow
def test_the_cross_encoder_rescores_the_best_candidates_and_answers_at_its_own_threshold(
    make_engine: MakeEngine, tmp_path: Path
):
    """should add the cross-encoder's logits to the ranker's best few, and abstain by the model trained that way."""
    directory = _train_tiny_reader(tmp_path / "reader", threshold=0.0, ranker_only=1.01)
    engine = make_engine(TALKS, BUDGET, reader_dir=directory, chunk_words=20, backend="torch")
    answerer = engine.answerer
    assert isinstance(answerer, ReaderAnswerer) and answerer.cross is not None
    question = analyse("What does the fishing dispute concern?")
    lexical = engine._current().snapshot.lexical
    hits = engine._search(engine._current(), question, Scope(), 30, "hybrid")
    ranked = answerer.rank(question, hits, lexical=lexical)
    assert ranked is not None and ranked.threshold == 0.0  # the crossed model's, not the ranker-only 1.01
    spec, scorer = answerer.model.cross, answerer.cross()
    assert spec is not None and scorer is not None and scorer.backend == "torch"
    stories = stories_of(hits, engine.store.sentences(h.article.id for h in hits))
    query = engine.query_encoder.encode([question.text])[0]
    candidates, matrix = candidate_features(question, stories, query, lexical.idf(question.terms))
    alone = answerer.model.rank(matrix)
    logits = read(scorer, question.text, candidates, alone, spec.top)
    assert len(logits) == spec.top < len(candidates)
    np.testing.assert_allclose(ranked.scores, rerank(alone, logits, spec.weight, spec.top))
    assert not np.allclose(ranked.scores, alone)
    answer = engine.ask("What does the fishing dispute concern?")
    assert answer.answered
    for c in answer.citations:
        article = engine.store.article(c.article_id)
        assert article is not None and article.text[c.start : c.end] == c.quote


@pytest.mark.slow
def test_without_its_cross_encoder_the_reader_ranks_alone_at_the_ranker_only_threshold(
    make_engine: MakeEngine, tmp_path: Path, caplog
):
    """should say why, rank with the ranker alone and abstain by the model trained without the cross-encoder.

    The crossed model's curve (its "sure" above every confidence) does not flag the ranker-only answer unsure.
    """
    directory = _train_tiny_reader(tmp_path / "reader", threshold=1.01, ranker_only=0.0, sure=1.5)
    with (directory / CROSS).open("ab") as fh:
        fh.write(b"\0")
    engine = make_engine(TALKS, BUDGET, reader_dir=directory, chunk_words=20, backend="torch")
    with caplog.at_level(logging.WARNING):
        answer = engine.ask("What does the fishing dispute concern?")
    assert "cross-encoder does not match its recorded hash" in caplog.text
    assert answer.answered  # at the ranker-only threshold (0.0): the crossed one (1.01) would refuse
    assert answer.notes == ()


@pytest.mark.slow
def test_a_reader_told_not_to_use_its_cross_encoder_ranks_alone(make_engine: MakeEngine, tmp_path: Path):
    """should not load the cross-encoder with ``cross_encoder=False``, and abstain at the ranker-only threshold."""
    directory = _train_tiny_reader(tmp_path / "reader", threshold=1.01, ranker_only=0.0)
    engine = make_engine(TALKS, reader_dir=directory, chunk_words=20, cross_encoder=False)
    assert isinstance(engine.answerer, ReaderAnswerer) and engine.answerer.cross is None
    assert engine.ask("What does the fishing dispute concern?").answered


def test_reader_abstains_below_its_threshold(make_engine: MakeEngine, tmp_path: Path):
    """should say the articles do not answer when the abstention model is below the threshold."""
    engine = make_engine(TALKS, reader_dir=_train_tiny_reader(tmp_path / "reader", threshold=1.01), chunk_words=20)
    answer = engine.ask("What does the fishing dispute concern?")
    assert (answer.answered, answer.citations) == (False, ())


def test_an_answer_below_the_sure_confidence_says_it_is_unsure(make_engine: MakeEngine, tmp_path: Path):
    """should answer between the threshold and the curve's "sure" confidence, saying it is unsure; not above."""
    question = "What does the fishing dispute concern?"
    unsure = make_engine(TALKS, reader_dir=_train_tiny_reader(tmp_path / "a", sure=1.01), chunk_words=20)
    answer = unsure.ask(question)
    assert answer.answered and answer.notes == (UNSURE,)
    sure = make_engine(TALKS, reader_dir=_train_tiny_reader(tmp_path / "b", sure=0.0), chunk_words=20)
    assert sure.ask(question).answered and sure.ask(question).notes == ()


def test_sure_is_the_lowest_curve_point_within_the_false_answer_limit():
    """should take the first threshold (not below the answer threshold) whose false answers meet the limit."""
    curve = [
        {"threshold": 0.3, "answer_rate": 0.92, "false_answer_rate": 0.30},
        {"threshold": 0.4, "answer_rate": 0.85, "false_answer_rate": 0.54},
        {"threshold": 0.5, "answer_rate": 0.64, "false_answer_rate": SURE_FALSE_ANSWER_RATE},
        {"threshold": 0.6, "answer_rate": 0.49, "false_answer_rate": 0.15},
    ]
    assert sure_from(curve, 0.38) == 0.5
    assert sure_from(curve[:2], 0.38) is None
    assert sure_from([], 0.38) is None


def test_reader_can_be_told_not_to_abstain(make_engine: MakeEngine, tmp_path: Path):
    """should quote its best evidence below the threshold when the caller vouches for the story (a follow-up)."""
    engine = make_engine(TALKS, reader_dir=_train_tiny_reader(tmp_path / "reader", threshold=1.01), chunk_words=20)
    (article,) = engine.store.iter_articles()
    answer = engine.ask("What does the fishing dispute concern?", Scope(article_ids=(article.id,)), abstain=False)
    assert answer.answered and answer.confidence < 1.01
    assert all(article.text[c.start : c.end] == c.quote for c in answer.citations)


def test_quotes_already_shown_are_not_quoted_again(make_engine: MakeEngine, tmp_path: Path):
    """should pass over the sentences of ``avoid_quotes`` ("what else"), and say so when nothing else is left."""
    engine = make_engine(TALKS, reader_dir=_train_tiny_reader(tmp_path / "reader"), chunk_words=20)
    (article,) = engine.store.iter_articles()
    first = engine.ask("What does the fishing dispute concern?")
    shown = tuple((c.article_id, c.start, c.end) for c in first.citations)
    again = engine.ask("What does the fishing dispute concern?", Scope(avoid_quotes=shown))
    assert again.answered and not {(c.article_id, c.start, c.end) for c in again.citations} & set(shown)
    every = tuple((article.id, s, e) for s, e in engine.store.sentences([article.id])[article.id].spans)
    nothing = engine.ask("What does the fishing dispute concern?", Scope(avoid_quotes=every))
    assert (nothing.answered, nothing.text) == (False, NOTHING_MORE)


def test_what_else_did_the_speaker_say_quotes_their_words_until_none_are_left(make_engine: MakeEngine, tmp_path: Path):
    """should quote Berg's one quote for "what else did Berg say" while it is unshown, then say there is no more."""
    engine = make_engine(TALKS, reader_dir=_train_tiny_reader(tmp_path / "reader"), chunk_words=20)
    (article,) = engine.store.iter_articles()
    lead = article.text.index("Talks between")
    elsewhere = ((article.id, lead, lead + len("Talks between the two sides collapsed on Friday.")),)
    more = engine.ask("What else did Berg say about the talks?", Scope(avoid_quotes=elsewhere))
    assert [c.quote for c in more.citations] == ['"We have reached the end of the road," Berg said.']
    shown = (*elsewhere, *((c.article_id, c.start, c.end) for c in more.citations))
    done = engine.ask("What else did Berg say about the talks?", Scope(avoid_quotes=shown))
    assert (done.answered, done.text) == (False, NOTHING_MORE)


def test_index_without_sentence_vectors_falls_back(make_engine: MakeEngine, tmp_path: Path, caplog):
    """should answer with the fallback scorer and say `newsdesk reindex` once, never crash, on an old index."""
    engine: Engine = make_engine(TALKS, reader_dir=_train_tiny_reader(tmp_path / "reader"), chunk_words=20)
    engine.store.db.execute("DELETE FROM sentences")
    with caplog.at_level(logging.WARNING):
        first = engine.ask("What does the fishing dispute concern?")
        engine.ask("What did Berg say?")
    assert (
        first.citations[0].quote
        == "The dispute concerns fishing rights in the northern sea, worth 40 million euros a year."
    )
    assert caplog.text.count("newsdesk reindex") == 1
    assert first.notes == (UPGRADE_NOTE,)


def _talks_candidates(make_engine: MakeEngine, question_text: str) -> tuple[list[Candidate], np.ndarray]:
    candidates, matrix, _ = _talks_question(make_engine, question_text)
    return candidates, matrix


def _talks_question(make_engine: MakeEngine, question_text: str) -> tuple[list[Candidate], np.ndarray, np.ndarray]:
    """Candidates, their rows and the question's row (zero ranker scores) over TALKS and BUDGET."""
    return _question_over(make_engine, question_text, TALKS, BUDGET)


def _question_over(
    make_engine: MakeEngine, question_text: str, *articles: RawArticle
) -> tuple[list[Candidate], np.ndarray, np.ndarray]:
    """Candidates, their rows and the question's row (zero ranker scores) over ``articles``."""
    engine = make_engine(*articles, reader_dir=None, chunk_words=20)
    question = analyse(question_text)
    hits = engine._search(engine._current(), question, Scope(), 30, "hybrid")
    stories = stories_of(hits, engine.store.sentences(h.article.id for h in hits))
    query = engine.query_encoder.encode([question.text])[0]
    idf = engine._current().snapshot.lexical.idf(question.terms)
    candidates, matrix = candidate_features(question, stories, query, idf)
    return candidates, matrix, question_features(question, stories, matrix, np.zeros(len(matrix)), idf)


def test_a_lower_case_question_matches_the_speaker_and_reads_the_topic_around_each_sentence(make_engine: MakeEngine):
    """should match "berg" typed in lower case, and give the topic's coverage around each sentence."""
    candidates, matrix = _talks_candidates(make_engine, "what did berg say about the talks")
    column = {name: i for i, name in enumerate(CANDIDATE_FEATURES)}
    by_text = {c.story.article.text[c.start : c.end]: row for c, row in zip(candidates, matrix, strict=True)}
    quote = by_text['"We have reached the end of the road," Berg said.']
    assert quote[column["speaker_match"]] == pytest.approx(0.95)
    assert quote[column["cov_topic_win"]] == 1.0  # "talks" in the next sentence
    assert by_text["The city council approved its budget on Monday."][column["cov_topic_win"]] == 0.0
    marked = speaker_quoted(matrix)
    quoted = [c.story.article.text[c.start : c.end] for c, yes in zip(candidates, marked, strict=True) if yes]
    assert quoted == ['"We have reached the end of the road," Berg said.', "Officials expect new talks next month."]


def test_without_a_speaker_the_topic_features_say_so(make_engine: MakeEngine):
    """should mark the topic and speaker features as not asked (-1) for a question that names no speaker."""
    _, matrix, row = _talks_question(make_engine, "How much are the fishing rights worth?")
    names = list(QUESTION_FEATURES)
    assert (row[0, names.index("topic_cov_best")], row[0, names.index("speaker_topic_cov")]) == (-1.0, -1.0)
    assert not speaker_quoted(matrix).any()


def test_the_second_quote_is_the_asked_speakers_when_the_best_does_not_quote_them(make_engine: MakeEngine):
    """should quote Berg second, whatever his score, when the best sentence is someone else's or nobody's."""
    candidates, matrix = _talks_candidates(make_engine, "What did Berg say about the talks?")
    texts = [c.story.article.text[c.start : c.end] for c in candidates]
    berg = texts.index('"We have reached the end of the road," Berg said.')
    lead = texts.index("Talks between the two sides collapsed on Friday.")
    budget = texts.index("The city council approved its budget on Monday.")
    scores = np.full(len(candidates), -5.0)
    scores[lead], scores[budget], scores[berg] = 3.0, 1.0, -4.0  # Berg below the budget story
    chosen = choose(candidates, scores, speaker_quoted(matrix))
    assert [texts[candidates.index(c)] for c, _ in chosen] == [texts[lead], texts[berg]]
    without_speaker = choose(candidates, scores, np.zeros(len(candidates), dtype=bool))
    assert [texts[candidates.index(c)] for c, _ in without_speaker] == [texts[lead], texts[budget]]
    assert candidates[budget].story is not candidates[lead].story  # the next best, from whichever story


def test_the_quotes_pass_over_what_was_shown(make_engine: MakeEngine):
    """should skip a quote already shown ("what else"), for the first quote and the second alike."""
    candidates, _ = _talks_candidates(make_engine, "What did Berg say about the talks?")
    texts = [c.story.article.text[c.start : c.end] for c in candidates]
    lead = texts.index("Talks between the two sides collapsed on Friday.")
    budget = texts.index("The city council approved its budget on Monday.")
    scores = np.arange(len(candidates), dtype=np.float64)
    scores[lead], scores[budget] = 100.0, 99.0
    shown = [(candidates[lead].story.article.id, candidates[lead].start, candidates[lead].end)]
    chosen = choose(candidates, scores, np.zeros(len(candidates), dtype=bool), shown)
    runner_up = max(i for i in range(len(candidates)) if i not in (lead, budget))
    assert [texts[candidates.index(c)] for c, _ in chosen] == [texts[budget], texts[runner_up]]


def test_asked_for_more_only_the_asked_speakers_own_words_are_quoted(make_engine: MakeEngine):
    """should quote only sentences quoting Berg for "what else did Berg say", however the others score, and
    nothing once all of them were shown."""
    candidates, matrix = _talks_candidates(make_engine, "What did Berg say about the talks?")
    texts = [c.story.article.text[c.start : c.end] for c in candidates]
    lead = texts.index("Talks between the two sides collapsed on Friday.")
    berg = texts.index('"We have reached the end of the road," Berg said.')
    after = texts.index("Officials expect new talks next month.")  # Berg is quoted in the sentence before
    scores = np.zeros(len(candidates))
    scores[lead], scores[after], scores[berg] = 9.0, 5.0, 3.0
    elsewhere = [("another-article", 0, 10)]
    speaks, own = speaker_quoted(matrix), speaker_quoted(matrix, before=False)
    more = [texts[candidates.index(c)] for c, _ in choose(candidates, scores, speaks, elsewhere, own)]
    assert more == [texts[berg]]
    first_time = [texts[candidates.index(c)] for c, _ in choose(candidates, scores, speaks, (), own)]
    assert first_time == [texts[lead], texts[after]]  # a first question leads with the best sentence
    shown = [(candidates[berg].story.article.id, candidates[berg].start, candidates[berg].end)]
    assert choose(candidates, scores, speaks, shown, own) == []  # all Berg said was shown: nothing more to quote


TREATY = RawArticle(
    title="Fishing treaty signed",
    text=(
        "The fishing treaty was signed in Oslo on Friday after talks that began in 2003.\n"
        '"This ends a long dispute," the mediator, Anna Berg, said of the treaty.'
    ),
    source="Wire",
    published="2005-03-04",
)


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("What did Berg say about the fishing treaty?", (0.0, 0.0, 0.0)),
        ("What did Berg say about the fishing treaty in 2003?", (1.0, 0.0, 0.0)),
        ("What did Berg say about the fishing treaty in 2004?", (1.0, 1.0, 0.0)),  # before the story: could be there
        ("What did Berg say about the fishing treaty in 2019?", (1.0, 1.0, 1.0)),  # after it: the story cannot know
    ],
)
def test_a_year_the_story_cannot_report_is_a_question_feature(
    make_engine: MakeEngine, asked: str, expected: tuple[float, float, float]
):
    """should mark a year the best story never names, and one later than its text and publication date."""
    _, matrix, rows = _question_over(make_engine, asked, TREATY)
    row = rows[0]
    names = list(QUESTION_FEATURES)
    assert tuple(row[names.index(n)] for n in ("asks_year", "year_not_in_story", "year_after_story")) == expected
    assert row[names.index("chosen_speaker_match")] == matrix[0, CANDIDATE_FEATURES.index("speaker_match")]


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("What did Berg say about the fishing treaty?", 0.0),
        ("Was the fishing treaty ever signed?", 1.0),
        ("did the treaty talks end up anywhere", 1.0),
        ("Has Norway finally signed the treaty?", 1.0),
        ("Is Berg still the mediator?", 1.0),
        ("What did Berg say about the treaty so far?", 1.0),
        ("How long did the everlasting dispute last?", 0.0),  # a word, not "ever"
        ("Does Berg chair the treaty talks any more?", 1.0),
        ("any more details on the fishing treaty?", 0.0),  # asks for more, not for an outcome
    ],
)
def test_a_question_about_how_something_turned_out_is_a_question_feature(
    make_engine: MakeEngine, asked: str, expected: float
):
    """should mark questions about a later outcome ("ever", "end up", "finally", "still"): stories rarely hold it."""
    _, _, rows = _question_over(make_engine, asked, TREATY)
    assert rows[0][list(QUESTION_FEATURES).index("asks_outcome")] == expected


def test_the_shipped_reader_has_an_unsure_band_from_its_own_curve():
    """should read "sure" from the shipped out-of-fold curve: above the answer threshold, within the limit."""
    model = load_reader(MODEL_DIR)
    assert model is not None and model.sure is not None and model.threshold < model.sure
    (point,) = [p for p in model.manifest["curve"] if p["threshold"] == model.sure]
    assert point["false_answer_rate"] <= SURE_FALSE_ANSWER_RATE

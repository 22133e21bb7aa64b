"""Train the reader from NewsQA dev (read by path from ``../shared/eval``) and report it out of fold.

    python -m benchmarks.train_reader [--eval-dir DIR] [--data-dir DIR] [--out retrieval/reader/model] [--save-oof FILE]
        [--cross-frozen-layers N] [--cross-epochs N]

1. Index the benchmark corpus (``benchmarks.quality``: NewsQA + CNN/DailyMail + BBC + seed, with
   sentence vectors) and, for every NewsQA dev question, retrieve through the engine as a user's
   question is retrieved: once on the full index, once with the question's own article removed
   (the case where the news does not say).
2. Build the candidates and their features with ``retrieval.reader.features`` (the code the
   answerer runs). A candidate is positive when it lies in the question's article and holds
   one of its crowd answers. Speaker questions and their decoys (people the news never mentions;
   the same people asked about another article's topic)
   are added from the attribution tables (``benchmarks/reader_data.py``), the same speaker questions asked
   with their own article removed (for abstention only: nothing answers them), and the Discord-style
   development questions of ``benchmarks/questions/dev.jsonl`` (an expected phrase in the expected
   article is positive; refusals are unanswerable); the held-out ``user.jsonl`` and ``heldout.jsonl`` are never read.
3. Five folds by article (fixed seed): LambdaRank on candidates gives out-of-fold sentence
   scores; a cross-encoder fine-tuned on the other folds' questions (``benchmarks/train_cross.py``)
   re-scores each question's best eight, its weight chosen on those out-of-fold scores; a binary
   model on question features (full index = 1; article removed, or a decoy speaker = 0) gives
   out-of-fold confidences, once on the re-scored candidates and once on the ranker's alone (the
   fallback); each threshold is chosen so that 87% of the NewsQA questions are answered.
   The final ranker and cross-encoder are trained on everything before the abstention models, as the
   cross-encoder's logits of the questions asked without their article come from it.
4. Write every model with a manifest of hashes, features, the cross-encoder's settings, thresholds
   and the out-of-fold reports.

Deterministic: fixed seeds, deterministic LightGBM on one thread, seeded PyTorch on two. About two
hours on 2 cores, most of it fine-tuning the cross-encoder (six times, two passes each: five folds,
then all); with ``--cross-cache`` holding the five folds' logits, about half an hour (the final one).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from app.config import EngineConfig
from app.engine import Engine
from benchmarks import cross_folds, train_cross
from benchmarks.metrics import contains_any
from benchmarks.quality import DEFAULT_EVAL, ROOT, load_jsonl, open_benchmark
from benchmarks.questions.sets import load_rows
from benchmarks.reader_data import (
    FOLDS,
    Asked,
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
from retrieval.question import analyse
from retrieval.reader.answerer import choose
from retrieval.reader.cross import CROSS, CrossSpec, TorchCross, rerank, trained_weights
from retrieval.reader.features import (
    CANDIDATE_FEATURES,
    QUESTION_FEATURES,
    question_features,
    speaker_quoted,
)
from retrieval.reader.model import ABSTAIN, ABSTAIN_ALONE, MANIFEST, MODEL_DIR, RANKER, sha256

SEED = 20261130
SPEAKER_ARTICLES = 600  # CNN/DailyMail and BBC articles whose quoted people make speaker questions
DEVELOPMENT = ROOT / "benchmarks" / "questions" / "dev.jsonl"
DEVELOPMENT_WEIGHT = 3.0  # a Discord-style question counts three times in the abstention model (1: 0.609, 3: 0.615)
# A speaker question asked with its own article removed counts twice in the abstention model. Replayed on the
# twelfth training's out-of-fold rows at 0 / 0.5 / 1 / 2 / 3 / 4: development refusals refused 0.624 / 0.632 / 0.634 /
# 0.643 / 0.642 / 0.653, speaker questions right 0.804 / 0.800 / 0.803 / 0.800 / 0.796 / 0.794 (the README).
GONE_WEIGHT = 2.0
CROSS_WEIGHTS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)  # candidates for the cross-encoder logit's weight
TARGET_ANSWER_RATE = 0.87  # the threshold keeps this share of answerable questions answered (target: >= 0.85)
RANKER_PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambdarank_truncation_level": 10,
    "verbose": -1,
    "num_threads": 1,
    "deterministic": True,
    "force_row_wise": True,
}
RANKER_ROUNDS = 300
ABSTAIN_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.9,
    "verbose": -1,
    "num_threads": 1,
    "deterministic": True,
    "force_row_wise": True,
}
ABSTAIN_ROUNDS = 200


def _train_ranker(asked: Sequence[Asked]) -> Any:
    import lightgbm

    rows = [a for a in asked if len(a.candidates)]
    data = lightgbm.Dataset(
        np.vstack([a.matrix for a in rows]),
        np.concatenate([a.labels for a in rows]),
        group=[len(a.candidates) for a in rows],
        feature_name=list(CANDIDATE_FEATURES),
    )
    return lightgbm.train({**RANKER_PARAMS, "seed": SEED}, data, num_boost_round=RANKER_ROUNDS)


def _question_rows(asked: Sequence[Asked], engine: Engine) -> np.ndarray:
    lexical = engine._current().snapshot.lexical
    rows = []
    for a in asked:
        question = analyse(a.question)
        rows.append(question_features(question, a.stories, a.matrix, a.oof, lexical.idf(question.terms))[0])
    return np.asarray(rows, dtype=np.float32)


def _train_abstain(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> Any:
    import lightgbm

    data = lightgbm.Dataset(x, y, weight=weight, feature_name=list(QUESTION_FEATURES))
    return lightgbm.train({**ABSTAIN_PARAMS, "seed": SEED}, data, num_boost_round=ABSTAIN_ROUNDS)


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (probability a positive outranks a negative; ties count half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return 0.0
    order = np.argsort(np.concatenate([pos, neg]), kind="stable")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    values = np.concatenate([pos, neg])
    for v in np.unique(values):  # average ranks of ties
        tied = values == v
        ranks[tied] = ranks[tied].mean()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _first_quotes(a: Asked) -> list[str]:
    """The quotes the answerer would show (``retrieval.reader.answerer.choose``, on out-of-fold scores)."""
    chosen = choose(a.candidates, a.oof, speaker_quoted(a.matrix)) if len(a.candidates) else []
    return [c.story.article.text[begin : c.end] for c, begin in chosen]


def report(asked: Sequence[Asked], confidence: np.ndarray, threshold: float) -> dict[str, float]:
    """Out-of-fold figures: the same metrics as ``benchmarks.quality`` on the reader's choices."""
    full = [i for i, a in enumerate(asked) if a.full]
    removed = [i for i, a in enumerate(asked) if not a.full]
    answered = confidence >= threshold
    first, always, two, hit1 = [], [], [], []
    for i in full:
        a = asked[i]
        quotes = _first_quotes(a)
        right = bool(quotes) and contains_any(quotes[0], a.answers)
        always.append(float(right))
        first.append(float(answered[i] and right))
        two.append(float(answered[i] and any(contains_any(q, a.answers) for q in quotes)))
        best = a.candidates[int(np.argmax(a.oof))].story.article.id if len(a.candidates) else None
        hit1.append(float(best == a.gold))
    return {
        "questions": len(full),
        "answer_sentence@1": float(np.mean(first)),
        "answer_sentence@1_if_always_answering": float(np.mean(always)),
        "answer_in_first_two_quotes": float(np.mean(two)),
        "article_hit@1": float(np.mean(hit1)),
        "answer_rate": float(np.mean(answered[full])),
        "false_answer_rate": float(np.mean(answered[removed])),
        "confidence_auc": separation(confidence[full], confidence[removed]),
        "threshold": threshold,
        **reach_report(asked, confidence, threshold),
    }


def reach_report(asked: Sequence[Asked], confidence: np.ndarray, threshold: float) -> dict[str, float]:
    """Abstention split by whether an answer sentence is among the answerable question's candidates at all.

    When it is not (its story was not retrieved), the question looks like its twin asked with the article
    removed, so the two are answered alike; the share of such questions bounds what abstention can separate
    (see the README's "Where the misses sit").
    """
    full = np.asarray([a.full for a in asked], dtype=bool)
    reached = np.asarray([a.full and bool(a.labels.any()) for a in asked], dtype=bool)
    removed = confidence[~full]
    split = {"among": confidence[reached], "not_among": confidence[full & ~reached]}
    twin = {a.qid: c for a, c in zip(asked, confidence, strict=True) if not a.full}
    lost = [twin[a.qid] for a, r in zip(asked, reached, strict=True) if a.full and not r and a.qid in twin]
    out = {"answer_among_candidates": int(reached.sum()) / max(int(full.sum()), 1)}
    for name, conf in split.items():
        out[f"answer_rate_answer_{name}_candidates"] = _share(conf >= threshold)
        out[f"confidence_auc_answer_{name}_candidates"] = separation(conf, removed)
    out["false_answer_rate_twins_of_answer_not_among_candidates"] = _share(np.asarray(lost) >= threshold)
    return out


def separation(positive: np.ndarray, negative: np.ndarray) -> float:
    """``auc`` of ``positive`` scores against ``negative`` ones."""
    labels = np.asarray([1] * len(positive) + [0] * len(negative))
    return auc(labels, np.concatenate([positive, negative]))


def _share(flags: np.ndarray) -> float:
    """The share of true ``flags``; 0 for none (a ``--limit`` run may have none)."""
    return float(np.mean(flags)) if len(flags) else 0.0


def development_report(asked: Sequence[Asked], confidence: np.ndarray, threshold: float) -> dict[str, float]:
    """Out-of-fold share right per kind, as ``benchmarks.quality --questions`` grades a reply.

    Right: answered with an expected phrase in the first two quotes; for a refusal, not answered.
    """
    right: dict[str, list[bool]] = {}
    for a, conf in zip(asked, confidence, strict=True):
        quotes = _first_quotes(a)
        ok = conf < threshold if not a.full else conf >= threshold and any(contains_any(q, a.answers) for q in quotes)
        right.setdefault(a.kind, []).append(ok)
    shares = {kind: float(np.mean(oks)) for kind, oks in sorted(right.items())}
    shares["overall"] = float(np.mean([ok for oks in right.values() for ok in oks])) if right else 0.0
    return shares


def curve(asked: Sequence[Asked], confidence: np.ndarray) -> list[dict[str, float]]:
    """Answer rate and false-answer rate at a few thresholds (out of fold)."""
    full = np.asarray([a.full for a in asked])
    return [
        {
            "threshold": t,
            "answer_rate": float(np.mean(confidence[full] >= t)),
            "false_answer_rate": float(np.mean(confidence[~full] >= t)),
        }
        for t in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
    ]


@dataclass
class Abstention:
    """One abstention model's training rows and out-of-fold figures, on one way of scoring candidates."""

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    threshold: float
    report: dict[str, Any]
    curve: list[dict[str, float]]


@dataclass
class Gone:
    """Speaker questions asked with their own article removed: abstention training rows only.

    They are kept out of ``everything`` because they add no cross-encoder pairs (nothing answers
    them) and the kept folds' logits are keyed by the questions each fold scores; their logits
    come from the final cross-encoder, their ranker scores from the fold's ranker, as the others'.
    """

    asked: list[Asked]
    folds: np.ndarray
    scores: list[np.ndarray]


def _abstention(
    everything: Sequence[Asked],
    scores: Sequence[np.ndarray],
    folds: np.ndarray,
    engine: Engine,
    newsqa: int,
    speakers: int,
    decoys: int,
    development: int,
    removed: Gone,
) -> Abstention:
    """Out-of-fold confidences and figures with candidates scored by ``scores``.

    ``everything`` holds, in order: NewsQA, speaker questions, decoys, off-topic speaker questions, development.
    ``removed`` adds training rows (to be refused) and is reported apart, never in the figures above.
    """
    for a, s in zip([*everything, *removed.asked], [*scores, *removed.scores], strict=True):
        a.oof = s
    keep = [i for i, a in enumerate(everything) if len(a.candidates)]
    extra = [i for i, a in enumerate(removed.asked) if len(a.candidates)]
    x = _question_rows([everything[i] for i in keep] + [removed.asked[i] for i in extra], engine)
    y = np.asarray([float(everything[i].full) for i in keep] + [0.0] * len(extra))
    w = np.asarray([DEVELOPMENT_WEIGHT if everything[i].kind else 1.0 for i in keep] + [GONE_WEIGHT] * len(extra))
    row_folds = np.concatenate([folds[keep], removed.folds[extra]]).astype(int)
    own = np.arange(len(x)) < len(keep)
    confidence = np.zeros(len(everything))
    refused = np.zeros(len(removed.asked))
    for k in range(FOLDS):
        model = _train_abstain(x[row_folds != k], y[row_folds != k], w[row_folds != k])
        held = row_folds == k
        confidence[np.asarray(keep, dtype=int)[held[own]]] = model.predict(x[held & own], num_threads=1)
        refused[np.asarray(extra, dtype=int)[held[~own]]] = model.predict(x[held & ~own], num_threads=1)
    asked = everything[:newsqa]
    full_conf = np.sort(confidence[[i for i, a in enumerate(asked) if a.full]])
    threshold = float(full_conf[int((1 - TARGET_ANSWER_RATE) * len(full_conf))])
    result: dict[str, Any] = dict(report(asked, confidence[:newsqa], threshold))
    result["speaker_questions_answered"] = (
        1.0 - _share_below(confidence[newsqa : newsqa + speakers], threshold) if speakers else 0.0
    )
    first_development = len(everything) - development
    first_off_topic = newsqa + speakers + decoys
    result["decoy_speaker_questions_refused"] = _share_below(confidence[newsqa + speakers : first_off_topic], threshold)
    result["off_topic_speaker_questions_refused"] = _share_below(
        confidence[first_off_topic:first_development], threshold
    )
    result["gone_speaker_questions_refused"] = _share_below(refused, threshold)
    development_rows = everything[first_development:]
    result["development"] = development_report(development_rows, confidence[first_development:], threshold)
    return Abstention(x, y, w, threshold, result, curve(asked, confidence[:newsqa]))


def _share_below(confidence: np.ndarray, threshold: float) -> float:
    """The share of ``confidence`` under ``threshold`` (refused); 0 for none."""
    return _share(confidence < threshold)


class FoldsLeft(Exception):
    """Some folds are still to fine-tune: the run stops after ``--cross-fits`` of them (resume with the same cache)."""


def _cross_out_of_fold(
    everything: Sequence[Asked],
    folds: np.ndarray,
    frozen_layers: int,
    epochs: int,
    settings: dict[str, object],
    cache: Path | None = None,
    fits: int | None = None,
) -> list[np.ndarray]:
    """Each question's cross-encoder logits from the model trained on the other folds.

    With ``cache``, a fold whose logits are there under the same key (``settings`` and its inputs)
    is read, not fine-tuned, and each fine-tuned fold is written there at once; ``fits`` bounds the
    fine-tunings of this run.
    """
    out: list[np.ndarray] = [np.zeros(0, dtype=np.float32)] * len(everything)
    fitted = 0
    for k in range(FOLDS):
        training = train_cross.pairs([a for a, f in zip(everything, folds, strict=True) if f != k], SEED + k)
        held = [i for i, f in enumerate(folds) if f == k]
        key = cross_folds.fold_key(training, [everything[i] for i in held], {**settings, "fold": k})
        values = cross_folds.load(cache, k, key, len(held)) if cache else None
        if values is None:
            if fits is not None and fitted >= fits:
                raise FoldsLeft(f"fold {k + 1} of {FOLDS} and any after it are still to fine-tune")
            model = train_cross.fit(
                training,
                SEED + k,
                desc=f"cross-encoder (fold {k + 1}/{FOLDS})",
                frozen_layers=frozen_layers,
                epochs=epochs,
            )
            values = train_cross.logits(model, [everything[i] for i in held])
            fitted += 1
            if cache:
                print(f"wrote {cross_folds.save(cache, k, key, values)}", file=sys.stderr)
        else:
            print(f"fold {k + 1}/{FOLDS}: cross-encoder logits read from {cache}", file=sys.stderr)
        for i, value in zip(held, values, strict=True):
            out[i] = value
    return out


def _cross_weight(everything: Sequence[Asked], logits: Sequence[np.ndarray]) -> float:
    """The weight of the logit that best puts an answer first and in the first two (out of fold, answerable)."""

    def right(weight: float) -> float:
        hits = []
        for a, c in zip(everything, logits, strict=True):
            if a.full and a.labels.any():
                order = np.argsort(-rerank(a.oof, c, weight, train_cross.TOP), kind="stable")
                hits.append(float(a.labels[order[0]] > 0) + float(a.labels[order[:2]].max() > 0))
        return float(np.mean(hits))

    return max(CROSS_WEIGHTS, key=right)


def _save_oof(
    path: Path,
    everything: Sequence[Asked],
    folds: np.ndarray,
    ranked: Sequence[np.ndarray],
    logits: Sequence[np.ndarray],
    alone: Abstention,
    crossed: Abstention,
) -> None:
    """Per question: its kind, labels, fold, out-of-fold ranker scores and logits; both abstention models' rows.

    The rows are those of ``everything``'s questions that have candidates, in order, then the gone questions'.
    """
    import pickle

    questions = [
        {
            "qid": a.qid,
            "kind": a.kind,
            "full": a.full,
            "gold": a.gold,
            "fold": int(f),
            "labels": a.labels,
            "speaks": speaker_quoted(a.matrix) if len(a.candidates) else np.zeros(0, dtype=bool),
        }
        for a, f in zip(everything, folds, strict=True)
    ]
    rows = {"alone": (alone.x, alone.y, alone.w), "crossed": (crossed.x, crossed.y, crossed.w)}
    data = {"questions": questions, "ranker": list(ranked), "cross_logits": list(logits), "abstention_rows": rows}
    path.write_bytes(pickle.dumps(data))


def _spec(frozen_layers: int) -> CrossSpec:
    """What loading a kept cross-encoder file needs (the base model, its frozen layers and the length)."""
    return CrossSpec("", train_cross.BASE_MODEL, frozen_layers, 1.0, train_cross.TOP, train_cross.MAX_LENGTH)


def _save_cross(scorer: Any, path: Path) -> None:
    from safetensors.torch import save_file

    save_file(trained_weights(scorer.model), str(path))


def main(argv: Sequence[str] | None = None) -> int:
    """Train, report out of fold, and write the models."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "results" / "quality-index")
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--limit", type=int, help="train on a fixed sample of N questions (a quick check)")
    parser.add_argument(
        "--save-oof", type=Path, help="also write the out-of-fold scores and rows here (pickle: experiments in minutes)"
    )
    parser.add_argument(
        "--cross-frozen-layers",
        type=int,
        choices=range(7),
        default=train_cross.FROZEN_LAYERS,
        help="MiniLM layers the cross-encoder leaves as they are (0: all six trained, a 21 MB file)",
    )
    parser.add_argument("--cross-epochs", type=int, choices=range(1, 6), default=train_cross.EPOCHS)
    parser.add_argument(
        "--cross-cache",
        type=Path,
        help="keep each fold's out-of-fold cross-encoder logits here and reuse those made from the same inputs",
    )
    parser.add_argument(
        "--cross-fits",
        type=int,
        help="fine-tune at most N folds in this run, then stop (finish later with the same --cross-cache)",
    )
    args = parser.parse_args(argv)
    if args.cross_fits is not None and args.cross_cache is None:
        parser.error("--cross-fits needs --cross-cache (the folds it fine-tunes are kept there)")
    started = time.perf_counter()
    opened = open_benchmark(args.eval_dir, EngineConfig(data_dir=args.data_dir, reader_dir=None))
    if opened is None:
        return 2
    engine, id_map, _ = opened
    questions = [q for q in load_jsonl(args.eval_dir / "newsqa" / "questions.jsonl") if str(q["article_id"]) in id_map]
    if args.limit:
        questions = random.Random(SEED).sample(questions, min(args.limit, len(questions)))
    asked = ask_newsqa(engine, questions, id_map)
    others = sorted(id_map[e] for e in id_map if not e.startswith("newsqa"))
    items = speaker_items(engine, random.Random(SEED).sample(others, SPEAKER_ARTICLES), per_article=2, seed=SEED)
    names = decoy_names(engine._current().snapshot.lexical, random.Random(SEED))
    speakers = ask_speakers(engine, items)
    decoys = ask_speakers(engine, [decoy(i, names[n % len(names)]) for n, i in enumerate(items)], answerable=False)
    off = ask_speakers(engine, off_topic(items, random.Random(SEED)), answerable=False)
    removed = ask_speakers(engine, gone(items), answerable=False, own_article=False)
    development = ask_rows(engine, load_rows(DEVELOPMENT), id_map)
    everything = [*asked, *speakers, *decoys, *off, *development]  # NewsQA first: the report reads its rows only
    fold_of = folds_by_article(everything, SEED)
    folds = np.asarray([fold_of[a.gold] for a in everything])
    removed_folds = np.asarray([fold_of[a.gold] for a in removed], dtype=int)
    for k in range(FOLDS):
        ranker = _train_ranker([a for a, f in zip(everything, folds, strict=True) if f != k and a.labels.any()])
        for a, f in zip([*everything, *removed], [*folds, *removed_folds], strict=True):
            if f == k:
                a.oof = ranker.predict(a.matrix, num_threads=1) if len(a.candidates) else np.zeros(0)
    ranked = [a.oof for a in everything]
    removed_ranked = [a.oof for a in removed]
    cross_pairs = train_cross.pairs(everything, SEED)  # on the ranker's order: what the cross-encoder reads
    tuned = {
        "seed": SEED,
        "frozen_layers": args.cross_frozen_layers,
        "epochs": args.cross_epochs,
        **train_cross.settings(),
    }
    try:
        cross_logits = _cross_out_of_fold(
            everything,
            folds,
            args.cross_frozen_layers,
            args.cross_epochs,
            tuned,
            args.cross_cache,
            args.cross_fits,
        )
    except FoldsLeft as left:
        print(
            f"stopped after {args.cross_fits} fine-tuning(s): {left}; rerun with --cross-cache {args.cross_cache}",
            file=sys.stderr,
        )
        return 3
    weight = _cross_weight(everything, cross_logits)
    ranker = _train_ranker([a for a in everything if a.labels.any()])
    final_key = cross_folds.fold_key(cross_pairs, [], {**tuned, "fold": "all"})
    kept = cross_folds.final_model([args.out, MODEL_DIR], final_key) if args.cross_cache else None
    if kept is not None:
        print(f"cross-encoder (all): {kept} was made from the same pairs and settings; reused", file=sys.stderr)
        cross = TorchCross.load(kept, _spec(args.cross_frozen_layers))
    else:
        cross = train_cross.fit(
            cross_pairs,
            SEED,
            desc="cross-encoder (all)",
            frozen_layers=args.cross_frozen_layers,
            epochs=args.cross_epochs,
        )
    removed_logits = train_cross.logits(cross, removed)  # on their fold rankers' order (``oof``)
    counts = (len(asked), len(speakers), len(decoys), len(development))
    alone = _abstention(everything, ranked, folds, engine, *counts, Gone(removed, removed_folds, removed_ranked))
    crossed = _abstention(
        everything,
        [rerank(r, c, weight, train_cross.TOP) for r, c in zip(ranked, cross_logits, strict=True)],
        folds,
        engine,
        *counts,
        Gone(
            removed,
            removed_folds,
            [rerank(r, c, weight, train_cross.TOP) for r, c in zip(removed_ranked, removed_logits, strict=True)],
        ),
    )
    print(json.dumps({"out_of_fold": crossed.report, "ranker_only": alone.report, "curve": crossed.curve}, indent=2))
    if args.save_oof:
        _save_oof(args.save_oof, everything, folds, ranked, cross_logits, alone, crossed)

    args.out.mkdir(parents=True, exist_ok=True)
    ranker.save_model(str(args.out / RANKER))
    # each abstention model on out-of-fold scores: what it will see on new questions
    _train_abstain(crossed.x, crossed.y, crossed.w).save_model(str(args.out / ABSTAIN))
    _train_abstain(alone.x, alone.y, alone.w).save_model(str(args.out / ABSTAIN_ALONE))
    if kept is None:
        _save_cross(cross, args.out / CROSS)
    elif kept.resolve() != (args.out / CROSS).resolve():
        shutil.copyfile(kept, args.out / CROSS)
    import lightgbm

    manifest = {
        "version": 1,
        "trained": datetime.now(UTC).date().isoformat(),
        "data": "NewsQA dev (MRQA 2019) questions over the benchmark index of benchmarks.quality, plus speaker "
        "questions made from the attribution tables of CNN/DailyMail and BBC articles, their decoys "
        "(the same questions about people the corpus never mentions, or about another article's topic) and the "
        "same questions asked with their article removed, plus the Discord-style development "
        "questions of benchmarks/questions/dev.jsonl (never the held-out user.jsonl or heldout.jsonl)",
        "questions": len(questions),
        "speaker_questions": len(speakers),
        "decoy_questions": len(decoys),
        "off_topic_questions": len(off),
        "gone_questions": len(removed),
        "development_questions": len(development),
        "folds": FOLDS,
        "seed": SEED,
        "lightgbm": lightgbm.__version__,
        "candidate_features": list(CANDIDATE_FEATURES),
        "question_features": list(QUESTION_FEATURES),
        "threshold": crossed.threshold,
        "out_of_fold": crossed.report,
        "curve": crossed.curve,
        "cross": {
            "sha256": sha256(args.out / CROSS),
            "base_model": train_cross.BASE_MODEL,
            "base_fingerprint": tuned["base_fingerprint"],
            "frozen_layers": args.cross_frozen_layers,
            "epochs": args.cross_epochs,
            "weight": weight,
            "top": train_cross.TOP,
            "max_length": train_cross.MAX_LENGTH,
            "pairs": len(cross_pairs),
            "torch": tuned["torch"],
            "key": final_key,
        },
        "ranker_only": {"threshold": alone.threshold, "out_of_fold": alone.report},
        "seconds": round(time.perf_counter() - started, 1),
        "sha256": {name: sha256(args.out / name) for name in (RANKER, ABSTAIN, ABSTAIN_ALONE)},
    }
    (args.out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({sum(p.stat().st_size for p in args.out.iterdir()) / 1e6:.1f} MB)", file=sys.stderr)
    if args.out.resolve() != MODEL_DIR.resolve():
        for line in against_shipped(args.out, MODEL_DIR):
            print(line, file=sys.stderr)
    return 0


def against_shipped(out: Path, shipped: Path) -> list[str]:
    """Whether each model file of ``out`` is byte for byte the shipped one: a rerun says if it reproduced."""
    lines = []
    for name in (RANKER, CROSS, ABSTAIN, ABSTAIN_ALONE):
        if not (shipped / name).is_file():
            lines.append(f"{name}: no shipped file to compare with")
        elif sha256(out / name) == sha256(shipped / name):
            lines.append(f"{name}: byte for byte the shipped reader's")
        else:
            lines.append(f"{name}: differs from the shipped reader's")
    return lines


if __name__ == "__main__":
    sys.exit(main())

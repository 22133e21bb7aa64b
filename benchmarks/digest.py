"""Digests on real news: story grouping against labelled pairs, and story summaries against the highlights.

    python -m benchmarks.digest [--index DIR] [--json] [--eval-dir DIR]
    python -m benchmarks.digest --candidates          # the pairs to label, with their ledes (stderr)

Reads ``cnndm/articles.jsonl`` (1,000 CNN/DailyMail articles dated Dec 2014 - Mar 2015, with
human highlights) by path. The index is built once into ``benchmarks/results/digest-index``
(the real model, a few minutes), or ``--index`` names an existing one (for example the quality
benchmark's), which is copied to a temporary folder first and never written.

(a) Grouping: ``benchmarks/labels/story_pairs.jsonl`` holds pairs of eval article ids labelled
by reading the two articles (``same``: they report the same event: one incident or bounded
occasion, such as a speech, an election, a crash and its investigation, an attack and its
aftermath, a military offensive, including analysis and reaction pieces about it; the same topic
with another incident is not the same event). The pairs were drawn with a fixed seed (``--candidates``
prints them, from the quality benchmark's index; the labels score on any index): candidate pairs of
similar articles in cosine bands (where same-topic, different-event pairs live), pairs published
within three days of each other, random pairs, and the near-duplicates the index merged. All dated
articles are grouped as one window (the hardest case: four months at once) and a pair counts as
predicted "same" when both articles land in one story. The weights are chosen on a seeded half of
the pairs and P/R is reported on the other half, on all of them, and on those published within
three days of each other (what a daily or weekly digest has to tell apart).

(b) Summaries: one digest per day of the data; each story's 1-2 sentence summary is scored
(ROUGE F1) against the highlights of the story's central article, beside Lead-2 of that article.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from benchmarks.metrics import is_verbatim, rouge
from index.models import Article, RawArticle
from index.sentences import split_sentences
from index.store import Store
from retrieval.stories import GroupingWeights, Signals, group_at, signals, similarity

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EVAL = ROOT.parent / "shared" / "eval"
LABELS = ROOT / "benchmarks" / "labels" / "story_pairs.jsonl"
DEFAULT_INDEX = ROOT / "benchmarks" / "results" / "digest-index"
SEED = 20261201
BANDS = ((0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 1.01))
PER_BAND = 15
RANDOM_PAIRS = 20
CLOSE_PAIRS, CLOSE_DAYS, CLOSE_COSINE = 30, 3, 0.4  # what a daily or weekly digest has to tell apart
LEDE_GRID = (0.0, 0.5, 1.0)
NAMES_GRID = (0.0, 0.25, 0.5, 1.0)
DAYS_GRID = (0.0, 0.02, 0.04, 0.06)


@dataclass(frozen=True)
class Corpus:
    """The dated CNN/DM articles of the index, with their vectors and the eval id -> article id map."""

    articles: list[Article]
    signals: Signals
    article_of: dict[str, str]  # eval id -> stored article id (a merged copy maps to the article it joined)
    records: dict[str, dict[str, object]]


def load_records(eval_dir: Path) -> list[dict[str, object]]:
    """The CNN/DM eval records."""
    with (eval_dir / "cnndm" / "articles.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@contextmanager
def open_index(index: Path | None, records: Sequence[dict[str, object]]) -> Iterator[Path]:
    """A data dir holding the eval articles: a temporary copy of ``index``, or the cached digest index."""
    if index is not None:
        with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
            copy = Path(tmp) / "index"
            shutil.copytree(index, copy)
            yield copy
        return
    if not (DEFAULT_INDEX / "newsdesk.db").exists():
        from app.config import EngineConfig
        from app.engine import Engine

        engine = Engine(EngineConfig(data_dir=DEFAULT_INDEX, cache_dir=ROOT / "benchmarks" / "results" / "models"))
        started = time.perf_counter()
        report = engine.ingest([RawArticle.model_validate(r) for r in records])
        print(f"indexed: {report.summary()} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        engine.close()
    yield DEFAULT_INDEX


def load_corpus(store: Store, records: Sequence[dict[str, object]]) -> Corpus:
    """Match eval records to stored articles by URL (their own, or that of the copy merged into them)."""
    by_url = {str(r["url"]): str(r["id"]) for r in records}
    article_of: dict[str, str] = {}
    for row in store.db.execute("SELECT id, url FROM articles WHERE url IS NOT NULL"):
        if row["url"] in by_url:
            article_of[by_url[row["url"]]] = row["id"]
    for row in store.db.execute("SELECT article_id, url FROM article_sources WHERE url IS NOT NULL"):
        if row["url"] in by_url:
            article_of.setdefault(by_url[row["url"]], row["article_id"])
    stored = store.articles(article_of.values())
    articles = sorted((a for a in stored.values() if a.published is not None), key=lambda a: (a.published, a.id))
    passages = store.passage_vectors(a.id for a in articles)
    articles = [a for a in articles if a.id in passages]
    sig = signals(articles, [passages[a.id] for a in articles])
    return Corpus(articles, sig, article_of, {str(r["id"]): dict(r) for r in records})


# -- (a) grouping -------------------------------------------------------------------------------------
def candidate_pairs(corpus: Corpus) -> list[tuple[str, str, str]]:
    """The pairs to label, drawn with a fixed seed: ``(eval id a, eval id b, how it was drawn)``."""
    rng = random.Random(SEED)
    eval_of: dict[str, list[str]] = {}
    for eid, aid in sorted(corpus.article_of.items()):
        eval_of.setdefault(aid, []).append(eid)
    ids = [eval_of[a.id][0] for a in corpus.articles]
    sim = corpus.signals.vectors @ corpus.signals.vectors.T
    upper = np.triu_indices(len(ids), 1)
    values = sim[upper]
    pairs: list[tuple[str, str, str]] = []
    for low, high in BANDS:
        inside = np.flatnonzero((values >= low) & (values < high)).tolist()
        for k in sorted(rng.sample(inside, min(PER_BAND, len(inside)))):
            pairs.append((ids[upper[0][k]], ids[upper[1][k]], f"cosine {low:.1f}-{min(high, 1.0):.1f}"))
    for _ in range(RANDOM_PAIRS):
        i, j = sorted(rng.sample(range(len(ids)), 2))
        pairs.append((ids[i], ids[j], "random"))
    days = corpus.signals.days
    close = np.abs(days[upper[0]] - days[upper[1]]) <= CLOSE_DAYS
    drawn = {(a, b) for a, b, _ in pairs}
    inside = [
        k
        for k in np.flatnonzero(close & (values >= CLOSE_COSINE)).tolist()
        if (ids[upper[0][k]], ids[upper[1][k]]) not in drawn
    ]
    for k in sorted(rng.sample(inside, min(CLOSE_PAIRS, len(inside)))):
        pairs.append((ids[upper[0][k]], ids[upper[1][k]], f"within {CLOSE_DAYS} days, cosine >= {CLOSE_COSINE}"))
    for copies in eval_of.values():
        if len(copies) > 1:
            pairs.append((copies[0], copies[1], "merged near-duplicate"))
    return pairs


def show_candidates(corpus: Corpus) -> None:
    """Print each candidate pair's dates, titles and ledes for labelling (to stderr: third-party text)."""
    for n, (a, b, how) in enumerate(candidate_pairs(corpus)):
        print(f"\n=== {n} {how}: {a} {b}", file=sys.stderr)
        for eid in (a, b):
            record = corpus.records[eid]
            print(f"  [{record['published']}] {str(record['text'])[:500]!r}", file=sys.stderr)


def load_labels(path: Path = LABELS) -> list[tuple[str, str, bool]]:
    """The labelled pairs."""
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [(str(r["a"]), str(r["b"]), bool(r["same"])) for r in rows]


def story_maps(corpus: Corpus, weights: GroupingWeights, thresholds: Sequence[float]) -> list[dict[str, int]]:
    """For each threshold: stored article id -> story number, grouping every dated article as one window."""
    cuts = group_at(similarity(corpus.signals, weights), thresholds)
    return [{corpus.articles[row].id: n for n, rows in enumerate(groups) for row in rows} for groups in cuts]


def precision_recall(
    corpus: Corpus, labels: Sequence[tuple[str, str, bool]], story_of: dict[str, int]
) -> dict[str, float]:
    """Pairwise precision, recall and F1 of "same story" on the labelled pairs.

    Two eval articles stored as one (merged near-duplicates) always count as one story.
    """
    tp = fp = fn = tn = unmapped = 0
    for a, b, same in labels:
        ia, ib = corpus.article_of.get(a), corpus.article_of.get(b)
        if ia is None or ib is None:  # not in this index (rejected at ingest)
            unmapped += 1
            continue
        predicted = ia == ib or (ia in story_of and story_of.get(ia) == story_of.get(ib))
        tp += predicted and same
        fp += predicted and not same
        fn += same and not predicted
        tn += not same and not predicted
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    scores = {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn, "tn": tn}
    return scores | ({"unmapped": unmapped} if unmapped else {})


def split(labels: Sequence[tuple[str, str, bool]]) -> tuple[list[tuple[str, str, bool]], list[tuple[str, str, bool]]]:
    """A seeded half of the pairs to choose the weights on, and the other half to report on."""
    shuffled = list(labels)
    random.Random(SEED).shuffle(shuffled)
    return shuffled[: len(shuffled) // 2], shuffled[len(shuffled) // 2 :]


def tune(corpus: Corpus, dev: Sequence[tuple[str, str, bool]]) -> tuple[GroupingWeights, list[dict[str, object]]]:
    """The weights with the best F1 on ``dev`` (ties: the higher threshold), and every setting tried."""
    thresholds = [round(float(t), 3) for t in np.arange(0.45, 1.3, 0.025)]
    tried: list[dict[str, object]] = []
    best: tuple[float, float, GroupingWeights] | None = None
    for lede in LEDE_GRID:
        for names in NAMES_GRID:
            for days in DAYS_GRID:
                weights = GroupingWeights(lede=lede, names=names, days=days)
                for threshold, story_of in zip(thresholds, story_maps(corpus, weights, thresholds), strict=True):
                    scores = precision_recall(corpus, dev, story_of)
                    tried.append({"lede": lede, "names": names, "days": days, "threshold": threshold, **scores})
                    key = (scores["f1"], threshold)
                    if best is None or key > best[:2]:
                        best = (*key, replace(weights, threshold=threshold))
    assert best is not None
    return best[2], tried


def close_pairs(corpus: Corpus, labels: Sequence[tuple[str, str, bool]]) -> list[tuple[str, str, bool]]:
    """The labelled pairs published within ``CLOSE_DAYS`` of each other: what a daily or weekly digest sees."""
    when = {a.id: a.published for a in corpus.articles}
    out = []
    for a, b, same in labels:
        da, db = when.get(corpus.article_of.get(a, "")), when.get(corpus.article_of.get(b, ""))
        if da is not None and db is not None and abs(da - db) <= timedelta(days=CLOSE_DAYS):
            out.append((a, b, same))
    return out


def grouping_report(corpus: Corpus, labels: Sequence[tuple[str, str, bool]]) -> dict[str, object]:
    """(a) Choose weights on the dev half, report P/R on the test half, on all pairs and on close pairs."""
    dev, test = split(labels)
    chosen, tried = tune(corpus, dev)
    shipped = GroupingWeights()
    report: dict[str, object] = {
        "pairs": len(labels),
        "same": sum(s for _, _, s in labels),
        "dev_pairs": len(dev),
        "test_pairs": len(test),
        "weights_chosen_on_dev": asdict(chosen),
        "weights_shipped": asdict(shipped),
        "settings_tried": len(tried),
    }
    for name, weights in (("chosen", chosen), ("shipped", shipped)):
        story_of = story_maps(corpus, weights, [weights.threshold])[0]
        report[name] = {
            "dev": precision_recall(corpus, dev, story_of),
            "test": precision_recall(corpus, test, story_of),
            "all": precision_recall(corpus, labels, story_of),
            f"within_{CLOSE_DAYS}_days": precision_recall(corpus, close_pairs(corpus, labels), story_of),
            "stories": len(set(story_of.values())),
            "largest_story": max(Counter(story_of.values()).values()),
        }
    return report


# -- (b) summaries ------------------------------------------------------------------------------------
def lead(text: str, n: int) -> str:
    """The first ``n`` sentences."""
    return " ".join(text[s:e] for s, e in split_sentences(text)[:n])


def summary_report(corpus: Corpus, data_dir: Path, cache_dir: Path | None) -> dict[str, object]:
    """(b) One digest per day: each story's summary, and Lead-2 of its central article, against its highlights."""
    from app.config import EngineConfig
    from app.engine import Engine
    from retrieval.digest import SUMMARY_SENTENCES, build_digest, make_window

    engine = Engine(EngineConfig(data_dir=data_dir, cache_dir=cache_dir))
    eval_of: dict[str, str] = {}
    for eid, aid in sorted(corpus.article_of.items()):
        eval_of.setdefault(aid, eid)
    days = sorted({a.published.date() for a in corpus.articles if a.published})
    ours, leads, refs = [], [], []
    verbatim = citations = stories = multi = 0
    started = time.perf_counter()
    for day in tqdm(days, desc="daily digests", file=sys.stderr):
        since = datetime(day.year, day.month, day.day, tzinfo=UTC)
        window = make_window(since, since + timedelta(days=1), now=since + timedelta(days=1))
        digest = build_digest(engine.store, engine.query_encoder, window, limit=None)
        texts = engine.store.articles(s.article_ids[0] for s in digest.stories)
        for story in digest.stories:
            article = texts[story.article_ids[0]]
            record = corpus.records.get(eval_of.get(article.id, ""))
            stories += 1
            multi += len(story.article_ids) > 1
            citations += len(story.citations)
            verbatim += sum(is_verbatim(article.text, c.quote, c.start, c.end) for c in story.citations)
            if record is None:
                continue
            ours.append(story.summary)
            leads.append(lead(article.text, SUMMARY_SENTENCES))
            refs.append("\n".join(str(h) for h in record["highlights"]))  # type: ignore[attr-defined]
    engine.close()
    return {
        "days": len(days),
        "stories": stories,
        "stories_with_several_articles": multi,
        "scored": len(refs),
        "citations_verbatim": f"{verbatim}/{citations}",
        "systems": {"newsdesk": rouge(ours, refs), f"lead{SUMMARY_SENTENCES}": rouge(leads, refs)},
        "seconds_per_digest": round((time.perf_counter() - started) / max(len(days), 1), 2),
    }


def _print(report: dict[str, Any]) -> None:
    g = report["grouping"]
    print(
        f"(a) story grouping: {g['pairs']} labelled pairs ({g['same']} same event); weights chosen on "
        f"{g['dev_pairs']} dev pairs ({g['settings_tried']} settings), reported on {g['test_pairs']} test pairs"
    )
    print(f"    chosen: {g['weights_chosen_on_dev']}\n    shipped: {g['weights_shipped']}")
    print("| weights | pairs | precision | recall | F1 |\n|---|---|---|---|---|")
    for name in ("chosen", "shipped"):
        for part in ("dev", "test", "all", f"within_{CLOSE_DAYS}_days"):
            s = g[name][part]
            n = s["tp"] + s["fp"] + s["fn"] + s["tn"]
            print(f"| {name} | {part} ({n}) | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} |")
    s = report["summaries"]
    print(
        f"\n(b) {s['days']} daily digests, {s['stories']} stories ({s['stories_with_several_articles']} of several "
        f"articles), {s['scored']} scored; citations verbatim {s['citations_verbatim']}; "
        f"{s['seconds_per_digest']} s per digest (summaries included)"
    )
    print("| system | ROUGE-1 | ROUGE-2 | ROUGE-L |\n|---|---|---|---|")
    for name, scores in s["systems"].items():
        print(f"| {name} | {scores['rouge1']:.4f} | {scores['rouge2']:.4f} | {scores['rougeL']:.4f} |")


def main(argv: Sequence[str] | None = None) -> int:
    """Measure story grouping and story summaries on CNN/DailyMail."""
    parser = argparse.ArgumentParser(description="digest grouping P/R and summary ROUGE on CNN/DM")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--index", type=Path, help="an existing index holding the CNN/DM articles (copied first)")
    parser.add_argument("--candidates", action="store_true", help="print the pairs to label (to stderr) and stop")
    parser.add_argument("--no-summaries", action="store_true", help="grouping only (no model needed)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not (args.eval_dir / "cnndm" / "articles.jsonl").exists():
        print(f"eval data not found: {args.eval_dir / 'cnndm' / 'articles.jsonl'}", file=sys.stderr)
        return 2
    records = load_records(args.eval_dir)
    with open_index(args.index, records) as data_dir:
        store = Store(data_dir)
        corpus = load_corpus(store, records)
        if args.candidates:
            show_candidates(corpus)
            return 0
        report: dict[str, Any] = {
            "articles": len(corpus.articles),
            "grouping": grouping_report(corpus, load_labels()),
            "date": datetime.now(UTC).date().isoformat(),
        }
        if not args.no_summaries:
            cache = None if args.index else ROOT / "benchmarks" / "results" / "models"
            report["summaries"] = summary_report(corpus, data_dir, cache)
        store.close()
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

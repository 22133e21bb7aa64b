"""Attribution accuracy: does the attribution table name the right speaker for each quotation?

Hand labels (``benchmarks/labels/attribution.jsonl``) give, for every quotation in 27 eval articles
drawn at random with fixed seeds (8 CNN/DailyMail, 12 BBC, 7 NewsQA; see ``sample_articles``), its
character offsets in the eval record's raw ``text`` and its speaker. Only ids, offsets and speaker
labels are stored; the articles are read from the eval data by path.

Each article is cleaned and split as the indexer does (``prepare_article``'s ``clean_body`` and
``split_sentences``), the labelled spans are mapped into the cleaned text, and the extractor runs.
A quotation is *found* when an extracted attribution overlaps it, and *correct* when the
attribution that overlaps it most (by Jaccard of the spans) names the labelled speaker, by full
name, alias or unambiguous surname (descriptions such as "court documents" by containment).
Precision is correct / found, recall is correct / labelled; the articles are split into a dev half
(used to tune the heuristics) and a held-out half, reported separately.

    python -m benchmarks.attribution [--eval-dir DIR] [--errors dev|held-out] [--timing-articles N]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from benchmarks.metrics import normalise
from index.attribution import Attribution, extract_attributions
from index.clean import clean_body
from index.names import is_org_name
from index.sentences import split_sentences

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EVAL = ROOT.parent / "shared" / "eval"
LABELS = ROOT / "benchmarks" / "labels" / "attribution.jsonl"
CORPORA = ("cnndm", "bbc", "newsqa")
# Two draws: the first (seed 11) was labelled and split before any tuning; the second (seed 12, other
# articles) was added later, labelled in full before its dev half was looked at.
SAMPLES = ((11, {"cnndm": 6, "bbc": 8, "newsqa": 5}), (12, {"cnndm": 2, "bbc": 4, "newsqa": 2}))


class Label(BaseModel):
    """One hand-labelled quotation: offsets into the eval record's raw ``text`` and its speaker."""

    article: str
    start: int = Field(ge=0)
    end: int
    speaker: str
    role: str | None = None
    aliases: list[str] = Field(default_factory=list)
    kind: str = "direct"
    split: str = "dev"


@dataclass
class Score:
    """Counts for one split."""

    labelled: int = 0
    found: int = 0
    correct: int = 0
    extracted: int = 0
    unmatched: int = 0  # extracted attributions that overlap no labelled quotation
    articles: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [labelled, found, correct]

    @property
    def precision(self) -> float:
        """Correct speakers among the quotations an attribution was found for."""
        return self.correct / self.found if self.found else 0.0

    @property
    def recall(self) -> float:
        """Correct speakers among all labelled quotations."""
        return self.correct / self.labelled if self.labelled else 0.0


def sample_articles(eval_dir: Path) -> list[tuple[str, str]]:
    """The labelled articles as they were drawn: ``(article id, split)``, dev and held-out alternating."""
    out: list[tuple[str, str]] = []
    ids = {c: sorted(str(r["id"]) for r in _records(eval_dir / c / "articles.jsonl")) for c in CORPORA}
    for seed, plan in SAMPLES:
        taken = {article for article, _ in out}
        for corpus, n in plan.items():
            pool = [i for i in ids[corpus] if i not in taken]
            picked = random.Random(f"{seed}-{corpus}").sample(pool, n)
            out.extend((article, "dev" if i % 2 == 0 else "held-out") for i, article in enumerate(picked))
    return out


def _records(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_labels(path: Path = LABELS) -> list[Label]:
    """The hand labels."""
    with path.open(encoding="utf-8") as fh:
        return [Label.model_validate_json(line) for line in fh if line.strip()]


def map_span(raw: str, start: int, end: int, cleaned: str) -> tuple[int, int] | None:
    """Where ``raw[start:end]`` lies in the cleaned text (quotes straightened, spaces collapsed), or None."""
    piece = re.sub(r"\s+", " ", clean_body(raw[start:end]).text.replace("\n\n", " ")).strip()
    if not piece:
        return None
    hits = [m.start() for m in re.finditer(re.escape(piece), cleaned)]
    if not hits:
        return None
    where = start / max(1, len(raw)) * len(cleaned)
    best = min(hits, key=lambda h: abs(h - where))
    return best, best + len(piece)


_DETERMINERS = re.compile(r"^(?:the|a|an|another|his|her|their|its)\s+")


def _norm(name: str) -> str:
    name = normalise(name).replace("'s ", " ").replace("’s ", " ")
    name = re.sub(r"[^\w\s\-%]", " ", name)
    return _DETERMINERS.sub("", re.sub(r"\s+", " ", name).strip())


def _is_person(name: str) -> bool:
    words = name.split()
    return len(words) >= 1 and all(w[:1].isupper() for w in words) and not is_org_name(words)


def speaker_correct(predicted: str, label: Label, surnames: dict[str, int]) -> bool:
    """Whether a predicted speaker names the labelled one (see the module docstring)."""
    got = _norm(predicted)
    if not got:
        return False
    for name in [label.speaker, *label.aliases]:
        want = _norm(name)
        if got == want:
            return True
        if _is_person(name):
            last = want.split()[-1]
            if got.split()[-1] == last and surnames.get(last, 0) == 1:
                return True
        elif f" {want} " in f" {got} " or (len(got.split()) >= 2 and f" {got} " in f" {want} "):
            return True
    return False


def _jaccard(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    if inter <= 0:
        return 0.0
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def score_article(
    labels: Sequence[tuple[Label, tuple[int, int]]], extracted: Sequence[Attribution], score: Score
) -> list[tuple[Label, Attribution | None]]:
    """Add one article's counts to ``score``; returns the labels that were missed or wrong."""
    surnames: dict[str, int] = {}
    for person in {lab.speaker for lab, _ in labels if _is_person(lab.speaker)}:
        last = _norm(person).split()[-1]
        surnames[last] = surnames.get(last, 0) + 1
    errors: list[tuple[Label, Attribution | None]] = []
    covered: set[int] = set()
    for label, span in labels:
        counts = score.by_kind.setdefault(label.kind, [0, 0, 0])
        score.labelled += 1
        counts[0] += 1
        overlaps = [(i, _jaccard(span, (a.start, a.end))) for i, a in enumerate(extracted)]
        overlaps = [(i, j) for i, j in overlaps if j > 0]
        covered.update(i for i, _ in overlaps)
        if not overlaps:
            errors.append((label, None))
            continue
        best = extracted[max(overlaps, key=lambda o: o[1])[0]]
        score.found += 1
        counts[1] += 1
        if speaker_correct(best.speaker, label, surnames):
            score.correct += 1
            counts[2] += 1
        else:
            errors.append((label, best))
    score.extracted += len(extracted)
    score.unmatched += len(extracted) - len(covered)
    score.articles += 1
    return errors


def _show(text: str) -> str:
    """Article text for the terminal: escaped, never raw."""
    return ascii(text if len(text) <= 160 else f"{text[:100]} ... {text[-50:]}")


def run(eval_dir: Path, errors_for: str | None, timing_articles: int) -> dict[str, Score] | None:
    """Score the labelled articles; ``None`` when the eval data is absent."""
    if not all((eval_dir / c / "articles.jsonl").exists() for c in CORPORA):
        print(f"eval data not found under {eval_dir}: skipping the attribution benchmark", file=sys.stderr)
        return None
    labels = load_labels()
    wanted = {label.article for label in labels} | {a for a, _ in sample_articles(eval_dir)}
    splits = dict(sample_articles(eval_dir))
    raws: dict[str, str] = {}
    for corpus in CORPORA:
        for record in _records(eval_dir / corpus / "articles.jsonl"):
            if record["id"] in wanted:
                raws[str(record["id"])] = str(record["text"])
    scores = {"dev": Score(), "held-out": Score()}
    unmapped = 0
    for article, split in splits.items():
        raw = raws[article]
        text = clean_body(raw).text
        sentences = split_sentences(text)
        extracted = extract_attributions(text, sentences)
        mapped = []
        for label in (lab for lab in labels if lab.article == article):
            span = map_span(raw, label.start, label.end, text)
            if span is None:
                unmapped += 1
                continue
            mapped.append((label, span))
        errors = score_article(mapped, extracted, scores[split])
        if errors_for == split:
            for label, got in errors:
                span = next(s for lab, s in mapped if lab is label)
                print(f"[{article}] {label.kind} want={label.speaker!r} got={got.speaker if got else None!r}")
                print(f"    quote: {_show(text[span[0] : span[1]])}")
                if got is not None:
                    print(f"    cue={got.cue!r} extracted: {_show(text[got.start : got.end])}")
    if unmapped:
        print(f"warning: {unmapped} labelled spans could not be mapped into the cleaned text", file=sys.stderr)
    for split, score in scores.items():
        kinds = ", ".join(f"{k} {c[2]}/{c[1]}/{c[0]}" for k, c in sorted(score.by_kind.items()))
        print(
            f"{split:8} articles {score.articles:2}  quotes {score.labelled:3}  found {score.found:3}  "
            f"correct {score.correct:3}  precision {score.precision:.3f}  recall {score.recall:.3f}  "
            f"(correct/found/labelled: {kinds}; extracted {score.extracted}, overlapping no label {score.unmatched})"
        )
    print(f"speed: {_timing(eval_dir, raws, splits, timing_articles):.2f} ms per article")
    return scores


def _timing(eval_dir: Path, raws: dict[str, str], splits: dict[str, str], limit: int) -> float:
    """Mean extraction time per article (cleaning and splitting excluded) over CNN/DailyMail articles (~640 words)."""
    records = _records(eval_dir / "cnndm" / "articles.jsonl")[:limit]
    prepared = []
    for record in records:
        text = clean_body(str(record["text"])).text
        prepared.append((text, split_sentences(text)))
    runs = []
    for _ in range(3):  # the best of three runs: the machine is shared, the slower runs measure other work
        started = time.perf_counter()
        for text, sentences in prepared:
            extract_attributions(text, sentences)
        runs.append((time.perf_counter() - started) * 1000 / max(1, len(prepared)))
    return min(runs)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--errors", choices=["dev", "held-out"], help="print the misses and mistakes of a split")
    parser.add_argument("--timing-articles", type=int, default=300, help="CNN/DailyMail articles to time on")
    args = parser.parse_args(argv)
    run(args.eval_dir, args.errors, args.timing_articles)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

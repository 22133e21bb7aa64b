"""Checks a question set against the eval corpus: its answer keys exist and its refusals are unanswerable.

    python -m benchmarks.questions.verify [FILE...] [--eval-dir DIR]

- every expected phrase occurs in the named article's text, verbatim up to whitespace, both in the
  raw eval text and in the text newsdesk stores after cleaning (which straightens quotes);
- every ``absent`` entry of a refusal occurs in no article of the whole corpus (all eval corpora,
  including NewsQA, and ``seeds/``), case-insensitively; a list entry must not occur all together;
- expected phrases stay short (at most ``MAX_WORDS`` words): the eval data is third-party.
Exits 1 and lists the problems when any check fails.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from benchmarks.metrics import normalise
from benchmarks.quality import CORPORA, DEFAULT_EVAL, ROOT, load_jsonl
from benchmarks.questions.sets import Absence, Row, load_rows
from index.clean import clean_body

HERE = Path(__file__).resolve().parent
MAX_WORDS = 8


def squash(text: str) -> str:
    """Whitespace-normalised text: the form in which an expected phrase must occur verbatim."""
    return re.sub(r"\s+", " ", text).strip()


def key_problems(rows: Iterable[Row], texts: dict[str, str]) -> list[str]:
    """Expected phrases that are too long, or missing from their article (raw or cleaned)."""
    problems = []
    for row in rows:
        if row.article_id is None:
            continue
        if row.article_id not in texts:
            problems.append(f"{row.qid}: no article {row.article_id!r}")
            continue
        raw = squash(texts[row.article_id])
        cleaned = normalise(clean_body(texts[row.article_id]).text)
        for phrase in row.expected:
            if len(phrase.split()) > MAX_WORDS:
                problems.append(f"{row.qid}: expected phrase over {MAX_WORDS} words: {phrase!r}")
            if squash(phrase) not in raw:
                problems.append(f"{row.qid}: {phrase!r} not in {row.article_id}")
            elif normalise(phrase) not in cleaned:
                problems.append(f"{row.qid}: {phrase!r} lost by cleaning {row.article_id}")
    return problems


def absence_problems(rows: Iterable[Row], texts: dict[str, str]) -> list[str]:
    """``absent`` entries that some article contains (with the first such article's id)."""
    corpus = [(aid, normalise(text)) for aid, text in texts.items()]
    problems = []
    for row in rows:
        for entry in row.absent:
            parts = [normalise(p) for p in _parts(entry)]
            found = next((aid for aid, text in corpus if all(p in text for p in parts)), None)
            if found is not None:
                problems.append(f"{row.qid}: {entry!r} occurs in {found}")
    return problems


def _parts(entry: Absence) -> list[str]:
    return [entry] if isinstance(entry, str) else entry


def corpus_texts(eval_dir: Path) -> dict[str, str]:
    """Eval article id (or seed file name) -> title and text, for every article the benchmark indexes."""
    texts = {str(r["id"]): f"{r['title']}\n{r['text']}" for c in CORPORA for r in load_jsonl(eval_dir / c)}
    texts |= {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").iterdir()) if p.is_file()}
    return texts


def main(argv: Sequence[str] | None = None) -> int:
    """Verify the given files (default: every ``*.jsonl`` of this folder)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("files", nargs="*", type=Path, default=sorted(HERE.glob("*.jsonl")))
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    args = parser.parse_args(argv)
    texts = corpus_texts(args.eval_dir)
    problems = []
    for path in args.files:
        rows = load_rows(path)
        found = key_problems(rows, texts) + absence_problems(rows, texts)
        print(f"{path.name}: {len(rows)} rows, {len(found)} problems")
        problems += found
    for problem in problems:
        print(f"  {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

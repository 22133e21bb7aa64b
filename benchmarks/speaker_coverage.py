"""Speaker coverage: does the answering article's attribution table hold the person a question asks about?

The reader can only prefer the asked speaker's quotes when the table gives some quote to somebody the
question's speaker phrase matches (``index.speakers.quote_match`` at or above the reader's ``SPEAKS``).
For every answerable speaker question of a question set, the expected article is cleaned and split as
the indexer does, its table is extracted, and the question counts as *covered* when a quote matches.
Misses are attribution faults (a pronoun resolved to the wrong person, a quote not found) or speaker
phrases nothing in the article names ("the hbos guy"); ``--misses`` lists them with the table's speakers.

    python -m benchmarks.speaker_coverage [--eval-dir DIR] [--misses] QUESTIONS.jsonl ...
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.quality import CORPORA, DEFAULT_EVAL, load_jsonl
from benchmarks.questions.sets import Row, parse_rows
from index.attribution import extract_attributions
from index.clean import clean_body
from index.sentences import split_sentences
from index.speakers import article_words, quote_match
from retrieval.reader.features import SPEAKS
from retrieval.speaker_question import question_speaker


def coverage(rows: Sequence[Row], articles: dict[str, tuple[str, str]], *, misses: bool = False) -> dict[str, int]:
    """Counts over the answerable speaker rows: ``questions``, ``no_speaker`` (not parsed as one), ``covered``.

    ``articles`` maps an eval article id to its (title, raw text).
    """
    counts = {"questions": 0, "no_speaker": 0, "covered": 0}
    for row in rows:
        if row.kind != "speaker" or not row.article_id:
            continue
        counts["questions"] += 1
        asked = question_speaker(row.asked)
        if asked is None:
            counts["no_speaker"] += 1
            continue
        title, raw = articles[row.article_id]
        text = clean_body(raw).text
        table = extract_attributions(text, split_sentences(text))
        words = article_words(title, text)
        if any(quote_match(asked.speaker, a, words) >= SPEAKS for a in table):
            counts["covered"] += 1
        elif misses:
            speakers = sorted({a.speaker for a in table})[:12]
            print(f"{row.qid}: asked {asked.speaker!r}; the table has {speakers}", file=sys.stderr)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    """Print the coverage of each question file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("questions", type=Path, nargs="+")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--misses", action="store_true", help="list the uncovered questions on stderr")
    args = parser.parse_args(argv)
    if not all((args.eval_dir / corpus).exists() for corpus in CORPORA):
        print(f"eval data not found under {args.eval_dir}", file=sys.stderr)
        return 2
    articles = {
        str(r["id"]): (str(r.get("title") or ""), str(r["text"]))
        for corpus in CORPORA
        for r in load_jsonl(args.eval_dir / corpus)
    }
    for path in args.questions:
        counts = coverage(parse_rows(load_jsonl(path)), articles, misses=args.misses)
        share = counts["covered"] / counts["questions"] if counts["questions"] else 0.0
        print(
            f"{path.name}: {counts['questions']} answerable speaker questions, {counts['no_speaker']} not read as "
            f"asking for a speaker, {counts['covered']} covered ({share:.3f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How well the LLM answerer's support check separates faithful sentences from unsupported ones.

Runs the shipped check (``retrieval/llm/verify.py``) on a hand-made set of sentences about six
news passages (``benchmarks/data/llm_support.json``: faithful paraphrases, quotes and summaries,
and sentences citing the wrong passage, adding an invented fact, echoing injected text, or
contradicting the passage), and prints, per threshold, the share of faithful sentences kept and
of unsupported ones dropped. IDF comes from a BM25 index of the six passages.

    python -m benchmarks.llm_support [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from index.lexical import LexicalIndex
from index.models import GLOBAL_COLLECTION, Article
from index.sentences import split_sentences
from index.store import StoredPassage
from retrieval.hybrid import Hit
from retrieval.llm.schema import ModelSentence
from retrieval.llm.verify import SUPPORT_THRESHOLD, Verifier

CASES = Path(__file__).resolve().parent / "data" / "llm_support.json"
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def whole_article_hit(article_id: str, title: str, text: str, rank: int) -> Hit:
    """A hit whose passage is the whole (short) article."""
    article = Article(id=article_id, collection=GLOBAL_COLLECTION, title=title, text=text)
    passage = StoredPassage(rank, article_id, 0, 0, len(text), tuple(split_sentences(text)))
    return Hit(passage=passage, article=article, score=1.0, dense=0.0, lexical=0.0, rank=rank)


def scores(path: Path = CASES) -> list[tuple[float, dict[str, object]]]:
    """Each case's support score under the shipped check, with the case."""
    data = json.loads(path.read_text(encoding="utf-8"))
    names = list(data["passages"])
    hits = [whole_article_hit(n, p["title"], p["text"], i) for i, (n, p) in enumerate(data["passages"].items())]
    lexical = LexicalIndex.build([f"{h.article.title}\n{h.text}" for h in hits])
    verifier = Verifier(hits, lexical, min_support=0.0)
    out = []
    for case in data["cases"]:
        cited = [names.index(str(n)) + 1 for n in case["cites"]]
        verdict = verifier.check(ModelSentence(text=case["sentence"], passages=cited))
        if verdict.dropped is not None:
            raise ValueError(f"case dropped before the support check ({verdict.dropped}): {case['sentence']}")
        out.append((verdict.support, case))
    return out


def sweep(scored: Sequence[tuple[float, dict[str, object]]]) -> list[dict[str, float]]:
    """Share of faithful sentences kept and of unsupported ones dropped at each threshold.

    Contradictions share the passage's words, so no lexical check can see them: they are
    reported apart and left out of ``unsupported_dropped``.
    """
    faithful = [s for s, c in scored if c["supported"]]
    unsupported = [s for s, c in scored if not c["supported"] and c["kind"] != "contradiction"]
    contradictions = [s for s, c in scored if c["kind"] == "contradiction"]
    rows = []
    for t in sorted({*THRESHOLDS, SUPPORT_THRESHOLD}):
        rows.append(
            {
                "threshold": t,
                "faithful_kept": sum(s >= t for s in faithful) / len(faithful),
                "unsupported_dropped": sum(s < t for s in unsupported) / len(unsupported),
                "contradictions_dropped": sum(s < t for s in contradictions) / max(len(contradictions), 1),
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print the sweep as a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    scored = scores()
    rows = sweep(scored)
    if args.json:
        print(json.dumps({"cases": len(scored), "shipped": SUPPORT_THRESHOLD, "sweep": rows}, indent=2))
        return 0
    print(f"{len(scored)} cases; shipped threshold {SUPPORT_THRESHOLD}")
    print("| threshold | faithful kept | unsupported dropped | contradictions dropped |")
    print("|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['threshold']:.2f} | {r['faithful_kept']:.3f} | {r['unsupported_dropped']:.3f} "
            f"| {r['contradictions_dropped']:.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

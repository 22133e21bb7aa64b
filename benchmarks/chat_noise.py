"""What chat noise around a question costs: each question asked as written and as Discord users wrap it.

    python -m benchmarks.chat_noise --questions benchmarks/questions/heldout.jsonl [--limit 400]

Every variant is the same question with something a chat message adds before or after it (a
mention, a custom or plain emoji, a link, Markdown, "??? lol", a greeting on the line before).
None of it is asked, so each variant should be right as often as the question as written
(``retrieval.chat`` takes it off); the table says how far each is from that, per kind.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from app.config import EngineConfig
from benchmarks.quality import DEFAULT_EVAL, ROOT, load_jsonl, open_benchmark
from benchmarks.questions import bench
from benchmarks.questions.sets import KINDS, parse_rows
from retrieval.reader.model import MODEL_DIR

SEED = 20261203


def _longest(question: str) -> str | None:
    """The question's longest word of 6 letters or more (the name it usually turns on), if any."""
    words = re.findall(r"[A-Za-z]{6,}", question)
    return max(words, key=len) if words else None


def swapped(question: str) -> str:
    """Two neighbouring letters swapped in the middle of the longest word ("mourinho" -> "mouirnho")."""
    if (word := _longest(question)) is None:
        return question
    i = len(word) // 2
    return question.replace(word, word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :], 1)


def dropped(question: str) -> str:
    """A letter dropped from the middle of the longest word ("mourinho" -> "mournho")."""
    if (word := _longest(question)) is None:
        return question
    i = len(word) // 2
    return question.replace(word, word[:i] + word[i + 1 :], 1)


#: The wrappings, each as a chat message adds it; "as written" is the baseline.
WRAPPINGS: dict[str, Callable[[str], str]] = {
    "as written": lambda q: q,
    "a user mentioned first": lambda q: f"<@!398127398127398127> {q}",
    "a custom emoji after": lambda q: f"{q} <:thonk:812345678901234567>",
    "emoji after": lambda q: f"{q} \U0001f914\U0001f914",
    "in bold": lambda q: f"**{q}**",
    "??? lol after": lambda q: f"{q}??? lol",
    "a question mark after": lambda q: f"{q.rstrip('?')}?",
    "a link after": lambda q: f"{q} https://www.example.com/news/story-123456",
    "a greeting line first": lambda q: f"hey @newsdesk\n{q}",
}
#: Typing slips in the word a question usually turns on (``retrieval.spelling`` reads them back).
SLIPS: dict[str, Callable[[str], str]] = {
    "two letters swapped in the longest word": swapped,
    "a letter dropped from the longest word": dropped,
}
NOISE = {**WRAPPINGS, **SLIPS}


def noisy(ask: bench.Asker, wrap: Callable[[str], str]) -> bench.Asker:
    """``ask``, given each question wrapped by ``wrap``."""
    return lambda question: ask(wrap(question))


def table(report: dict[str, object]) -> list[str]:
    """One line per variant: the share right per kind and overall."""
    systems = report["systems"]
    assert isinstance(systems, dict)
    kinds = [k for k in (*KINDS, "overall") if k in next(iter(systems.values()))["summary"]]
    lines = ["| variant | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
    for name, result in systems.items():
        cells = [f"{result['summary'][k]['right']:.3f}" for k in kinds]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Ask the question set once per variant and print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--questions", type=Path, default=ROOT / "benchmarks" / "questions" / "heldout.jsonl")
    parser.add_argument("--limit", type=int, help="a fixed random sample of N questions")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "results" / "quality-index")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    opened = open_benchmark(args.eval_dir, EngineConfig(data_dir=args.data_dir, reader_dir=MODEL_DIR))
    if opened is None:
        return 2
    engine, id_map, _ = opened
    rows = parse_rows(load_jsonl(args.questions))
    if missing := bench.missing_articles(rows, id_map):
        print(f"expected articles not in the benchmark index: {missing}", file=sys.stderr)
        return 2
    ask = bench.engine_asker(engine, "hybrid")
    askers = {name: noisy(ask, wrap) for name, wrap in NOISE.items()}
    report = bench.run(args.questions, rows, askers, id_map, limit=args.limit, seed=SEED)
    systems = report["systems"]
    assert isinstance(systems, dict)
    for result in systems.values():
        del result["rows"]  # one grade per question and variant: the summaries are the point
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2) if args.json else "\n".join(table(report)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Follow-up questions: the second turn asked alone, and rewritten from the first turn's real answer.

    python -m benchmarks.followups [--data-dir DIR] [--eval-dir DIR] [--json] [--out FILE]

For each two-turn conversation of ``benchmarks/questions/followups.jsonl``: ask the first turn
through the engine, record the turn its answer leaves (``retrieval.conversation.record_turn``),
rewrite the second turn (``rewrite``), and score the second turn asked alone (the baseline that
``benchmarks.quality --questions`` reports), rewritten and asked like any question, and asked in
its conversation as the bot and ``newsdesk chat`` ask it (``app.conversations``: the previous
turn's articles first), with the same rules (``benchmarks.questions.score``).

Standalone safety is measured too: every question of ``user.jsonl``, asked after each
conversation's first turn, should come back unchanged, and should never take the old speaker.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from benchmarks.questions.score import Grade, Reply, format_table, grade, summarise
from benchmarks.questions.sets import Followup, load_rows
from retrieval.answer import Answer
from retrieval.conversation import Conversation, Turn, record_turn, rewrite

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "benchmarks" / "questions"

Ask = Callable[[str], Answer]
Converse = Callable[[str, Conversation], Answer]


@dataclass(frozen=True)
class Outcome:
    """One conversation: how its second turn was read, and both grades."""

    qid: str
    kind: str
    turns: tuple[str, str]
    asked: str
    rule: str | None
    first_turn: dict[str, object]  # the recorded Turn, as JSON
    first_answered: bool
    alone: Grade
    rewritten: Grade
    in_conversation: Grade


def first_turn(question: str, ask: Ask, now: datetime) -> tuple[Turn, Answer]:
    """Ask a conversation's opening question and record the turn it leaves."""
    opening = rewrite(question, Conversation(), now=now)
    answer = ask(opening.question)
    return record_turn(opening, answer, now=now), answer


def evaluate(
    rows: Sequence[Followup], ask: Ask, id_map: dict[str, str], now: datetime, converse: Converse | None = None
) -> list[Outcome]:
    """Grade each conversation's second turn asked alone, rewritten, and (``converse``) in its conversation."""
    out = []
    for row in tqdm(rows, desc="follow-ups", file=sys.stderr, leave=False):
        turn, first = first_turn(row.turns[0], ask, now)
        asked = rewrite(row.turns[1], Conversation().add(turn), now=now)
        expected = id_map[row.article_id] if row.article_id else None
        alone = Reply.of(ask(row.turns[1]))
        again = Reply.of(ask(asked.question)) if asked.rewritten else alone
        talked = Reply.of(converse(row.turns[1], Conversation().add(turn))) if converse else again
        out.append(
            Outcome(
                qid=row.qid,
                kind=row.kind,
                turns=(row.turns[0], row.turns[1]),
                asked=asked.question,
                rule=asked.rule,
                first_turn=turn.model_dump(mode="json"),
                first_answered=first.answered,
                alone=grade(row, alone, expected),
                rewritten=grade(row, again, expected),
                in_conversation=grade(row, talked, expected),
            )
        )
    return out


def standalone_changes(questions: Sequence[str], turns: Sequence[Turn], now: datetime) -> dict[str, object]:
    """How many standalone questions a previous turn changes, and how many take its speaker."""
    changed: list[dict[str, str]] = []
    took_speaker = 0
    for turn in turns:
        conversation = Conversation().add(turn)
        for question in questions:
            result = rewrite(question, conversation, now=now)
            if not result.rewritten:
                continue
            changed.append({"after": turn.rewritten, "question": question, "read_as": result.question})
            speaker = (turn.speaker or "").casefold()
            if speaker and speaker in result.question.casefold() and speaker not in question.casefold():
                took_speaker += 1
    pairs = len(questions) * len(turns)
    return {"pairs": pairs, "changed": len(changed), "took_old_speaker": took_speaker, "examples": changed[:20]}


def report(outcomes: Sequence[Outcome], standalone: dict[str, object]) -> dict[str, object]:
    """The JSON report: both summaries, each conversation, and the standalone check."""
    return {
        "n_conversations": len(outcomes),
        "rewritten": sum(o.asked != o.turns[1] for o in outcomes),
        "alone": summarise([o.alone for o in outcomes]),
        "with_rewrite": summarise([o.rewritten for o in outcomes]),
        "in_conversation": summarise([o.in_conversation for o in outcomes]),
        "conversations": [asdict(o) for o in outcomes],
        "standalone": standalone,
    }


def print_report(result: dict[str, object]) -> None:
    """Both tables, the rewrites, and the standalone check."""
    print(f"{result['n_conversations']} conversations, {result['rewritten']} second turns rewritten")
    print()
    print(format_table("second turn alone", result["alone"]))  # type: ignore[arg-type]
    print()
    print(format_table("second turn rewritten", result["with_rewrite"]))  # type: ignore[arg-type]
    print()
    print(format_table("second turn in its conversation (previous articles first)", result["in_conversation"]))  # type: ignore[arg-type]
    print()
    for o in result["conversations"]:  # type: ignore[attr-defined]
        mark = {(False, True): "+", (True, False): "-"}.get((o["alone"]["right"], o["rewritten"]["right"]), " ")
        print(f"{mark} {o['qid']} [{o['rule'] or '-'}] {o['turns'][0]!r} / {o['turns'][1]!r} -> {o['asked']!r}")
    s = result["standalone"]
    assert isinstance(s, dict)
    print()
    print(
        f"standalone questions after a first turn: {s['changed']} of {s['pairs']} changed, "
        f"{s['took_old_speaker']} took the old speaker"
    )
    for example in s["examples"]:
        print(f"  after {example['after']!r}: {example['question']!r} -> {example['read_as']!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the follow-up benchmark on the quality benchmark's index."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "results" / "quality-index")
    parser.add_argument("--questions", type=Path, default=QUESTIONS / "followups.jsonl")
    parser.add_argument("--standalone", type=Path, default=QUESTIONS / "user.jsonl")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    from app.config import EngineConfig
    from benchmarks.quality import open_benchmark

    rows = [r for r in load_rows(args.questions) if isinstance(r, Followup)]
    opened = open_benchmark(args.eval_dir, EngineConfig(data_dir=args.data_dir))
    if opened is None:
        return 2
    engine, id_map, _texts = opened
    now = datetime.now(UTC)
    from app.conversations import ask_in_conversation
    from retrieval.scope import Scope

    def converse(question: str, conversation: Conversation) -> Answer:
        return ask_in_conversation(engine.ask, question, conversation, Scope(), now=now).answer

    outcomes = evaluate(rows, engine.ask, id_map, now, converse)
    turns = [Turn.model_validate(o.first_turn) for o in outcomes]
    standalone = standalone_changes([r.asked for r in load_rows(args.standalone)], turns, now)
    result = report(outcomes, standalone) | {"date": now.date().isoformat()}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

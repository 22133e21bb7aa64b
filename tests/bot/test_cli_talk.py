"""``newsdesk ask --batch`` conversations, ``newsdesk chat`` and ``newsdesk feedback export`` (fake encoder)."""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.questions.sets import parse_rows
from bot.cli import EXIT_INDEX
from bot.cli_talk import WELCOME
from index.convstore import StoredAnswer, StoredQuote
from index.feedbackstore import FeedbackStore
from index.store import Store
from tests.conftest import PESKOV

from .test_cli_inputs import HOSTILE_TITLE, Run, data_dir, newsdesk, seeded

__all__ = ["data_dir", "newsdesk", "seeded"]  # fixtures shared with the CLI input tests

READ_AS = "What else did Peskov say about the strikes?"


def lines_of(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_batch_lines_with_one_conversation_value_are_its_turns(seeded: Run, tmp_path: Path, capsys):
    """should read a line as a follow-up of earlier lines with the same conversation value, and no other."""
    batch = tmp_path / "q.jsonl"
    records = [
        {"question": PESKOV, "conversation": "c1"},
        {"question": "What else did he say?", "conversation": 2},
        {"question": "What else did he say?", "conversation": "c1"},
        {"question": "What else did he say?"},
        {"question": "", "conversation": "c1"},
    ]
    batch.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert seeded("ask", "--batch", str(batch), "--json") == 0
    out = lines_of(capsys.readouterr().out)
    assert [(o["question"], o["rewritten"]) for o in out] == [
        (PESKOV, PESKOV),
        ("What else did he say?", "What else did he say?"),  # conversation 2 has no earlier turn
        ("What else did he say?", READ_AS),
        ("What else did he say?", "What else did he say?"),  # no conversation: stands alone
        ("", None),
    ]
    assert out[2]["answered"] is True
    assert out[4]["error"] == "Please ask a question: the text is empty."


def test_batch_as_text_shows_how_a_follow_up_was_read(seeded: Run, tmp_path: Path, capsys):
    """should print "Read as" under a rewritten question without --json."""
    batch = tmp_path / "q.jsonl"
    batch.write_text(
        json.dumps({"question": PESKOV, "conversation": "c"})
        + "\n"
        + json.dumps({"question": "What else did he say?", "conversation": "c"})
        + "\n"
    )
    assert seeded("ask", "--batch", str(batch)) == 0
    out = capsys.readouterr().out
    assert f"Q: What else did he say?\nRead as: {READ_AS}\n> " in out
    assert out.count("Read as:") == 1


def chat(run: Run, monkeypatch: pytest.MonkeyPatch, data: bytes) -> int:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    return run("chat")


def test_chat_reads_follow_ups_in_context_until_end_of_input(seeded: Run, monkeypatch, capsys):
    """should answer line by line, read follow-ups in context, reset on /new, and survive a non-UTF-8 line."""
    data = f"{PESKOV}\nWhat else did he say?\n\n".encode() + b"caf\xe9?\n/new\nWhat else did he say?\n"
    assert chat(seeded, monkeypatch, data) == 0
    captured = capsys.readouterr()
    assert WELCOME not in captured.out  # not a terminal: no prompt, no welcome
    assert captured.out.count(f"Read as: {READ_AS}\n") == 1
    before, after = captured.out.split("(a new conversation)")
    # Two answers with sources (the question and its follow-up read in context); after /new the same follow-up is
    # asked alone (not read as the Peskov question; whether the reader answers it is the model's call); the
    # non-UTF-8 line is refused.
    assert before.count("Sources:") == 2
    assert "Read as:" not in after
    assert "newsdesk: that line is not UTF-8 (byte 0xe9 at 4)" in captured.err


def chat_about(record: dict[str, str], line: bytes, newsdesk: Run, tmp_path: Path, monkeypatch, capsys) -> str:
    """What ``newsdesk chat`` prints for ``line`` over an index of the one article ``record``."""
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert newsdesk("ingest", str(path)) == 0
    capsys.readouterr()
    assert chat(newsdesk, monkeypatch, line) == 0
    out: str = capsys.readouterr().out
    return out


def test_chat_escapes_stored_text(newsdesk: Run, tmp_path: Path, monkeypatch, capsys):
    """should print an article's control characters as visible escapes, never raw."""
    record = {"title": HOSTILE_TITLE, "text": "Harbour master Jenna Cole said the first boats left before dawn."}
    asked = b"What did Jenna Cole say about the boats?\n"
    out = chat_about(record, asked, newsdesk, tmp_path, monkeypatch, capsys)
    assert "Jenna Cole said" in out
    assert "\x1b" not in out and "\x07" not in out


def test_chat_answers_any_news_with_the_digest(newsdesk: Run, tmp_path: Path, monkeypatch, capsys):
    """should print the day's stories for "any news?", not quotes that share the word "news"."""
    published = datetime.now(UTC).isoformat()
    record = {
        "title": "Harbour reopens",
        "text": "The harbour reopened on Monday, officials said.",
        "published": published,
    }
    out = chat_about(record, b"any news?\n", newsdesk, tmp_path, monkeypatch, capsys)
    assert "1 story from 1 article," in out and "Harbour reopens" in out
    assert "Sources:" not in out


def judged(data_dir: Path) -> None:
    store = Store(data_dir)
    try:
        quote = '"We are very sorry about that and we are very concerned," Peskov added.'
        answer = StoredAnswer(
            "0123456789ab",
            "c",
            ("global",),
            PESKOV,
            PESKOV,
            True,
            (StoredQuote(1, "a1", "T", quote, 0, 70),),
            datetime(2026, 3, 1, tzinfo=UTC),
        )
        FeedbackStore(store).vote(answer, 42, True)
    finally:
        store.close()


def test_feedback_export_writes_a_question_set(seeded: Run, data_dir: Path, tmp_path: Path, capsys):
    """should write the judged answers as rows the benchmark's question sets accept, to a file or stdout."""
    judged(data_dir)
    out = tmp_path / "feedback.jsonl"
    assert seeded("feedback", "export", "--out", str(out)) == 0
    assert capsys.readouterr().err == f"wrote 1 question(s) judged by users to {out}\n"
    [row] = parse_rows([json.loads(line) for line in out.read_text().splitlines()])
    assert (row.qid, row.kind, row.article_id, row.expected) == (
        "fb-0123456789ab",
        "speaker",
        "a1",
        ['"We are very sorry about that and we'],
    )
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".feedback")] == []  # no temporary left
    assert seeded("feedback", "export") == 0
    assert capsys.readouterr().out == out.read_text()


def test_feedback_export_without_an_index(data_dir: Path, newsdesk: Run, capsys):
    """should exit 3 with the usual message when there is no index."""
    assert newsdesk("feedback", "export") == EXIT_INDEX
    assert "no index in" in capsys.readouterr().err

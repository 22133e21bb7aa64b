"""How the CLI prints an answer: its quotes, its sources and every note, made safe for a terminal."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.terminal import print_answer
from retrieval.llm.answerer import LEFT_OUT
from retrieval.reader.answerer import UNSURE, UPGRADE_NOTE

from .conftest import answer_of


def test_every_note_is_printed_after_the_sources(capsys: pytest.CaptureFixture[str]) -> None:
    """should print the engine's notes and the moderators' ones: whoever runs the CLI runs newsdesk."""
    notes = (UNSURE, f"{LEFT_OUT}1 sentence the articles do not support.", UPGRADE_NOTE)
    print_answer(replace(answer_of("q", ["We are very concerned\x1b[31m"]), notes=notes))
    out = capsys.readouterr().out
    assert out.index("Sources:") < out.index("Notes:")
    assert out.endswith("\n".join(f"- {note}" for note in notes) + "\n")
    assert "\x1b" not in out

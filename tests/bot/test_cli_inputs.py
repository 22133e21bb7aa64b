"""The ``newsdesk`` CLI on hostile inputs, with the engine on a fake encoder (injected through ``main``).

Control characters in stored text, batch files that are not UTF-8, bytes in argv that are not
UTF-8, a data dir that is a file: each gets a clear message and its exit code, never a
traceback or a raw escape sequence on the terminal.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.config import EngineConfig
from app.engine import Engine
from bot.cli import EXIT_INDEX, EXIT_PARTIAL, EXIT_USAGE, main
from index.feedstore import FeedStore
from index.models import Article
from index.store import Store
from retrieval.answer import Answer, Citation
from tests.conftest import PESKOV, ROOT, SEEDS
from tests.fakes import FakeEncoder

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
HOSTILE_TITLE = "\x1b]0;pwned\x07Harbour \x1b[2Jreopens\x9b31m"


class TokenizerLikeEncoder(FakeEncoder):
    """Refuses lone surrogates the way the real model's tokenizer does (a ``TypeError``)."""

    def encode(self, texts: Sequence[str], *, batch_size: int = 16, progress: bool = False) -> np.ndarray:
        if any(re.search("[\ud800-\udfff]", t) for t in texts):
            raise TypeError("TextEncodeInput must be Union[TextInputSequence, Tuple[InputSequence, InputSequence]]")
        return super().encode(texts, batch_size=batch_size, progress=progress)


def fake_engine(config: EngineConfig, check_model: bool) -> Engine:
    return Engine(config, encoder=TokenizerLikeEncoder(), check_model=check_model)


Run = Callable[..., int]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def newsdesk(data_dir: Path) -> Run:
    """``newsdesk ARGV...`` on the fake encoder."""

    def run(*argv: str) -> int:
        return main(list(argv), open_engine=fake_engine)

    return run


@pytest.fixture
def seeded(newsdesk: Run, capsys: pytest.CaptureFixture[str]) -> Run:
    assert newsdesk("ingest", str(SEEDS)) == 0
    capsys.readouterr()
    return newsdesk


def usage_error(run: Run, *argv: str) -> None:
    """Run a command that argparse must refuse (it exits 2 and prints why on stderr)."""
    with pytest.raises(SystemExit) as exited:
        run(*argv)
    assert exited.value.code == EXIT_USAGE


# -- control characters --------------------------------------------------------------------------


def test_control_characters_are_cleaned_at_ingest(newsdesk: Run, data_dir: Path, tmp_path: Path, capsys):
    """should store title, source and text without control characters, with quotes still exact at their offsets."""
    record = {
        "title": HOSTILE_TITLE,
        "source": "Coast\x1b[5m News",
        "text": "The harbour \x1b[31mreopened\x07 on Thursday after engineers repaired the sea wall. "
        "Harbour master Jenna Cole said the first boats left before dawn.",
    }
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert newsdesk("ingest", str(path)) == 0
    [article] = Store(data_dir).iter_articles()
    assert (article.title, article.source) == ("]0;pwnedHarbour [2Jreopens31m", "Coast[5m News")
    assert CONTROL.search(article.text) is None
    capsys.readouterr()
    assert newsdesk("ask", "What did harbour master Jenna Cole say about the boats?", "--json") == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["answered"] is True
    for c in answer["citations"]:
        assert article.text[c["start"] : c["end"]] == c["quote"]


@dataclass
class StoredBeforeTheFix:
    """An engine over an index written before cleaning stripped control characters."""

    title: str = HOSTILE_TITLE
    closed: bool = False
    store: Any = field(init=False)

    def __post_init__(self) -> None:
        article = Article("abc", "global", self.title, "Body text of it.", source="CNN\x07")
        self.store = type("FakeStore", (), {"iter_articles": lambda _self: iter([article])})()

    def ask(self, question: str, scope: object = None, *, mode: str = "hybrid") -> Answer:
        cite = Citation(1, "abc", self.title, "CNN\x07", None, None, "Quote \x1b[1mbold.", 0, 17)
        return Answer(question, True, f"> {cite.quote} [1]", (cite,), confidence=0.9)

    def stats(self) -> dict[str, object]:
        return {"articles": 1, "sources": {"CNN\x07": 1}}

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def old_index(data_dir: Path) -> Iterator[Run]:
    data_dir.mkdir()
    (data_dir / "newsdesk.db").touch()
    engine = StoredBeforeTheFix()

    def run(*argv: str) -> int:
        return main(list(argv), open_engine=lambda _config, _check: engine)  # type: ignore[arg-type,return-value]

    yield run
    assert engine.closed


@pytest.mark.parametrize(
    "argv", [("ask", PESKOV), ("stats", "--articles"), ("stats", "--articles", "--json"), ("ask", PESKOV, "--json")]
)
def test_stored_control_characters_are_escaped_on_the_terminal(old_index: Run, argv: tuple[str, ...], capsys):
    """should print control characters as visible \\uXXXX escapes, and keep --json valid with the exact text."""
    assert old_index(*argv) == 0
    out = capsys.readouterr().out
    assert CONTROL.search(out) is None
    if "--json" not in argv:
        assert r"\u001b]0;pwned\u0007Harbour \u001b[2Jreopens\u009b31m" in out
        return
    printed = json.loads(out)
    titles = [c["title"] for c in printed["citations"]] if "citations" in printed else []
    titles += [a["title"] for a in printed.get("article_list", [])]
    assert titles == [HOSTILE_TITLE]


def test_feed_names_are_escaped_on_the_terminal(data_dir: Path, newsdesk: Run, capsys):
    """should list a feed whose title carries escape sequences without sending them to the terminal."""
    store = Store(data_dir)
    FeedStore(store).add("https://feeds.example/rss", collection="global", title="Daily\x1b[2J\x9b News")
    assert newsdesk("feeds", "list") == 0
    out = capsys.readouterr().out
    assert CONTROL.search(out) is None and r"Daily\u001b[2J\u009b News" in out
    assert newsdesk("feeds", "list", "--json") == 0
    [feed] = json.loads(capsys.readouterr().out)
    assert feed["title"] == "Daily\x1b[2J\x9b News"


# -- batch files and argv ------------------------------------------------------------------------


def test_batch_answers_around_lines_that_are_not_text(seeded: Run, tmp_path: Path, capsys):
    """should answer every good line of a batch, with an error object for a latin-1 line and a lone surrogate."""
    batch = tmp_path / "q.txt"
    batch.write_bytes(
        PESKOV.encode()
        + b"\nQu\xe9bec: what did Peskov say?\n"
        + b'{"question": "What did \\ud800 Peskov say?"}\n'
        + b"What did Peskov add?\n"
    )
    assert seeded("ask", "--batch", str(batch), "--json") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["answered"] for line in lines] == [True, False, False, True]
    assert lines[1]["question"] == "Qu\\xe9bec: what did Peskov say?"
    assert lines[1]["error"] == "line 2 is not UTF-8 (byte 0xe9 at 3): save the file as UTF-8"
    assert lines[2]["question"] == "What did \ud800 Peskov say?"
    assert lines[2]["error"] == "line 3: the question is not valid text (lone surrogate U+D800, at character 10)"


def test_batch_as_text_reports_bad_lines_in_place(seeded: Run, tmp_path: Path, capsys):
    """should print the error in place of the answer without --json too."""
    batch = tmp_path / "q.txt"
    batch.write_bytes(b"caf\xe9?\n" + PESKOV.encode() + b"\n")
    assert seeded("ask", "--batch", str(batch)) == 0
    out = capsys.readouterr().out
    assert out.startswith("Q: caf\\xe9?\nline 1 is not UTF-8 (byte 0xe9 at 4): save the file as UTF-8\n\nQ: " + PESKOV)


def test_missing_batch_file_is_bad_usage(seeded: Run, tmp_path: Path, capsys):
    """should exit 2 (not 3, "no index") when the --batch file cannot be read."""
    usage_error(seeded, "ask", "--batch", str(tmp_path / "nope.txt"))
    assert (
        f"argument --batch: cannot read {tmp_path / 'nope.txt'}: No such file or directory" in capsys.readouterr().err
    )


def test_argv_that_is_not_utf8_is_bad_usage(seeded: Run, capsys):
    """should refuse a question whose bytes were not UTF-8 (surrogate-escaped by Python) with exit 2."""
    usage_error(seeded, "ask", "caf\udce9 au lait?")
    assert "argument question: not valid text (byte 0xe9 is not UTF-8, at character 4)" in capsys.readouterr().err
    usage_error(seeded, "summarize", "--topic", "\udcff")
    assert "argument --topic: not valid text (byte 0xff is not UTF-8" in capsys.readouterr().err


def test_argv_bytes_from_a_real_process(tmp_path: Path):
    """should exit 2 with the message when the operating system passes non-UTF-8 bytes (no model is loaded)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(PYTHONPATH=str(ROOT), NEWSDESK_DATA_DIR=str(tmp_path / "data"), LC_ALL="C.UTF-8")
    done = subprocess.run(
        [sys.executable.encode(), b"-m", b"bot.cli", b"ask", b"caf\xe9?"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == EXIT_USAGE
    assert b"argument question: not valid text (byte 0xe9 is not UTF-8, at character 4)" in done.stderr
    assert b"Traceback" not in done.stderr


# -- the data dir and the exit codes -------------------------------------------------------------


@pytest.mark.parametrize("argv", [("ingest", str(SEEDS)), ("ask", PESKOV), ("stats",)])
def test_data_dir_that_is_a_file(data_dir: Path, newsdesk: Run, argv: tuple[str, ...], capsys):
    """should exit 3 with a clear message when NEWSDESK_DATA_DIR names a file."""
    data_dir.write_text("not a folder")
    assert newsdesk(*argv) == EXIT_INDEX
    err = capsys.readouterr().err
    assert (
        err
        == f"newsdesk: NEWSDESK_DATA_DIR is {data_dir.resolve()}, a file, not a folder: point it at the index folder\n"
    )


def test_data_dir_under_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    """should exit 3, not crash, when a parent of NEWSDESK_DATA_DIR is a file."""
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "file" / "data"))
    assert main(["ingest", str(SEEDS)], open_engine=fake_engine) == EXIT_INDEX
    assert capsys.readouterr().err.startswith(
        f"newsdesk: cannot open the index in {(tmp_path / 'file' / 'data').resolve()}: "
    )


def test_ingesting_nothing_exits_1(newsdesk: Run, tmp_path: Path, capsys):
    """should exit 1 when there was nothing to ingest (an empty folder), as the exit codes say."""
    empty = tmp_path / "empty"
    empty.mkdir()
    assert newsdesk("ingest", str(empty)) == EXIT_PARTIAL
    assert "nothing could be ingested" in capsys.readouterr().err

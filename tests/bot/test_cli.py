"""The ``newsdesk`` CLI end to end, on the real bundled model and the seed article."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import EXIT_INDEX, EXIT_USAGE, main
from tests.conftest import PESKOV, ROOT, SEEDS

pytestmark = pytest.mark.slow
CONTRACT = ROOT.parent / "shared" / "tools" / "check-ask-contract"


@pytest.fixture
def data_dir(tmp_path: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSDESK_CACHE_DIR", str(model_cache))
    return tmp_path / "data"


@pytest.fixture
def seeded(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["ingest", str(SEEDS)]) == 0
    capsys.readouterr()
    return data_dir


def test_peskov_question_cites_the_seed_and_quotes_peskov(seeded: Path, capsys: pytest.CaptureFixture[str]):
    """should answer the Peskov question with a verbatim Peskov quote from the seed article."""
    assert main(["ask", PESKOV, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["answered"] is True
    first = answer["citations"][0]
    assert first["title"] == "Russia-US ties face long haul to recover from 'zero'"
    assert "Peskov" in first["quote"]
    from index.store import Store

    article = Store(seeded).article(first["article_id"])
    assert article is not None
    for c in answer["citations"]:
        assert article.text[c["start"] : c["end"]] == c["quote"]


def test_human_output_lists_sources(seeded: Path, capsys: pytest.CaptureFixture[str]):
    """should print the quotes and a numbered sources list."""
    assert main(["ask", PESKOV]) == 0
    out = capsys.readouterr().out
    assert "[1]" in out and "Sources:" in out and "CNN" in out


def test_reindex_attributions_upgrades_an_older_index(seeded: Path, capsys: pytest.CaptureFixture[str]):
    """should report tables built by an older extractor, rebuild them without re-embedding, then report them current."""
    from index.store import ATTRIBUTIONS_KEY, Store

    store = Store(seeded)
    with store.transaction() as db:
        db.execute("DELETE FROM meta WHERE key = ?", (ATTRIBUTIONS_KEY,))
        db.execute("UPDATE sentences SET attributions = '[]'")
    assert main(["stats"]) == 0
    assert "run `newsdesk reindex --attributions`" in capsys.readouterr().out
    assert main(["reindex", "--attributions"]) == 0
    assert "rebuilt the attribution tables of 1 articles" in capsys.readouterr().out
    assert main(["stats"]) == 0
    assert "attribution_tables: current" in capsys.readouterr().out
    assert "Peskov" in store.db.execute("SELECT attributions FROM sentences").fetchone()[0]


def test_reingest_is_a_noop(seeded: Path, capsys: pytest.CaptureFixture[str]):
    """should report the seed as unchanged the second time."""
    assert main(["ingest", str(SEEDS)]) == 0
    assert "0 added, 0 replaced, 1 unchanged" in capsys.readouterr().out


def test_batch(seeded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """should answer one JSON object per question line, with errors in-line, whatever the bad lines hold."""
    batch = tmp_path / "q.txt"
    batch.write_bytes(
        f'{PESKOV}\n{{"question": "What did Lavrov say?"}}\n\n{"x" * 5000}\n'.encode()
        + b"Qu\xe9bec: what did Peskov say?\n"  # latin-1, not UTF-8
        + b'{"question": "What did \\ud800 Peskov say?"}\n'  # a lone surrogate: the tokenizer refuses it
        + PESKOV.encode()
        + b"\n"
    )
    assert main(["ask", "--batch", str(batch), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["question"][:20] for line in lines[:2]] == [PESKOV[:20], "What did Lavrov say?"]
    assert [line["answered"] for line in lines] == [True, True, False, False, False, True]
    assert "characters" in lines[2]["error"]
    assert lines[3]["error"] == "line 5 is not UTF-8 (byte 0xe9 at 3): save the file as UTF-8"
    assert lines[4]["error"] == "line 6: the question is not valid text (lone surrogate U+D800, at character 10)"


@pytest.mark.parametrize("question", ["", "   ", "y" * 100_000])
def test_bad_question_exit_code(seeded: Path, question: str, capsys: pytest.CaptureFixture[str]):
    """should exit 2 with a clear message for an empty or 100 KB question."""
    assert main(["ask", question]) == EXIT_USAGE
    assert "newsdesk:" in capsys.readouterr().err


def test_missing_index(data_dir: Path, capsys: pytest.CaptureFixture[str]):
    """should exit 3 and say how to create the index."""
    assert main(["ask", PESKOV]) == EXIT_INDEX
    assert "newsdesk ingest" in capsys.readouterr().err
    assert not data_dir.exists()


def test_partial_ingest_reports_and_keeps_going(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """should skip a bad JSONL line and a binary file, index the rest, and exit 1 only with --strict."""
    src = tmp_path / "in"
    src.mkdir()
    good = {"title": "Harbour reopens", "text": "The harbour reopened on Sunday after the storm. Ferries resumed."}
    (src / "a.jsonl").write_text(json.dumps(good) + "\n{broken\n")
    (src / "b.txt").write_bytes(b"\x00\x01\x02binary")
    assert main(["ingest", str(src)]) == 0
    captured = capsys.readouterr()
    assert "1 added" in captured.out and "a.jsonl:2" in captured.err and "binary" in captured.err
    assert main(["ingest", "--strict", str(src)]) == 1


def test_ingest_takes_any_case_scheme_as_a_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """should fetch HTTP:// and Https:// arguments as links, not open them as file paths."""
    import index.web
    from index.pipeline import IngestReport
    from index.readers import ReadResult

    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    fetched: list[str] = []
    ingested: list[ReadResult] = []

    def read_url(url: str, *, allow_private: bool = False) -> ReadResult:
        fetched.append(url)
        return ReadResult(url, error="not fetched in this test")

    class Engine:
        def ingest(self, items: list[ReadResult], **_: object) -> IngestReport:
            ingested.extend(items)
            return IngestReport()

        def close(self) -> None:
            pass

    monkeypatch.setattr(index.web, "read_url", read_url)
    urls = ["HTTP://news.example.com/a", "Https://news.example.com/b"]
    main(["ingest", *urls], open_engine=lambda *_: Engine())  # type: ignore[arg-type,return-value]
    assert fetched == urls
    assert [item.origin for item in ingested] == urls


def test_summarize_and_stats(seeded: Path, capsys: pytest.CaptureFixture[str]):
    """should summarize the seed by id and report what is indexed."""
    assert main(["stats", "--json", "--articles"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["articles"] == 1 and stats["model"] == "all-MiniLM-L6-v2"
    article_id = stats["article_list"][0]["id"]
    assert main(["summarize", article_id, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["citations"]) == 3
    assert main(["summarize", "--topic", "Syria strikes"]) == 0
    assert main(["summarize"]) == EXIT_USAGE


@pytest.mark.skipif(not CONTRACT.exists(), reason="../shared/tools/check-ask-contract is not beside the project")
def test_ask_contract_tool(model_cache: Path):
    """should pass the shared ask --json / --batch contract check."""
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "newsdesk").exists() or shutil.which("bash") is None:
        pytest.skip("the newsdesk console script is not installed in this environment")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "NEWSDESK_CACHE_DIR": str(model_cache)}
    result = subprocess.run(["bash", str(CONTRACT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: the ask contract holds" in result.stdout

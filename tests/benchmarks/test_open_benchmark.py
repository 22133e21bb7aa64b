"""Every benchmark that reads the eval data says so and exits 2 when it is absent, building nothing."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

REQUIRED = {  # each benchmark's required arguments, besides the two every one takes
    "quality": [],
    "abstention": [],
    "article_fusion": [],
    "followups": [],
    "llm_quality": ["--base-url", "http://127.0.0.1:9/v1", "--model", "m"],
    "regression": ["--out", "rows.jsonl"],
    "train_reader": [],
}


@pytest.mark.parametrize("name", REQUIRED)
def test_exits_2_without_the_eval_data(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = importlib.import_module(f"benchmarks.{name}").main
    data = tmp_path / "index"

    code = main(["--eval-dir", str(tmp_path / "missing"), "--data-dir", str(data), *REQUIRED[name]])

    assert code == 2
    assert "eval data not found" in capsys.readouterr().err
    assert not data.exists()

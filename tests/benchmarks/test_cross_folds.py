"""A training finished in parts: each fold's cross-encoder logits are kept under a key and read back when it fits."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks import cross_folds, train_cross, train_reader
from benchmarks.reader_data import FOLDS, Asked, ask_rows
from retrieval.reader.cross import CROSS
from retrieval.reader.model import MANIFEST, sha256
from tests.benchmarks.test_reader_data import BUDGET, DEV_ROWS, TALKS
from tests.conftest import MakeEngine

SETTINGS: dict[str, object] = {"seed": 1, "epochs": 2, "frozen_layers": 3, "top": train_cross.TOP}
PAIRS = [("what did berg say", '"We have reached the end of the road," Anna Berg said.', 1.0)]


@pytest.fixture
def asked(make_engine: MakeEngine) -> list[Asked]:
    """One answerable development question per fold (the same question, five articles' worth of ids)."""
    engine = make_engine(TALKS, BUDGET, reader_dir=None, chunk_words=20)
    ids = {a.title: a.id for a in engine.store.iter_articles()}
    speaker, _ = ask_rows(engine, DEV_ROWS, {"eval-talks": ids[TALKS.title]})
    speaker.oof = np.arange(len(speaker.candidates), 0, -1, dtype=np.float64)
    return [dataclasses.replace(speaker, qid=f"d{k}", gold=f"article-{k}") for k in range(FOLDS)]


def test_saved_logits_read_back_as_written(tmp_path: Path):
    """should keep ragged logits (an empty one too) exactly, under the key they were saved with."""
    logits = [np.asarray([1.5, -2.0, 0.25], np.float32), np.zeros(0, np.float32), np.asarray([3.0], np.float32)]
    cross_folds.save(tmp_path, 2, "key", logits)
    loaded = cross_folds.load(tmp_path, 2, "key", 3)
    assert loaded is not None and [v.tolist() for v in loaded] == [v.tolist() for v in logits]
    assert [p.name for p in tmp_path.iterdir()] == ["fold-3.npz"]  # no temporary file left behind


def test_logits_from_other_inputs_or_a_broken_file_are_not_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """should refuse a file under another key, of another length, or unreadable, and say why."""
    assert cross_folds.load(tmp_path, 0, "key", 1) is None  # none yet: nothing to say
    cross_folds.save(tmp_path, 0, "key", [np.ones(2, np.float32)])
    assert cross_folds.load(tmp_path, 0, "other", 1) is None
    assert cross_folds.load(tmp_path, 0, "key", 2) is None
    assert capsys.readouterr().err.count("made from other inputs or settings") == 2
    (tmp_path / "fold-1.npz").write_bytes(b"not an npz")
    assert cross_folds.load(tmp_path, 0, "key", 1) is None
    assert "unreadable" in capsys.readouterr().err


def test_the_key_follows_pairs_settings_and_what_is_scored(asked: list[Asked]):
    """should change with a pair's label, a setting, or the order of the candidates scored, and nothing else."""
    key = cross_folds.fold_key(PAIRS, asked[:1], SETTINGS)
    assert key == cross_folds.fold_key(list(PAIRS), asked[:1], dict(SETTINGS))
    assert key != cross_folds.fold_key([(*PAIRS[0][:2], 0.0)], asked[:1], SETTINGS)
    assert key != cross_folds.fold_key(PAIRS, asked[:1], {**SETTINGS, "epochs": 1})
    reordered = dataclasses.replace(asked[0], oof=-asked[0].oof)
    assert len(asked[0].candidates) > 1 and key != cross_folds.fold_key(PAIRS, [reordered], SETTINGS)


def test_a_run_in_parts_fine_tunes_each_fold_once(
    asked: list[Asked], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """should stop after ``fits`` fine-tunings with the rest left, then finish reading the kept folds, not refitting."""
    fitted: list[int] = []

    def fit(examples: Any, seed: int, **_: Any) -> int:
        fitted.append(seed - train_reader.SEED)
        return seed

    def logits(model: int, held: list[Asked]) -> list[np.ndarray]:
        return [np.full(3, float(model - train_reader.SEED), np.float32) for _ in held]

    cache = tmp_path / "folds"  # tmp_path also holds the engine's data
    monkeypatch.setattr(train_cross, "fit", fit)
    monkeypatch.setattr(train_cross, "logits", logits)
    folds = np.arange(FOLDS)
    two, one = {**SETTINGS, "epochs": 2}, {**SETTINGS, "epochs": 1}
    with pytest.raises(train_reader.FoldsLeft, match="fold 3 of 5"):
        train_reader._cross_out_of_fold(asked, folds, 3, 2, two, cache, fits=2)
    assert fitted == [0, 1] and sorted(p.name for p in cache.iterdir()) == ["fold-1.npz", "fold-2.npz"]
    out = train_reader._cross_out_of_fold(asked, folds, 3, 2, two, cache)
    assert fitted == [0, 1, 2, 3, 4]
    assert [float(v[0]) for v in out] == [0.0, 1.0, 2.0, 3.0, 4.0]  # each question from its own fold's model
    train_reader._cross_out_of_fold(asked, folds, 3, 2, two, cache)  # all kept now
    assert fitted == [0, 1, 2, 3, 4]
    train_reader._cross_out_of_fold(asked, folds, 3, 1, one, cache)  # one pass: other settings, fine-tuned again
    assert fitted == [0, 1, 2, 3, 4] * 2


def test_the_final_model_is_reused_only_under_its_key_and_hash(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """should find the first reader whose manifest records the key and whose file still has its hash, and say why
    the others do not fit."""
    readers = [tmp_path / name for name in ("other", "old", "same")]
    for folder, key in zip(readers, ("another", None, "key"), strict=True):
        folder.mkdir()
        (folder / CROSS).write_bytes(folder.name.encode())
        entry = {"sha256": sha256(folder / CROSS), **({"key": key} if key else {})}
        (folder / MANIFEST).write_text(json.dumps({"cross": entry}), encoding="utf-8")
    assert cross_folds.final_model(readers, "key") == readers[2] / CROSS
    assert capsys.readouterr().err.count("has another key") == 2
    (readers[2] / CROSS).write_bytes(b"retrained since")
    assert cross_folds.final_model(readers, "key") is None
    assert "does not match its manifest's hash" in capsys.readouterr().err
    assert cross_folds.final_model([tmp_path / "missing"], "key") is None
    assert "no reader to reuse" in capsys.readouterr().err


def test_a_rerun_says_which_files_reproduced_the_shipped_reader(tmp_path: Path):
    out, shipped = tmp_path / "out", tmp_path / "shipped"
    out.mkdir()
    shipped.mkdir()
    names = (train_reader.RANKER, CROSS, train_reader.ABSTAIN, train_reader.ABSTAIN_ALONE)
    for name in names:
        (out / name).write_bytes(b"model " + name.encode())
    for name in names[:2]:
        (shipped / name).write_bytes(b"model " + name.encode())
    (shipped / names[2]).write_bytes(b"another model")

    lines = train_reader.against_shipped(out, shipped)

    assert lines == [
        f"{names[0]}: byte for byte the shipped reader's",
        f"{names[1]}: byte for byte the shipped reader's",
        f"{names[2]}: differs from the shipped reader's",
        f"{names[3]}: no shipped file to compare with",
    ]

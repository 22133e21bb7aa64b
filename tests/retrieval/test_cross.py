"""The reader's cross-encoder: re-scoring, its two backends, and refusing files it cannot trust."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest

from index.encoder import DEFAULT_MODEL, fingerprint, resolve_model
from retrieval.reader.cross import (
    CROSS,
    MAX_PROBE_DIFF,
    PROBES,
    CrossSpec,
    TorchCross,
    classifier,
    load_cross,
    rerank,
    trained_weights,
)
from retrieval.reader.model import sha256

FROZEN = 3

pytestmark = pytest.mark.slow  # loads the bundled model


def write_cross(directory: Path, *, drop: str | None = None) -> CrossSpec:
    """A cross-encoder file as training writes it (the untrained head: the plumbing, not the quality)."""
    from safetensors.torch import save_file

    weights = trained_weights(classifier(Path(resolve_model(DEFAULT_MODEL)), FROZEN))
    if drop:
        weights = {n: w for n, w in weights.items() if not n.startswith(drop)}
    directory.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(directory / CROSS))
    base = fingerprint(Path(resolve_model(DEFAULT_MODEL)))
    return CrossSpec(sha256(directory / CROSS), DEFAULT_MODEL, FROZEN, 0.5, top=3, max_length=64, base_fingerprint=base)


def test_rerank_adds_the_weighted_logits_to_the_best_and_keeps_the_rest_below():
    """should move the best few by the cross-encoder's logits and leave the unread ones after them, in order."""
    scores = np.asarray([0.1, 3.0, 2.0, 2.5, -1.0])
    mixed = rerank(scores, np.asarray([-4.0, 2.0, 1.0], dtype=np.float32), weight=0.5, top=3)
    # read: 1 (3.0 - 2.0), 3 (2.5 + 1.0), 2 (2.0 + 0.5); unread 0 and 4 keep their order below them
    np.testing.assert_allclose(mixed[[1, 3, 2]], [1.0, 3.5, 2.5])
    assert list(np.argsort(-mixed, kind="stable")) == [3, 2, 1, 0, 4]
    np.testing.assert_allclose(rerank(scores[:2], np.asarray([1.0, 0.0], dtype=np.float32), 1.0, 3), [0.1, 4.0])
    assert rerank(np.zeros(0), np.zeros(0, dtype=np.float32), 1.0, 3).shape == (0,)


def test_torch_cross_scores_each_pair_on_its_own(tmp_path: Path):
    """should give one finite logit per sentence, the same whatever else is in the batch."""
    spec = write_cross(tmp_path)
    scorer = TorchCross.load(tmp_path / CROSS, spec)
    sentences = [s for _, s in PROBES]
    both = scorer.score(PROBES[0][0], sentences)
    assert both.shape == (len(sentences),) and np.isfinite(both).all()
    alone = scorer.score(PROBES[0][0], sentences[1:2])
    assert alone[0] == pytest.approx(both[1], abs=1e-4)
    assert scorer.score("anything", []).shape == (0,)


def test_openvino_cross_matches_pytorch_and_converts_once(tmp_path: Path, caplog):
    """should convert the weights once into the cache, and score as PyTorch does."""
    pytest.importorskip("openvino")
    spec = write_cross(tmp_path / "reader")
    with caplog.at_level(logging.INFO):
        scorer = load_cross(tmp_path / "reader", spec, backend="openvino", cache_dir=tmp_path / "cache")
    assert scorer is not None and scorer.backend == "openvino"
    assert "converting the reader's cross-encoder" in caplog.text
    torch_scores = TorchCross.load(tmp_path / "reader" / CROSS, spec).score(*PROBES[1])
    assert scorer.score(*PROBES[1])[0] == pytest.approx(torch_scores[0], abs=MAX_PROBE_DIFF)
    (ir,) = (tmp_path / "cache" / "openvino-cross").iterdir()
    assert ir.name == spec.sha256[:16] and (ir / "model.xml").exists()
    caplog.clear()
    with caplog.at_level(logging.INFO):  # another process (here: another copy of the files) reuses the IR
        (tmp_path / "copy").mkdir()
        (tmp_path / "copy" / CROSS).write_bytes((tmp_path / "reader" / CROSS).read_bytes())
        again = load_cross(tmp_path / "copy", spec, backend="openvino", cache_dir=tmp_path / "cache")
    assert again is not None and "converting" not in caplog.text


def test_an_altered_or_incomplete_cross_file_is_refused(tmp_path: Path, caplog):
    """should rank without the cross-encoder, saying why: its file altered, incomplete or missing, another base."""
    spec = write_cross(tmp_path / "altered")
    with (tmp_path / "altered" / CROSS).open("ab") as fh:
        fh.write(b"\0")
    incomplete = write_cross(tmp_path / "incomplete", drop="classifier.")
    other_base = dataclasses.replace(write_cross(tmp_path / "other"), base_fingerprint="0" * 16)
    with caplog.at_level(logging.WARNING):
        assert load_cross(tmp_path / "other", other_base, backend="torch", cache_dir=tmp_path) is None
        assert load_cross(tmp_path / "altered", spec, backend="torch", cache_dir=tmp_path) is None
        assert load_cross(tmp_path / "incomplete", incomplete, backend="torch", cache_dir=tmp_path) is None
        assert load_cross(tmp_path / "nowhere", spec, backend="torch", cache_dir=tmp_path) is None
    assert "does not match its recorded hash" in caplog.text
    assert f"trained on another {DEFAULT_MODEL}" in caplog.text
    assert "lacks" in caplog.text and "classifier" in caplog.text
    assert "no cross-encoder" in caplog.text


def test_the_spec_is_read_from_the_manifest_entry():
    """should read every field the training writes, and refuse an entry missing one."""
    entry = {"sha256": "ab", "base_model": DEFAULT_MODEL, "frozen_layers": 3, "weight": 0.75, "top": 8}
    with pytest.raises(KeyError):
        CrossSpec.from_manifest(entry)
    spec = CrossSpec.from_manifest({**entry, "max_length": 96, "pairs": 10})
    assert (spec.weight, spec.top, spec.max_length, spec.base_fingerprint) == (0.75, 8, 96, None)
    assert CrossSpec.from_manifest({**entry, "max_length": 96, "base_fingerprint": "cd"}).base_fingerprint == "cd"

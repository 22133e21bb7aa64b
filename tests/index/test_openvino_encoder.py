"""The OpenVINO sentence encoder: converted once into the cache, and the same vectors as PyTorch."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from index.encoder import DEFAULT_MODEL
from index.torch_encoder import TorchEncoder

TEXTS = ("What did Peskov say about the strikes?", "Quarterly profits at the media company jumped 76%.")

pytestmark = pytest.mark.slow  # loads the bundled model


def test_the_bundled_model_converts_once_and_encodes_as_pytorch_does(tmp_path: Path, caplog):
    """should convert into ``cache_dir/openvino/<fingerprint>``, reuse it, and match PyTorch's unit vectors."""
    pytest.importorskip("openvino")
    from index.openvino_encoder import OpenVINOEncoder

    with caplog.at_level(logging.INFO):
        encoder = OpenVINOEncoder.load(DEFAULT_MODEL, cache_dir=tmp_path)
    assert "converting" in caplog.text
    (ir,) = (tmp_path / "openvino").iterdir()
    assert {p.name for p in ir.iterdir()} >= {"model.xml", "probes.json"}
    cosines = np.sum(encoder.encode(TEXTS) * TorchEncoder(DEFAULT_MODEL).encode(TEXTS), axis=1)
    assert cosines.min() > 0.999
    caplog.clear()
    with caplog.at_level(logging.INFO):
        OpenVINOEncoder.load(DEFAULT_MODEL, cache_dir=tmp_path)
    assert "converting" not in caplog.text

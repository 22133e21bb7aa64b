"""The cross-encoder's fine-tuning: which layers it trains, how many passes, and that the result loads as shipped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks import train_cross
from index.encoder import DEFAULT_MODEL, fingerprint, resolve_model
from retrieval.reader.cross import CROSS, CrossSpec, TorchCross, trained_weights
from retrieval.reader.model import sha256

pytestmark = pytest.mark.slow  # fine-tunes the bundled model (on four pairs)

PAIRS = [
    ("Who won the women's title?", "Serena Williams won the women's title on Saturday.", 1.0),
    ("Who won the women's title?", "Rain delayed play for an hour.", 0.0),
    ("What did Peskov say?", '"We have no information," Peskov said.', 1.0),
    ("What did Peskov say?", "The talks were held in Minsk.", 0.0),
]


def layers(weights: dict[str, object]) -> set[int]:
    return {int(n.split(".")[3]) for n in weights if n.startswith("bert.encoder.layer.")}


def test_fit_trains_only_the_upper_layers_by_default_and_the_shipped_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """should leave the shipped number of lower layers as the base model's and read each pair as often as shipped."""
    model = train_cross.fit(PAIRS, 7)
    assert layers(trained_weights(model.model)) == set(range(train_cross.FROZEN_LAYERS, 6))
    assert f"{train_cross.EPOCHS * len(PAIRS)} pairs in" in capsys.readouterr().out


def test_fit_trains_every_layer_for_as_many_passes_as_asked_and_the_file_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """should train all six layers over two passes, and the saved weights score as the trained model does."""
    from safetensors.torch import save_file

    model = train_cross.fit(PAIRS, 7, frozen_layers=0, epochs=3)
    assert f"{3 * len(PAIRS)} pairs in" in capsys.readouterr().out
    weights = trained_weights(model.model)
    assert layers(weights) == set(range(6))
    save_file(weights, str(tmp_path / CROSS))
    base = Path(resolve_model(DEFAULT_MODEL))
    spec = CrossSpec(
        sha256(tmp_path / CROSS), DEFAULT_MODEL, 0, 1.0, top=8, max_length=96, base_fingerprint=fingerprint(base)
    )
    loaded = TorchCross.load(tmp_path / CROSS, spec)
    question, sentences = PAIRS[0][0], [s for _, s, _ in PAIRS[:2]]
    np.testing.assert_allclose(loaded.score(question, sentences), model.score(question, sentences), atol=1e-4)

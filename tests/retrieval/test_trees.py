"""The NumPy tree evaluator against LightGBM's own predictions (LightGBM is only imported here, to compare)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.reader.features import CANDIDATE_FEATURES, QUESTION_FEATURES
from retrieval.reader.model import ABSTAIN, MODEL_DIR, RANKER
from retrieval.reader.trees import TreeModel

lightgbm = pytest.importorskip("lightgbm", reason="LightGBM trains the reader; these tests compare against it")


def _rows(n: int, features: int, seed: int) -> np.ndarray:
    """Random rows with exact zeros and repeated values, where ties with thresholds are likeliest."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    x[rng.random(x.shape) < 0.2] = 0.0
    x[:, 0] = np.round(x[:, 0], 1)
    return x


@pytest.mark.parametrize(
    ("objective", "zero_as_missing"),
    [("lambdarank", False), ("binary", False), ("binary", True)],
)
def test_matches_lightgbm_on_a_trained_model(tmp_path: Path, objective: str, zero_as_missing: bool):
    """should give LightGBM's predictions, including its missing-value rules and the binary sigmoid."""
    x = _rows(400, 6, seed=1)
    y = ((x[:, 0] + x[:, 1] * x[:, 2]) > 0.1).astype(float)
    params = {"objective": objective, "verbose": -1, "num_threads": 1, "deterministic": True, "seed": 3}
    params |= {"min_data_in_leaf": 5, "zero_as_missing": zero_as_missing}
    data = lightgbm.Dataset(x, y, group=[20] * 20 if objective == "lambdarank" else None)
    booster = lightgbm.train(params, data, num_boost_round=25)
    booster.save_model(str(tmp_path / "model.txt"))
    test = _rows(300, 6, seed=2)
    test[5, 3] = np.nan
    ours = TreeModel.load(tmp_path / "model.txt").predict(test)
    np.testing.assert_allclose(ours, booster.predict(test, num_threads=1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "features"), [(RANKER, CANDIDATE_FEATURES), (ABSTAIN, QUESTION_FEATURES)])
def test_matches_lightgbm_on_the_shipped_reader(name: str, features: tuple[str, ...]):
    """should reproduce the shipped models' outputs exactly as LightGBM computes them."""
    path = MODEL_DIR / name
    x = np.abs(_rows(500, len(features), seed=4))
    np.testing.assert_allclose(
        TreeModel.load(path).predict(x),
        lightgbm.Booster(model_file=str(path)).predict(x, num_threads=1),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("not a model at all", "not a single-output LightGBM model", id="garbage"),
        pytest.param("tree\nnum_class=1\nmax_feature_idx=2\nobjective=regression\n", "unsupported objective", id="obj"),
        pytest.param("tree\nnum_class=1\nmax_feature_idx=2\nobjective=binary sigmoid:1\n", "no trees", id="empty"),
        pytest.param(
            "tree\nnum_class=1\nmax_feature_idx=2\nobjective=binary sigmoid:1\n\nTree=0\nnum_leaves=3\n",
            "a tree lacks",
            id="truncated",
        ),
    ],
)
def test_bad_model_files_are_refused(tmp_path: Path, text: str, message: str):
    """should raise a ValueError that says what is wrong, never crash or guess."""
    (tmp_path / "m.txt").write_text(text)
    with pytest.raises(ValueError, match=message):
        TreeModel.load(tmp_path / "m.txt")


def test_wrong_width_is_refused():
    """should refuse rows with another number of features than the model was trained on."""
    model = TreeModel.load(MODEL_DIR / ABSTAIN)
    with pytest.raises(ValueError, match=f"rows of {len(QUESTION_FEATURES)} features"):
        model.predict(np.zeros((2, 3)))

"""The trained reader: two small LightGBM models and their manifest, loaded offline and checked by hash.

``ranker.txt`` scores candidate sentences (LambdaRank over ``CANDIDATE_FEATURES``);
``abstain.txt`` gives the probability that the indexed articles hold the answer (binary,
over ``QUESTION_FEATURES``). ``manifest.json`` records each file's SHA-256, the feature
names, the abstention threshold and the training report. The trees are evaluated with NumPy
(``retrieval/reader/trees.py``): LightGBM is needed to train, not to answer. ``load_reader`` returns ``None``
(and says why) when a file is missing, altered or built for other features: the caller then
falls back to the hand-tuned extractive scorer, and nothing crashes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.reader.features import CANDIDATE_FEATURES, QUESTION_FEATURES
from retrieval.reader.trees import TreeModel

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).resolve().parent / "model"
MANIFEST = "manifest.json"
RANKER = "ranker.txt"
ABSTAIN = "abstain.txt"


@dataclass(frozen=True)
class ReaderModel:
    """The loaded models and the settings chosen with them."""

    ranker: TreeModel
    abstain: TreeModel
    threshold: float
    manifest: dict[str, Any]

    def rank(self, matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """A score per candidate row: higher is more likely the answer."""
        return self.ranker.predict(matrix)

    def confidence(self, row: npt.NDArray[np.float32]) -> float:
        """Probability that the indexed articles hold the answer (calibrated on out-of-fold data)."""
        return float(self.abstain.predict(row)[0])


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_reader(directory: Path = MODEL_DIR) -> ReaderModel | None:
    """The reader in ``directory``, or ``None`` with a logged reason when it cannot be trusted."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        for name in (RANKER, ABSTAIN):
            if sha256(directory / name) != manifest["sha256"][name]:
                log.warning("reader model %s does not match its recorded hash; using the fallback scorer", name)
                return None
        if (
            tuple(manifest["candidate_features"]) != CANDIDATE_FEATURES
            or tuple(manifest["question_features"]) != QUESTION_FEATURES
        ):
            log.warning("reader model was trained on other features; retrain it (benchmarks.train_reader)")
            return None
        return ReaderModel(
            ranker=TreeModel.load(directory / RANKER),
            abstain=TreeModel.load(directory / ABSTAIN),
            threshold=float(manifest["threshold"]),
            manifest=manifest,
        )
    except FileNotFoundError as exc:
        log.warning("no trained reader model (%s); using the fallback scorer", exc.filename)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("the reader model cannot be loaded (%s); using the fallback scorer", exc)
    return None

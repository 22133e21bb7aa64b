"""The trained reader: small LightGBM models, a cross-encoder and their manifest, loaded offline and checked by hash.

``ranker.txt`` scores candidate sentences (LambdaRank over ``CANDIDATE_FEATURES``);
``cross.safetensors`` re-scores the ranker's best few (``retrieval/reader/cross.py``, loaded
by the answerer on first use); ``abstain.txt`` gives the probability that the indexed
articles hold the answer (binary, over ``QUESTION_FEATURES`` of the re-scored candidates),
and ``abstain_ranker_only.txt`` the same from the ranker's scores alone, for when the
cross-encoder cannot be loaded. ``manifest.json`` records each file's SHA-256, the feature
names, the abstention thresholds, the out-of-fold curve they were chosen on and the training
report. The trees are evaluated with NumPy
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

from retrieval.reader.cross import CrossSpec
from retrieval.reader.features import CANDIDATE_FEATURES, QUESTION_FEATURES
from retrieval.reader.trees import TreeModel

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).resolve().parent / "model"
MANIFEST = "manifest.json"
RANKER = "ranker.txt"
ABSTAIN = "abstain.txt"
ABSTAIN_ALONE = "abstain_ranker_only.txt"
#: The issue's limit on false answers: below the confidence whose out-of-fold false-answer rate meets it, an answer
#: says it is unsure (``sure_from``).
SURE_FALSE_ANSWER_RATE = 0.35


@dataclass(frozen=True)
class ReaderModel:
    """The loaded models and the settings chosen with them."""

    ranker: TreeModel
    abstain: TreeModel  # on the cross-encoder's re-scored candidates when ``cross`` is set
    threshold: float
    manifest: dict[str, Any]
    cross: CrossSpec | None = None
    abstain_alone: TreeModel | None = None  # on the ranker's scores alone (``cross`` set but not loadable)
    threshold_alone: float = 0.5
    sure: float | None = None  # the confidence from which an answer is not flagged unsure (``sure_from``)

    def rank(self, matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """A score per candidate row: higher is more likely the answer."""
        return self.ranker.predict(matrix)

    def confidence(self, row: npt.NDArray[np.float32], *, crossed: bool) -> tuple[float, float]:
        """Probability that the indexed articles hold the answer, and the threshold to answer at.

        ``crossed``: whether the candidates were re-scored by the cross-encoder (each way has its
        own model, calibrated on out-of-fold data).
        """
        if (alone := self._ranker_only(crossed)) is not None:
            return float(alone.predict(row)[0]), self.threshold_alone
        return float(self.abstain.predict(row)[0]), self.threshold

    def sure_at(self, *, crossed: bool) -> float | None:
        """``sure`` when the main abstention model answers (the curve is its own); ``None`` for the ranker-only one."""
        return None if self._ranker_only(crossed) is not None else self.sure

    def _ranker_only(self, crossed: bool) -> TreeModel | None:
        """The abstention model to use instead of the main one: a cross-encoder is expected but did not re-score."""
        return self.abstain_alone if self.cross is not None and not crossed else None


def sure_from(curve: list[dict[str, float]], threshold: float) -> float | None:
    """The lowest curve threshold, not below ``threshold``, whose out-of-fold false-answer rate is within the limit.

    The answer threshold is set for the answer rate (87% of answerable questions answered), where
    more than half of the questions whose article is gone still get an answer; from this
    confidence on, at most ``SURE_FALSE_ANSWER_RATE`` of them do. Answers in between are shown
    and say they are unsure. ``None`` (never flag) when the curve has no such point.
    """
    fitting = [
        float(p["threshold"])
        for p in curve
        if float(p["threshold"]) >= threshold and float(p["false_answer_rate"]) <= SURE_FALSE_ANSWER_RATE
    ]
    return min(fitting, default=None)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_reader(directory: Path = MODEL_DIR) -> ReaderModel | None:
    """The reader in ``directory``, or ``None`` with a logged reason when it cannot be trusted."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        cross = CrossSpec.from_manifest(manifest["cross"]) if "cross" in manifest else None
        for name in (RANKER, ABSTAIN, *((ABSTAIN_ALONE,) if cross else ())):
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
            cross=cross,
            abstain_alone=TreeModel.load(directory / ABSTAIN_ALONE) if cross else None,
            threshold_alone=float(manifest["ranker_only"]["threshold"]) if cross else 0.5,
            sure=sure_from(manifest.get("curve", []), float(manifest["threshold"])),
        )
    except FileNotFoundError as exc:
        log.warning("no trained reader model (%s); using the fallback scorer", exc.filename)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("the reader model cannot be loaded (%s); using the fallback scorer", exc)
    return None

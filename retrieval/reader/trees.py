"""Evaluate a LightGBM text model with NumPy alone: the reader needs no LightGBM at question time.

LightGBM trains the reader (``benchmarks/train_reader.py``) and writes its models as text. Loading
them back with LightGBM inside the serving process put two OpenMP runtimes (LightGBM's and
PyTorch's) in one process, which crashed it while freeing boosters; reading the trees here avoids
that and keeps the runtime dependency-free. Only what the reader's models use is supported:
numerical splits (``<=`` goes left), LightGBM's missing-value rules, one output per row, and the
``lambdarank`` (raw score) and ``binary`` (sigmoid) objectives. ``tests/retrieval/test_trees.py``
checks the predictions against LightGBM's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

_CATEGORICAL = 1
_DEFAULT_LEFT = 2
_MISSING_ZERO, _MISSING_NAN = 1, 2
_ZERO = 1e-35


@dataclass(frozen=True)
class _Tree:
    feature: npt.NDArray[np.int64]
    threshold: npt.NDArray[np.float64]
    default_left: npt.NDArray[np.bool_]
    missing: npt.NDArray[np.int64]
    left: npt.NDArray[np.int64]
    right: npt.NDArray[np.int64]
    leaf: npt.NDArray[np.float64]


class TreeModel:
    """A LightGBM model read from its text form; ``predict`` matches ``lightgbm.Booster.predict``.

    All trees are packed into flat arrays and walked together, one level per step, so a question's
    candidates cost a few vectorised steps rather than a Python loop over hundreds of trees.
    """

    def __init__(self, trees: list[_Tree], *, sigmoid: float | None, features: int) -> None:
        """Use :meth:`load`."""
        self.sigmoid = sigmoid
        self.features = features
        nodes, leaves, roots = 0, 0, []
        left, right = [], []
        for tree in trees:
            roots.append(nodes if len(tree.feature) else ~leaves)
            # Children: internal nodes shifted by the nodes before this tree; leaves (~l) by the leaves before it.
            left.append(np.where(tree.left >= 0, tree.left + nodes, ~(~tree.left + leaves)))
            right.append(np.where(tree.right >= 0, tree.right + nodes, ~(~tree.right + leaves)))
            nodes += len(tree.feature)
            leaves += len(tree.leaf)
        self.roots = np.asarray(roots, dtype=np.int64)
        self.feature = np.concatenate([t.feature for t in trees])
        self.threshold = np.concatenate([t.threshold for t in trees])
        self.default_left = np.concatenate([t.default_left for t in trees])
        self.missing = np.concatenate([t.missing for t in trees])
        self.left = np.concatenate(left)
        self.right = np.concatenate(right)
        self.leaf = np.concatenate([t.leaf for t in trees])

    @classmethod
    def load(cls, path: Path) -> TreeModel:
        """Read a model file written by ``lightgbm.Booster.save_model``.

        Raises:
            ValueError: when the file is not such a model, or uses what this reader does not support.
        """
        header, *blocks = path.read_text(encoding="utf-8").split("\nTree=")
        head = _fields(header)
        if head.get("num_class", "1") != "1" or "max_feature_idx" not in head:
            raise ValueError(f"{path.name}: not a single-output LightGBM model")
        objective = head.get("objective", "").split()
        if not objective or objective[0] not in ("lambdarank", "binary"):
            raise ValueError(f"{path.name}: unsupported objective {head.get('objective')!r}")
        sigmoid = None
        if objective[0] == "binary":
            sigmoid = float(next((o.split(":")[1] for o in objective if o.startswith("sigmoid:")), "1"))
        trees = [_tree(block.split("end of trees")[0], path.name) for block in blocks]
        if not trees:
            raise ValueError(f"{path.name}: no trees")
        return cls(trees, sigmoid=sigmoid, features=int(head["max_feature_idx"]) + 1)

    def predict(self, matrix: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
        """The model's output per row: the raw score, or for ``binary`` the probability."""
        x = np.asarray(matrix, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.features:
            raise ValueError(f"expected rows of {self.features} features, got shape {x.shape}")
        node = np.tile(self.roots, (len(x), 1))  # (rows, trees): every tree walked at once
        row = np.broadcast_to(np.arange(len(x))[:, None], node.shape)
        active = node >= 0
        while active.any():
            at, rows = node[active], row[active]
            value = x[rows, self.feature[at]]
            missing = self.missing[at]
            value = np.where(np.isnan(value) & (missing != _MISSING_NAN), 0.0, value)
            by_default = ((missing == _MISSING_ZERO) & (np.abs(value) <= _ZERO)) | (
                (missing == _MISSING_NAN) & np.isnan(value)
            )
            go_left = np.where(by_default, self.default_left[at], value <= self.threshold[at])
            node[active] = np.where(go_left, self.left[at], self.right[at])
            active = node >= 0
        raw: npt.NDArray[np.float64] = self.leaf[~node].sum(axis=1)
        if self.sigmoid is None:
            return raw
        probability: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-self.sigmoid * raw))
        return probability


def _fields(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def _tree(block: str, name: str) -> _Tree:
    f = _fields("Tree=" + block)
    try:
        leaf = np.array(f["leaf_value"].split(), dtype=np.float64)
        if int(f["num_leaves"]) == 1:
            empty = np.zeros(0, dtype=np.int64)
            return _Tree(empty, np.zeros(0), np.zeros(0, dtype=bool), empty, empty, empty, leaf)
        if int(f.get("num_cat", "0")):
            raise ValueError(f"{name}: categorical splits are not supported")
        decision = np.array(f["decision_type"].split(), dtype=np.int64)
        return _Tree(
            feature=np.array(f["split_feature"].split(), dtype=np.int64),
            threshold=np.array(f["threshold"].split(), dtype=np.float64),
            default_left=(decision & _DEFAULT_LEFT) != 0,
            missing=(decision >> 2) & 3,
            left=np.array(f["left_child"].split(), dtype=np.int64),
            right=np.array(f["right_child"].split(), dtype=np.int64),
            leaf=leaf,
        )
    except KeyError as exc:
        raise ValueError(f"{name}: a tree lacks {exc.args[0]}") from None

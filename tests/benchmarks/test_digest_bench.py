from __future__ import annotations

import json
import re

import numpy as np

from benchmarks.digest import LABELS, Corpus, load_labels, precision_recall, split
from index.models import Article
from retrieval.stories import Signals


def test_labels_hold_only_two_ids_and_a_label():
    """should keep at least 50 labelled pairs of CNN/DM ids, both classes, and nothing of the articles."""
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 50
    assert all(set(row) == {"a", "b", "same"} and isinstance(row["same"], bool) for row in rows)
    assert all(re.fullmatch(r"cnndm-[0-9a-f]{40}", row[k]) for row in rows for k in ("a", "b"))
    assert len({(row["a"], row["b"]) for row in rows}) == len(rows)
    assert 0 < sum(row["same"] for row in rows) < len(rows)


def test_split_is_fixed_and_covers_every_pair():
    """should split the pairs the same way every run, into two halves that together are all of them."""
    labels = load_labels()
    dev, test = split(labels)
    assert (dev, test) == split(labels)
    assert sorted(dev + test) == sorted(labels) and abs(len(dev) - len(test)) <= 1


def test_precision_recall_counts_merged_copies_as_one_story():
    """should count pairs in one story, or stored as one article, as predicted "same"."""
    articles = [Article(id=i, collection="global", title=i, text=i) for i in ("x", "y", "z")]
    corpus = Corpus(
        articles,
        Signals(np.zeros((3, 2), np.float32), np.zeros((3, 2), np.float32), (frozenset(),) * 3, np.zeros(3)),
        {"a": "x", "b": "y", "c": "z", "d": "z"},
        {},
    )
    story_of = {"x": 0, "y": 0, "z": 1}
    labels = [("a", "b", True), ("a", "c", True), ("c", "d", False), ("b", "c", False)]
    scores = precision_recall(corpus, labels, story_of)
    assert (scores["tp"], scores["fn"], scores["fp"], scores["tn"]) == (1, 1, 1, 1)
    assert scores["precision"] == 0.5 and scores["recall"] == 0.5

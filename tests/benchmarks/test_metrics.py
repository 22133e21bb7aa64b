from __future__ import annotations

import pytest

from benchmarks.metrics import contains_any, distinct, hit_at, is_verbatim, mean, reciprocal_rank, rouge


def test_hit_at_k_and_mrr():
    """should count a hit only within the first k, and score 1/rank within 10."""
    ranked = ["b", "a", "c"]
    assert (hit_at(ranked, "a", 1), hit_at(ranked, "a", 2), hit_at(ranked, "z", 10)) == (0.0, 1.0, 0.0)
    assert reciprocal_rank(ranked, "a") == 0.5
    assert reciprocal_rank(["x"] * 10 + ["a"], "a", 10) == 0.0
    assert mean([reciprocal_rank(ranked, g) for g in ("b", "c", "z")]) == pytest.approx((1 + 1 / 3) / 3)


def test_distinct_keeps_first_rank():
    """should turn a passage ranking into an article ranking."""
    assert distinct(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_contains_any_normalises_case_quotes_and_spaces():
    """should find a gold answer regardless of case, curly quotes and line breaks."""
    assert contains_any("He said it was \u201csignificantly\n increased\u201d.", ['"Significantly increased"'])
    assert not contains_any("nothing here", ["answer", "  "])


def test_verbatim_check():
    """should accept a quote only when it is exactly the text at its offsets."""
    text = "Alpha beta. Gamma delta."
    assert is_verbatim(text, "Gamma delta.", 12, 24)
    assert not is_verbatim(text, "Gamma delta", 12, 24)
    assert not is_verbatim(text, "", 0, 0)
    assert not is_verbatim(text, "Gamma delta.", 12, 99)


def test_rouge_wrapper():
    """should give 1.0 for identical texts and less for partial overlap."""
    perfect = rouge(["the cat sat on the mat"], ["the cat sat on the mat"])
    assert perfect == pytest.approx({"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0})
    partial = rouge(["the cat sat"], ["the cat sat on the mat"])
    assert 0 < partial["rouge2"] < partial["rouge1"] < 1

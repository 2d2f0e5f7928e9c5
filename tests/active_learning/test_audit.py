"""The audit slice over arrays (its share, its uniform draw, its place in the batch) and the
savings estimate's arithmetic on constructed counts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from active_learning import LabeledSet, Pool, RoundOptions, run_round
from active_learning.audit import audit_count, savings_estimate, with_audit_slice
from active_learning.errors import InvalidInputError


def test_the_audit_count_rounds_at_random_so_its_mean_is_the_share() -> None:
    rng = np.random.default_rng(0)
    counts = [audit_count(50, 0.05, rng) for _ in range(4000)]  # 2.5 per batch
    assert set(counts) == {2, 3}
    assert np.mean(counts) == pytest.approx(2.5, abs=0.05)
    assert audit_count(40, 0.25, rng) == 10
    assert audit_count(10, 0.0, rng) == 0
    with pytest.raises(InvalidInputError, match="audit share"):
        audit_count(10, 1.5, rng)


def test_the_audit_slice_replaces_the_strategys_last_picks_at_random_places() -> None:
    scores = np.arange(100, dtype=np.float64)
    scores[:10] = -np.inf  # ineligible: never drawn
    picks = np.argsort(-scores)[:20]
    batch, audit = with_audit_slice(picks, scores, 5, np.random.default_rng(1))
    assert batch.shape == (20,) and audit.sum() == 5 and len(set(batch)) == 20
    assert np.all(np.isfinite(scores[batch]))
    kept = batch[~audit]
    assert list(kept) == [p for p in picks if p not in set(batch[audit])][:15]  # best first, in order


def test_audit_items_are_a_uniform_draw_of_the_eligible_pool() -> None:
    scores = np.arange(40, dtype=np.float64)
    picks = np.argsort(-scores)[:10]
    rng = np.random.default_rng(2)
    hits = np.zeros(40)
    for _ in range(4000):
        batch, audit = with_audit_slice(picks, scores, 2, rng)
        hits[batch[audit]] += 1
    # Each of 40 items drawn with probability 2/40 per batch: 200 of 4000 expected.
    assert hits.min() > 140 and hits.max() < 260


def test_a_round_with_an_audit_share_marks_its_audit_items() -> None:
    X = np.random.default_rng(3).normal(size=(200, 4))
    y = (X[:, 0] > 0).astype(np.int64)
    result = run_round(
        LabeledSet(X[:40], y[:40]),
        Pool(X[40:]),
        "margin",
        40,
        np.random.default_rng(4),
        options=RoundOptions(audit_share=0.25),
    )
    assert result.audit is not None and int(result.audit.sum()) == 10
    assert len(set(result.positions.tolist())) == 40


def test_the_savings_estimate_is_the_relative_rate_with_katzs_interval() -> None:
    found = savings_estimate(strategy_useful=60, strategy_labeled=200, audit_useful=10, audit_labeled=100)
    assert found.ready and found.ratio == pytest.approx(3.0)
    half = 1.959964 * math.sqrt(1 / 60 - 1 / 200 + 1 / 10 - 1 / 100)  # Katz: the log ratio's SE
    assert found.ratio_low == pytest.approx(3.0 * math.exp(-half), rel=1e-4)
    assert found.ratio_high == pytest.approx(3.0 * math.exp(half), rel=1e-4)
    assert found.saved == pytest.approx(400.0)  # 200 labels found what 600 random ones would
    assert found.saved_low == pytest.approx((found.ratio_low - 1) * 200)
    assert found.share_saved == pytest.approx(2 / 3)
    assert "ratio 3.00" in found.message


def test_a_strategy_no_better_than_random_saves_nothing_within_its_interval() -> None:
    found = savings_estimate(strategy_useful=30, strategy_labeled=300, audit_useful=10, audit_labeled=100)
    assert found.ratio == pytest.approx(1.0) and found.saved == pytest.approx(0.0)
    assert found.saved_low < 0 < found.saved_high


def test_too_few_audit_labels_give_a_message_not_a_number() -> None:
    few = savings_estimate(strategy_useful=40, strategy_labeled=200, audit_useful=3, audit_labeled=12)
    assert not few.ready and few.ratio is None
    assert few.message == "not enough audit labels yet (12 of 30)"
    rare = savings_estimate(
        strategy_useful=40, strategy_labeled=200, audit_useful=2, audit_labeled=60, useful="toxic labels"
    )
    assert not rare.ready and rare.message.startswith("not enough toxic labels yet (2 among 60 audit items")
    with pytest.raises(InvalidInputError):
        savings_estimate(strategy_useful=5, strategy_labeled=4, audit_useful=0, audit_labeled=0)

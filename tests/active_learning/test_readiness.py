"""The readiness gate over arrays: PR-AUC against the prior, accuracy against chance, with an
interval; a gated round keeps its strategy when the model beats the baseline (same selection
as without the gate) and falls back, recorded, when it does not."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from active_learning import LabeledSet, Pool, RoundOptions, ValidationSlice, run_round
from active_learning.classifiers import make_model
from active_learning.errors import InvalidInputError
from active_learning.readiness import assess, auc_interval, compare, delong


def separable(n: int, seed: int, *, prevalence: float = 0.2, signal: float = 2.0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(np.int64)
    X = rng.normal(size=(n, 8))
    X[:, 0] += signal * y
    return X, y


def test_delongs_auc_is_sklearns_and_its_variance_matches_the_bootstraps() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.3).astype(int)
    p = np.round(rng.random(300) + 0.4 * y, 1)  # ties, as real scores have
    auc, variance = delong(y, p)
    assert auc == pytest.approx(roc_auc_score(y, p))
    rows = rng.integers(0, 300, size=(2000, 300))
    boot = [roc_auc_score(y[r], p[r]) for r in rows]
    assert variance == pytest.approx(np.var(boot), rel=0.15)


def test_the_auc_interval_stays_inside_zero_and_one_even_for_a_perfect_ranking() -> None:
    y = np.array([0, 0, 0, 1, 1, 1])
    auc, (low, high) = auc_interval(y, np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9]))
    assert auc == 1.0 and 0 < low < high < 1


def test_a_binary_model_that_beats_the_prior_has_a_signal() -> None:
    X, y = separable(400, 1)
    p = make_model("binary").fit(X[:200], y[:200]).predict_proba(X[200:])[:, 1]
    found = compare("binary", y[200:], p, evidence="validation")
    assert found.signal and found.metric == "roc_auc" and found.baseline == 0.5
    assert found.value == pytest.approx(roc_auc_score(y[200:], p))
    assert 0 < found.gain_low < found.value - found.baseline < found.gain_high


def test_scores_unrelated_to_the_labels_are_no_signal() -> None:
    rng = np.random.default_rng(2)
    y = (rng.random(500) < 0.2).astype(int)
    found = compare("binary", y, rng.random(500), evidence="validation")
    assert not found.signal
    assert found.gain_low <= 0 <= found.gain_high
    assert found.reason.startswith("no signal: roc_auc")


def test_a_slice_without_positives_is_no_signal() -> None:
    found = compare("binary", np.zeros(30), np.linspace(0, 1, 30), evidence="validation")
    assert not found.signal and "0 positive" in found.reason


def test_preference_accuracy_is_compared_with_chance_by_wilsons_interval() -> None:
    y = np.array([1.0] * 70 + [0.0] * 30 + [0.5] * 10)  # ties left out
    right = compare("preference", y, np.where(y == 1.0, 0.8, 0.2), evidence="v")
    assert right.signal and right.value == 1.0 and right.n == 100 and right.method == "Wilson"
    coin = np.random.default_rng(3).random(110)
    chance = compare("preference", y, coin, evidence="v")
    assert not chance.signal and chance.baseline == 0.5 and "chance" in chance.reason


def test_multilabel_readiness_asks_whether_items_with_any_label_rank_first() -> None:
    X, y = separable(600, 4)
    Y = np.column_stack([y, np.zeros_like(y)])  # the second label never occurs
    model = make_model("multilabel").fit(X[:300], Y[:300])
    found = compare("multilabel", Y[300:], model.predict_proba(X[300:]), evidence="v")
    proba = model.predict_proba(X[300:])
    assert found.signal and found.metric == "roc_auc_any_label"
    assert found.value == pytest.approx(roc_auc_score(Y[300:].max(axis=1), proba.max(axis=1)))


def test_without_a_validation_slice_the_evidence_is_out_of_fold() -> None:
    X, y = separable(200, 5, prevalence=0.4)
    model = make_model("binary").fit(X, y)
    found = assess("binary", model, np.random.default_rng(0), validation=None, labeled=(X, y))
    assert found.evidence == "out_of_fold" and found.n == 200 and found.signal
    few = assess("binary", model, np.random.default_rng(0), validation=None, labeled=(X[:9], y[:9]))
    assert not few.signal and few.evidence == "none" and "needs 10" in few.reason


def _round(X, y, strategy: str, fallback: str | None, *, audit: float = 0.0, seed: int = 7):  # type: ignore[no-untyped-def]
    labeled, pool, val = slice(0, 60), slice(60, 300), slice(300, None)
    return run_round(
        LabeledSet(X[labeled], y[labeled]),
        Pool(X[pool]),
        strategy,
        20,
        np.random.default_rng(seed),
        validation=ValidationSlice(X[val], y[val]),
        options=RoundOptions(task="binary", fallback=fallback, audit_share=audit),
    )


def test_a_gated_round_with_a_signal_selects_exactly_as_the_ungated_one() -> None:
    X, y = separable(500, 6, prevalence=0.3)
    for strategy in ("margin", "vote_entropy"):
        gated, plain = _round(X, y, strategy, "random"), _round(X, y, strategy, None)
        assert gated.readiness is not None and gated.readiness.signal
        assert gated.strategy == gated.requested_strategy == strategy and gated.fallback_reason == ""
        assert np.array_equal(gated.positions, plain.positions)
        assert plain.readiness is None


def test_a_gated_round_at_chance_falls_back_and_records_why() -> None:
    X, _ = separable(500, 7)
    noise = (np.random.default_rng(8).random(500) < 0.3).astype(np.int64)
    result = _round(X, noise, "margin", "random")
    assert (result.requested_strategy, result.strategy) == ("margin", "random")
    assert result.readiness is not None and not result.readiness.signal
    assert result.fallback_reason.startswith("margin needs a model that beats its baseline; no signal")
    # The fallback selected: the batch is random's under the same seed, not margin's.
    assert not np.array_equal(result.positions, _round(X, noise, "margin", None).positions)


def test_the_fallback_must_work_without_a_model() -> None:
    X, y = separable(400, 9)
    with pytest.raises(InvalidInputError, match="without a model"):
        _round(X, y, "margin", "entropy")


def test_a_gated_model_strategy_with_no_labels_falls_back_instead_of_failing() -> None:
    X, _ = separable(100, 10)
    result = run_round(
        LabeledSet(X[:0], np.zeros(0)),
        Pool(X),
        "margin",
        5,
        np.random.default_rng(0),
        options=RoundOptions(fallback="random"),
    )
    assert result.strategy == "random" and "no model" in result.fallback_reason

from __future__ import annotations

import numpy as np
import pytest

from active_learning import (
    InvalidInputError,
    LogisticClassifier,
    MultiLabelClassifier,
    PreferenceModel,
    binary_metrics,
    choose_threshold,
    multilabel_metrics,
    preference_metrics,
)

from .pools import blobs


def test_binary_classifier_gives_probabilities_and_weights_rare_positives() -> None:
    X, y = blobs(400, pos_rate=0.05, seed=1)
    P = LogisticClassifier().fit(X, y).predict_proba(X)
    assert P.shape == (400, 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    unweighted = LogisticClassifier(class_weight=None).fit(X, y).predict_proba(X)
    # Balanced class weights push rare-positive probabilities up, so recall at 0.5 is higher.
    assert (P[y == 1, 1] >= 0.5).mean() > (unweighted[y == 1, 1] >= 0.5).mean()


def test_binary_classifier_falls_back_to_the_prior_with_one_class() -> None:
    X = np.random.default_rng(0).normal(size=(5, 3))
    clf = LogisticClassifier().fit(X, np.zeros(5, dtype=int))
    assert clf.is_prior_only
    np.testing.assert_allclose(clf.predict_proba(X[:2]), [[6 / 7, 1 / 7]] * 2)


def test_prediction_in_chunks_handles_float16_memmaps(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import active_learning.classifiers as classifiers

    X, y = blobs(300, seed=2)
    clf = LogisticClassifier().fit(X, y)
    path = tmp_path / "pool.npy"
    np.save(path, X.astype(np.float16))
    pool = np.load(path, mmap_mode="r")
    monkeypatch.setattr(classifiers, "CHUNK_ROWS", 64)
    np.testing.assert_allclose(clf.predict_proba(pool), clf.predict_proba(X.astype(np.float16)), atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(pool), clf.predict_proba(X), atol=5e-3)


def test_classifier_names_bad_shapes() -> None:
    with pytest.raises(InvalidInputError, match=r"X must be 2-D \(n, d\); got shape \(3,\)"):
        LogisticClassifier().fit(np.zeros(3), np.zeros(3))
    with pytest.raises(InvalidInputError, match=r"X \(3, 2\) and y \(2,\) must have the same number of rows"):
        LogisticClassifier().fit(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(InvalidInputError, match=r"class ids in \[0, 2\)"):
        LogisticClassifier().fit(np.zeros((3, 2)), np.array([0, 1, 2]))


def test_multilabel_uses_the_prior_for_labels_with_too_few_positives() -> None:
    X, y = blobs(200, seed=3)
    rare = np.zeros(200, dtype=int)
    rare[:2] = 1
    Y = np.column_stack([y, rare])
    clf = MultiLabelClassifier(min_positives=3).fit(X, Y)
    assert clf.prior_only_labels == [1]
    P = clf.predict_proba(X)
    assert P.shape == (200, 2)
    np.testing.assert_allclose(P[:, 1], 3 / 202)
    assert P[:, 0].std() > 0.05


def _pairs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = np.array([1.0, -1.0, 0.5, 0.0])
    A, B = rng.normal(size=(n, 4)), rng.normal(size=(n, 4))
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * (A - B) @ w))).astype(float)
    return np.stack([A, B], axis=1), y


def test_preference_model_is_antisymmetric_and_learns_the_direction() -> None:
    X, y = _pairs(500, seed=4)
    model = PreferenceModel().fit(X, y)
    P = model.predict_proba(X)
    swapped = model.predict_proba(X[:, ::-1])
    np.testing.assert_allclose(P[:, 1], swapped[:, 0], atol=1e-9)
    assert preference_metrics(y, P[:, 1])["accuracy"] > 0.7


def test_preference_ties_count_half_each_way() -> None:
    X, _ = _pairs(200, seed=5)
    ties = PreferenceModel().fit(X, np.full(200, 0.5))
    np.testing.assert_allclose(ties.predict_proba(X)[:, 1], 0.5, atol=0.02)
    with pytest.raises(InvalidInputError, match="0.5 \\(tie\\)"):
        PreferenceModel().fit(X, np.full(200, 0.3))


def test_preference_can_condition_on_the_prompt() -> None:
    X, y = _pairs(100, seed=6)
    prompts = np.random.default_rng(0).normal(size=(100, 1, 4))
    model = PreferenceModel(use_prompt=True).fit(np.concatenate([X, prompts], axis=1), y)
    assert model.predict_proba(np.concatenate([X, prompts], axis=1)).shape == (100, 2)
    with pytest.raises(InvalidInputError, match=r"\(n, 3, d\)"):
        model.predict_proba(X)


def test_binary_metrics_and_multilabel_metrics() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.6, 0.4, 0.9])
    m = binary_metrics(y, p)
    assert m["f1"] == pytest.approx(0.5)
    assert m["pr_auc"] == pytest.approx((1.0 + 2 / 3) / 2)
    ml = multilabel_metrics(
        np.column_stack([y, np.zeros(4, int)]), np.column_stack([p, p]), ["toxic", "threat"]
    )
    assert ml["f1/toxic"] == pytest.approx(0.5)
    assert np.isnan(ml["pr_auc/threat"])
    assert ml["macro_pr_auc"] == pytest.approx(m["pr_auc"])


def _brute_force_cost(y: np.ndarray, p: np.ndarray, cost_fp: float, cost_fn: float) -> float:
    candidates = np.r_[np.unique(p), np.inf]
    return min(
        cost_fp * np.sum((p >= t) & (y == 0)) + cost_fn * np.sum((p < t) & (y == 1)) for t in candidates
    ) / len(y)


@pytest.mark.parametrize("cost_fp,cost_fn", [(1, 1), (1, 10), (10, 1), (0, 1)])
def test_choose_threshold_minimises_the_stated_cost(cost_fp: float, cost_fn: float) -> None:
    rng = np.random.default_rng(7)
    y = (rng.random(300) < 0.2).astype(int)
    p = np.clip(0.3 * y + rng.random(300) * 0.7, 0, 1).round(2)
    choice = choose_threshold(y, p, cost_fp=cost_fp, cost_fn=cost_fn)
    assert choice.expected_cost == pytest.approx(_brute_force_cost(y, p, cost_fp, cost_fn))
    realised = (
        cost_fp * np.sum((p >= choice.threshold) & (y == 0))
        + cost_fn * np.sum((p < choice.threshold) & (y == 1))
    ) / 300
    assert realised == pytest.approx(choice.expected_cost)


def test_costlier_misses_lower_the_threshold() -> None:
    rng = np.random.default_rng(8)
    y = (rng.random(500) < 0.3).astype(int)
    p = np.clip(0.4 * y + rng.random(500) * 0.6, 0, 1)
    assert (
        choose_threshold(y, p, cost_fp=1, cost_fn=10).threshold
        < choose_threshold(y, p, cost_fp=10, cost_fn=1).threshold
    )
    with pytest.raises(InvalidInputError, match="costs"):
        choose_threshold(y, p, cost_fp=0, cost_fn=0)

"""Out-of-fold probabilities and cleanlab label issues on synthetic data with known flips."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from label_quality import (
    find_label_issues,
    find_multilabel_issues,
    find_preference_issues,
    label_issues_from_features,
    out_of_fold_pred_probs,
    out_of_fold_pred_probs_multilabel,
)


def _blobs(
    rng: np.random.Generator, n: int = 400, n_classes: int = 2, separation: float = 4.0
) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, n_classes, n)
    centers = rng.normal(size=(n_classes, 5)) * separation
    return centers[labels] + rng.normal(size=(n, 5)), labels


def _flip(
    labels: np.ndarray, rng: np.random.Generator, fraction: float, n_classes: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    flipped = rng.choice(labels.size, size=int(fraction * labels.size), replace=False)
    noisy = labels.copy()
    noisy[flipped] = (noisy[flipped] + rng.integers(1, n_classes, flipped.size)) % n_classes
    return noisy, np.sort(flipped)


def test_out_of_fold_probabilities_are_deterministic_for_a_seed(rng: np.random.Generator) -> None:
    features, labels = _blobs(rng)
    first = out_of_fold_pred_probs(features, labels, rng=np.random.default_rng(1))
    second = out_of_fold_pred_probs(features, labels, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(first, second)
    assert first.shape == (400, 2)
    np.testing.assert_allclose(first.sum(axis=1), 1.0)
    assert np.mean(first.argmax(axis=1) == labels) > 0.9


def test_out_of_fold_probabilities_accept_groups_and_a_custom_classifier(
    rng: np.random.Generator,
) -> None:
    features, labels = _blobs(rng, n_classes=3)
    groups = np.arange(400) // 4
    probs = out_of_fold_pred_probs(
        features, labels, rng=rng, groups=groups, classifier=LogisticRegression(C=0.5)
    )
    assert probs.shape == (400, 3)


def test_out_of_fold_rejects_classes_too_small_for_the_folds(rng: np.random.Generator) -> None:
    features = rng.normal(size=(20, 3))
    labels = np.array([0] * 17 + [1] * 3)
    with pytest.raises(ValueError, match=r"class counts are \[17, 3\]"):
        out_of_fold_pred_probs(features, labels, rng=rng)
    with pytest.raises(ValueError, match=r"features have 20 rows but labels have shape \(19,\)"):
        out_of_fold_pred_probs(features, labels[:19], rng=rng)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        out_of_fold_pred_probs(features, labels, rng=42)  # type: ignore[arg-type]


def test_it_finds_flipped_binary_labels(rng: np.random.Generator) -> None:
    features, truth = _blobs(rng, n=600)
    noisy, flipped = _flip(truth, rng, 0.1)
    issues = label_issues_from_features(features, noisy, rng=rng)
    found = set(issues.positions.tolist())
    precision = len(found & set(flipped.tolist())) / max(len(found), 1)
    recall = len(found & set(flipped.tolist())) / flipped.size
    assert precision > 0.8 and recall > 0.8
    # Ranked worst first; every flagged position scores below every unflagged one.
    assert np.all(np.diff(issues.quality[issues.positions]) >= 0)
    assert issues.quality[issues.is_issue].max() <= np.median(issues.quality[~issues.is_issue])
    top = issues.top_k(flipped.size)
    assert len(set(top.tolist()) & set(flipped.tolist())) / flipped.size > 0.8
    assert issues.ranking.shape == (600,)


def test_find_label_issues_validates_shapes() -> None:
    with pytest.raises(ValueError, match=r"pred_probs has shape \(2, 2\) but there are 3 items"):
        find_label_issues([0, 1, 1], np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="holds code 2 but there are 2 classes"):
        find_label_issues([0, 1, 2], np.full((3, 2), 0.5))


def test_it_finds_flipped_multilabel_labels(rng: np.random.Generator) -> None:
    n = 600
    features = rng.normal(size=(n, 6))
    weights = rng.normal(size=(6, 3)) * 3
    truth = (features @ weights > 0.5).astype(int)
    noisy = truth.copy()
    flipped_items = rng.choice(n, size=50, replace=False)
    flipped_labels = rng.integers(0, 3, 50)
    noisy[flipped_items, flipped_labels] = 1 - noisy[flipped_items, flipped_labels]
    probs = out_of_fold_pred_probs_multilabel(features, noisy, rng=rng)
    assert probs.shape == (n, 3)
    result = find_multilabel_issues(noisy, probs)
    found = set(result.items.positions.tolist())
    assert len(found & set(flipped_items.tolist())) / len(found) > 0.7
    assert len(found & set(flipped_items.tolist())) / 50 > 0.7
    assert result.per_label_is_issue.shape == (n, 3)
    hits = result.per_label_is_issue[flipped_items, flipped_labels]
    assert hits.mean() > 0.6


def test_multilabel_rejects_single_label_input() -> None:
    with pytest.raises(ValueError, match="multi-label needs >= 2 labels"):
        find_multilabel_issues(np.array([[0], [1]]), np.array([[0.2], [0.9]]))


def test_preference_issues_three_class_and_drop_ties(rng: np.random.Generator) -> None:
    features, truth = _blobs(rng, n=600, n_classes=3)
    noisy, flipped = _flip(truth, rng, 0.1, n_classes=3)
    probs = out_of_fold_pred_probs(features, noisy, rng=rng, n_classes=3)
    three = find_preference_issues(noisy, probs)
    assert len(set(three.positions.tolist()) & set(flipped.tolist())) / flipped.size > 0.7

    strict = find_preference_issues(noisy, probs, mode="drop_ties")
    ties = noisy == 2
    assert np.isnan(strict.quality[ties]).all()
    assert not strict.is_issue[ties].any()
    assert np.isfinite(strict.quality[~ties]).all()
    assert strict.ranking.size == int((~ties).sum())
    same = find_preference_issues(noisy, probs[:, :2] / probs[:, :2].sum(1, keepdims=True), mode="drop_ties")
    np.testing.assert_array_equal(same.positions, strict.positions)
    with pytest.raises(ValueError, match="mode must be"):
        find_preference_issues(noisy, probs, mode="pairs")  # type: ignore[arg-type]

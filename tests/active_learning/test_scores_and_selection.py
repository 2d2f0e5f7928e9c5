from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import entropy as scipy_entropy

from active_learning import (
    InvalidInputError,
    entropy_scores,
    kcenter_top_k,
    kl_max_scores,
    kmeans_top_k,
    least_confidence_scores,
    margin_scores,
    multilabel_committee_scores,
    multilabel_scores,
    top_k,
    vote_entropy_scores,
)
from active_learning.errors import UnknownNameError
from active_learning.selection import nearest_labeled_distance

from .pools import as_list

PROBA = np.array([[0.9, 0.1], [0.5, 0.5], [0.7, 0.3], [0.2, 0.8]])


def test_uncertainty_scores_match_their_definitions() -> None:
    np.testing.assert_allclose(least_confidence_scores(PROBA), [0.1, 0.5, 0.3, 0.2])
    np.testing.assert_allclose(margin_scores(PROBA), [0.2, 1.0, 0.6, 0.4])
    np.testing.assert_allclose(entropy_scores(PROBA), scipy_entropy(PROBA.T))


def test_scores_agree_with_modal_on_a_real_estimator() -> None:
    from modAL.uncertainty import classifier_entropy, classifier_margin, classifier_uncertainty
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = rng.integers(0, 3, size=50)
    clf = LogisticRegression().fit(X, y)
    P = clf.predict_proba(X)
    np.testing.assert_allclose(least_confidence_scores(P), classifier_uncertainty(clf, X))
    np.testing.assert_allclose(margin_scores(P), 1 - classifier_margin(clf, X))
    np.testing.assert_allclose(entropy_scores(P), classifier_entropy(clf, X))


def test_committee_scores_follow_modal_definitions() -> None:
    # 3 members, 2 items, 2 classes: item 0 unanimous, item 1 split 2-1.
    C = np.array(
        [
            [[0.9, 0.1], [0.8, 0.2]],
            [[0.8, 0.2], [0.3, 0.7]],
            [[0.7, 0.3], [0.4, 0.6]],
        ]
    )
    ve = vote_entropy_scores(C)
    assert ve[0] == pytest.approx(0.0)
    assert ve[1] == pytest.approx(scipy_entropy([1 / 3, 2 / 3]))
    consensus = C.mean(axis=0)
    expected = [max(scipy_entropy(C[m, i], consensus[i]) for m in range(3)) for i in range(2)]
    np.testing.assert_allclose(kl_max_scores(C), expected)


def test_multilabel_scores_aggregate_per_label_uncertainty() -> None:
    P = np.array([[0.5, 0.01], [0.9, 0.9], [0.6, 0.4]])
    mx = multilabel_scores(P, "margin", "max")
    mean = multilabel_scores(P, "margin", "mean")
    np.testing.assert_allclose(mx, [1.0, 0.2, 0.8])
    np.testing.assert_allclose(mean, [(1.0 + 0.02) / 2, 0.2, 0.8])
    C = np.stack([P, 1 - P])
    assert multilabel_committee_scores(C, "vote_entropy", "max").shape == (3,)
    with pytest.raises(UnknownNameError, match="valid aggregate names: max, mean"):
        multilabel_scores(P, "margin", "median")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad", [np.array([0.2, 0.8]), np.array([[0.2, 0.9]]), np.array([[np.nan, 1.0]]), np.array([[1.0]])]
)
def test_scores_reject_malformed_probabilities(bad: np.ndarray) -> None:
    with pytest.raises(InvalidInputError, match="proba"):
        margin_scores(bad)


def test_committee_needs_two_members_and_names_the_shape() -> None:
    with pytest.raises(InvalidInputError, match=r"\(n_members>=2, n, n_classes>=2\); got \(1, 4, 2\)"):
        vote_entropy_scores(PROBA[None])


def test_top_k_takes_best_first_and_breaks_ties_with_the_generator() -> None:
    scores = np.array([0.1, 0.9, 0.5, 0.9, 0.9, 0.2])
    picks = {tuple(as_list(top_k(scores, 2, rng=np.random.default_rng(s)))) for s in range(20)}
    assert all(set(p) <= {1, 3, 4} for p in picks)
    assert len(picks) > 1
    assert as_list(top_k(scores, 4, rng=np.random.default_rng(0)))[3] == 2


def test_top_k_never_selects_ineligible_items() -> None:
    scores = np.array([-np.inf, 0.5, -np.inf, 0.1])
    assert sorted(as_list(top_k(scores, 2, rng=np.random.default_rng(0)))) == [1, 3]
    with pytest.raises(InvalidInputError, match="larger than the 2 eligible"):
        top_k(scores, 3, rng=np.random.default_rng(0))
    with pytest.raises(InvalidInputError, match="NaN"):
        top_k(np.array([np.nan, 1.0]), 1, rng=np.random.default_rng(0))


def _near_duplicate_pool() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """40 copies (tiny jitter) of the most uncertain item, plus 200 varied items."""
    rng = np.random.default_rng(0)
    varied = rng.normal(size=(200, 5))
    dupes = np.ones((40, 5)) * 3 + rng.normal(0, 1e-3, size=(40, 5))
    X = np.vstack([dupes, varied])
    scores = np.concatenate([np.full(40, 0.99), rng.uniform(0.5, 0.9, 200)])
    return X, scores, np.arange(40)


@pytest.mark.parametrize("selector", [kmeans_top_k, kcenter_top_k])
def test_diverse_batches_are_not_near_duplicates(selector) -> None:  # type: ignore[no-untyped-def]
    X, scores, dupes = _near_duplicate_pool()
    plain = top_k(scores, 10, rng=np.random.default_rng(0))
    assert np.isin(plain, dupes).sum() == 10
    diverse = selector(scores, X, 10, rng=np.random.default_rng(0))
    assert len(set(as_list(diverse))) == 10
    assert np.isin(diverse, dupes).sum() <= 1


def test_diverse_selection_checks_feature_rows() -> None:
    with pytest.raises(InvalidInputError, match=r"features \(3, 2\) and scores \(4,\)"):
        kmeans_top_k(np.zeros(4), np.zeros((3, 2)), 2, rng=np.random.default_rng(0))


def test_nearest_labeled_distance_is_exact() -> None:
    F = np.array([[0.0, 0.0], [3.0, 4.0]])
    L = np.array([[0.0, 1.0], [3.0, 0.0]])
    np.testing.assert_allclose(nearest_labeled_distance(F, L), [1.0, 4.0], rtol=1e-6)

"""Majority vote and CROWDLAB consensus."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy.stats import spearmanr

from label_quality import (
    crowdlab,
    majority_vote,
    multilabel_consensus,
    vote_fraction_pred_probs,
)

NAN = np.nan
Crowd = Callable[..., tuple[np.ndarray, np.ndarray]]


def test_majority_vote_breaks_ties_toward_the_more_common_category() -> None:
    ratings = np.array([[1, 1, 0], [1, 1, NAN], [0, 1, NAN], [NAN, NAN, NAN]])
    result = majority_vote(ratings)
    # Category 1 has 5 of 7 ratings overall, so the 1-1 tie on item 2 goes to 1.
    np.testing.assert_array_equal(result.labels, [1, 1, 1, -1])
    np.testing.assert_allclose(result.item_quality[:3], [2 / 3, 1.0, 0.5])
    assert np.isnan(result.item_quality[3])
    np.testing.assert_array_equal(result.n_ratings, [3, 2, 2, 0])
    assert result.method == "majority_vote"
    assert result.pred_probs_source == "none"


def test_majority_vote_ties_with_equal_prior_go_to_the_lower_code() -> None:
    ratings = np.array([[0, 1], [1, 0]], dtype=float)
    np.testing.assert_array_equal(majority_vote(ratings).labels, [0, 0])


def test_majority_vote_accepts_an_explicit_tie_priority() -> None:
    ratings = np.array([[0, 1, NAN], [0, 1, 2], [2, 2, 0]], dtype=float)
    result = majority_vote(ratings, 3, tie_break=[2, 1, 0])
    np.testing.assert_array_equal(result.labels, [1, 2, 2])
    with pytest.raises(ValueError, match="permutation of 0..2"):
        majority_vote(ratings, 3, tie_break=[0, 1])
    with pytest.raises(ValueError, match="tie_break must be 'prior'"):
        majority_vote(ratings, 3, tie_break="random")  # type: ignore[arg-type]


def test_vote_fraction_pred_probs_are_smoothed_shares() -> None:
    probs = vote_fraction_pred_probs(np.array([[1, 1, 0], [NAN, NAN, NAN]]), 2)
    np.testing.assert_allclose(probs, [[2 / 5, 3 / 5], [0.5, 0.5]])
    with pytest.raises(ValueError, match="smoothing"):
        vote_fraction_pred_probs(np.array([[1.0]]), 2, smoothing=0)


def _noisy_model(truth: np.ndarray, rng: np.random.Generator, accuracy: float) -> np.ndarray:
    """Probabilities of a model that is right with probability `accuracy`."""
    correct = rng.random(truth.size) < accuracy
    predicted = np.where(correct, truth, 1 - truth)
    confidence = rng.uniform(0.6, 0.95, truth.size)
    probs = np.empty((truth.size, 2))
    probs[np.arange(truth.size), predicted] = confidence
    probs[np.arange(truth.size), 1 - predicted] = 1 - confidence
    return probs


def test_crowdlab_ranks_annotators_and_beats_majority_vote_with_a_good_model(
    crowd: Crowd, rng: np.random.Generator
) -> None:
    accuracies = (0.9, 0.85, 0.8, 0.7, 0.6)
    ratings, truth = crowd(rng, n_items=600, accuracies=accuracies, per_item=3)
    # A model right 95% of the time (errors independent of the annotators'): the
    # setting CROWDLAB is built for. With a weak model it can lose to majority vote.
    probs = _noisy_model(truth, rng, 0.95)
    result = crowdlab(ratings, probs)
    mv = majority_vote(ratings)
    assert result.pred_probs_source == "caller"
    assert np.mean(result.labels == truth) > np.mean(mv.labels == truth) + 0.03
    assert spearmanr(result.annotator_quality, accuracies).statistic > 0.8
    # Higher consensus quality should go with a correct consensus label.
    right = result.labels == truth
    assert result.item_quality[right].mean() > result.item_quality[~right].mean()


def test_crowdlab_is_deterministic_and_records_its_fallback(crowd: Crowd, rng: np.random.Generator) -> None:
    ratings, _ = crowd(rng, n_items=120)
    first = crowdlab(ratings)
    second = crowdlab(ratings.copy())
    assert first.pred_probs_source == "vote_fractions"
    np.testing.assert_array_equal(first.labels, second.labels)
    np.testing.assert_array_equal(first.item_quality, second.item_quality)
    np.testing.assert_array_equal(first.annotator_quality, second.annotator_quality)


def test_crowdlab_leaves_unrated_items_and_idle_annotators_out() -> None:
    ratings = np.array(
        [[0, 0, NAN, NAN], [1, 1, 0, NAN], [NAN, NAN, NAN, NAN], [1, 0, 1, NAN], [0, 0, 0, NAN]]
    )
    result = crowdlab(ratings)
    assert result.labels[2] == -1
    assert np.isnan(result.item_quality[2])
    assert np.isnan(result.annotator_quality[3])
    assert np.isnan(result.annotator_agreement[3])
    assert np.isfinite(result.annotator_quality[:3]).all()
    assert set(result.labels[[0, 1, 3, 4]].tolist()) <= {0, 1}


def test_crowdlab_rejects_data_without_overlap_and_bad_pred_probs() -> None:
    with pytest.raises(ValueError, match="at least one item with two ratings"):
        crowdlab(np.array([[0, NAN], [NAN, 1]]))
    with pytest.raises(ValueError, match=r"pred_probs has shape \(3, 2\) but there are 2 items"):
        crowdlab(np.array([[0, 1], [1, 1.0]]), np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="must sum to 1"):
        crowdlab(np.array([[0, 1], [1, 1.0]]), np.full((2, 2), 0.7))


def test_multilabel_consensus_runs_per_label(crowd: Crowd, rng: np.random.Generator) -> None:
    toxic, _ = crowd(rng, n_items=80)
    threat, _ = crowd(rng, n_items=80)
    ratings = np.stack([toxic, threat], axis=2)
    by_vote = multilabel_consensus(ratings, method="majority_vote")
    np.testing.assert_array_equal(by_vote[1].labels, majority_vote(threat).labels)
    probs = np.column_stack([np.full(80, 0.3), np.full(80, 0.6)])
    by_crowdlab = multilabel_consensus(ratings, probs)
    expected = crowdlab(threat, np.column_stack([1 - probs[:, 1], probs[:, 1]]))
    np.testing.assert_array_equal(by_crowdlab[1].labels, expected.labels)
    assert len(by_crowdlab) == 2
    with pytest.raises(ValueError, match=r"expected 2 columns"):
        multilabel_consensus(ratings, probs[:, :1])


def test_crowdlab_settles_exact_ties_per_item_by_the_given_order_and_never_fails_on_them() -> None:
    # Every item is a 1-1 tie: cleanlab alone fails here (its annotator tie-break has nothing to
    # average) or would pick at random; the given order decides, item by item.
    from label_quality import crowdlab as crowdlab_

    ratings = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    toward_one = crowdlab_(ratings, n_categories=2, tie_break=[1, 0])
    toward_zero = crowdlab_(ratings, n_categories=2, tie_break=[0, 1])
    assert toward_one.labels.tolist() == [1, 1, 1]
    assert toward_zero.labels.tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="permutation"):
        crowdlab_(ratings, n_categories=2, tie_break=[1, 1])

"""Out-of-fold probabilities for live projects and gold accuracy on label sets."""

from __future__ import annotations

import numpy as np
import pytest

from label_quality import (
    ABSENT_CLASS_PROB,
    label_set_gold_report,
    out_of_fold_per_label,
    out_of_fold_where_trainable,
)


def separable(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    labels = np.arange(n) % 2
    X = rng.normal(size=(n, 4)) + labels[:, None] * 3.0
    return X, labels


def test_a_class_nobody_chose_gets_a_tiny_probability_and_rows_sum_to_one() -> None:
    X, labels = separable(20, np.random.default_rng(0))
    oof = out_of_fold_where_trainable(X, labels, 3, rng=np.random.default_rng(1))
    assert oof.pred_probs is not None and oof.pred_probs.shape == (20, 3) and oof.n_folds == 5
    assert np.allclose(oof.pred_probs.sum(axis=1), 1.0)
    assert np.all(oof.pred_probs[:, 2] <= ABSENT_CLASS_PROB * 2)
    assert (oof.pred_probs[:, :2].argmax(axis=1) == labels).mean() > 0.9
    again = out_of_fold_where_trainable(X, labels, 3, rng=np.random.default_rng(1))
    assert again.pred_probs is not None and np.array_equal(again.pred_probs, oof.pred_probs)


def test_a_class_given_once_is_predicted_by_a_model_that_never_saw_it_and_does_not_stop_the_rest() -> None:
    X, labels = separable(20, np.random.default_rng(0))
    labels = labels.copy()
    labels[7] = 2  # the one "tie" so far
    oof = out_of_fold_where_trainable(X, labels, 3, rng=np.random.default_rng(1))
    assert oof.pred_probs is not None and np.allclose(oof.pred_probs.sum(axis=1), 1.0)
    assert oof.pred_probs[7, 2] <= ABSENT_CLASS_PROB * 2  # nobody could learn that class
    assert oof.pred_probs[7, :2].argmax() == 1  # item 7 sits with the class-1 items


def test_too_little_to_train_on_is_skipped_with_a_reason_and_rare_classes_use_fewer_folds() -> None:
    X, _ = separable(6, np.random.default_rng(0))
    skipped = out_of_fold_where_trainable(X, np.array([0, 0, 0, 0, 0, 1]), 2, rng=np.random.default_rng(0))
    assert skipped.pred_probs is None and skipped.n_folds == 0 and "fewer than two" in (skipped.skipped or "")
    fewer = out_of_fold_where_trainable(X, np.array([0, 0, 0, 0, 1, 1]), 2, rng=np.random.default_rng(0))
    assert fewer.n_folds == 2
    with pytest.raises(ValueError, match="codes 0..1"):
        out_of_fold_where_trainable(X, np.array([0, 0, 0, 0, 1, 2]), 2, rng=np.random.default_rng(0))


def test_per_label_probabilities_fall_back_to_the_base_rate_for_rare_labels() -> None:
    X, labels = separable(20, np.random.default_rng(0))
    matrix = np.column_stack([labels, np.r_[1, np.zeros(19, dtype=int)]])
    oof = out_of_fold_per_label(X, matrix, rng=np.random.default_rng(2))
    assert oof.from_model.tolist() == [True, False]
    assert np.allclose(oof.pred_probs[:, 1], 1.5 / 21)
    assert ((oof.pred_probs[:, 0] >= 0.5) == labels.astype(bool)).mean() > 0.9


def test_gold_accuracy_on_label_sets_counts_only_exactly_equal_sets() -> None:
    nan = np.nan
    ratings = np.array(
        [
            [[1, 0, 1], [1, 0, 0]],  # item 0: annotator 0 right, annotator 1 misses one label
            [[0, 0, 0], [0, 0, 0]],  # item 1: both right ("clean")
            [[0, 1, 0], [nan, nan, nan]],  # item 2: no gold
        ],
        dtype=np.float64,
    )
    gold = np.array([[1, 0, 1], [0, 0, 0], [nan, nan, nan]])
    report = label_set_gold_report(ratings, gold, threshold=0.8, min_answers=2)
    assert report is not None
    assert report.n_gold.tolist() == [2, 2] and report.n_correct.tolist() == [2, 1]
    assert report.flagged.tolist() == [False, True]
    assert label_set_gold_report(ratings, np.full((3, 3), nan), threshold=0.8, min_answers=2) is None

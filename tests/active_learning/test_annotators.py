from __future__ import annotations

import numpy as np
import pytest

from active_learning import (
    InvalidInputError,
    activelab_scores,
    annotation_counts,
    human_disagreement,
    majority_labels,
)

NAN = np.nan


def test_items_whose_annotators_conflict_rank_above_agreed_items() -> None:
    annotations = np.array(
        [
            [0, 0, 0, NAN],  # agreed
            [0, 1, NAN, 1],  # conflict
            [1, 1, NAN, NAN],  # agreed
            [0, NAN, 0, 0],
            [1, 1, 1, NAN],
        ]
    )
    proba = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.85, 0.15], [0.1, 0.9]])
    scores = activelab_scores(annotations, proba)
    assert scores.shape == (5,)
    assert np.argmax(scores) == 1


def test_unlabeled_uncertain_items_compete_with_relabeling() -> None:
    annotations = np.array([[0, 0, NAN], [1, 1, 1], [NAN, NAN, NAN], [NAN, NAN, NAN]])
    proba = np.array([[0.9, 0.1], [0.1, 0.9], [0.5, 0.5], [0.99, 0.01]])
    scores = activelab_scores(annotations, proba)
    assert scores[2] == scores.max()
    assert scores[3] < scores[2]


def test_items_at_the_annotation_cap_are_ineligible() -> None:
    annotations = np.array([[0, 1, 0], [1, NAN, NAN], [NAN, NAN, NAN]])
    proba = np.full((3, 2), 0.5)
    scores = activelab_scores(annotations, proba, max_annotations=3)
    assert scores[0] == -np.inf and np.isfinite(scores[1:]).all()


def test_no_labels_at_all_and_single_labels_work() -> None:
    proba = np.array([[0.6, 0.4], [0.99, 0.01]])
    none = activelab_scores(np.full((2, 3), NAN), proba)
    assert none[0] > none[1]
    single = activelab_scores(np.array([[0, NAN], [NAN, 1]]), proba)
    assert np.isfinite(single).all()


def test_annotations_are_validated_with_their_shape() -> None:
    with pytest.raises(InvalidInputError, match=r"\(n=2, n_annotators>=1\); got \(3, 2\)"):
        activelab_scores(np.zeros((3, 2)), np.full((2, 2), 0.5))
    with pytest.raises(InvalidInputError, match=r"class ids in \[0, 2\)"):
        activelab_scores(np.array([[2.0], [0.0]]), np.full((2, 2), 0.5))


def test_majority_and_disagreement_helpers() -> None:
    A = np.array([[0, 1, 1], [1, 0, NAN], [NAN, NAN, NAN]])
    assert annotation_counts(A).tolist() == [3, 2, 0]
    assert majority_labels(A, 2).tolist() == [1, 0, -1]
    assert majority_labels(A, 2, fallback=np.array([0, 1, 0])).tolist() == [1, 1, -1]
    np.testing.assert_allclose(human_disagreement(A, 2), [1 / 3, 0.5, 0.0])

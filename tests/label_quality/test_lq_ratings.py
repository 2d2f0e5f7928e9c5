"""Long-format annotation rows -> rating matrices."""

from __future__ import annotations

import numpy as np
import pytest

from label_quality import PREFERENCE_CATEGORIES, multilabel_ratings_from_long, ratings_from_long


def test_it_pivots_long_rows_with_nan_for_missing() -> None:
    matrix = ratings_from_long(
        ["i1", "i1", "i2", "i3"],
        ["ann", "bob", "bob", "ann"],
        ["toxic", "ok", "toxic", "ok"],
        categories=["ok", "toxic"],
    )
    assert matrix.item_ids == ("i1", "i2", "i3")
    assert matrix.annotator_ids == ("ann", "bob")
    assert matrix.n_categories == 2
    np.testing.assert_array_equal(matrix.values, np.array([[1, 0], [np.nan, 1], [0, np.nan]]))


def test_it_keeps_explicit_item_order_including_unrated_items() -> None:
    matrix = ratings_from_long([7], ["ann"], ["B"], categories=PREFERENCE_CATEGORIES, items=[5, 7])
    assert np.isnan(matrix.values[0, 0])
    assert matrix.values[1, 0] == 1


def test_it_rejects_duplicate_annotations() -> None:
    with pytest.raises(ValueError, match="more than once"):
        ratings_from_long(["i1", "i1"], ["ann", "ann"], ["ok", "toxic"])


def test_it_rejects_labels_outside_the_given_categories() -> None:
    with pytest.raises(ValueError, match="'maybe' is not in the given order"):
        ratings_from_long(["i1"], ["ann"], ["maybe"], categories=["ok", "toxic"])


def test_it_rejects_length_mismatch() -> None:
    with pytest.raises(ValueError, match="same length; got 2, 1, 2"):
        ratings_from_long(["i1", "i2"], ["ann"], ["ok", "ok"])


def test_it_pivots_multilabel_rows_into_a_3d_array() -> None:
    rows = np.array([[1, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 1, 0]])
    matrix = multilabel_ratings_from_long(["a", "a", "b"], ["x", "y", "x"], rows)
    assert matrix.values.shape == (2, 2, 6)
    assert matrix.label_names[3] == "threat"
    np.testing.assert_array_equal(matrix.values[0, 0], rows[0])
    assert np.isnan(matrix.values[1, 1]).all()
